"""Re-exports of the old ``campaignflow.engine`` (the integrator rewrites the imports).

The pure engine lives in :mod:`campaignflow.workflow._engine`. Two things stay here until
integration: :func:`decide` as today's callers call it (``observed=`` chooses the
observability judge), and :func:`replay`, which moves to the audit package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from campaignflow.audit import AuditRecord
from campaignflow.model import Decision, FactRecord, Unit, UnitState
from campaignflow.observability import candidate_judge
from campaignflow.workflow import Workflow, _engine
from campaignflow.workflow._engine import (
    CandidateJudge,
    context_for,
    initial_state,
    next_state,
    stage_titles,
    workflow_ref,
)

__all__ = [
    "context_for",
    "decide",
    "initial_state",
    "next_state",
    "replay",
    "stage_titles",
    "workflow_ref",
]


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
    judge: CandidateJudge | None = None,
) -> Decision:
    """:func:`campaignflow.workflow._engine.decide`, observed as today's callers expect.

    ``observed``: whether guard evaluation is traced and logged (asked of observability
    when None); ``judge``, when given, is used as is.
    """
    return _engine.decide(
        workflow,
        unit,
        state,
        records,
        today,
        trigger,
        roles=roles,
        judged_by=judged_by,
        versioned=versioned,
        judge=candidate_judge(observed) if judge is None else judge,
    )


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
