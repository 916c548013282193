"""Re-exports of the old ``campaignflow.versions`` (the integrator rewrites the imports).

Adoption plans live in :mod:`campaignflow.workflow._versions`; :func:`replay` across
versions stays here until it moves to the audit package at integration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from campaignflow.audit import AuditRecord
from campaignflow.model import Unit, UnitState
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import initial_state, next_state
from campaignflow.workflow._versions import (
    POLICIES,
    Adoption,  # noqa: F401  (re-exported; see __all__)
    Policy,
    UnitChange,  # noqa: F401  (re-exported; see __all__)
    adoption_of,
    migrated_state,
    payload_of,
    plan_adoption,
)

# Adoption and UnitChange are importable here but not listed: the API page documents them
# as campaignflow.Adoption / UnitChange, and listing them too would describe them twice.
__all__ = [
    "POLICIES",
    "Policy",
    "adoption_of",
    "migrated_state",
    "payload_of",
    "plan_adoption",
    "replay",
]


def replay(
    workflows: Mapping[str, Workflow], records: Iterable[AuditRecord], *, first: str
) -> dict[str, UnitState]:
    """Every unit's state rebuilt from the audit trail, across workflow versions.

    Each ``add_unit`` record names the version that judges the unit, each ``adopt`` record
    the units it moved and where; every transition moves its unit with the unit's version
    (``first`` for units written before versions were kept).
    """
    states: dict[str, UnitState] = {}
    for record in records:
        if record.outcome != "ok":
            continue
        if record.command == "adopt":
            new_ref = str(record.payload["workflow"])
            new = workflows[new_ref]
            for change in record.payload["changes"]:
                unit_id, to_stage = change[0], change[4]
                states[unit_id] = migrated_state(new, new_ref, states[unit_id], to_stage)
            continue
        if record.unit_id is None:
            continue
        if record.command == "add_unit":
            unit = Unit(**record.payload["unit"])
            ref = record.workflow
            states[unit.id] = initial_state(workflows[ref], unit, ref=ref)
        elif record.dest is not None:
            state = states[record.unit_id]
            batch = record.payload.get("to_batch") if record.command == "defer" else None
            workflow = workflows[state.workflow or first]
            states[record.unit_id] = next_state(
                workflow, state, record.dest, record.on, batch=batch
            )
    return states
