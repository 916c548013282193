"""Sweeps: moving many units at once — start a batch, advance all, a worker's claimed share.

A sweep takes units a page per write transaction, read inside it: what is judged is what
commits, and a durable store pays one commit (one fsync) per page, not per unit. Each unit
it moves is sealed as a single ``advance`` seals its one (:func:`~._records.moved`), and a
page's moves reach the store in one call. Only applied transitions are audited: a sweep
refusing 10,000 blocked units is not 10,000 denials.

A gate whose guards read the host's data is judged afresh for every unit holding it, in
every sweep: nothing about it is remembered between sweeps. A sweep that would judge such a
gate without host data is refused before its first page.

Sweeps of ``advance`` (``advance_all``, ``due_units``, ``advance_due``) read only the units
that are due (:meth:`~campaignflow.store.StoreSession.page_due`): dirty ones, which something
touched since they were last judged, and those whose earliest-move date has come. A unit the
sweep holds keeps the date its decision gives (:attr:`Decision.earliest`; none when it waits
for facts; dirty again when a gate reads the host's data, or when the actor's roles left a
candidate out of its judgement). Other triggers' sweeps try every unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from campaignflow._words.checks import refuse, whole_number
from campaignflow._words.records import Actor, Unit, UnitState
from campaignflow._words.verdicts import Decision
from campaignflow.audit import AuditRow
from campaignflow.campaign._checks import (
    BACKDATE_ROLE,
    START,
    check_actor,
    check_batch,
    check_limit,
    check_sweep_name,
    check_sweep_trigger,
    not_authorized,
    starter_roles,
)
from campaignflow.campaign._commands import check
from campaignflow.campaign._core import Core
from campaignflow.campaign._items import keep_items, moved_units
from campaignflow.campaign._outcomes import AdvanceOutcome, Outcomes, PageOutcomes
from campaignflow.campaign._records import append, moved_row, stamp
from campaignflow.errors import ConcurrencyConflict, ValidationError
from campaignflow.observability import candidate_judge, observing
from campaignflow.store._protocol import DIRTY, DueKey, StoreSession
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import decide

__all__ = [
    "CLAIM_LIMIT",
    "AdvanceOutcome",
    "Outcomes",
    "advance_all",
    "advance_due",
    "due_units",
    "start_batch",
]

#: Units judged and moved per transaction by start_batch and advance_all: a durable store
#: pays one commit (one fsync) per chunk, and other writers wait for a chunk's lock (tens of
#: milliseconds at this size).
_SWEEP_CHUNK = 1024

#: Units a worker claims per advance_due call unless told otherwise.
CLAIM_LIMIT = 256

#: The trigger whose sweeps read due units only: a unit's due date is its ``advance``'s.
_DUE_TRIGGER = "advance"


def start_batch(
    core: Core, batch: int, on: date | None, *, actor: Actor, host: Any = None
) -> Outcomes:
    """``Campaign.start_batch``: fire ``start`` for every waiting unit of ``batch``.

    ``on`` dates the starts (today by default); the gates are judged on the clock's date.
    Nobody dates a start after today, and only :data:`~._checks.BACKDATE_ROLE` before it.
    """
    whole_number("start_batch: batch", batch, minimum=1)
    if on is not None and (not isinstance(on, date) or isinstance(on, datetime)):
        refuse("start_batch", on, "on must be a date")
    check_actor(actor)
    if core.workflow.batches and core.workflow.batch(batch) is None:
        raise ValidationError(code="campaign.no_such_batch", params={"batch": batch})
    today = core.now().date()
    day = on or today
    if day > today:
        raise ValidationError(
            code="campaign.start_in_future",
            params={"batch": batch, "on": day.isoformat(), "today": today.isoformat()},
        )
    payload = {"batch": batch, "on": day.isoformat()}
    extra = frozenset({BACKDATE_ROLE}) if day < today else frozenset()
    _authorize_sweep(core, "start_batch", START, actor, payload, extra)
    return _Sweep(core, START, actor, day, waiting_only=True, host=host).run(batch)


def advance_all(
    core: Core,
    *,
    batch: int | None,
    actor: Actor,
    trigger: str,
    host: Any = None,
    judge_all: bool = False,
) -> Outcomes:
    """``Campaign.advance_all``: try ``trigger`` on every unfinished unit (of ``batch``).

    A sweep of ``advance`` tries the due units only (see the module's doc); ``judge_all``
    (for tests that check the two agree) tries every unit, as other triggers' sweeps do.
    """
    if batch is not None:
        whole_number("advance_all: batch", batch, minimum=1)
    check_sweep_trigger(trigger)
    check_actor(actor)
    _authorize_sweep(core, "advance_all", trigger, actor, {"trigger": trigger, "batch": batch})
    due = trigger == _DUE_TRIGGER and not judge_all
    return _Sweep(core, trigger, actor, None, waiting_only=False, host=host, due=due).run(batch)


def _authorize_sweep(
    core: Core,
    command: str,
    trigger: str,
    actor: Actor,
    payload: dict[str, Any],
    extra: frozenset[str] = frozenset(),
) -> None:
    """Refuse, with an audited denial, a sweep ``actor`` may not run.

    A sweep of ``start`` needs the roles that may start units (:func:`~._checks.movers`)
    in every workflow version; ``extra``: further roles it needs (to back-date a start).
    Other triggers' reserved transitions are left out unit by unit, as ``check`` does.

    Raises:
        NotAuthorized: a role is missing (``not_authorized.missing_role``).
    """
    needed: list[frozenset[str]] = []
    if trigger == START:
        needed.extend(starter_roles(w) for w in core.versions.values())
    if extra:
        needed.append(extra)
    for roles in needed:
        if not roles & actor.roles:
            reason: dict[str, Any] = {
                "code": "not_authorized.missing_role",
                "params": {"actor": actor.id, "roles": sorted(roles), "action": command},
            }
            now = core.now()
            with core.store.transaction() as tx:
                append(core, tx, now, command, actor, "denied", payload=payload, reason=reason)
            raise not_authorized(reason, actor, None)


def due_units(core: Core, *, batch: int | None, limit: int, host: Any = None) -> list[str]:
    """``Campaign.due_units``: up to ``limit`` unit ids whose ``advance`` would pass now."""
    check_limit(limit)
    check_batch(batch)
    host = core.host_for(host)
    core.require_host("advance", host)
    today = core.now().date()
    due: list[str] = []
    key: DueKey | None = None
    more = True
    with core.store.transaction(write=False) as tx:
        while more and len(due) < limit:
            page, key = tx.page_due(batch, today, key, _SWEEP_CHUNK)
            more = len(page) == _SWEEP_CHUNK
            tx.prefetch([unit.id for unit, _ in page])
            for unit, state in page:
                workflow = core.wf(tx, state)
                if workflow.stage(state.stage).kind in ("waiting", "final"):
                    continue
                facts = tx.get_facts(unit.id, state.stage)
                judged = decide(
                    workflow,
                    unit,
                    state,
                    facts,
                    today,
                    judge=candidate_judge(),
                    host=host,
                    foresee=False,  # only whether it moves now: no earliest-move date
                )
                if judged.allowed:
                    due.append(unit.id)
                    if len(due) >= limit:
                        break
    return due


def advance_due(
    core: Core,
    *,
    sweep: str,
    batch: int | None,
    limit: int,
    actor: Actor,
    trigger: str,
    host: Any = None,
) -> Outcomes:
    """``Campaign.advance_due``: claim up to ``limit`` units of ``sweep`` and advance them."""
    check_sweep_name(sweep)
    check_limit(limit)
    check_batch(batch)
    check_actor(actor)
    check_sweep_trigger(trigger)
    _authorize_sweep(core, "advance_due", trigger, actor, {"trigger": trigger, "sweep": sweep})
    host = core.host_for(host)
    core.require_host(trigger, host)
    # Units of every version in use: a stage counts if some version can move units on.
    stages = sorted(
        {
            s.id
            for w in core.versions.values()
            for s in w.stages
            if s.kind not in ("waiting", "final") and w.candidates(s.id, trigger)
        }
    )
    now = core.now()
    due = trigger == _DUE_TRIGGER
    with core.store.transaction() as tx:
        claimed = tx.claim_units(
            sweep=sweep,
            stages=stages,
            limit=limit,
            batch=batch,
            due_by=now.date() if due else None,
        )
        tx.prefetch([unit.id for unit, _ in claimed])
        judges = [core.wf(tx, state) for _, state in claimed]
        done = _sweep_units(
            core, tx, now, now.date(), claimed, judges, trigger, actor, host, due=due
        )
    outcomes = Outcomes(core, trigger=trigger, on=now.date(), actor=actor, host=host)
    outcomes.add(done)
    return outcomes


class _Sweep:
    """One sweep of ``trigger`` over a batch (or every unit), page by page.

    Owns, for its own length, the answer to whether (and by which version) a unit is
    tried: that depends on the unit's version and stage only, so it is asked once per
    pair in a sweep, not once per unit.
    """

    def __init__(
        self,
        core: Core,
        trigger: str,
        actor: Actor,
        on: date | None,
        *,
        waiting_only: bool,
        host: Any = None,
        due: bool = False,
    ) -> None:
        check_actor(actor)
        self.host = core.host_for(host)
        core.require_host(trigger, self.host)
        self.core = core
        self.trigger = trigger
        self.actor = actor
        self.now = core.now()
        self.day = on or self.now.date()
        self.waiting_only = waiting_only
        self.due = due  # read the due units only, and keep each held one's due date
        self.tries: dict[tuple[str, str], Workflow | None] = {}

    def run(self, batch: int | None) -> Outcomes:
        # A conflict inside a page rolls it back; it is then redone unit by unit so one
        # contended unit cannot hold up the rest. Each page's outcomes go to the Outcomes
        # as the page commits, which keeps a few bytes of each.
        core, now, day, trigger, actor = self.core, self.now, self.day, self.trigger, self.actor
        host = self.host
        # Held units' decisions are judged again on read, on the clock's date as here.
        outcomes = Outcomes(core, trigger=trigger, on=now.date(), actor=actor, host=host)
        after, more, due = 0, True, self.due
        key: DueKey | None = None
        while more:
            part: list[str] | None = None
            try:
                with core.store.transaction() as tx:
                    if due:
                        page, key = tx.page_due(batch, now.date(), key, _SWEEP_CHUNK)
                    else:
                        page, after = tx.page_units(batch, after, _SWEEP_CHUNK)
                    more = len(page) == _SWEEP_CHUNK
                    tried, judges = self._tried(tx, page)
                    part = [unit.id for unit, _ in tried]
                    if due and len(tried) < len(page):
                        # Due, but nothing to try (final, waiting, no advance from its
                        # stage): not due again until something changes it.
                        tried_ids = set(part)
                        tx.set_due([(u.id, None) for u, _ in page if u.id not in tried_ids])
                    tx.prefetch(part)
                    done = _sweep_units(
                        core, tx, now, day, tried, judges, trigger, actor, host, due=due
                    )
            except ConcurrencyConflict:
                if part is None:  # the page itself could not be read: nothing was judged
                    raise
                done = PageOutcomes()
                for unit_id in part:
                    try:
                        with core.store.transaction() as tx:
                            found = core.load(tx, unit_id)
                            judge = (core.wf(tx, found[1]),)
                            done.extend(
                                _sweep_units(
                                    core,
                                    tx,
                                    now,
                                    day,
                                    (found,),
                                    judge,
                                    trigger,
                                    actor,
                                    host,
                                    due=due,
                                )
                            )
                    except ConcurrencyConflict:
                        held = check(core, unit_id, trigger, actor=actor, host=host)
                        done.held(unit_id, held.source)
            outcomes.add(done)
        return outcomes

    def _tried(
        self, tx: StoreSession, page: Sequence[tuple[Unit, UnitState]]
    ) -> tuple[list[tuple[Unit, UnitState]], list[Workflow]]:
        """The units of ``page`` the sweep tries, and alongside (not paired: nothing to
        allocate per unit) the workflow version judging each.
        """
        tries = self.tries
        tried: list[tuple[Unit, UnitState]] = []
        judges: list[Workflow] = []
        for pair in page:
            state = pair[1]
            key = (state.workflow, state.stage)
            if key in tries:
                workflow = tries[key]
            else:
                workflow = tries[key] = self._judge(tx, state)
            if workflow is not None:
                tried.append(pair)
                judges.append(workflow)
        return tried, judges

    def _judge(self, tx: StoreSession, state: UnitState) -> Workflow | None:
        """The workflow that judges the unit in ``state``, if this sweep tries it."""
        workflow = self.core.wf(tx, state)
        tried = (
            not workflow.is_final(state.stage)
            and (not self.waiting_only or workflow.stage(state.stage).kind == "waiting")
            and workflow.candidates(state.stage, self.trigger)
        )
        return workflow if tried else None


def _sweep_units(
    core: Core,
    tx: StoreSession,
    now: datetime,
    day: date,
    units: Sequence[tuple[Unit, UnitState]],
    workflows: Sequence[Workflow],
    trigger: str,
    actor: Actor,
    host: Any,
    *,
    due: bool = False,
) -> PageOutcomes:
    """Judge each unit and move those whose gates hold, in one write of the session.

    ``units``: each unit with its state as read in this session; ``workflows``: the
    version that judges each, in the same order. The moves are chained onto the head in
    order and handed to the store together, so a page of a sweep costs the store one call.
    ``due``: keep each held unit's due date (:func:`_due_of`), in one call too (a moved
    unit is left dirty by its move).
    """
    seq, prev = tx.audit_head()
    before = seq
    page_stamp = stamp(core, now, day, actor)
    today = now.date()  # gates judge the clock's date; ``day`` only dates the moves
    observed = observing()  # asked once per page, not once per unit judged
    moves: list[tuple[UnitState, int, AuditRow]] = []
    dues: list[tuple[str, date | None]] = []
    outcomes = PageOutcomes()
    for (unit, state), workflow in zip(units, workflows, strict=True):
        # A held unit's earliest-move date only when its due date is kept: otherwise the
        # sweep uses only whether it moves now (an outcome read back is judged again).
        decision = core.decide(
            tx, unit, state, today, trigger, actor.roles, workflow, observed, host=host, foresee=due
        )
        if not decision.allowed:
            outcomes.held(unit.id, state.stage)
            if due:
                dues.append((unit.id, _due_of(decision, workflow, state, actor, today)))
            continue
        seq += 1
        new, row = moved_row(
            core, workflow, page_stamp, unit, state, decision, None, None, seq, prev
        )
        prev = row.hash  # the sealed row's hash: the next move's link
        moves.append((new, state.version, row))
        outcomes.moved(unit.id, state.stage, new.stage, seq)
    if moves:
        tx.apply_transitions(moves)
        keep_items(core, tx, now, before, moved_units(units, moves))
    if dues:
        tx.set_due(dues)
    return outcomes


def _due_of(
    decision: Decision, workflow: Workflow, state: UnitState, actor: Actor, today: date
) -> date | None:
    """When a unit held by ``decision`` next needs judging (see ``StoreSession.set_due``).

    Its earliest-move date; None when it waits for facts (or for nothing a date brings).
    Dirty, judged in every sweep, when a gate's dates are unknown (it reads the host's
    data), or when candidates reserved for roles ``actor`` lacks were left out of the
    judgement: another actor's sweep may move the unit.
    """
    if decision.rejudge:
        return DIRTY
    for candidate in workflow.candidates(state.stage, decision.trigger):
        if candidate.by and not candidate.by & actor.roles:
            return DIRTY
    earliest = decision.earliest
    if earliest is None:
        return None
    return DIRTY if earliest <= today else earliest
