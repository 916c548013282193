"""``Campaign.inbox``: the work items (待办) awaiting an actor, paged in O(page).

Work items are a projection of the audit chain, as the event feed is: a store keeps them
with the seq of the audit record they reflect. ``inbox`` first brings them up to the chain's
head in one write transaction (re-judging only the units that audit records after that seq
name), then reads the page in the same transaction, by an index, in key order. So a page
reflects every committed command, and its cost is the page plus what changed since the last
call, never the whole campaign.

A unit's items come from its ``check()``: the failing gates of the move it would make, split
by who must act — the approving role (``approval``), the assessing role (``assessment``),
the unit itself (``facts``), or nobody but the unit's own people when nothing holds it
(``advance``). Scope: role items for the actor's roles under ``under`` (every organisation
when None); the unit's own items for an actor belonging to the unit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from campaignflow._words.checks import one_of, whole_number
from campaignflow._words.records import SYSTEM, Actor, Unit, UnitState
from campaignflow._words.verdicts import Decision, Verdict
from campaignflow._words.work import WORK_KINDS, InboxPage, InboxQuery, WorkItem
from campaignflow.campaign._checks import check_actor, check_org_id
from campaignflow.campaign._core import Core
from campaignflow.campaign._records import append
from campaignflow.errors import ValidationError
from campaignflow.store._protocol import StoreSession
from campaignflow.workflow import Workflow

__all__ = ["MAX_LIMIT", "inbox", "work_items"]

#: The most items one page may hold.
MAX_LIMIT = 1_000

#: Audit records that change no unit's gates (reminders, and the items' own records).
_NOT_CHANGING = frozenset({"remind", "work_item"})

#: Verdict codes awaiting an approval or an assessment, by the work kind they make.
_APPROVAL = "approval.missing"
_ASSESSMENT = ("survey.missing",)


def inbox(
    core: Core,
    actor: Actor,
    under: str | None,
    kind: str | None,
    due_before: date | None,
    limit: int,
    after: str | None,
) -> InboxPage:
    """``Campaign.inbox``: bring the items up to date, then the actor's page of them."""
    check_actor(actor)
    if under is not None:
        check_org_id("under", under)
    if kind is not None:
        one_of("kind", kind, WORK_KINDS)
    if due_before is not None and (
        not isinstance(due_before, date) or isinstance(due_before, datetime)
    ):
        raise ValidationError(code="inbox.bad_due_before", params={"value": repr(due_before)})
    whole_number("limit", limit, minimum=1)
    if limit > MAX_LIMIT:
        raise ValidationError(
            code="inbox.limit_too_large", params={"limit": limit, "maximum": MAX_LIMIT}
        )
    query = InboxQuery(
        roles=actor.roles,
        unit=actor.unit,
        under=under,
        kind=kind,
        due_before=due_before,
        after=_cursor_key(after),
        limit=limit + 1,
    )
    with core.store.transaction() as tx:
        catch_up(core, tx)
        found = tx.page_work_items(query)
    items = tuple(found[:limit])
    cursor = _cursor_text(query.key(items[-1])) if items else after
    return InboxPage(items=items, cursor=cursor, more=len(found) > limit)


def catch_up(core: Core, tx: StoreSession) -> None:
    """Re-judge the units named by audit records after the items' seq; mark the head.

    On a new day every unit is re-judged once (gates that wait on time change without a
    command), and after a purge that removed records not yet reflected, too. Each item that
    appears or goes is audited (command ``work_item``): the feed's ``work_item_created`` and
    ``work_item_done`` events.
    """
    through, on = tx.work_items_through()
    head, _ = tx.audit_head()
    now = core.now()
    today = now.date()
    if head <= through and on == today:
        return
    # Marked first: on PostgreSQL the update locks the campaign's row, so two callers
    # catching up at once queue here instead of writing the same items side by side.
    tx.mark_work_items(head, today)
    anchor = tx.audit_anchor()
    if on != today or (anchor is not None and through < anchor.seq):
        touched: Iterable[str] = [unit.id for unit, _ in tx.iter_units(None)]
    else:
        touched = dict.fromkeys(_touched(tx, through, head))
    host = core.host_for(None)
    for unit_id in list(touched):
        found = tx.get_unit_state(unit_id)
        if found is None:
            continue
        unit, state = found
        workflow = core.wf(tx, state)
        decision = None
        if workflow.stage(state.stage).kind not in ("waiting", "final"):
            decision = core.decide(tx, unit, state, today, "advance", None, workflow, host=host)
        items = work_items(workflow, unit, state, decision)
        kept = tx.get_work_items(unit_id)
        if sorted(kept, key=_key) == sorted(items, key=_key):
            continue
        tx.set_work_items(unit_id, items)
        before = {(i.kind, i.role): i for i in kept}
        after = {(i.kind, i.role): i for i in items}
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
                unit_id=unit_id,
                source=state.stage,
                version=state.version,
                payload=payload,
                workflow=core.ref_of(state),
            )
    written, _ = tx.audit_head()
    if written != head:
        tx.mark_work_items(written, today)


def _key(item: WorkItem) -> tuple[str, str]:
    return item.kind, item.role or ""


def _touched(tx: StoreSession, through: int, head: int) -> Iterable[str]:
    """The units the audit records after ``through`` (to ``head``) name (an adoption names
    those it moved)."""
    for record in tx.iter_audit(after_seq=through):
        if record.seq > head:
            return
        if record.command in _NOT_CHANGING:
            continue
        if record.unit_id is not None:
            yield record.unit_id
        elif record.command == "adopt" and record.outcome == "ok":
            for change in record.payload.get("changes") or ():
                yield str(change[0])


def work_items(
    workflow: Workflow, unit: Unit, state: UnitState, decision: Decision | None
) -> list[WorkItem]:
    """The unit's work items from its decision (None: not started or finished, so none)."""
    if decision is None:
        return []
    since = state.entered_on or state.stage_since
    window = workflow.batch(state.batch)
    closes = None if window is None else window.closes
    base: dict[str, Any] = {
        "unit_id": unit.id,
        "parent": unit.parent,
        "stage": state.stage,
        "since": since,
    }
    if decision.allowed:
        return [WorkItem(kind="advance", deadline=closes, **base)]
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
    items = [
        WorkItem(
            kind="approval",
            role=role,
            deadline=_sooner(closes, _rule_deadline(workflow, role, since)),
            verdicts=tuple(verdicts),
            **base,
        )
        for role, verdicts in sorted(approvals.items())
    ]
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


def _cursor_text(key: tuple[str, str, str]) -> str:
    return json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))


def _cursor_key(after: str | None) -> tuple[str, str, str] | None:
    if after is None:
        return None
    try:
        key = json.loads(after) if isinstance(after, str) else None
    except ValueError:
        key = None
    if not (isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise ValidationError(code="inbox.bad_cursor", params={"value": repr(after)})
    return (key[0], key[1], key[2])
