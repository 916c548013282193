"""The organisation tree's overview: roll-ups of progress and the list of stuck units.

Pure functions and records, no I/O: a store answers with counts grouped by organisation
(:class:`GroupCounts`) and the stuck units of one page; this module rolls the counts up the
tree, so every node's figures are exactly the sum of its own units' and its children's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Literal

import attrs

from campaignflow.model import Organisation, Refusal, Unit, UnitState

__all__ = [
    "STUCK_ORDERS",
    "GroupCounts",
    "OrgProgress",
    "Satisfaction",
    "StuckOrder",
    "StuckPage",
    "StuckUnit",
    "build_rollup",
]

#: How a stuck list can be sorted: longest in stage first, newest refusal first, or the order
#: units were added in. Ties always fall back to the order units were added in.
StuckOrder = Literal["days_in_stage", "refused", "added"]
STUCK_ORDERS: tuple[StuckOrder, ...] = ("days_in_stage", "refused", "added")


@attrs.frozen
class GroupCounts:
    """What a store counts for the units of one organisation, batch and stage.

    ``parent`` is the units' organisation; ``on_time`` counts units whose last transition
    was on or before their batch window's close; ``assessed`` counts units with an assessment
    and the level counts sum their latest assessments; ``majority_dissatisfied`` counts units
    whose latest assessment had more than half the ballots dissatisfied (the central rule's
    make-up, 补课); ``stuck`` units whose latest refusal is current.
    """

    parent: str | None
    batch: int
    stage: str
    units: int
    on_time: int = 0
    remedial: int = 0
    remedial_rounds: int = 0
    assessed: int = 0
    satisfied: int = 0
    fairly_satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    majority_dissatisfied: int = 0
    stuck: int = 0


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
            *(getattr(self, f.name) + getattr(other, f.name) for f in attrs.fields(Satisfaction))
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


@attrs.frozen
class StuckPage:
    """One page of a stuck list: ``total`` matching units, ``units`` from ``offset`` on."""

    total: int
    offset: int
    units: tuple[StuckUnit, ...]


@attrs.define
class _Acc:
    by_batch: dict[int, Counter[str]] = attrs.field(factory=dict)
    total: int = 0
    own: int = 0
    finished: int = 0
    on_time: int = 0
    remedial: int = 0
    remedial_rounds: int = 0
    stuck: int = 0
    blocking: Counter[str] = attrs.field(factory=Counter)
    # Satisfaction's fields, in order, summed as plain ints (a roll-up adds many groups).
    satisfaction: list[int] = attrs.field(factory=lambda: [0] * 6)

    def add(self, other: _Acc) -> None:
        for batch, stages in other.by_batch.items():
            self.by_batch.setdefault(batch, Counter()).update(stages)
        self.total += other.total
        self.finished += other.finished
        self.on_time += other.on_time
        self.remedial += other.remedial
        self.remedial_rounds += other.remedial_rounds
        self.stuck += other.stuck
        self.blocking.update(other.blocking)
        self.satisfaction = [
            a + b for a, b in zip(self.satisfaction, other.satisfaction, strict=True)
        ]


def build_rollup(
    root: Organisation,
    organisations: Iterable[Organisation],
    groups: Iterable[GroupCounts],
    blocking: Iterable[tuple[str | None, str, int]],
    *,
    is_final: Callable[[str], bool],
    depth: int | None = None,
    top: int = 10,
) -> OrgProgress:
    """Roll the per-organisation counts up the tree under ``root``.

    Args:
        root: the organisation asked about.
        organisations: ``root`` and every organisation below it (any order).
        groups: counts per (organisation, batch, stage) of the units under ``root``.
        blocking: ``(organisation, code, units)``: stuck units per failing code.
        is_final: whether a stage id is a final stage (its units are finished).
        depth: how many levels of children to list (None: all); deeper ones are summed in.
        top: how many blocking codes each node lists.
    """
    children: dict[str, list[Organisation]] = {}
    known: dict[str, Organisation] = {root.id: root}
    for org in organisations:
        known[org.id] = org
    for org in sorted(known.values(), key=lambda o: o.id):
        if org.id != root.id and org.parent is not None and org.parent in known:
            children.setdefault(org.parent, []).append(org)
    own: dict[str, _Acc] = {}
    for group in groups:
        acc = own.setdefault(group.parent or "", _Acc())
        acc.by_batch.setdefault(group.batch, Counter())[group.stage] += group.units
        acc.total += group.units
        acc.own += group.units
        if is_final(group.stage):
            acc.finished += group.units
            acc.on_time += group.on_time
        acc.remedial += group.remedial
        acc.remedial_rounds += group.remedial_rounds
        acc.stuck += group.stuck
        sat = acc.satisfaction
        sat[0] += group.assessed
        sat[1] += group.satisfied
        sat[2] += group.fairly_satisfied
        sat[3] += group.basically_satisfied
        sat[4] += group.dissatisfied
        sat[5] += group.majority_dissatisfied
    for parent, code, count in blocking:
        own.setdefault(parent or "", _Acc()).blocking[code] += count

    def node(org: Organisation, level: int) -> tuple[OrgProgress, _Acc]:
        acc = _Acc()
        mine = own.get(org.id)
        if mine is not None:
            acc.add(mine)
            acc.own = mine.own
        listed: list[OrgProgress] = []
        for child in children.get(org.id, ()):
            child_node, child_acc = node(child, level + 1)
            acc.add(child_acc)
            if depth is None or level < depth:
                listed.append(child_node)
        return (
            OrgProgress(
                id=org.id,
                name=org.name,
                level=org.level,
                depth=level,
                by_batch={b: dict(sorted(c.items())) for b, c in sorted(acc.by_batch.items())},
                total=acc.total,
                own=acc.own,
                finished=acc.finished,
                on_time=acc.on_time,
                remedial=acc.remedial,
                remedial_rounds=acc.remedial_rounds,
                stuck=acc.stuck,
                blocking=_top(acc.blocking, top),
                satisfaction=Satisfaction(*acc.satisfaction),
                children=tuple(listed),
            ),
            acc,
        )

    return node(root, 0)[0]


def _top(counts: Counter[str], top: int) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


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


def page(items: Sequence[StuckUnit], offset: int, limit: int | None) -> tuple[StuckUnit, ...]:
    """``items[offset:offset + limit]`` (to the end when ``limit`` is None)."""
    return tuple(items[offset:] if limit is None else items[offset : offset + limit])
