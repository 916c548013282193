"""The campaign's commands on single units: add units, record facts, approve, check, advance, defer.

Every command runs in one store transaction: it re-reads the unit, judges it against the
data that commits, writes the state change, the fact and the audit record together, and
returns a record. A refused command (a gate held, or the actor may not act) changes nothing
but leaves an audit record of the denial. A command repeated with the same ``request_id``
returns the first result (or raises the first refusal again) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import attrs

from campaignflow._words.checks import one_of, optional_text, refuse, rule_problem, whole_number
from campaignflow._words.facts import Approval, Survey
from campaignflow._words.records import Actor, FactRecord, TransitionRecord, Unit, UnitState
from campaignflow._words.verdicts import Decision, Refusal, Verdict
from campaignflow.audit import decision_to_data
from campaignflow.campaign._checks import (
    DEFER,
    START,
    authorize,
    check_actor,
    check_request_id,
    check_trigger,
    movers,
    not_authorized,
    unit_list,
)
from campaignflow.campaign._core import Core
from campaignflow.campaign._items import keep_items
from campaignflow.campaign._records import (
    append,
    fact_record_of,
    moved_record,
    moved_row,
    redelivered,
    replayed,
    transition_record_of,
    unit_payload,
)
from campaignflow.errors import Problem, TransitionRejected, ValidationError
from campaignflow.observability import observe_advance
from campaignflow.store._protocol import StoreSession
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import initial_state

__all__ = [
    "add_units",
    "advance",
    "approve",
    "check",
    "defer",
    "deferral_batch",
    "fire",
    "record",
]


@attrs.frozen
class _Denied:
    """A refusal to raise once its audit record is committed."""

    error: Exception


def add_units(core: Core, units: Iterable[Unit], *, actor: Actor, request_id: str | None) -> int:
    """``Campaign.add_units``: register units, all or none; returns how many."""
    check_actor(actor)
    check_request_id(request_id)
    batch = unit_list(units)
    problems: list[str] = []
    seen: set[str] = set()
    for i, unit in enumerate(batch):
        if not isinstance(unit, Unit):
            problems.append(rule_problem(f"units[{i}]", unit, "must be a campaignflow.Unit"))
            continue
        if unit.id in seen:
            problems.append(Problem(f"units[{i}]", "campaign.unit_twice", {"unit": repr(unit.id)}))
        seen.add(unit.id)
        takes = core.versions[core.ref_for_batch(unit.batch)]
        if takes.batches and takes.batch(unit.batch) is None:
            numbers = ", ".join(str(b.number) for b in takes.batches)
            problems.append(
                Problem(
                    f"units[{i}]",
                    "campaign.unit_batch_unknown",
                    {"unit": repr(unit.id), "batches": numbers, "batch": unit.batch},
                )
            )
    if problems:
        raise ValidationError(code="validation.problems", problems=problems)
    now = core.now()
    with core.store.transaction() as tx:
        if request_id is not None and batch and redelivered(tx, request_id, batch, actor):
            return len(batch)
        for i, unit in enumerate(batch):
            if tx.get_unit(unit.id) is not None:
                problems.append(
                    Problem(f"units[{i}]", "campaign.unit_exists", {"unit": repr(unit.id)})
                )
        if problems:
            raise ValidationError(code="validation.problems", problems=problems)
        core.sync_versions(tx)
        before, added = tx.audit_head()[0], []
        for i, unit in enumerate(batch):
            ref = core.ref_for_batch(unit.batch)
            state = initial_state(core.versions[ref], unit, ref=ref)
            tx.insert_unit(unit, state)
            added.append((unit, state))
            rid = request_id if request_id is None else f"{request_id}#{i}"
            append(
                core,
                tx,
                now,
                "add_unit",
                actor,
                "ok",
                unit_id=unit.id,
                dest=state.stage,
                version=0,
                request_id=rid,
                payload=unit_payload(unit),
                workflow=ref,
            )
        keep_items(core, tx, now, before, added)
    return len(batch)


def record(
    core: Core, unit_id: str, fact: object, *, actor: Actor, request_id: str | None
) -> FactRecord:
    """``Campaign.record``: attach a fact to the unit's current stage."""
    if isinstance(fact, Approval):
        return approve(
            core,
            unit_id,
            actor=actor,
            role=fact.role,
            decision=fact.decision,
            comment=fact.comment,
            request_id=request_id,
        )
    check_actor(actor)
    check_request_id(request_id)
    kind = core.fact_types.name_of(fact)
    payload = {"fact": core.fact_types.dump(fact)}
    now = core.now()
    with core.store.transaction() as tx:
        replay = replayed(tx, request_id, "record", unit_id, payload, actor)
        if replay is not None:
            return fact_record_of(core, replay)
        unit, state = core.load(tx, unit_id)
        core.check_open(state, "record facts for")
        role = core.wf(tx, state).fact_roles.get(kind) or core.fact_types.role_for(kind)
        denial = None if role is None else authorize(actor, unit, {role}, action="record")
        if denial is not None:
            result: FactRecord | _Denied = _deny(
                core, tx, now, "record", actor, unit_id, state, request_id, payload, denial
            )
        else:
            result = _add_fact(core, tx, now, unit, state, fact, payload, actor, request_id)
    if isinstance(result, _Denied):
        raise result.error
    return result


def approve(
    core: Core,
    unit_id: str,
    *,
    actor: Actor,
    role: str | None,
    decision: Literal["approved", "rejected"],
    comment: str,
    request_id: str | None,
) -> FactRecord:
    """``Campaign.approve``: record ``actor``'s decision on the unit's stage transition."""
    check_actor(actor)
    check_request_id(request_id)
    optional_text("role", role)
    one_of("decision", decision, ("approved", "rejected"))
    if not isinstance(comment, str):
        refuse("comment", comment, "must be text")
    optional_text("comment", comment)
    now = core.now()
    with core.store.transaction() as tx:
        base_payload = {"role": role, "decision": decision, "comment": comment}
        replay = replayed(tx, request_id, "approve", unit_id, base_payload, actor)
        if replay is not None:
            return fact_record_of(core, replay)
        unit, state = core.load(tx, unit_id)
        core.check_open(state, "approve")
        chosen = _approver_role(core.wf(tx, state), unit_id, state, actor, role)
        fact = Approval(role=chosen, decision=decision, comment=comment)
        denial = authorize(actor, unit, {chosen}, action="approve")
        if denial is not None:
            result: FactRecord | _Denied = _deny(
                core, tx, now, "approve", actor, unit_id, state, request_id, base_payload, denial
            )
        else:
            payload = {**base_payload, "fact": core.fact_types.dump(fact)}
            result = _add_fact(
                core, tx, now, unit, state, fact, payload, actor, request_id, command="approve"
            )
    if isinstance(result, _Denied):
        raise result.error
    return result


def _approver_role(
    workflow: Workflow, unit_id: str, state: UnitState, actor: Actor, role: str | None
) -> str:
    """The role ``actor`` approves the unit's stage in: ``role``, or the one they hold."""
    wanted = workflow.approver_roles(state.stage)
    if not wanted:
        raise ValidationError(
            code="campaign.no_approval_asked",
            params={"unit": repr(unit_id), "stage": repr(state.stage)},
        )
    if role is not None and role not in wanted:
        raise ValidationError(
            code="campaign.role_not_approver",
            params={
                "unit": repr(unit_id),
                "stage": repr(state.stage),
                "roles": sorted(wanted),
                "role": repr(role),
            },
        )
    if role is not None:
        return role
    held = sorted(wanted & actor.roles)
    if len(held) > 1:
        raise ValidationError(
            code="campaign.several_approver_roles",
            params={"actor": repr(actor.id), "roles": list(held)},
        )
    return held[0] if held else sorted(wanted)[0]


def _deny(
    core: Core,
    tx: StoreSession,
    now: datetime,
    command: str,
    actor: Actor,
    unit_id: str,
    state: UnitState,
    request_id: str | None,
    payload: dict[str, Any],
    reason: dict[str, Any],
    decision: Decision | None = None,
) -> _Denied:
    """Audit a refused command; the error to raise once that record commits.

    ``reason``: why ``actor`` may not issue it; or, with the ``decision`` whose gates held a
    move, ``transition.rejected`` (that refusal is also kept as the unit's latest).
    """
    seq = _audit_at_stage(
        core,
        tx,
        now,
        command,
        actor,
        "denied",
        unit_id,
        state,
        dest=None if decision is None else decision.target,
        request_id=request_id,
        payload=payload,
        decision=None if decision is None else decision_to_data(decision),
        reason=reason,
        workflow=None if decision is None else core.ref_of(state),
    )
    keep_items(core, tx, now, seq - 1, ())  # a refusal changes no item: the mark moves on
    if decision is None:
        return _Denied(not_authorized(reason, actor, unit_id))
    # The latest refusal, kept for stuck lists and roll-ups in this same transaction: the
    # overview never replays the trail.
    tx.set_refusal(
        Refusal(
            unit_id=unit_id,
            stage=state.stage,
            version=state.version,
            trigger=decision.trigger,
            target=decision.target,
            on=now.date(),
            seq=seq,
            failures=tuple(attrs.evolve(f, children=()) for f in decision.failures()),
        )
    )
    return _Denied(TransitionRejected(decision))


def _audit_at_stage(
    core: Core,
    tx: StoreSession,
    now: datetime,
    command: str,
    actor: Actor,
    outcome: Literal["ok", "denied"],
    unit_id: str,
    state: UnitState,
    **fields: Any,
) -> int:
    """Seal a record of ``command`` on ``unit_id``, dated ``now``, at ``state``'s stage and
    version; returns its seq."""
    return append(
        core,
        tx,
        now,
        command,
        actor,
        outcome,
        unit_id=unit_id,
        source=state.stage,
        version=state.version,
        **fields,
    )


def _add_fact(
    core: Core,
    tx: StoreSession,
    now: datetime,
    unit: Unit,
    state: UnitState,
    fact: object,
    payload: dict[str, Any],
    actor: Actor,
    request_id: str | None,
    *,
    command: str = "record",
) -> FactRecord:
    seq = _audit_at_stage(
        core,
        tx,
        now,
        command,
        actor,
        "ok",
        unit.id,
        state,
        request_id=request_id,
        payload=payload,
        workflow=core.ref_of(state),
    )
    if isinstance(fact, Survey):
        counts = (
            fact.satisfied,
            fact.fairly_satisfied,
            fact.basically_satisfied,
            fact.dissatisfied,
        )
        tx.set_assessment(unit.id, seq, counts)
    record = FactRecord(
        unit_id=unit.id,
        stage=state.stage,
        version=state.version,
        fact=fact,
        on=now.date(),
        at=now,
        actor_id=actor.id,
        seq=seq,
        request_id=request_id,
    )
    tx.insert_fact(record)
    keep_items(core, tx, now, seq - 1, ((unit, state),))
    return record


def check(
    core: Core, unit_id: str, trigger: str, *, actor: Actor | None, host: Any = None
) -> Decision:
    """``Campaign.check``: the dry run of ``advance``; writes nothing."""
    if actor is not None:
        check_actor(actor)
    check_trigger(trigger)
    today = core.now().date()
    with core.store.transaction(write=False) as tx:
        unit, state = core.load(tx, unit_id)
        roles = None if actor is None else actor.roles
        decision = core.decide(tx, unit, state, today, trigger, roles, host=core.host_for(host))
        if trigger == DEFER and decision.allowed:
            decision = _with_batch_rules(decision, unit_id, state, core.wf(tx, state))
    if roles is not None and trigger == START:
        # As advance judges it: a start naming nobody is the leading group's (movers), so
        # for anyone else it is no candidate, as a transition reserved by ``by`` is not.
        compiled = core.wf(None, state).candidates(state.stage, START)
        if compiled and not any(c.by for c in compiled) and not movers(frozenset(), START) & roles:
            return attrs.evolve(decision, candidates=(), allowed=False, target=None)
    return decision


def advance(
    core: Core,
    unit_id: str,
    *,
    actor: Actor,
    request_id: str | None,
    trigger: str,
    host: Any = None,
) -> TransitionRecord:
    """``Campaign.advance``: move the unit on if its gates hold (observed and logged)."""
    check_trigger(trigger)
    return observe_advance(
        lambda: fire(core, unit_id, trigger, actor, request_id, batch=None, host=host),
        unit_id=unit_id,
        trigger=trigger,
        workflow=core.workflow.name,
    )


def defer(
    core: Core,
    unit_id: str,
    *,
    actor: Actor,
    to_batch: int | None,
    request_id: str | None,
    host: Any = None,
) -> TransitionRecord:
    """``Campaign.defer``: move a late unit to ``to_batch`` (the next batch by default)."""
    if to_batch is not None:
        whole_number("defer: to_batch", to_batch, minimum=1)
    return fire(core, unit_id, "defer", actor, request_id, batch=to_batch or 0, host=host)


def fire(
    core: Core,
    unit_id: str,
    trigger: str,
    actor: Actor,
    request_id: str | None,
    *,
    batch: int | None,
    host: Any = None,
) -> TransitionRecord:
    """``advance`` (``batch`` None) or ``defer`` (to ``batch``; 0 for the next one) the unit.

    ``host``: the call's own host data (the campaign's when None).
    """
    check_actor(actor)
    check_request_id(request_id)
    if not isinstance(trigger, str) or not trigger:
        refuse("trigger", trigger, "must be a trigger name")
    if trigger == DEFER and batch is None:
        batch = 0  # advance(trigger="defer") is a deferral, with defer()'s batch rules
    command = "defer" if batch is not None else "advance"
    payload: dict[str, Any] = {"trigger": trigger}
    if batch:
        payload["to_batch"] = batch
    now = core.now()
    today = now.date()
    with core.store.transaction() as tx:
        replay = replayed(tx, request_id, command, unit_id, payload, actor)
        if replay is not None:
            return transition_record_of(core, replay)
        unit, state = core.load(tx, unit_id)
        workflow = core.wf(tx, state)
        candidates = workflow.candidates(state.stage, trigger)
        if not candidates:
            raise ValidationError(
                code="campaign.no_such_transition",
                params={
                    "unit": repr(unit_id),
                    "trigger": repr(trigger),
                    "stage": repr(state.stage),
                    "have": list(workflow.triggers(state.stage)),
                },
            )
        if batch is not None:
            batch = deferral_batch(unit_id, state, batch, workflow)
            payload["to_batch"] = batch
        denial = None
        needed = [movers(c.by, trigger) for c in candidates]
        if not any(not roles or roles & actor.roles for roles in needed):
            denial = authorize(actor, unit, frozenset().union(*needed), action="move")
        if denial is not None:
            result: TransitionRecord | _Denied = _deny(
                core, tx, now, command, actor, unit_id, state, request_id, payload, denial
            )
        else:
            decision = core.decide(
                tx, unit, state, today, trigger, actor.roles, workflow, host=core.host_for(host)
            )
            if decision.allowed:
                seq, prev = tx.audit_head()
                made = core.stamp(now, today, actor)
                new, row = moved_row(
                    core,
                    workflow,
                    made,
                    unit,
                    state,
                    decision,
                    request_id,
                    batch,
                    seq + 1,
                    prev,
                    command,
                )
                result = moved_record(made, unit, state, new, decision, request_id, seq + 1)
                tx.apply_transitions(((new, state.version, row),))
                keep_items(core, tx, now, seq, ((unit, new),))
            else:
                result = _deny(
                    core,
                    tx,
                    now,
                    command,
                    actor,
                    unit_id,
                    state,
                    request_id,
                    payload,
                    reason={"code": "transition.rejected", "params": {}},
                    decision=decision,
                )
    if isinstance(result, _Denied):
        raise result.error
    return result


def _with_batch_rules(
    decision: Decision, unit_id: str, state: UnitState, workflow: Workflow
) -> Decision:
    """``decision`` on ``defer``, refused as defer() would refuse it: no later batch to go to.

    The gates held, so the batch rules are the last word; they join the chosen way's
    verdicts as one more failing verdict, so ``explain()`` and ``failures()`` name them.
    """
    try:
        deferral_batch(unit_id, state, 0, workflow)
    except ValidationError:
        rule = Verdict(
            guard="defer_batch_rules",
            passed=False,
            code="defer.no_later_batch",
            params={"batch": state.batch},
        )
        candidates = tuple(
            attrs.evolve(c, passed=False, verdicts=(*c.verdicts, rule)) if c.passed else c
            for c in decision.candidates
        )
        return attrs.evolve(decision, candidates=candidates, allowed=False, target=None)
    return decision


def deferral_batch(unit_id: str, state: UnitState, batch: int, workflow: Workflow) -> int:
    """The batch a deferral moves the unit to (``batch``; 0 for the next), checked.

    The one place defer()'s batch rules live: every path firing ``defer`` comes here, so a
    deferred unit always lands in a later batch the workflow has (never back to waiting in
    its own batch, and never out of the last one).
    """
    target = batch or state.batch + 1
    if target <= state.batch:
        raise ValidationError(
            code="campaign.to_batch_not_later",
            params={"unit": repr(unit_id), "batch": state.batch, "target": target},
        )
    if workflow.batches and workflow.batch(target) is None:
        raise ValidationError(
            code="campaign.to_batch_unknown",
            params={
                "unit": repr(unit_id),
                "batches": [str(b.number) for b in workflow.batches],
                "target": target,
            },
        )
    return target
