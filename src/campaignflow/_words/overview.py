"""The overview's records: what a store counts per organisation, and what a campaign reports.

Plain frozen records at the ground floor: a store returns :class:`GroupCounts` and sorts a
stuck list by a :data:`StuckOrder`; ``Campaign.progress(under=...)`` and ``Campaign.stuck``
answer with :class:`OrgProgress` and :class:`StuckPage`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Literal, get_args

import attrs

from campaignflow._words.records import Unit, UnitState
from campaignflow._words.verdicts import Refusal

__all__ = [
    "COUNTED",
    "STUCK_ORDERS",
    "GroupCounts",
    "OrgProgress",
    "Satisfaction",
    "StuckOrder",
    "StuckPage",
    "StuckQuery",
    "StuckUnit",
    "order_key",
]

#: How a stuck list can be sorted: longest in stage first, newest refusal first, or the order
#: units were added in. Ties always fall back to the order units were added in.
StuckOrder = Literal["days_in_stage", "refused", "added"]
STUCK_ORDERS: tuple[StuckOrder, ...] = get_args(StuckOrder)


@attrs.frozen
class Satisfaction:
    """The latest mass satisfaction assessments (群众满意度测评) of a set of units, pooled.

    ``assessed`` units have one; the counts are their ballots per level. Rates pool the
    ballots (as national results were reported) and are None without ballots.
    """

    assessed: int = 0
    satisfied: int = 0
    fairly_satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    majority_dissatisfied: int = 0

    @property
    def ballots(self) -> int:
        """Valid ballots over every assessed unit."""
        return self.satisfied + self.fairly_satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def satisfied_rate(self) -> float | None:
        """(satisfied + fairly + basically satisfied) / ballots, None without ballots."""
        return (self.ballots - self.dissatisfied) / self.ballots if self.ballots else None

    @property
    def dissatisfied_rate(self) -> float | None:
        """dissatisfied / ballots, None without ballots."""
        return self.dissatisfied / self.ballots if self.ballots else None

    def __add__(self, other: Satisfaction) -> Satisfaction:
        return Satisfaction(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in attrs.fields(Satisfaction)
            }
        )


@attrs.frozen(kw_only=True)
class GroupCounts(Satisfaction):
    """What a store counts for the units of one organisation, batch and stage.

    ``parent`` is the units' organisation; ``on_time`` counts units whose last transition
    was on or before their batch window's close; the :class:`Satisfaction` counts it derives
    from sum the units' latest assessments (``majority_dissatisfied`` counts units whose
    latest assessment had more than half the ballots dissatisfied: the central rule's
    make-up, 补课); ``stuck`` units whose latest refusal is current; ``own`` (the stores'
    roll-up counters, which count each unit at every ancestor) the units whose parent is
    ``parent`` itself. Built by keyword.
    """

    parent: str | None
    batch: int
    stage: str
    units: int
    on_time: int = 0
    remedial: int = 0
    remedial_rounds: int = 0
    stuck: int = 0
    own: int = 0


#: The figures of :class:`GroupCounts` a store counts per (organisation, batch, stage), in
#: the column order of its roll-up queries and counter rows (``own``, the counters' own
#: units, follows them in the counter rows).
COUNTED = (
    "units",
    "on_time",
    "remedial",
    "remedial_rounds",
    "assessed",
    "satisfied",
    "fairly_satisfied",
    "basically_satisfied",
    "dissatisfied",
    "majority_dissatisfied",
    "stuck",
)


@attrs.frozen(kw_only=True)
class OrgProgress:
    """Progress of the units under one organisation, with its children's roll-ups.

    Reads like :class:`~campaignflow.Progress` (``by_batch``, ``total``, ``finished``,
    ``remedial``, ``blocking``, :meth:`by_stage`), plus: ``own`` units attached directly
    to this organisation; ``on_time`` finished units that finished inside their batch
    window and ``on_time_share`` of the finished ones (None when none finished);
    ``remedial_rounds`` make-up rounds so far; ``stuck`` units whose latest refusal is
    current; ``satisfaction`` pooled latest assessments; ``children`` the organisations
    directly below, to the depth asked. Every figure of a node is the sum of its own units'
    and its children's (children below the depth asked are summed in, not listed).
    ``blocking`` counts, per failing gate code, the stuck units it holds, most first.
    """

    id: str
    name: str
    level: str
    depth: int
    by_batch: Mapping[int, Mapping[str, int]]
    total: int
    own: int
    finished: int
    on_time: int
    remedial: int
    remedial_rounds: int
    stuck: int
    blocking: tuple[tuple[str, int], ...]
    satisfaction: Satisfaction
    children: tuple[OrgProgress, ...] = ()

    @property
    def on_time_share(self) -> float | None:
        """Finished on time / finished, None when no unit has finished."""
        return self.on_time / self.finished if self.finished else None

    def by_stage(self) -> dict[str, int]:
        """Units per stage over every batch."""
        counts: Counter[str] = Counter()
        for stages in self.by_batch.values():
            counts.update(stages)
        return dict(counts)

    def walk(self) -> Iterator[OrgProgress]:
        """This node and every node below it, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, org_id: str) -> OrgProgress | None:
        """The node of ``org_id`` in this tree, or None."""
        return next((node for node in self.walk() if node.id == org_id), None)


@attrs.frozen
class StuckUnit:
    """A unit held in its stage: its latest refusal, the gates that failed, days in stage."""

    unit: Unit
    state: UnitState
    refusal: Refusal
    days_in_stage: int

    @property
    def codes(self) -> tuple[str, ...]:
        """The failing gate codes of the refusal."""
        return self.refusal.codes


@attrs.frozen(kw_only=True)
class StuckQuery:
    """Which stuck units a store lists: ``under`` an organisation (None: all), of ``batch``,
    that entered their stage before ``stage_before``, in ``order_by`` order, ``limit`` of
    them from ``offset`` on (``limit`` None: all)."""

    under: str | None
    batch: int | None = None
    stage_before: date | None = None
    order_by: StuckOrder = "days_in_stage"
    offset: int = 0
    limit: int | None = None


@attrs.frozen
class StuckPage:
    """One page of a stuck list: ``total`` matching units, ``units`` from ``offset`` on."""

    total: int
    offset: int
    units: tuple[StuckUnit, ...]


def order_key(
    order_by: StuckOrder, today: date
) -> Callable[[tuple[int, UnitState, Refusal]], tuple[int, int]]:
    """The sort key of ``(ordinal, state, refusal)`` for ``order_by`` (memory store, tests)."""

    def days(item: tuple[int, UnitState, Refusal]) -> tuple[int, int]:
        since = item[1].stage_since or today
        return (since.toordinal(), item[0])

    def refused(item: tuple[int, UnitState, Refusal]) -> tuple[int, int]:
        return (-item[2].seq, item[0])

    def added(item: tuple[int, UnitState, Refusal]) -> tuple[int, int]:
        return (item[0], 0)

    return {"days_in_stage": days, "refused": refused, "added": added}[order_by]
