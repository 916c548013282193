"""Work items (待办) kept in the write transaction of the command that changes them.

Every command that changes a unit's state or facts (add_units, record, approve, advance,
defer, the sweeps, adopt) ends its transaction with :func:`keep_items`: the touched units'
items are judged again, written, and each item that appears or goes is audited (command
``work_item``, the feed's ``work_item_created`` / ``work_item_done``) in that same
transaction. A rolled-back command leaves neither. The store's mark (``items_seq``) then
moves to the chain head, so ``Campaign.inbox`` reads its page without catching up.

Changes no command makes (a gate waiting on days, a window about to close) are the day
roll's: :func:`roll_day`, the one place judging units because the date changed.

Items are kept once a store has them: until the first ``inbox`` (or ``send_reminders``)
call marks the store, commands skip them and pay one read of the mark per transaction;
that first call backfills every unit (see ``_inbox.catch_up``). A campaign opened with
``work_items="on_read"`` never keeps them in its commands (the cost moves to ``inbox``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from campaignflow._words.records import SYSTEM, Unit, UnitState
from campaignflow._words.verdicts import Decision, Verdict
from campaignflow._words.work import WorkItem
from campaignflow.audit import AuditRow
from campaignflow.campaign._checks import DEFER, START_ROLES, movers
from campaignflow.campaign._core import Core
from campaignflow.campaign._records import append
from campaignflow.store._protocol import StoreSession
from campaignflow.workflow import Reminder, Workflow

__all__ = [
    "WORK_ITEMS_MODES",
    "days_left",
    "keep_items",
    "moved_units",
    "refresh_items",
    "roll_day",
    "work_items",
]

#: ``Campaign(work_items=...)``: kept by each command in its transaction, or on read only.
WORK_ITEMS_MODES = ("in_transaction", "on_read")

#: Verdict codes awaiting an approval or an assessment, by the work kind they make.
_APPROVAL = "approval.missing"
_ASSESSMENT = ("survey.missing",)


def keep_items(
    core: Core,
    tx: StoreSession,
    now: datetime,
    before: int,
    changed: Iterable[tuple[Unit, UnitState]],
) -> None:
    """Refresh the items of the ``changed`` units (each at its state as written in ``tx``).

    ``before``: the chain head before the command wrote its records. When the items were
    current then, they are current at the new head too, and the mark says so; otherwise
    the records in between are left to ``inbox``'s catch-up. Nothing is done while the
    store keeps no items (no inbox was ever read), nor for a campaign opened with
    ``work_items="on_read"``.
    """
    if core.items_on_read:
        return
    through, on = tx.work_items_through()
    if on is None:
        return
    host = core.host_for(None)
    for unit, state in changed:
        refresh_items(core, tx, now, unit, state, host=host)
    if through == before:
        head, _ = tx.audit_head()
        if head != through:
            tx.mark_work_items(head, on)


def moved_units(
    units: Sequence[tuple[Unit, UnitState]], moves: Sequence[tuple[UnitState, int, AuditRow]]
) -> Iterator[tuple[Unit, UnitState]]:
    """Each moved unit with its new state (a page of a sweep: ``units`` read, ``moves``
    applied); lazy, so a store keeping no items pays nothing for it."""
    by_id = {unit.id: unit for unit, _ in units}
    for new, _, _ in moves:
        yield by_id[new.unit_id], new


def refresh_items(
    core: Core,
    tx: StoreSession,
    now: datetime,
    unit: Unit,
    state: UnitState,
    decision: Decision | None = None,
    *,
    host: Any = None,
) -> None:
    """Judge the unit's items at ``state`` (on ``decision`` when the caller judged ``advance``
    at it already), write them if they changed, and audit each that appears or goes."""
    workflow = core.wf(tx, state)
    today = now.date()
    if decision is None and workflow.stage(state.stage).kind not in ("waiting", "final"):
        decision = core.decide(tx, unit, state, today, "advance", None, workflow, host=host)
    items = work_items(workflow, unit, state, decision, today)
    kept = tx.get_work_items(unit.id)
    if not kept and not items:
        return
    if sorted(kept, key=_key) == sorted(items, key=_key):
        return
    tx.set_work_items(unit.id, items)
    before = {_key(i): i for i in kept}
    after = {_key(i): i for i in items}
    changes = [("done", i) for k, i in before.items() if k not in after]
    changes += [("created", i) for k, i in after.items() if k not in before]
    for change, item in changes:
        payload = {
            "change": change,
            "kind": item.kind,
            "role": item.role,
            "deadline": None if item.deadline is None else item.deadline.isoformat(),
            "gates": list(dict.fromkeys(item.codes)),
        }
        append(
            core,
            tx,
            now,
            "work_item",
            SYSTEM,
            "ok",
            unit_id=unit.id,
            source=state.stage,
            version=state.version,
            payload=payload,
            workflow=core.ref_of(state),
        )


def roll_day(core: Core, tx: StoreSession, now: datetime) -> None:
    """The day roll: judge again the units whose items may change with the date alone.

    Gates that wait on days and batch windows closing change no command: once a day,
    every unit is judged again here (the one O(units) path of the work list).
    """
    host = core.host_for(None)
    for unit, state in list(tx.iter_units(None)):
        refresh_items(core, tx, now, unit, state, host=host)


def _key(item: WorkItem) -> tuple[str, str]:
    return item.kind, item.role or ""


def work_items(
    workflow: Workflow,
    unit: Unit,
    state: UnitState,
    decision: Decision | None,
    today: date,
) -> list[WorkItem]:
    """The unit's work items from its decision (None: not started or finished), and the
    leading group's deferral item while its batch window is about to close."""
    since = state.entered_on or state.stage_since
    window = workflow.batch(state.batch)
    closes = None if window is None else window.closes
    base: dict[str, Any] = {
        "unit_id": unit.id,
        "parent": unit.parent,
        "stage": state.stage,
        "since": since,
    }
    items = _deferrals(workflow, state, today, closes, base)
    if decision is None:
        return items
    if decision.allowed:
        return [WorkItem(kind="advance", deadline=closes, **base), *items]
    approvals: dict[str, list[Verdict]] = {}
    assessments: list[Verdict] = []
    owed: list[Verdict] = []
    for verdict in decision.failures():
        role = verdict.params.get("role")
        if verdict.code == _APPROVAL and isinstance(role, str):
            approvals.setdefault(role, []).append(verdict)
        elif verdict.code in _ASSESSMENT:
            assessments.append(verdict)
        else:
            owed.append(verdict)
    items.extend(
        WorkItem(
            kind="approval",
            role=role,
            deadline=_sooner(closes, _rule_deadline(workflow, role, since)),
            verdicts=tuple(verdicts),
            **base,
        )
        for role, verdicts in sorted(approvals.items())
    )
    assessor = workflow.fact_roles.get("survey")
    if assessments and assessor:
        items.append(
            WorkItem(
                kind="assessment",
                role=assessor,
                deadline=closes,
                verdicts=tuple(assessments),
                **base,
            )
        )
    if owed:
        items.append(WorkItem(kind="facts", deadline=closes, verdicts=tuple(owed), **base))
    return items


def _deferrals(
    workflow: Workflow,
    state: UnitState,
    today: date,
    closes: date | None,
    base: dict[str, Any],
) -> list[WorkItem]:
    """The deferral items of a unit about to miss its batch window: one per role that may
    defer it from its stage (the leading group, 领导小组), when a ``window closing`` rule
    is due for it (window closing within the rule's days, the unit not past its stage)."""
    if closes is None or not workflow.reminders:
        return []
    due = [
        left
        for rule in workflow.reminders
        if rule.when == "window closing"
        and (left := days_left(workflow, state, rule, today)) is not None
    ]
    if not due:
        return []
    candidates = workflow.candidates(state.stage, DEFER)
    if not candidates:
        return []
    roles = sorted(frozenset().union(*(movers(c.by, DEFER) for c in candidates)))
    verdict = Verdict(
        guard="window_closing",
        passed=False,
        code="work.window_closing",
        params={"days": min(due), "closes": str(closes)},
    )
    return [
        WorkItem(kind="deferral", role=role, deadline=closes, verdicts=(verdict,), **base)
        for role in roles or sorted(START_ROLES)
    ]


def days_left(workflow: Workflow, state: UnitState, rule: Reminder, today: date) -> int | None:
    """Days until the unit's batch window closes, when the window rule is due; None when not."""
    window = workflow.batch(state.batch)
    if window is None or rule.within_days is None or rule.not_past is None:
        return None
    order = [s.id for s in workflow.stages]
    if rule.not_past not in order or state.stage not in order:
        return None
    if order.index(state.stage) > order.index(rule.not_past):
        return None
    left = (window.closes - today).days
    # A closed window no longer "closes within" anything: its open items are overdue instead.
    return left if 0 <= left <= rule.within_days else None


def _rule_deadline(workflow: Workflow, role: str, since: date | None) -> date | None:
    """When the workflow's "awaiting approval" rule for ``role`` escalates (None: no rule)."""
    if since is None:
        return None
    days = [
        rule.escalate_after_days or rule.after_days
        for rule in workflow.reminders
        if rule.when == "awaiting approval" and rule.role in (None, role)
    ]
    found = [d for d in days if d is not None]
    return since + timedelta(days=min(found)) if found else None


def _sooner(a: date | None, b: date | None) -> date | None:
    given = [d for d in (a, b) if d is not None]
    return min(given) if given else None
