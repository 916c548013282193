"""Every unit's state rebuilt from the audit trail alone (moved here from ``engine.replay``).

Not imported by the package's ``__init__`` yet: ``campaignflow.engine`` still imports
``campaignflow.audit``, and this module imports the engine's pure ``next_state``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from campaignflow.audit._record import AuditRecord
from campaignflow.engine import initial_state, next_state, workflow_ref
from campaignflow.model import Unit, UnitState
from campaignflow.workflow import Workflow

__all__ = ["replay"]


def replay(
    workflow: Workflow, records: Iterable[AuditRecord], units: Mapping[str, Unit] | None = None
) -> dict[str, UnitState]:
    """Every unit's state rebuilt from the audit trail alone.

    Units come from the ``add_unit`` records (or ``units`` when given); every applied
    transition moves its unit with :func:`~campaignflow.engine.next_state`.
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
