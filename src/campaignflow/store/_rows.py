"""Rows of the SQL store's tables and the records they hold, column by column by name.

Each ``*Row`` is a table's columns as a query selects them (see ``_queries``); the functions
turn a row into its record and a record into the values a statement writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from campaignflow._words.facts import FactTypes
from campaignflow._words.records import (
    FactRecord,
    Organisation,
    Unit,
    UnitState,
    WorkflowVersion,
    trusted_unit,
)
from campaignflow._words.verdicts import Refusal
from campaignflow.audit import AuditRecord, AuditRow, verdict_from_data

__all__ = [
    "DayMemo",
    "FactRow",
    "OrgRow",
    "RefusalRow",
    "StateRow",
    "UnitAndState",
    "UnitRow",
    "WorkflowRow",
    "audit_of",
    "fact_of",
    "org_of",
    "refusal_of",
    "state_values",
    "unit_and_state",
    "unit_state_refusal",
    "workflow_of",
]

# Distinct days a DayMemo holds before it starts over: far more than a campaign's.
_DAYS_KEPT = 4096


class DayMemo:
    """Stored days decoded lately, for one store: a campaign's states share a few hundred.

    A date is immutable, so one object may serve every state that holds it; a sweep then
    keeps one date per distinct day alive instead of four per unit. Bounded: when full it
    starts over, so the hit path stays one lookup.
    """

    __slots__ = ("_of", "_texts")

    def __init__(self) -> None:
        self._of: dict[str, date] = {}
        self._texts: dict[date, str] = {}

    def __call__(self, text: str | None) -> date | None:
        """The date stored as ``text`` (None for None)."""
        if text is None:
            return None
        day = self._of.get(text)
        if day is None:
            if len(self._of) >= _DAYS_KEPT:
                self._of.clear()
            day = self._of[text] = date.fromisoformat(text)
        return day

    def iso(self, day: date | None) -> str | None:
        """The text ``day`` is stored as (None for None): ``date.isoformat`` costs as much as
        writing the rest of a state row, and a sweep writes one day for every unit."""
        if day is None:
            return None
        if day.__class__ is not date:  # a datetime (or subclass) is written as it is
            return day.isoformat()
        text = self._texts.get(day)
        if text is None:
            if len(self._texts) >= _DAYS_KEPT:
                self._texts.clear()
            text = self._texts[day] = day.isoformat()
        return text


class UnitRow(NamedTuple):
    """``cf_units``' columns of a unit."""

    unit_id: str
    name: str
    kind: str
    batch: int
    members: int
    parent: str | None


class StateRow(NamedTuple):
    """``cf_states``' columns of a unit's state (UnitState's fields, stored)."""

    unit_id: str
    stage: str
    batch: int
    version: int
    entered_on: str | None
    stage_since: str | None
    started_on: str | None
    remedial: int
    remedial_round: int
    resume_since: str | None
    workflow: str | None


class FactRow(NamedTuple):
    """``cf_facts``' columns of a recorded fact."""

    unit_id: str
    stage: str
    version: int
    data: str
    on_date: str
    at_time: str
    actor_id: str
    seq: int
    request_id: str | None


class OrgRow(NamedTuple):
    """``cf_orgs``' columns of an organisation."""

    org_id: str
    name: str
    level: str
    parent: str | None


class RefusalRow(NamedTuple):
    """``cf_refusals``' columns of a unit's latest refusal."""

    unit_id: str
    stage: str
    version: int
    trigger_name: str
    target: str | None
    on_date: str
    seq: int
    failures: str


class WorkflowRow(NamedTuple):
    """``cf_workflows``' columns of an adopted workflow version."""

    n: int
    ref: str
    definition: str
    policy: str
    from_batch: int
    seq: int


class UnitAndState(NamedTuple):
    """A unit and its state, as a session reads (and caches) them together."""

    unit: Unit
    state: UnitState


_UNIT_END = len(UnitRow._fields)
_STATE_END = _UNIT_END + len(StateRow._fields)


def unit_and_state(columns: Sequence[Any], day: DayMemo) -> UnitAndState:
    """The unit and state of a row selecting ``UNIT_COLUMNS, STATE_COLUMNS``.

    Unpacked by name in UnitRow's and StateRow's order (the sweep's hot path: no
    intermediate tuples); tests/store pin the order to the two row types. Units were
    validated on the way in (insert_unit takes a validated Unit): validating every unit of
    a sweep again would cost more than the rest of loading it, so they are rebuilt with
    trusted_unit, which tests/store pin to Unit's definition.
    """
    (
        unit_id, name, kind, batch, members, parent,
        _, stage, state_batch, version, entered_on, stage_since, started_on,
        remedial, remedial_round, resume_since, workflow,
    ) = columns[:_STATE_END]  # fmt: skip
    return UnitAndState(
        unit=trusted_unit(
            id=unit_id,
            name=name,
            kind=kind,
            batch=int(batch),
            members=int(members),
            parent=parent,
        ),
        state=UnitState(
            unit_id=unit_id,
            stage=stage,
            batch=int(state_batch),
            version=int(version),
            entered_on=day(entered_on),
            stage_since=day(stage_since),
            started_on=day(started_on),
            remedial=bool(remedial),
            remedial_round=int(remedial_round),
            resume_since=day(resume_since),
            workflow=workflow or "",
        ),
    )


def unit_state_refusal(columns: Sequence[Any], day: DayMemo) -> tuple[Unit, UnitState, Refusal]:
    """The unit, state and refusal of a row selecting their three column lists."""
    unit, state = unit_and_state(columns, day)
    return unit, state, refusal_of(RefusalRow._make(columns[_STATE_END:]))


def state_values(state: UnitState, days: DayMemo) -> tuple[Any, ...]:
    """The values ``UPDATE_STATE`` sets, in its order (StateRow's, without the unit id)."""
    iso = days.iso
    return (
        state.stage,
        state.batch,
        state.version,
        iso(state.entered_on),
        iso(state.stage_since),
        iso(state.started_on),
        int(state.remedial),
        state.remedial_round,
        iso(state.resume_since),
        state.workflow or None,
    )


def fact_of(row: FactRow, fact_types: FactTypes) -> FactRecord:
    """The fact record a ``FACT_COLUMNS`` row holds, its fact loaded by ``fact_types``."""
    return FactRecord(
        unit_id=row.unit_id,
        stage=row.stage,
        version=int(row.version),
        fact=fact_types.load_text(row.data),
        on=date.fromisoformat(row.on_date),
        at=datetime.fromisoformat(row.at_time),
        actor_id=row.actor_id,
        seq=int(row.seq),
        request_id=row.request_id,
    )


def org_of(row: OrgRow) -> Organisation:
    """The organisation an ``ORG_COLUMNS`` row holds."""
    return Organisation(id=row.org_id, name=row.name, level=row.level, parent=row.parent)


def refusal_of(row: RefusalRow) -> Refusal:
    """The refusal a ``REFUSAL_COLUMNS`` row holds."""
    return Refusal(
        unit_id=row.unit_id,
        stage=row.stage,
        version=int(row.version),
        trigger=row.trigger_name,
        target=row.target,
        on=date.fromisoformat(row.on_date),
        seq=int(row.seq),
        failures=tuple(verdict_from_data(v) for v in json.loads(row.failures)),
    )


def workflow_of(row: WorkflowRow) -> WorkflowVersion:
    """The workflow version a ``cf_workflows`` row holds."""
    return WorkflowVersion(
        number=int(row.n),
        ref=row.ref,
        definition=json.loads(row.definition),
        policy=row.policy,
        from_batch=int(row.from_batch),
        seq=int(row.seq),
    )


def audit_of(columns: Sequence[Any]) -> AuditRecord:
    """The audit record an ``AUDIT_COLUMNS`` row holds (not re-hashed)."""
    return AuditRecord.from_row(AuditRow._make(columns))
