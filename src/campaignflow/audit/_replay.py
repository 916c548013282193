"""Every unit's state rebuilt from the audit trail alone: the invariant "state == replay".

Replay reads the recorded transitions and moves each unit with the pure engine's
``next_state``; it never judges a guard again, so it never depends on today's facts or host
data (the verification of a store rests on this).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from campaignflow._words.records import Unit, UnitState
from campaignflow.audit._record import AuditRecord
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import initial_state, next_state, workflow_ref
from campaignflow.workflow._versions import migrated_state

__all__ = ["replay", "replay_versions"]


def replay(
    workflow: Workflow, records: Iterable[AuditRecord], units: Mapping[str, Unit] | None = None
) -> dict[str, UnitState]:
    """Every unit's state rebuilt from the audit trail of a campaign on one workflow.

    Units come from the ``add_unit`` records (``units`` is accepted for compatibility and
    not needed); every applied transition moves its unit with the engine's ``next_state``.
    """
    ref = workflow_ref(workflow)
    states: dict[str, UnitState] = {}
    for record in records:
        if record.outcome != "ok" or record.unit_id is None:
            continue
        if record.command == "add_unit":
            unit = Unit(**record.payload["unit"])
            states[unit.id] = initial_state(workflow, unit, ref=ref)
        elif record.dest is not None:
            states[record.unit_id] = _moved(workflow, states[record.unit_id], record)
    return states


def replay_versions(
    workflows: Mapping[str, Workflow], records: Iterable[AuditRecord], *, first: str
) -> dict[str, UnitState]:
    """Every unit's state rebuilt from the audit trail, across workflow versions.

    ``workflows`` maps each version's ref to its workflow. Each ``add_unit`` record names
    the version that judges the unit, each ``adopt`` record the units it moved and where;
    every transition moves its unit with the unit's version (``first`` for units written
    before versions were kept).
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
        elif record.unit_id is None:
            continue
        elif record.command == "add_unit":
            unit = Unit(**record.payload["unit"])
            ref = record.workflow
            states[unit.id] = initial_state(workflows[ref], unit, ref=ref)
        elif record.dest is not None:
            state = states[record.unit_id]
            states[record.unit_id] = _moved(workflows[state.workflow or first], state, record)
    return states


def _moved(workflow: Workflow, state: UnitState, record: AuditRecord) -> UnitState:
    """The state a recorded transition (or deferral) left its unit in."""
    assert record.dest is not None
    batch = record.payload.get("to_batch") if record.command == "defer" else None
    return next_state(workflow, state, record.dest, record.on, batch=batch)
