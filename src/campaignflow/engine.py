"""The engine: pure functions that judge a unit and compute its next state. No I/O, no clock.

``Campaign`` calls these inside a store transaction; replay calls the same ``next_state`` on
the audit trail, which is why state always equals the replay of history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from campaignflow.audit import AuditRecord
from campaignflow.guards._core import GuardContext
from campaignflow.model import Decision, FactRecord, Unit, UnitState
from campaignflow.observability import judge_candidates, observing
from campaignflow.workflow import Workflow

__all__ = [
    "context_for",
    "decide",
    "initial_state",
    "next_state",
    "replay",
    "stage_titles",
    "workflow_ref",
]


def workflow_ref(workflow: Workflow) -> str:
    """``name@version#hash``: the workflow version a state or audit record names.

    The hash is the first 12 hex digits of the content hash, as audit records have always
    carried it.
    """
    return f"{workflow.name}@{workflow.version}#{workflow.content_hash[:12]}"


def initial_state(workflow: Workflow, unit: Unit, *, ref: str | None = None) -> UnitState:
    """The state of a unit just added: the workflow's initial stage, version 0.

    ``ref``: the workflow's :func:`workflow_ref`, when the caller has it (it costs a hash).
    """
    return UnitState(
        unit_id=unit.id,
        stage=workflow.initial,
        batch=unit.batch,
        workflow=workflow_ref(workflow) if ref is None else ref,
    )


def context_for(
    workflow: Workflow, unit: Unit, state: UnitState, records: Sequence[FactRecord], today: date
) -> GuardContext:
    """The guard context of ``unit`` on ``today`` with its current stage's fact records.

    In a remedial stage only this visit's records count: each round of make-up (补课) must be
    done again, not carried over from an earlier round.
    """
    if workflow.stage(state.stage).kind == "remedial":
        records = [r for r in records if r.version == state.version]
    # By position (unit, state, today, records, batch_window, workflow): on every judgement.
    return GuardContext(
        unit, state, today, tuple(records), workflow.batch(state.batch), workflow.name
    )


def decide(
    workflow: Workflow,
    unit: Unit,
    state: UnitState,
    records: Sequence[FactRecord],
    today: date,
    trigger: str = "advance",
    *,
    roles: frozenset[str] | None = None,
    judged_by: str = "",
    versioned: bool = False,
    observed: bool | None = None,
) -> Decision:
    """Judge every candidate of ``trigger`` from the unit's stage, in the workflow's order.

    The first candidate whose guards all pass is the target (transitions' semantics); every
    candidate is still judged so the decision explains all of them. With ``roles`` (the
    acting actor's), candidates that name other roles in ``by`` are left out.
    ``judged_by`` / ``versioned`` are stamped on the decision (see :class:`Decision`).
    ``observed``: whether guard evaluation is traced and logged (see
    :func:`~campaignflow.observability.observing`, asked when None); a caller judging many
    units in a row may ask once for all of them.
    """
    ctx = context_for(workflow, unit, state, records, today)
    compiled = workflow.candidates(state.stage, trigger)
    if roles is not None:
        for reserved in compiled:
            if reserved.by:
                # A candidate reserved for roles the actor lacks is no candidate for them.
                compiled = tuple(c for c in compiled if not c.by or c.by & roles)
                break
    if observing() if observed is None else observed:
        candidates = judge_candidates(compiled, ctx)
    elif len(compiled) == 1:  # the common gate of one candidate, without the loop
        candidates = (compiled[0].judge(ctx),)
    else:
        candidates = tuple([c.judge(ctx) for c in compiled])
    allowed = False
    target = candidates[0].dest if candidates else None
    for candidate in candidates:
        if candidate.passed:
            allowed, target = True, candidate.dest
            break
    # By position (unit_id, trigger, source, target, allowed, candidates, judged_on,
    # workflow, titles, judged_by, versioned): on every judgement.
    return Decision(
        unit.id, trigger, state.stage, target, allowed, candidates, today, workflow.name,
        stage_titles(workflow, state.stage, target), judged_by, versioned,
    )  # fmt: skip


def stage_titles(workflow: Workflow, *stage_ids: str | None) -> dict[str, list[str]]:
    """The zh_CN and en titles of ``stage_ids`` (those the workflow has), for explanations.

    A fresh dict each time (from the workflow's memo): decisions carrying it are handed to
    hosts, pickled and sent between processes.
    """
    return workflow.titles_of(*stage_ids).copy()


def next_state(
    workflow: Workflow, state: UnitState, dest: str, on: date, *, batch: int | None = None
) -> UnitState:
    """The unit's state after moving to ``dest`` on ``on`` (``batch``: deferral to a batch).

    Dates follow the domain: a remedial stay counts towards the stage it makes up, so
    returning from make-up restores that stage's start; a deferred unit starts afresh.
    """
    source = workflow.stage(state.stage)
    target = workflow.stage(dest)
    version = state.version + 1
    # UnitState's fields by position (unit_id, stage, batch, version, entered_on, stage_since,
    # started_on, remedial, remedial_round, resume_since, workflow): a third cheaper than by
    # name, on every transition's path.
    if batch is not None:
        return UnitState(
            state.unit_id, dest, batch, version, on, on, None, False, state.remedial_round, None,
            state.workflow,
        )  # fmt: skip
    started_on = state.started_on
    if started_on is None and source.kind == "waiting" and target.kind != "waiting":
        started_on = on
    if target.kind == "remedial":
        return UnitState(
            state.unit_id, dest, state.batch, version, on, on, started_on, True,
            state.remedial_round + 1,
            state.stage_since if source.kind != "remedial" else state.resume_since,
            state.workflow,
        )  # fmt: skip
    if source.kind == "remedial" and source.remedial_of == dest:
        since = state.resume_since or on
    elif dest == state.stage:
        since = state.stage_since or on
    else:
        since = on
    return UnitState(
        state.unit_id, dest, state.batch, version, on, since, started_on, False,
        state.remedial_round, None, state.workflow,
    )  # fmt: skip


def replay(
    workflow: Workflow, records: Iterable[AuditRecord], units: Mapping[str, Unit] | None = None
) -> dict[str, UnitState]:
    """Every unit's state rebuilt from the audit trail alone.

    Units come from the ``add_unit`` records (or ``units`` when given); every applied
    transition moves its unit with :func:`next_state`.
    """
    states: dict[str, UnitState] = {}
    known: dict[str, Unit] = dict(units or {})
    ref = workflow_ref(workflow)
    for record in records:
        if record.outcome != "ok" or record.unit_id is None:
            continue
        if record.command == "add_unit":
            unit = Unit(**record.payload["unit"])
            known[unit.id] = unit
            states[unit.id] = initial_state(workflow, unit, ref=ref)
        elif record.dest is not None:
            state = states[record.unit_id]
            batch = record.payload.get("to_batch") if record.command == "defer" else None
            states[record.unit_id] = next_state(
                workflow, state, record.dest, record.on, batch=batch
            )
    return states
