"""The memory store's due dates (schema version 7's ``due_on``, kept in a dict) and the walk
a sweep makes over the due units, page by page, in ``(due date, ordinal)`` order.

The walk sorts the units due on its day once, when a sweep starts, and hands them out a page
at a time; a page asked from where the last one ended goes on from there. A write that makes
a unit due after the walk's position (another writer, between two pages) drops the walk, and
the next page sorts again from its key: the pages are those an index would give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from campaignflow.store._protocol import DIRTY, DueKey

__all__ = ["DueIndex"]


class _Walk:
    __slots__ = ("at", "batch", "day", "entries", "position")

    def __init__(
        self,
        day: date,
        batch: int | None,
        entries: list[tuple[date, int, str]],
        at: DueKey | None,
    ) -> None:
        self.day = day
        self.batch = batch
        self.entries = entries
        self.position = 0
        self.at = at


class DueIndex:
    """Each unit's due date (:data:`DIRTY`, a date, or None: not due until dirty)."""

    __slots__ = ("_walk", "due")

    #: What :meth:`set` returns for a unit it did not know.
    MISSING: object = object()

    def __init__(self) -> None:
        self.due: dict[str, date | None] = {}
        self._walk: _Walk | None = None

    def set(self, unit_id: str, due: date | None, ordinal: int) -> date | object | None:
        """Set the unit's due date; returns the one before (:attr:`MISSING` for a new unit)."""
        old = self.due.get(unit_id, DueIndex.MISSING)
        self.due[unit_id] = due
        walk = self._walk
        if (
            walk is not None
            and due is not None
            and due <= walk.day
            and (walk.at is None or (due, ordinal) > walk.at)
        ):
            self._walk = None  # due ahead of the walk: the next page sorts again
        return old

    def restore(self, unit_id: str, old: date | object | None) -> None:
        """Undo :meth:`set` (``old``: what it returned)."""
        if old is DueIndex.MISSING:
            self.due.pop(unit_id, None)
        else:
            self.due[unit_id] = old  # type: ignore[assignment]
        self._walk = None

    def all_dirty(self) -> dict[str, date | None]:
        """Make every unit dirty; returns the dates before, for :meth:`restore_all`."""
        old = self.due
        self.due = dict.fromkeys(old, DIRTY)
        self._walk = None
        return old

    def restore_all(self, old: dict[str, date | None]) -> None:
        self.due = old
        self._walk = None

    def due_ids(
        self, day: date, after: DueKey | None, ordinal_of: Mapping[str, int]
    ) -> list[tuple[date, int, str]]:
        """``(due date, ordinal, unit id)`` of the units due by ``day`` after ``after``, sorted."""
        found = [
            (due, ordinal_of[unit_id], unit_id)
            for unit_id, due in self.due.items()
            if due is not None and due <= day
        ]
        if after is not None:
            found = [entry for entry in found if (entry[0], entry[1]) > after]
        found.sort()
        return found

    def page(
        self,
        batch: int | None,
        day: date,
        after: DueKey | None,
        limit: int,
        ordinal_of: Mapping[str, int],
        in_batch: Callable[[str], bool],
    ) -> tuple[list[str], DueKey | None]:
        """The ids of the next ``limit`` units due by ``day`` after ``after``, and the key
        to go on from."""
        walk = self._walk
        if walk is None or walk.day != day or walk.batch != batch or walk.at != after:
            walk = _Walk(day, batch, self.due_ids(day, after, ordinal_of), after)
        due, entries, position = self.due, walk.entries, walk.position
        ids: list[str] = []
        key = after
        while position < len(entries) and len(ids) < limit:
            on, ordinal, unit_id = entries[position]
            position += 1
            if due.get(unit_id) != on or (batch is not None and not in_batch(unit_id)):
                continue  # judged since the walk began (its due date moved), or elsewhere
            ids.append(unit_id)
            key = (on, ordinal)
        walk.position, walk.at = position, key
        # A walk at its end is dropped: it would hold a tuple for every unit it handed out.
        self._walk = walk if position < len(entries) else None
        return ids, key
