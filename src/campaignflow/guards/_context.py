"""What a guard may look at for one unit: :class:`GuardContext`."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import attrs

from campaignflow._words.records import BatchWindow, FactRecord, Unit, UnitState

__all__ = ["GuardContext"]

FactT = TypeVar("FactT")


class _IndexesFacts:
    """A slot outside the attrs fields: the context's records grouped by fact type.

    Built on the first :meth:`GuardContext.facts` call, so each guard of a decision reads
    its own kind instead of scanning every record. Not a field: not part of equality,
    ``attrs.fields`` or ``evolve``.
    """

    __slots__ = ("_by_kind",)


@attrs.frozen
class GuardContext(_IndexesFacts):
    """What a guard may look at for one unit: the unit, its state, the day, its stage's facts.

    ``host`` is the host's data for this judgement: whatever object the host gives the
    campaign (``Campaign(..., host=...)``) or the call (``check(..., host=...)``), such as
    a roster provider bound to the request's database session. Only guards registered
    with ``reads_host=True`` may read it; they get it, or the call fails with
    ``guard.host_missing`` before any of them is judged. None when no host data is given.

    ``records`` are the fact records of the unit's current stage, oldest first. Facts that
    accumulate (study hours, milestones) count over every visit to the stage; facts that
    judge a moment (surveys, approvals) count only when recorded since the unit's last
    transition (``current=True``), so a unit back from remedial make-up is assessed and
    approved afresh.
    """

    unit: Unit
    state: UnitState
    today: date
    records: tuple[FactRecord, ...] = ()
    batch_window: BatchWindow | None = None
    workflow: str = ""
    host: Any = attrs.field(default=None, eq=False)

    @property
    def stage(self) -> str:
        """The unit's current stage id."""
        return self.state.stage

    @property
    def days_in_stage(self) -> int:
        """Whole days since the unit first entered its current stage (0 on the day)."""
        since = self.state.stage_since or self.today
        return (self.today - since).days

    @property
    def days_since_start(self) -> int:
        """Whole days since the unit's concentrated activity began (0 if not started)."""
        if self.state.started_on is None:
            return 0
        return (self.today - self.state.started_on).days

    def facts(self, kind: type[FactT], *, current: bool = False) -> tuple[FactT, ...]:
        """The unit's facts of type ``kind`` in its current stage, oldest first.

        ``current``: only those recorded since the unit's last transition.
        """
        by_kind: dict[type[Any], list[FactRecord]] | None = getattr(self, "_by_kind", None)
        if by_kind is None:
            by_kind = {}
            for record in self.records:
                by_kind.setdefault(type(record.fact), []).append(record)
            object.__setattr__(self, "_by_kind", by_kind)
        found = by_kind.get(kind)
        if not found:
            return ()
        if current:
            version = self.state.version
            return tuple([r.fact for r in found if r.version == version])
        return tuple([r.fact for r in found])

    def latest(self, kind: type[FactT], *, current: bool = True) -> FactT | None:
        """The newest fact of type ``kind`` (since the last transition, by default), or None."""
        found = self.facts(kind, current=current)
        return found[-1] if found else None
