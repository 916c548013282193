"""What the SQL store keeps of due units (schema version 7): ``cf_states.due_on`` and its index.

A mixin of :class:`~campaignflow.store._session.Session`. A state write leaves its unit dirty
in the same statement (``UPDATE_STATE``, ``INSERT_STATE``); a fact, an assessment and an
adoption mark theirs here; :meth:`DueQueries.set_due` records a sweep's judgements. A page of
due units is one query on ``cf_states_due`` after the caller's ``(due_on, ordinal)`` key, so it
costs O(page), whatever the number of units that are not due.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from campaignflow._words.records import Unit, UnitState
from campaignflow.store._protocol import DueKey
from campaignflow.store._queries import (
    DIRTY_ON,
    STATE_COLUMNS,
    UNIT_COLUMNS,
    UNIT_STATE_FROM,
    SessionStatements,
)
from campaignflow.store._rows import DayMemo, UnitAndState, unit_and_state

__all__ = ["DueQueries"]


class DueQueries(SessionStatements):
    """The due units of a session's campaign (the session provides what is stubbed)."""

    __slots__ = ()

    _states: dict[str, UnitAndState]

    def _day_memo(self) -> DayMemo:
        raise NotImplementedError

    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        raise NotImplementedError

    def page_due(
        self, batch: int | None, day: date, after: DueKey | None, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], DueKey | None]:
        days = self._day_memo()
        params: list[Any] = [self._cid, days.iso(day)]
        where = ""
        if after is not None:
            where += " AND (s.due_on, s.ordinal) > (?, ?)"
            params += [days.iso(after[0]), after[1]]
        if batch is not None:
            where += " AND s.batch = ?"
            params.append(batch)
        rows = self._rows(
            f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS}, s.due_on, s.ordinal FROM {UNIT_STATE_FROM} "
            f"WHERE s.campaign_id = ? AND s.due_on <= ?{where} "
            "ORDER BY s.due_on, s.ordinal LIMIT ?",
            (*params, limit),
        )
        page = [unit_and_state(row, days) for row in rows]  # due_on and ordinal are left out
        for *_, due_on, ordinal in rows[-1:]:
            found = days(due_on)
            assert found is not None  # selected by due_on <= day
            after = (found, int(ordinal))
        self._states.update((read.unit.id, read) for read in page)
        return list(page), after

    def set_due(self, dues: Sequence[tuple[str, date | None]]) -> None:
        self._writable()
        if not dues:
            return
        iso = self._day_memo().iso
        self._run_many(
            "UPDATE cf_states SET due_on = ? WHERE campaign_id = ? AND unit_id = ?",
            [(iso(due), self._cid, unit_id) for unit_id, due in dues],
        )

    def _dirty(self, unit_id: str) -> None:
        """Leave the unit dirty: something it is judged on changed in this transaction."""
        self._run(
            "UPDATE cf_states SET due_on = ? WHERE campaign_id = ? AND unit_id = ?",
            (DIRTY_ON, self._cid, unit_id),
        )
