"""The engine: pure functions that judge a unit and compute its next state. No I/O, no clock.

``Campaign`` calls these inside a store transaction; the audit's replay calls the same
:func:`next_state` on the trail, which is why state always equals the replay of history.
The engine knows neither the audit nor the runtime's logging: a caller that traces or logs
guard evaluation passes its own judge of candidates (``decide(..., judge=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from campaignflow._words.records import FactRecord, Unit, UnitState
from campaignflow._words.verdicts import Candidate, Decision, StageTitles
from campaignflow.errors import ValidationError
from campaignflow.guards import GuardContext
from campaignflow.guards._earliest import earliest_of, unite
from campaignflow.workflow._compile import CompiledTransition
from campaignflow.workflow._definition import Workflow

__all__ = [
    "CandidateJudge",
    "context_for",
    "decide",
    "host_missing",
    "initial_state",
    "next_state",
    "outlook",
    "require_host",
    "stage_titles",
    "workflow_ref",
]

#: Judges a decision's candidate transitions for a context, in order: the hook through which
#: the runtime traces and logs guard evaluation (``observability.judge_candidates``).
CandidateJudge = Callable[[Sequence[CompiledTransition], GuardContext], tuple[Candidate, ...]]


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
    workflow: Workflow,
    unit: Unit,
    state: UnitState,
    records: Sequence[FactRecord],
    today: date,
    *,
    host: Any = None,
) -> GuardContext:
    """The guard context of ``unit`` on ``today`` with its current stage's fact records.

    ``host``: the host's data for this judgement (``GuardContext.host``).

    In a remedial stage only this visit's records count: each round of make-up (补课) must be
    done again, not carried over from an earlier round.
    """
    if workflow.stage(state.stage).kind == "remedial":
        records = [r for r in records if r.version == state.version]
    return GuardContext(
        unit=unit,
        state=state,
        today=today,
        records=tuple(records),
        batch_window=workflow.batch(state.batch),
        workflow=workflow.name,
        host=host,
    )


def require_host(candidates: Sequence[CompiledTransition], host: Any) -> None:
    """Refuse to judge ``candidates`` whose guards read host data when ``host`` is None.

    A host-reading guard judged without the host's data would answer "no data" for a
    reason no one chose: the caller is told instead, naming the guard and the transition.

    Raises:
        ValidationError: ``guard.host_missing``.
    """
    if host is not None:
        return
    for c in candidates:
        if c.host_guards:
            raise host_missing(c.host_guards[0], c.source, c.dest, c.trigger)


def host_missing(guard: object, source: str, dest: str, trigger: str) -> ValidationError:
    """The error for host-reading ``guard`` on ``source`` -> ``dest`` judged without host data
    (raised by :func:`require_host` and by fast mode, which keeps its candidates its own way)."""
    return ValidationError(
        code="guard.host_missing",
        params={"guard": repr(guard), "source": source, "dest": dest, "trigger": trigger},
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
    judge: CandidateJudge | None = None,
    host: Any = None,
    foresee: bool = True,
) -> Decision:
    """Judge every candidate of ``trigger`` from the unit's stage, in the workflow's order.

    The first candidate whose guards all pass is the target (transitions' semantics); every
    candidate is still judged so the decision explains all of them. With ``roles`` (the
    acting actor's), candidates that name other roles in ``by`` are left out.
    ``judged_by`` / ``versioned`` are stamped on the decision (see :class:`Decision`).
    ``judge``: judges the candidates instead of the bare loop, e.g. to trace and log each
    (the runtime passes ``observability.judge_candidates`` when it observes); its results
    must be the candidates' own judgements, in order.
    ``host``: the host's data every guard sees as ``ctx.host``.
    ``foresee``: whether a held decision says when the unit may move (:func:`outlook`).
    A caller that only asks whether the unit moves now (a sweep, ``due_units``) passes
    False and is spared that work; its held decisions then say ``rejudge`` (nothing is
    known of their dates), never a date that was not computed.

    Raises:
        ValidationError: ``guard.host_missing``, a candidate's guard reads host data and
            ``host`` is None (nothing is judged).
    """
    compiled = workflow.candidates(state.stage, trigger)
    if roles is not None:
        for reserved in compiled:
            if reserved.by:
                # A candidate reserved for roles the actor lacks is no candidate for them.
                compiled = tuple(c for c in compiled if not c.by or c.by & roles)
                break
    require_host(compiled, host)
    ctx = context_for(workflow, unit, state, records, today, host=host)
    if judge is not None:
        candidates = judge(compiled, ctx)
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
    earliest: date | None = today
    needs: tuple[str, ...] = ()
    rejudge = False
    if not allowed:
        if foresee:
            earliest, needs, rejudge = outlook(compiled, candidates, ctx)
        else:
            earliest, rejudge = None, True
    return Decision(
        unit_id=unit.id,
        trigger=trigger,
        source=state.stage,
        target=target,
        allowed=allowed,
        candidates=candidates,
        judged_on=today,
        workflow=workflow.name,
        titles=stage_titles(workflow, state.stage, target),
        judged_by=judged_by,
        versioned=versioned,
        earliest=earliest,
        needs=needs,
        rejudge=rejudge,
    )


def outlook(
    compiled: Sequence[CompiledTransition], judged: Sequence[Candidate], ctx: GuardContext
) -> tuple[date | None, tuple[str, ...], bool]:
    """When a held unit may move if nothing but the date changes: ``(earliest, needs, rejudge)``.

    A unit moves on a date some candidate passes on: the union of each candidate's dates
    (every guard's, intersected), from the guards' declarations. ``earliest`` is the first
    such date from ``ctx.today`` on (None when there is none, or when ``rejudge``); ``needs``
    the fact kinds whose arrival could lift a gate; ``rejudge``: some gate's dates are
    unknown (undeclared, or it reads the host's data).
    """
    parts = [
        earliest_of([g.outlook for g in c.guards], ctx, j.verdicts)
        for c, j in zip(compiled, judged, strict=True)
    ]
    if any(p[2] for p in parts):
        return None, (), True
    first = None
    for first_day, last_day in unite(p[0] for p in parts):
        if last_day >= ctx.today:
            first = max(first_day, ctx.today)
            break
    needs = () if first is not None else tuple(sorted({k for p in parts for k in p[1]}))
    return first, needs, False


def stage_titles(workflow: Workflow, *stage_ids: str | None) -> StageTitles:
    """The zh_CN and en titles of ``stage_ids`` (those the workflow has), for explanations.

    The workflow's own, shared by every decision between these stages: read-only, so no
    decision copies it, and a dict, so decisions are still pickled and sent between
    processes.
    """
    return workflow.titles_of(*stage_ids)


def next_state(
    workflow: Workflow, state: UnitState, dest: str, on: date, *, batch: int | None = None
) -> UnitState:
    """The unit's state after moving to ``dest`` on ``on`` (``batch``: deferral to a batch).

    Dates follow the domain: a remedial stay counts towards the stage it makes up, so
    returning from make-up restores that stage's start; a deferred unit starts afresh.
    """
    source = workflow.stage(state.stage)
    target = workflow.stage(dest)
    remedial = False
    remedial_round = state.remedial_round
    resume_since = None
    if batch is not None:
        since, started_on = on, None
    else:
        batch = state.batch
        started_on = state.started_on
        if started_on is None and source.kind == "waiting" and target.kind != "waiting":
            started_on = on
        if target.kind == "remedial":
            since, remedial = on, True
            remedial_round += 1
            # The make-up stay counts towards the stage it makes up: keep where that began.
            resume_since = state.stage_since if source.kind != "remedial" else state.resume_since
        elif source.kind == "remedial" and source.remedial_of == dest:
            since = state.resume_since or on
        elif dest == state.stage:
            since = state.stage_since or on
        else:
            since = on
    return UnitState(
        unit_id=state.unit_id,
        stage=dest,
        batch=batch,
        version=state.version + 1,
        entered_on=on,
        stage_since=since,
        started_on=started_on,
        remedial=remedial,
        remedial_round=remedial_round,
        resume_since=resume_since,
        workflow=state.workflow,
    )
