"""Fast mode, part 2: the random streams, cut in blocks, and the roster as arrays.

The units are cut into fixed blocks of :data:`BLOCK` units in roster order; block ``b``
draws from ``numpy.random.SeedSequence(seed, spawn_key=(purpose, b))``, always in unit
order, so a shard (a run of whole blocks) draws the same numbers whatever the shard count.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from campaignflow._words.records import Unit
from campaignflow.simulation._fast.bulk import IntArray
from campaignflow.simulation._streams import unit_stream
from campaignflow.simulation.scenario import KIND_TITLES, Scenario

__all__ = ["BLOCK"]

#: Units per random-stream block; results are the same for any shard count. Read at call
#: time everywhere (as ``campaignflow.simulation._fast.roster.BLOCK``), so tests may lower
#: it to make small runs span several blocks.
BLOCK = 1 << 16

_PURPOSE_ROSTER = 0
_PURPOSE_UNIT = 1
_PURPOSE_VISIT = 2


def _stream(seed: int, purpose: int, *key: int) -> Any:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(purpose, *key)))


def _roster(scenario: Scenario, seed: int) -> tuple[IntArray, IntArray]:
    """Members and batch of every unit, in roster order (generated rosters: numpy draws)."""
    if scenario.roster.csv is not None:
        units = scenario.units()
        return (
            np.array([u.members for u in units], dtype=np.int64),
            np.array([u.batch for u in units], dtype=np.int64),
        )
    roster = scenario.roster
    batch_of = scenario.batch_of_kind()
    reattach = scenario.behaviour.closed_enterprise == "reattach"
    order = sorted((k for k in roster.counts if k in batch_of), key=lambda k: batch_of[k])
    kinds = [k for k in order if not (k == "closed_enterprise" and reattach)]
    members_parts: list[IntArray] = []
    batch_parts: list[IntArray] = []
    for position, kind in enumerate(kinds):
        count = roster.counts[kind]
        members_parts.append(_draw_members(scenario, seed, kind, count, position))
        batch_parts.append(np.full(count, batch_of[kind], dtype=np.int64))
    members = np.concatenate(members_parts) if members_parts else np.zeros(0, dtype=np.int64)
    batch = np.concatenate(batch_parts) if batch_parts else np.zeros(0, dtype=np.int64)
    closed = roster.counts.get("closed_enterprise", 0)
    if reattach and closed and roster.counts.get("community") and "community" in kinds:
        # Each closed enterprise's members join the community branch its draw picks.
        start = sum(roster.counts[k] for k in kinds[: kinds.index("community")])
        n_comm = roster.counts["community"]
        extra = _draw_members(scenario, seed, "closed_enterprise", closed, len(kinds))
        rng = _stream(seed, _PURPOSE_ROSTER, len(kinds) + 1)
        home = rng.integers(0, n_comm, size=closed)
        members[start : start + n_comm] += np.bincount(
            home, weights=extra, minlength=n_comm
        ).astype(np.int64)
    return members, batch


def _draw_members(scenario: Scenario, seed: int, kind: str, count: int, position: int) -> IntArray:
    model = scenario.roster.members_by_kind.get(kind, scenario.roster.members)
    out = np.empty(count, dtype=np.int64)
    # Blocks of roster positions, so a kind's draws do not depend on the shard count either.
    for start in range(0, count, BLOCK):
        n = min(BLOCK, count - start)
        rng = _stream(seed, _PURPOSE_ROSTER, position, start // BLOCK)
        if model.distribution == "fixed":
            out[start : start + n] = max(model.min, min(model.max, round(model.mean)))
        elif model.distribution == "normal":
            out[start : start + n] = np.clip(
                np.rint(rng.normal(model.mean, model.sd, n)), model.min, model.max
            )
        else:
            out[start : start + n] = rng.integers(model.min, model.max + 1, size=n)
    return out


class _Units:
    """The roster's unit records by position, built on demand, as exact mode names them.

    Only a guard without a bulk form looks at the unit record (``ctx.unit``), and only for
    the units it judges: ids, names, kinds and parents are those of
    :func:`~campaignflow.simulation.scenario.generate_roster` (or the CSV's); members and batch
    are fast mode's own (its roster draws, its deferrals).
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.seed = seed
        self.csv = scenario.units() if scenario.roster.csv is not None else None
        roster = scenario.roster
        batch_of = scenario.batch_of_kind()
        reattach = scenario.behaviour.closed_enterprise == "reattach"
        order = sorted((k for k in roster.counts if k in batch_of), key=lambda k: batch_of[k])
        self.spans: list[tuple[str, int, int]] = []  # (kind, first position, count)
        start = 0
        for kind in order:
            if kind == "closed_enterprise" and reattach:
                continue
            self.spans.append((kind, start, roster.counts[kind]))
            start += roster.counts[kind]
        self.counts = dict(roster.counts)
        self.own_unit = not reattach and bool(roster.counts.get("community"))
        # The records built so far, by position: kept as long as this shard's run.
        self.made: dict[int, Unit] = {}

    def _id(self, kind: str, n: int) -> str:
        width = max(3, len(str(self.counts[kind])))
        return f"{kind}-{n:0{width}d}"

    def unit(self, position: int, members: int, batch: int) -> Unit:
        """The unit at roster ``position``, with fast mode's ``members`` and ``batch``."""
        known = self.made.get(position)
        if known is None or known.members != members or known.batch != batch:
            known = self.made[position] = self._build(position, members, batch)
        return known

    def _build(self, position: int, members: int, batch: int) -> Unit:
        if self.csv is not None:
            return attrs.evolve(self.csv[position], members=members, batch=batch)
        # A position past the roster is fast mode's own bug (StopIteration), not a user error.
        kind, first = next((k, f) for k, f, count in self.spans if f <= position < f + count)
        n = position - first + 1
        uid = self._id(kind, n)
        parent = None
        if kind == "closed_enterprise" and self.own_unit:
            pick = unit_stream(self.seed, "reattach", uid).randrange(self.counts["community"])
            parent = self._id("community", pick + 1)
        title = KIND_TITLES.get(kind, kind)
        return Unit(
            id=uid,
            name=f"{title}第{n}党支部",
            kind=kind,
            batch=batch,
            members=members,
            parent=parent,
        )
