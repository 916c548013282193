"""Whole-store verification: every unit, state and fact row against what the chain produces.

The chain proves the audit records; the rows a campaign reads (``cf_units``, ``cf_states``,
``cf_facts``) are outside it. So a store is checked unit by unit: the unit's ``ok`` records
(in seq order, with the adoptions that moved it) are replayed with the pure engine, never
judging a guard again, and what they produce must equal the rows found: the unit equals its
``add_unit`` payload, the state equals the replay, and the facts equal the payloads of the
``record`` / ``approve`` records (copied into the new stage by an adoption, as adopting
does). A caller walks the store in pages of units, so memory holds one page, not the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from campaignflow._words.records import Unit, UnitState
from campaignflow.audit._chain import AuditVerification
from campaignflow.audit._encode import canonical_json
from campaignflow.audit._record import AuditRecord
from campaignflow.audit._replay import _moved
from campaignflow.errors import AuditTampered, CampaignflowError
from campaignflow.i18n import messages
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import initial_state
from campaignflow.workflow._versions import migrated_state

__all__ = [
    "FACT_COMMANDS",
    "AdoptionMove",
    "FactView",
    "RowDifference",
    "StoreVerification",
    "UnitCheck",
    "check_unit",
    "fact_view",
]

#: The commands whose ``ok`` records carry a fact (``payload["fact"]``) that a row keeps.
FACT_COMMANDS = frozenset({"record", "approve"})


class FactView(NamedTuple):
    """A fact row as verification compares it: the stored columns, the fact as canonical JSON."""

    unit_id: str
    stage: str
    version: int
    seq: int
    kind: str
    data: str
    on: str
    at: str
    actor_id: str
    request_id: str | None


class AdoptionMove(NamedTuple):
    """One unit's move in an ``adopt`` record: to version ``ref``, from one stage to another."""

    seq: int
    ref: str
    from_stage: str
    to_stage: str


def fact_view(record: AuditRecord, stage: str | None = None) -> FactView:
    """The fact row that the ``ok`` fact record ``record`` wrote (into ``stage``, if given)."""
    return FactView(
        unit_id=str(record.unit_id),
        stage=stage or str(record.source),
        version=int(record.version or 0),
        seq=record.seq,
        kind=str(record.payload["fact"].get("kind")),
        data=canonical_json(record.payload["fact"]),
        on=record.on.isoformat(),
        at=record.at.isoformat(),
        actor_id=record.actor_id,
        request_id=record.request_id,
    )


@attrs.frozen
class RowDifference:
    """The first stored row that is not what the audit trail produces.

    ``table`` and ``key`` name the row (``key`` is the unit id, and for a fact its stage
    and the seq of the record that wrote it), ``field`` the column (``row`` when the whole
    row is missing or has no record), ``expected`` what the trail produces and ``found``
    what the store holds, both as text.
    """

    table: str
    key: str
    field: str
    expected: str
    found: str

    def described(self) -> tuple[str, dict[str, Any]]:
        """The catalog code saying what kind of difference this is, and its params."""
        params = attrs.asdict(self)
        if self.field != "row":
            return "store_check.row_differs", params
        if self.found == "-":
            return "store_check.row_missing", params
        return "store_check.row_extra", params

    @property
    def code(self) -> str:
        """The catalog code of :meth:`described`."""
        return self.described()[0]

    @property
    def params(self) -> dict[str, Any]:
        """The code's params."""
        return self.described()[1]


@attrs.frozen
class StoreVerification:
    """The result of verifying a whole store (:meth:`Campaign.verify`); true when it holds.

    ``chain`` is the audit chain's own verification (head pointer and anchor included);
    ``units``, ``states`` and ``facts`` count the rows found equal to the trail;
    ``unchecked`` counts the units whose ``add_unit`` record was purged (their rows cannot
    be rebuilt from the kept trail). ``difference`` names the first row that differs;
    ``code`` and ``params`` say what is wrong as a catalog code (the chain's own code when
    the chain is broken), and :meth:`text` renders it in zh_CN or en.
    """

    ok: bool
    chain: AuditVerification
    units: int = 0
    states: int = 0
    facts: int = 0
    unchecked: int = 0
    difference: RowDifference | None = None
    code: str = ""
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def text(self, locale: str = "zh_CN") -> str:
        """What is wrong, in ``locale`` (empty when the store holds)."""
        return messages.render(self.code, self.params, locale) if self.code else ""

    def raise_if_broken(self) -> None:
        """Raise :class:`AuditTampered` naming the first wrong record or row, if any."""
        if self.ok:
            return
        if self.difference is None:
            self.chain.raise_if_broken()
        raise AuditTampered(None, self.text("en"), reason_code=self.code, reason_params=self.params)


@attrs.define
class UnitCheck:
    """What checking one unit found: the first difference, and what was checked."""

    difference: RowDifference | None = None
    states: int = 0
    facts: int = 0
    unchecked: bool = False


def _text(value: object) -> str:
    return "-" if value is None else repr(value)


def _missing(table: str, key: str) -> RowDifference:
    return RowDifference(table=table, key=key, field="row", expected="row", found="-")


def _extra(table: str, key: str) -> RowDifference:
    return RowDifference(table=table, key=key, field="row", expected="-", found="row")


def _first_field(
    table: str, key: str, expected: Unit | UnitState, found: Unit | UnitState
) -> RowDifference | None:
    for field in attrs.fields(type(expected)):
        want, got = getattr(expected, field.name), getattr(found, field.name)
        if want != got or type(want) is not type(got):
            return RowDifference(
                table=table, key=key, field=field.name, expected=_text(want), found=_text(got)
            )
    return None


def _facts_differ(expected: list[FactView], found: list[FactView]) -> RowDifference | None:
    expected.sort()
    found.sort()
    for want, got in zip(expected, found, strict=False):
        if want == got:
            continue
        key = f"{want.unit_id} {want.stage} seq {want.seq}"
        if (want.stage, want.seq) != (got.stage, got.seq):
            if (want.stage, want.seq) < (got.stage, got.seq):
                return _missing("cf_facts", key)
            return _extra("cf_facts", f"{got.unit_id} {got.stage} seq {got.seq}")
        for name, a, b in zip(FactView._fields, want, got, strict=True):
            if a != b:
                return RowDifference(
                    table="cf_facts", key=key, field=name, expected=_text(a), found=_text(b)
                )
    if len(expected) > len(found):
        want = expected[len(found)]
        return _missing("cf_facts", f"{want.unit_id} {want.stage} seq {want.seq}")
    if len(found) > len(expected):
        got = found[len(expected)]
        return _extra("cf_facts", f"{got.unit_id} {got.stage} seq {got.seq}")
    return None


def check_unit(
    unit_id: str,
    *,
    records: Iterable[AuditRecord],
    moves: Sequence[AdoptionMove],
    workflows: Mapping[str, Workflow],
    first: str,
    purged: bool,
    unit: Unit | None,
    state: UnitState | None,
    facts: list[FactView],
) -> UnitCheck:
    """Compare one unit's stored rows with what its records (and adoptions) produce.

    ``records``: the unit's records in seq order (those of the kept trail); ``moves``: the
    adoptions that moved it, in seq order; ``purged``: the trail was purged, so a unit
    without an ``add_unit`` record may have lost it to the purge (its rows are then
    counted as unchecked, not wrong).
    """
    added: dict[str, Any] | None = None
    replayed: UnitState | None = None
    expected: list[FactView] = []
    events = sorted(
        [(record.seq, record) for record in records if record.outcome == "ok"]
        + [(move.seq, move) for move in moves],
        key=lambda pair: pair[0],
    )
    try:
        for _, event in events:
            if isinstance(event, AdoptionMove):
                if replayed is None:
                    continue
                replayed = migrated_state(workflows[event.ref], event.ref, replayed, event.to_stage)
                if event.to_stage != event.from_stage:
                    expected += [
                        fact._replace(stage=event.to_stage)
                        for fact in expected
                        if fact.stage == event.from_stage
                    ]
            elif event.command == "add_unit":
                added = dict(event.payload["unit"])
                ref = event.workflow
                replayed = initial_state(workflows[ref], Unit(**added), ref=ref)
            elif replayed is None:
                continue
            elif event.command in FACT_COMMANDS and "fact" in event.payload:
                expected.append(fact_view(event))
            elif event.dest is not None:
                replayed = _moved(workflows[replayed.workflow or first], replayed, event)
    except (KeyError, ValueError, TypeError, CampaignflowError) as exc:
        # A workflow version the records name is missing or no longer fits them.
        return UnitCheck(
            difference=RowDifference(
                table="cf_workflows",
                key=unit_id,
                field="definition",
                expected="the version its records name",
                found=f"{type(exc).__name__}",
            )
        )
    if added is None:
        if purged and unit is not None:
            return UnitCheck(unchecked=True)
        for table, row in (("cf_units", unit), ("cf_states", state)):
            if row is not None:
                return UnitCheck(difference=_extra(table, unit_id))
        if facts:
            return UnitCheck(difference=_facts_differ([], facts))
        return UnitCheck()
    assert replayed is not None
    if unit is None:
        return UnitCheck(difference=_missing("cf_units", unit_id))
    difference = _first_field("cf_units", unit_id, Unit(**added), unit)
    if difference is None:
        if state is None:
            difference = _missing("cf_states", unit_id)
        else:
            if not state.workflow and replayed.workflow == first:
                state = attrs.evolve(state, workflow=first)  # kept before versions were
            difference = _first_field("cf_states", unit_id, replayed, state)
    if difference is None:
        difference = _facts_differ(expected, facts)
    return UnitCheck(difference=difference, states=1, facts=len(facts))
