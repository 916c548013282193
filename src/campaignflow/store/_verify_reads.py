"""The reads a whole-store verification makes: the rows of a page of units, as stored.

Verification walks the units in the store's own order of their ids, a page at a time, and
for each page reads every unit, state, fact and audit row whose unit id falls in the page's
range ``(after, high]`` (``high`` the page's last id; the last page has no upper bound). The
ranges tile every possible id, so a row of a unit that has no unit row is still read, and
the comparison in SQL is the same one that ordered the page (the database's collation).
Rows are returned as stored, never validated again: a tampered row must be read to be
named.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

from campaignflow._words.records import FactRecord, Unit, UnitState, trusted_unit
from campaignflow.audit import AuditRecord
from campaignflow.audit._store_check import FactView
from campaignflow.store._queries import AUDIT_COLUMNS, SessionStatements
from campaignflow.store._rows import DayMemo, StateRow, UnitRow, audit_of

__all__ = ["VerifyPage", "VerifyQueries", "VerifyReader", "memory_page"]


class VerifyPage(NamedTuple):
    """The stored rows of one page of units: ``(after, high]`` by unit id.

    ``facts`` are :class:`FactView` rows (SQL) or the fact records themselves (memory, which
    keeps facts as objects); ``records`` the audit records naming a unit of the range, in
    (unit id, seq) order; ``high`` None on the last page.
    """

    units: list[Unit]
    states: list[UnitState]
    facts: list[FactView] | list[FactRecord]
    records: list[AuditRecord]
    high: str | None


@runtime_checkable
class VerifyReader(Protocol):
    """A store session that verification can read a page of units from."""

    def verify_page(self, after: str | None, limit: int) -> VerifyPage:
        """The rows of the next ``limit`` units after the id ``after`` (None: from the start)."""
        ...


_FACT_COLUMNS = "unit_id, stage, version, seq, kind, data, on_date, at_time, actor_id, request_id"


class VerifyQueries(SessionStatements):
    """The SQL session's verification reads (a mixin of the session)."""

    __slots__ = ()

    def verify_page(self, after: str | None, limit: int) -> VerifyPage:
        """The rows of the next ``limit`` units after the id ``after`` (None: from the start)."""
        low = "" if after is None else " AND unit_id > ?"
        lows: tuple[Any, ...] = () if after is None else (after,)
        rows = self._rows(
            f"SELECT {', '.join(UnitRow._fields)} FROM cf_units WHERE campaign_id = ?{low} "
            f"ORDER BY unit_id LIMIT {int(limit)}",
            (self._cid, *lows),
        )
        units = [
            trusted_unit(
                id=r[0], name=r[1], kind=r[2], batch=int(r[3]), members=int(r[4]), parent=r[5]
            )
            for r in rows
        ]
        high = units[-1].id if len(units) == limit else None
        where = f"campaign_id = ?{low}" + ("" if high is None else " AND unit_id <= ?")
        params = (self._cid, *lows, *(() if high is None else (high,)))
        day = DayMemo()
        states = [
            _state(StateRow._make(r), day)
            for r in self._rows(
                f"SELECT {', '.join(StateRow._fields)} FROM cf_states WHERE {where}", params
            )
        ]
        facts = [
            FactView(
                unit_id=r[0],
                stage=r[1],
                version=int(r[2]),
                seq=int(r[3]),
                kind=r[4],
                data=r[5],
                on=r[6],
                at=r[7],
                actor_id=r[8],
                request_id=r[9],
            )
            for r in self._rows(f"SELECT {_FACT_COLUMNS} FROM cf_facts WHERE {where}", params)
        ]
        records = [
            audit_of(r)
            for r in self._rows(
                f"SELECT {AUDIT_COLUMNS} FROM cf_audit WHERE {where} AND unit_id IS NOT NULL "
                "ORDER BY unit_id, seq",
                params,
            )
        ]
        return VerifyPage(units=units, states=states, facts=facts, records=records, high=high)


def _state(row: StateRow, day: DayMemo) -> UnitState:
    return UnitState(
        unit_id=row.unit_id,
        stage=row.stage,
        batch=int(row.batch),
        version=int(row.version),
        entered_on=day(row.entered_on),
        stage_since=day(row.stage_since),
        started_on=day(row.started_on),
        remedial=bool(row.remedial),
        remedial_round=int(row.remedial_round),
        resume_since=day(row.resume_since),
        workflow=row.workflow or "",
    )


def memory_page(
    units: dict[str, Unit],
    states: dict[str, UnitState],
    facts: dict[tuple[str, str], list[FactRecord]],
    records: list[AuditRecord],
) -> VerifyPage:
    """The memory store's rows as one page (they are in memory already)."""
    return VerifyPage(
        units=[units[key] for key in sorted(units)],
        states=list(states.values()),
        facts=[fact for kept in facts.values() for fact in kept],
        records=sorted(
            (r for r in records if r.unit_id is not None), key=lambda r: (r.unit_id, r.seq)
        ),
        high=None,
    )
