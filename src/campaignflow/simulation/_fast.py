"""Fast mode: the same campaign as exact mode, with units advanced in bulk on numpy arrays.

The workflow is compiled into tables (stage index, candidate transitions per stage and
trigger in order, each candidate's guards in bulk form, see :mod:`._bulk`), every unit's
state and the facts its current stage's guards look at are columns of arrays, and each
simulated day processes that day's events (study sessions, milestones, assessments,
approvals, applications) for all units at once. What units do and when is exactly the
behaviour model of exact mode (:mod:`campaignflow.simulation.behaviour`): same events, same
order within a unit, same guards, same results record; only the random numbers come from
numpy instead of each unit's stdlib stream, so the two modes agree in distribution, and
draw for draw where the model is deterministic.

Randomness: the units are cut into fixed blocks of :data:`BLOCK` units in roster order;
block ``b`` draws from ``numpy.random.SeedSequence(seed, spawn_key=(purpose, b))`` (the
``b``-th child of ``SeedSequence(seed).spawn(..)[purpose]``), always in unit order. A shard
is a run of whole blocks, so the result does not depend on how many shards there are.

A workflow whose guards lack a bulk form (a custom guard without :func:`._bulk.register_bulk`),
or whose shape fast mode does not model (a working stage re-entered other than from its
make-up), cannot run here: :func:`fast_blockers` says why, and ``simulate`` falls back to
exact mode with a :class:`SimulationFallback` warning naming the guard.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from itertools import pairwise
from typing import Any

import attrs

try:
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fast simulation needs numpy, which is not installed: pip install 'campaignflow[sim]'"
    ) from None

from campaignflow._validators import refuse
from campaignflow.simulation._bulk import (
    APPROVAL_APPROVED,
    BoolArray,
    BulkFacts,
    BulkRegistry,
    FloatArray,
    IntArray,
    Judge,
    compile_bulk,
    guards_without_bulk,
)
from campaignflow.simulation._run import SimulationFallback
from campaignflow.simulation.behaviour import TIME_CODES, StageNeeds, stage_needs
from campaignflow.simulation.results import (
    BatchOutcome,
    BlockingReason,
    RemedialSummary,
    SimulationResult,
    StageTime,
    TimelinePoint,
)
from campaignflow.simulation.scenario import LEVELS_3, LEVELS_4, Scenario
from campaignflow.workflow import Workflow

__all__ = ["BLOCK", "SimulationFallback", "fast_blockers", "simulate_fast"]

# SimulationFallback lives in ``_run`` (it must import without numpy); re-exported here.

#: Units per random-stream block; results are the same for any shard count.
BLOCK = 1 << 16

#: A refused application waiting on facts is filed again at the latest this many days later
#: (as in exact mode).
RETRY_DAYS = 7

#: How many blocking reasons a result keeps (as ``summarise``).
TOP_BLOCKING = 10

_PURPOSE_ROSTER = 0
_PURPOSE_UNIT = 1
_PURPOSE_VISIT = 2

# Event types, in no particular order (a unit's events run in the order they were planned).
_STUDY, _MILESTONE, _COVERAGE, _SURVEY, _APPROVE, _REMEDIAL, _APPLY = range(7)

_KINDS = ("waiting", "stage", "remedial", "final")
_WAITING, _WORKING, _REMEDIAL_KIND, _FINAL = range(4)

_CLERK = frozenset({"branch_committee"})
_SYSTEM = frozenset({"system"})
_LEADING = frozenset({"leading_group"})


ProgressCallback = Callable[[date, int, int], None]


# --- the workflow as tables ---------------------------------------------------------------


@attrs.frozen(eq=False)
class _Candidate:
    dest: int
    judges: tuple[Judge, ...]


# Which columns each built-in guard reads; a guard not listed (a custom one) gets them all.
_READS: dict[str, frozenset[str]] = {
    "min_study_hours": frozenset({"hours"}),
    "min_guided_hours": frozenset({"hours"}),
    "milestones_done": frozenset({"bits"}),
    "coverage_at_least": frozenset({"coverage"}),
    "approved_by": frozenset({"approvals"}),
    "satisfaction_rate_at_least": frozenset({"survey"}),
    "dissatisfied_rate_at_most": frozenset({"survey"}),
    "survey_recorded": frozenset({"survey"}),
    "min_days_in_stage": frozenset(),
    "min_concentrated_days": frozenset({"started"}),
    "within_batch_window": frozenset({"batch"}),
}
_ALL_READS = frozenset({"hours", "bits", "coverage", "approvals", "survey", "started", "batch"})


@attrs.frozen(eq=False)
class _Tables:
    """The workflow compiled for bulk judging."""

    stages: tuple[str, ...]
    kind: tuple[str, ...]
    remedial_of: tuple[int, ...]
    candidates: Mapping[tuple[int, str, frozenset[str]], tuple[_Candidate, ...]]
    reads: Mapping[tuple[int, str, frozenset[str]], frozenset[str]]
    needs: tuple[StageNeeds, ...]
    bits: Mapping[str, int]
    coverage: tuple[str, ...]
    roles: tuple[str, ...]
    #: The roles of the actor who defers late units (the workflow's defer roles).
    deferrer: frozenset[str]
    #: Per stage: kind code (see _KINDS), remedial_of index (-1), whether it asks approval.
    kind_code: IntArray
    rem_of: IntArray
    asks_approval: BoolArray


def fast_blockers(workflow: Workflow, registry: BulkRegistry | None = None) -> tuple[str, ...]:
    """Why fast mode cannot run ``workflow`` (empty when it can), one reason per problem.

    Reasons name the guards without a bulk form, and workflow shapes fast mode does not model.
    """
    reasons: list[str] = []
    specs = [spec for t in workflow.transitions for spec in (*t.guards, *t.unless)]
    missing = guards_without_bulk(specs, registry)
    reasons.extend(f"guard {name!r} has no bulk form" for name in missing)
    kinds = {s.id: s.kind for s in workflow.stages}
    rem_of = {s.id: s.remedial_of for s in workflow.stages}
    # Facts of a stage count over every visit; fast mode keeps one stage's facts plus the
    # stage being made up, so a working stage may be re-entered only from its own make-up.
    edges: dict[str, set[str]] = {}
    for t in workflow.transitions:
        if t.trigger != "advance":
            continue
        for src in t.source:
            if kinds.get(src) in ("waiting", "final"):
                continue
            if kinds.get(src) == "remedial":
                if t.dest != rem_of.get(src):
                    reasons.append(
                        f"make-up stage {src!r} leads to {t.dest!r}, not back to {rem_of.get(src)!r}"
                    )
                continue
            if t.dest != src and kinds.get(t.dest) == "stage":
                edges.setdefault(src, set()).add(t.dest)
    for start in sorted(edges):
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            nxt = todo.pop()
            if nxt == start:
                reasons.append(f"stage {start!r} can be re-entered through other stages")
                break
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(edges.get(nxt, ()))
    names = {n for needs in stage_needs(workflow).values() for n in needs.milestones}
    names |= {n for needs in stage_needs(workflow).values() for n in needs.coverage}
    if len(names) > 62:
        reasons.append(f"more than 62 milestone names ({len(names)})")
    return tuple(reasons)


def _compile(workflow: Workflow, registry: BulkRegistry | None) -> _Tables:
    stages = tuple(s.id for s in workflow.stages)
    index = {s: i for i, s in enumerate(stages)}
    needs_by = stage_needs(workflow)
    names: list[str] = []
    coverage: list[str] = []
    roles: list[str] = []
    for sid in stages:
        n = needs_by[sid]
        for name in (*n.milestones, *n.coverage):
            if name not in names:
                names.append(name)
        for name in n.coverage:
            if name not in coverage:
                coverage.append(name)
        for role in n.approvals:
            if role not in roles:
                roles.append(role)
    for t in workflow.transitions:
        for spec in (*t.guards, *t.unless):
            for leaf in _leaves(spec):
                if leaf.name == "milestones_done":
                    for name in leaf.params.get("names", ()):
                        if name not in names:
                            names.append(name)
    # Exact mode defers with an actor holding the initial stage's defer roles (leading group).
    deferrer = frozenset(r for c in workflow.candidates(workflow.initial, "defer") for r in c.by)
    deferrer = deferrer or _LEADING
    candidates: dict[tuple[int, str, frozenset[str]], tuple[_Candidate, ...]] = {}
    reads: dict[tuple[int, str, frozenset[str]], frozenset[str]] = {}
    for sid in stages:
        for trigger in workflow.triggers(sid):
            compiled = workflow.candidates(sid, trigger)
            for roles_of in (_CLERK, _SYSTEM, deferrer):
                kept = [c for c in compiled if not c.by or c.by & roles_of]
                candidates[(index[sid], trigger, roles_of)] = tuple(
                    _Candidate(
                        index[c.dest], tuple(compile_bulk(g.spec, registry) for g in c.guards)
                    )
                    for c in kept
                )
                reads[(index[sid], trigger, roles_of)] = frozenset().union(
                    *(
                        _READS.get(leaf.name, _ALL_READS)
                        for c in kept
                        for g in c.guards
                        for leaf in _leaves(g.spec)
                    )
                )
    return _Tables(
        stages=stages,
        kind=tuple(s.kind for s in workflow.stages),
        remedial_of=tuple(
            -1 if s.remedial_of is None else index[s.remedial_of] for s in workflow.stages
        ),
        candidates=candidates,
        reads=reads,
        needs=tuple(needs_by[s] for s in stages),
        bits={name: i for i, name in enumerate(names)},
        coverage=tuple(coverage),
        roles=tuple(roles),
        deferrer=deferrer,
        kind_code=np.array([_KINDS.index(s.kind) for s in workflow.stages], dtype=np.int64),
        rem_of=np.array(
            [-1 if s.remedial_of is None else index[s.remedial_of] for s in workflow.stages],
            dtype=np.int64,
        ),
        asks_approval=np.array([bool(needs_by[sid].approvals) for sid in stages], dtype=np.bool_),
    )


def _leaves(spec: Any) -> Any:
    if spec.children:
        for child in spec.children:
            yield from _leaves(child)
    else:
        yield spec


def _present(values: IntArray) -> list[int]:
    """The distinct small non-negative ints in ``values``, ascending (cheaper than unique)."""
    if values.shape[0] == 0:
        return []
    found: list[int] = np.flatnonzero(np.bincount(values)).tolist()
    return found


# --- the roster as arrays -----------------------------------------------------------------


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


# --- one shard ---------------------------------------------------------------------------


Failure = tuple[str, BoolArray, IntArray | None]


@attrs.frozen(eq=False)
class _Judgement:
    """Units judged together: their stages then, destinations (-1: refused), first failures."""

    u: IntArray
    stages: IntArray
    dest: IntArray
    first_failed: BoolArray
    fails: list[Failure]
    #: For units taking a later candidate: the failing gates under its passing ``not_``
    #: (``unless``) verdicts, and whether a unit has any (else candidate 0's count).
    detour_fails: list[Failure]
    detour_has: BoolArray


@attrs.frozen
class _ShardOut:
    """What one shard reports: enough to merge into the whole campaign's result."""

    points: list[tuple[int, int, list[int]]]
    stays: dict[int, list[int]]
    rounds: dict[int, int]
    remedial_units: int
    blocking: dict[tuple[str, int], int]
    batches: dict[int, tuple[int, int, int, int]]
    deferred_in: dict[int, int]
    deferred_out: dict[int, int]
    end: int
    all_finished: bool
    queue_end: int
    finished_by_day: dict[int, int]


class _Shard:
    """Units ``lo..hi`` of the roster (whole blocks), simulated day by day in bulk."""

    def __init__(
        self,
        scenario: Scenario,
        tables: _Tables,
        seed: int,
        lo: int,
        members: IntArray,
        batch: IntArray,
    ) -> None:
        self.sc = scenario
        self.beh = scenario.behaviour
        self.t = tables
        self.seed = seed
        self.lo = lo
        n = self.n = int(members.shape[0])
        self.members = members
        self.batch0 = batch.copy()
        self.batch = batch.copy()
        self.windows = {
            b.number: (b.opens.toordinal(), b.closes.toordinal()) for b in scenario.batches
        }
        i64 = np.int64
        self.stage = np.zeros(n, dtype=i64)  # set below
        self.stage[:] = tables.stages.index(scenario.load_workflow().initial) if n else 0
        self.token = np.zeros(n, dtype=i64)
        self.since = np.full(n, -1, dtype=i64)
        self.started = np.full(n, -1, dtype=i64)
        self.resume = np.full(n, -1, dtype=i64)
        self.entered = np.full(n, scenario.start.toordinal(), dtype=i64)
        self.moved_ever = np.zeros(n, dtype=np.bool_)
        self.done = np.zeros(n, dtype=np.bool_)
        self.deferred = np.zeros(n, dtype=np.bool_)
        self.waiting = np.zeros(n, dtype=np.bool_)
        self.fallback = np.full(n, -1, dtype=i64)
        self.remedial_unit = np.zeros(n, dtype=np.bool_)
        self.finished_on = np.full(n, -1, dtype=i64)
        # Facts of the current stage, and of the stage being made up (stash).
        self.hours = np.zeros(n)
        self.guided = np.zeros(n)
        self.bits = np.zeros(n, dtype=i64)
        self.cov_done = {c: np.zeros(n, dtype=i64) for c in tables.coverage}
        self.cov_total = {c: np.full(n, -1, dtype=i64) for c in tables.coverage}
        self.s_hours = np.zeros(n)
        self.s_guided = np.zeros(n)
        self.s_bits = np.zeros(n, dtype=i64)
        self.s_cov_done = {c: np.zeros(n, dtype=i64) for c in tables.coverage}
        self.s_cov_total = {c: np.full(n, -1, dtype=i64) for c in tables.coverage}
        self.ballots = np.zeros(n, dtype=i64)
        self.dissat = np.zeros(n, dtype=i64)
        self.approvals = {r: np.zeros(n, dtype=i64) for r in tables.roles}
        # The current visit's draws.
        self.v_len = np.zeros(n, dtype=i64)
        self.v_makeup = np.zeros(n, dtype=i64)
        self.v_ut = np.zeros(n)
        self.v_ud = np.zeros(n)
        self.v_delay = np.zeros(n, dtype=i64)
        self.v_back = np.zeros(n, dtype=np.bool_)
        # Once-only draws.
        self.late = np.zeros(n, dtype=np.bool_)
        self.h = np.zeros(n)
        self.g = np.zeros(n)
        self.mobile = np.zeros(n, dtype=i64)
        self._draw_units()
        # Each block's visit stream, created once and drawn from in unit order thereafter.
        self.rngs: dict[int, Any] = {}
        # Events: day -> list of (unit, type, token, seq, arg) array chunks, in plan order.
        self.events: dict[int, list[tuple[IntArray, int, IntArray, int, IntArray | int]]] = {}
        self.stamp = 0
        # Results.
        n_st = len(tables.stages)
        self.n_batches = int(max([*self.windows, int(batch.max(initial=1))])) + 2
        self.counts = np.zeros((self.n_batches, n_st), dtype=i64)
        np.add.at(self.counts, (self.batch, self.stage), 1)
        self.dirty: set[int] = {int(b) for b in np.unique(self.batch)}
        self.emitted: dict[int, list[int]] = {}
        self.points: list[tuple[int, int, list[int]]] = []
        self.stays: dict[int, IntArray] = {}
        self.rounds: dict[int, int] = {}
        self.blocking: dict[tuple[str, int], int] = {}
        self.deferred_in: dict[int, int] = {}
        self.deferred_out: dict[int, int] = {}
        self.today = scenario.start.toordinal()
        self.finished = 0

    # --- draws --------------------------------------------------------------------------

    def _blocks(self, idx: IntArray) -> list[tuple[int, IntArray]]:
        """``idx`` (sorted) cut by random-stream block: (block number, positions in idx)."""
        glob = idx + self.lo
        blocks = glob // BLOCK
        if blocks.shape[0] == 0:
            return []
        cuts = np.flatnonzero(np.diff(blocks)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [blocks.shape[0]]))
        return [(int(blocks[s]), np.arange(s, e)) for s, e in zip(starts, ends, strict=True)]

    def _draw_units(self) -> None:
        beh = self.beh
        lo_h, hi_h = beh.study.hours_per_week
        for block, pos in self._blocks(np.arange(self.n)):
            rng = _stream(self.seed, _PURPOSE_UNIT, block)
            u = rng.random((pos.shape[0], 2))
            self.late[pos] = u[:, 0] < beh.late_start.share
            hours = np.rint((lo_h + u[:, 1] * (hi_h - lo_h)) * 2) / 2
            self.h[pos] = hours
            self.g[pos] = np.minimum(hours, np.rint(hours * beh.study.guided_share * 2) / 2)
            self.mobile[pos] = rng.binomial(self.members[pos], beh.mobile_members.share)
        self.g_pos = np.maximum(self.g, 0.0)
        self.weekly = self.g_pos + np.maximum(self.h - self.g, 0.0)

    def _randint(self, u: FloatArray, span: tuple[int, int]) -> IntArray:
        lo, hi = span
        return lo + np.minimum(hi - lo, np.floor(u * (hi - lo + 1)).astype(np.int64))

    # --- events -------------------------------------------------------------------------

    def at(
        self,
        offset: IntArray | int,
        idx: IntArray,
        kind: int,
        arg: IntArray | int = 0,
        sub: int = 0,
    ) -> None:
        """Plan events ``kind`` for units ``idx`` ``max(1, offset)`` days from today."""
        if idx.shape[0] == 0:
            return
        seq = self.stamp * 256 + sub
        tokens = self.token[idx]
        if isinstance(offset, int):
            self.events.setdefault(self.today + max(1, offset), []).append(
                (idx, kind, tokens, seq, arg)
            )
            return
        # Offsets are small: a 16-bit stable sort is a radix sort, linear in the events.
        off = np.maximum(1, offset)
        lo, hi = int(off.min()), int(off.max())
        if hi < 32_000:
            off = off.astype(np.int16)
        if lo == hi:
            self.events.setdefault(self.today + lo, []).append((idx, kind, tokens, seq, arg))
            return
        order = np.argsort(off, kind="stable")
        sizes = np.bincount(off - lo)
        ends = np.cumsum(sizes)
        args = arg if isinstance(arg, int) else arg[order]
        idx, tokens = idx[order], tokens[order]
        start = 0
        for d, end in enumerate(ends.tolist()):
            if end > start:
                part = slice(start, end)
                chunk_arg = args if isinstance(args, int) else args[part]
                self.events.setdefault(self.today + lo + d, []).append(
                    (idx[part], kind, tokens[part], seq, chunk_arg)
                )
            start = end

    def process(self, chunks: list[tuple[IntArray, int, IntArray, int, IntArray | int]]) -> None:
        unit = np.concatenate([c[0] for c in chunks])
        sizes = [c[0].shape[0] for c in chunks]
        kind = np.repeat(np.array([c[1] for c in chunks], dtype=np.int8), sizes)
        token = np.concatenate([c[2] for c in chunks])
        # Most chunks carry one argument for all their events: repeat those, copy the rest.
        arg = np.repeat(
            np.array([c[4] if isinstance(c[4], int) else 0 for c in chunks], dtype=np.int64),
            sizes,
        )
        start = 0
        for c, size in zip(chunks, sizes, strict=True):
            if not isinstance(c[4], int):
                arg[start : start + size] = c[4]
            start += size
        live = (self.token[unit] == token) & ~self.done[unit]
        if not live.all():
            unit, kind, token, arg = unit[live], kind[live], token[live], arg[live]
        if unit.shape[0] == 0:
            return
        # A unit's events run in the order they were planned (exact mode's seq order); the
        # chunks were appended in plan order, so a stable sort by unit keeps that order.
        order = np.argsort(unit, kind="stable")
        unit, kind, token, arg = unit[order], kind[order], token[order], arg[order]
        pos = np.arange(unit.shape[0])
        first = np.ones(unit.shape[0], dtype=np.bool_)
        first[1:] = unit[1:] != unit[:-1]
        rank = pos - np.maximum.accumulate(np.where(first, pos, 0))
        rounds = int(rank.max()) + 1
        for r in range(rounds):
            if rounds == 1:
                u, k, a = unit, kind, arg
            else:
                sel = rank == r
                u, k, tk, a = unit[sel], kind[sel], token[sel], arg[sel]
                if r:
                    # An earlier event of the unit today may have moved it on.
                    ok = (self.token[u] == tk) & ~self.done[u]
                    u, k, a = u[ok], k[ok], a[ok]
            for ev in range(7):
                m = k == ev
                if m.any():
                    self.handle(ev, u[m], a[m])

    def handle(self, ev: int, u: IntArray, a: IntArray) -> None:
        if ev == _STUDY:
            # A guided session of g hours and an unguided one of h - g (each only if > 0):
            # half-hour multiples, so the sums are exact as in exact mode's fsum.
            self.guided[u] += self.g_pos[u]
            self.hours[u] += self.weekly[u]
            self.stamp += 1
            self.at(7, u, _STUDY)
            self.after_fact(u)
        elif ev == _MILESTONE:
            self.bits[u] |= np.left_shift(np.int64(1), a)
            self.after_fact(u)
        elif ev == _COVERAGE:
            for ci, name in enumerate(self.t.coverage):
                m = (a // 2) == ci
                if not m.any():
                    continue
                uu, full = u[m], (a[m] % 2) == 1
                members = self.members[uu]
                done = np.where(full, members, members - self.mobile[uu])
                self.cov_done[name][uu] = np.maximum(0, done)
                self.cov_total[name][uu] = members
                self.bits[uu] |= np.int64(1 << self.t.bits[name])
            self.after_fact(u)
        elif ev == _SURVEY:
            self.survey(u)
        elif ev == _APPROVE:
            self.approve(u)
        elif ev == _REMEDIAL:
            for s in _present(self.stage[u]):
                uu = u[self.stage[u] == s]
                mask = 0
                for name in self.t.needs[int(s)].milestones:
                    mask |= 1 << self.t.bits[name]
                self.bits[uu] |= np.int64(mask)
            self.apply(u)
        else:
            self.fallback[u] = np.where(self.fallback[u] == self.today, -1, self.fallback[u])
            self.apply(u)

    def after_fact(self, u: IntArray) -> None:
        w = u[self.waiting[u]]
        if w.shape[0]:
            self.apply(w)

    def survey(self, u: IntArray) -> None:
        model = self.beh.survey
        p = np.where(self.v_back[u], model.retry_failure_rate, model.failure_rate)
        troubled = self.v_ut[u] < p
        lo, hi = model.troubled_dissatisfied
        ud = self.v_ud[u]
        d = np.minimum(
            1.0, np.where(troubled, lo + ud * (hi - lo), ud * 2 * model.levels["dissatisfied"])
        )
        ballots = np.maximum(
            model.min_ballots, np.rint(self.members[u] * model.raters_per_member)
        ).astype(np.int64)
        self.ballots[u] = ballots
        self.dissat[u] = np.minimum(ballots, np.rint(d * ballots).astype(np.int64))
        _ = LEVELS_3, LEVELS_4  # the split over content levels does not change any gate
        j = self.judge(u, "advance", _CLERK)
        allowed = j.dest >= 0
        if allowed.any():
            self.move_judged(j, allowed)
        rest = ~allowed
        if rest.any():
            with_roles = self.t.asks_approval[j.stages]
            to_approve = rest & with_roles
            if to_approve.any():
                self.stamp += 1
                self.at(self.v_delay[u[to_approve]], u[to_approve], _APPROVE)
            refuse = rest & ~with_roles
            if refuse.any():
                self.refused(j, refuse)

    def approve(self, u: IntArray) -> None:
        for s in _present(self.stage[u]):
            uu = u[self.stage[u] == s]
            for role in self.t.needs[int(s)].approvals:
                self.approvals[role][uu] = APPROVAL_APPROVED
        self.apply(u)

    # --- judging and moving -------------------------------------------------------------

    def facts(self, u: IntArray, reads: frozenset[str] = _ALL_READS) -> BulkFacts:
        """The BulkFacts of units ``u`` today (only the columns in ``reads`` are gathered)."""
        since = self.since[u]
        days = np.where(since >= 0, self.today - since, 0)
        cov = "coverage" in reads
        survey = "survey" in reads
        return BulkFacts(
            today=self.today,
            days_in_stage=days,
            started_on=self.started[u] if "started" in reads else days,
            batch=self.batch[u] if "batch" in reads else days,
            windows=self.windows,
            study_hours=self.hours[u] if "hours" in reads else None,
            guided_hours=self.guided[u] if "hours" in reads else None,
            milestones=self.bits[u] if "bits" in reads else None,
            milestone_bits=self.t.bits,
            coverage={c: (self.cov_done[c][u], self.cov_total[c][u]) for c in self.t.coverage}
            if cov
            else {},
            survey_dissatisfied=self.dissat[u] if survey else None,
            survey_ballots=self.ballots[u] if survey else None,
            approvals={r: self.approvals[r][u] for r in self.t.roles}
            if "approvals" in reads
            else {},
        )

    def judge(self, u: IntArray, trigger: str, roles: frozenset[str]) -> _Judgement:
        """Judge ``trigger`` for units ``u`` as ``decide`` does: first passing candidate wins."""
        n = u.shape[0]
        stages = self.stage[u]
        dest = np.full(n, -1, dtype=np.int64)
        first_failed = np.zeros(n, dtype=np.bool_)
        fails: list[Failure] = []
        detour_fails: list[Failure] = []
        detour_has = np.zeros(n, dtype=np.bool_)
        for s in _present(stages):
            pos = np.flatnonzero(stages == s)
            key = (int(s), trigger, roles)
            cands = self.t.candidates.get(key, ())
            if not cands:
                continue
            f = self.facts(u[pos], self.t.reads[key])
            open_ = np.ones(pos.shape[0], dtype=np.bool_)
            for ci, cand in enumerate(cands):
                judged = [j(f) for j in cand.judges]
                passed = np.ones(pos.shape[0], dtype=np.bool_)
                for j in judged:
                    passed &= j.passed
                take = open_ & passed
                dest[pos[take]] = cand.dest
                open_ &= ~passed
                if ci > 0 and take.any():
                    for jn in judged:
                        if jn.inner is None:
                            continue
                        for code, mask, _ in jn.inner.failures():
                            m = mask & take & jn.passed
                            if m.any():
                                full = np.zeros(n, dtype=np.bool_)
                                full[pos] = m
                                detour_fails.append((code, full, None))
                                detour_has[pos[m]] = True
                if ci == 0:
                    first_failed[pos] = ~passed
                    for j in judged:
                        for code, mask, wait in j.failures():
                            full = np.zeros(n, dtype=np.bool_)
                            full[pos] = mask
                            w = None
                            if wait is not None:
                                w = np.zeros(n, dtype=np.int64)
                                w[pos] = wait
                            fails.append((code, full, w))
                if not open_.any():
                    break
        return _Judgement(u, stages, dest, first_failed, fails, detour_fails, detour_has)

    def count_blocking(
        self, j: _Judgement, mask: BoolArray, fails: list[Failure] | None = None
    ) -> None:
        """Count each unit's failing codes (the first candidate's) once, by its stage."""
        by_code: dict[str, BoolArray] = {}
        for code, m, _ in j.fails if fails is None else fails:
            mm = m & mask
            if mm.any():
                by_code[code] = by_code[code] | mm if code in by_code else mm
        for code, mm in by_code.items():
            counts = np.bincount(j.stages[mm], minlength=len(self.t.stages))
            for s in np.flatnonzero(counts):
                key = (code, int(s))
                self.blocking[key] = self.blocking.get(key, 0) + int(counts[s])

    def apply(self, u: IntArray) -> None:
        """The units file their application to move on (转段申请); refusals count as blocking."""
        j = self.judge(u, "advance", _CLERK)
        ok = j.dest >= 0
        if ok.any():
            self.move_judged(j, ok)
        if not ok.all():
            self.refused(j, ~ok)

    def move_judged(self, j: _Judgement, sel: BoolArray) -> None:
        # A detour (a later candidate, e.g. make-up) counts the gates that sent the unit
        # there (failing under the taken candidate's unless), else those the first one failed
        # (summarise's rule).
        detour = sel & j.first_failed
        if detour.any():
            self.count_blocking(j, detour & j.detour_has, j.detour_fails)
            self.count_blocking(j, detour & ~j.detour_has)
        self.moved(j.u[sel], j.dest[sel])

    def refused(self, j: _Judgement, sel: BoolArray) -> None:
        self.count_blocking(j, sel)
        n = sel.shape[0]
        nontime = np.zeros(n, dtype=np.bool_)
        wait = np.zeros(n, dtype=np.int64)
        anyfail = np.zeros(n, dtype=np.bool_)
        for code, m, w in j.fails:
            anyfail |= m
            if code in TIME_CODES and w is not None:
                wait = np.where(m, np.maximum(wait, w), wait)
            else:
                nontime |= m
        time_only = (anyfail & ~nontime)[sel]
        u = j.u[sel]
        w_sel = wait[sel]
        self.stamp += 1
        tu = u[time_only]
        if tu.shape[0]:
            self.waiting[tu] = False
            self.at(w_sel[time_only], tu, _APPLY)
        ou = u[~time_only]
        if ou.shape[0]:
            self.waiting[ou] = True
            fu = ou[self.fallback[ou] <= self.today]
            self.fallback[fu] = self.today + RETRY_DAYS
            self.at(RETRY_DAYS, fu, _APPLY)

    def moved(self, u: IntArray, dest: IntArray, *, to_batch: IntArray | None = None) -> None:
        """Apply transitions (engine.next_state), record results, plan the next visit."""
        t = self.t
        today = self.today
        src = self.stage[u]
        src_kind = t.kind_code[src]
        dst_kind = t.kind_code[dest]
        # Results: stays, counts, make-up rounds, finishes.
        working = (src_kind == _WORKING) | (src_kind == _REMEDIAL_KIND)
        for s in _present(src[working]):
            d = today - self.entered[u[working & (src == s)]]
            prev = self.stays.get(int(s))
            hist = np.bincount(d)
            if prev is None:
                self.stays[int(s)] = hist
            else:
                size = max(prev.shape[0], hist.shape[0])
                merged = np.zeros(size, dtype=np.int64)
                merged[: prev.shape[0]] += prev
                merged[: hist.shape[0]] += hist
                self.stays[int(s)] = merged
        old_batch = self.batch[u]
        new_batch = old_batch if to_batch is None else to_batch
        width = len(t.stages)
        size = self.counts.size
        flat = self.counts.reshape(-1)
        flat -= np.bincount(old_batch * width + src, minlength=size)
        flat += np.bincount(new_batch * width + dest, minlength=size)
        self.dirty.update(np.flatnonzero(np.bincount(old_batch)).tolist())
        self.dirty.update(np.flatnonzero(np.bincount(new_batch)).tolist())
        rem = dst_kind == _REMEDIAL_KIND
        if rem.any():
            self.remedial_unit[u[rem]] = True
            made_up = t.rem_of[dest[rem]]
            made_up = np.where(made_up >= 0, made_up, dest[rem])
            for s, c in enumerate(np.bincount(made_up, minlength=len(t.stages)).tolist()):
                if c:
                    self.rounds[s] = self.rounds.get(s, 0) + c
        fin = dst_kind == _FINAL
        if fin.any():
            self.done[u[fin]] = True
            self.finished_on[u[fin]] = today
            self.finished += int(fin.sum())
        # next_state.
        since_old = self.since[u]
        if to_batch is not None:
            self.batch[u] = to_batch
            self.since[u] = today
            self.started[u] = -1
            self.resume[u] = -1
        else:
            start_now = (self.started[u] < 0) & (src_kind == _WAITING) & (dst_kind != _WAITING)
            self.started[u] = np.where(start_now, today, self.started[u])
            src_rem = src_kind == _REMEDIAL_KIND
            rem_of_src = t.rem_of[src]
            back = src_rem & (rem_of_src == dest)
            same = dest == src
            resume_old = self.resume[u]
            new_since = np.where(
                rem,
                today,
                np.where(
                    back,
                    np.where(resume_old >= 0, resume_old, today),
                    np.where(same, np.where(since_old >= 0, since_old, today), today),
                ),
            )
            self.resume[u] = np.where(rem, np.where(src_rem, resume_old, since_old), -1)
            self.since[u] = new_since
            # Facts: a make-up visit starts empty (the stage's facts wait in the stash); back
            # from make-up, the stage's facts return; a new stage starts empty.
            stash = rem & ~src_rem
            if stash.any():
                us = u[stash]
                self.s_hours[us], self.s_guided[us], self.s_bits[us] = (
                    self.hours[us],
                    self.guided[us],
                    self.bits[us],
                )
                for c in t.coverage:
                    self.s_cov_done[c][us], self.s_cov_total[c][us] = (
                        self.cov_done[c][us],
                        self.cov_total[c][us],
                    )
            restore = back
            if restore.any():
                ur = u[restore]
                self.hours[ur], self.guided[ur], self.bits[ur] = (
                    self.s_hours[ur],
                    self.s_guided[ur],
                    self.s_bits[ur],
                )
                for c in t.coverage:
                    self.cov_done[c][ur], self.cov_total[c][ur] = (
                        self.s_cov_done[c][ur],
                        self.s_cov_total[c][ur],
                    )
            clear = ~restore & ~same
            if clear.any():
                uc = u[clear]
                self.hours[uc] = 0.0
                self.guided[uc] = 0.0
                self.bits[uc] = 0
                for c in t.coverage:
                    self.cov_done[c][uc] = 0
                    self.cov_total[c][uc] = -1
        self.stage[u] = dest
        self.entered[u] = today
        self.ballots[u] = 0
        self.dissat[u] = 0
        for r in t.roles:
            self.approvals[r][u] = 0
        if to_batch is not None:
            return  # a deferral is not a move in the simulator's eyes: nothing is planned
        # The simulator's side (exact mode's ``moved``).
        self.moved_ever[u] = True
        self.token[u] += 1
        self.waiting[u] = False
        self.fallback[u] = -1
        work = dst_kind == _WORKING
        if u.shape[0] > 1 and not bool((u[1:] > u[:-1]).all()):
            order = np.argsort(u, kind="stable")
            u, dest, work, rem, src = u[order], dest[order], work[order], rem[order], src[order]
        us, ds, ws, rs, src_s = u, dest, work, rem, src
        draws5 = np.zeros((us.shape[0], 5))
        draws1 = np.zeros(us.shape[0])
        for block, pos in self._blocks(us):
            rng = self.rngs.get(block)
            if rng is None:
                rng = self.rngs[block] = _stream(self.seed, _PURPOSE_VISIT, block)
            pw = pos[ws[pos]]
            pr = pos[rs[pos]]
            # Per block, in unit order: five draws per working visit, then one per make-up.
            draws5[pw] = rng.random((pw.shape[0], 5))
            draws1[pr] = rng.random(pr.shape[0])
        self.stamp += 1
        if rs.any():
            ur = us[rs]
            self.at(self._randint(draws1[rs], self.beh.remedial_days), ur, _REMEDIAL)
        if not ws.any():
            return
        uw, dw, sw, dr = us[ws], ds[ws], src_s[ws], draws5[ws]
        back_w = (t.kind_code[sw] == _REMEDIAL_KIND) & (t.rem_of[sw] == dw)
        for s in _present(dw):
            m = dw == s
            ux, bx, dx = uw[m], back_w[m], dr[m]
            sid = t.stages[int(s)]
            length = np.where(
                bx,
                self._randint(dx[:, 0], self.beh.reassess_days),
                self._randint(dx[:, 0], self.beh.days_for(sid)),
            )
            self.v_len[ux] = length
            self.v_makeup[ux] = self._randint(dx[:, 1], self.beh.mobile_members.makeup_delay_days)
            self.v_ut[ux] = dx[:, 2]
            self.v_ud[ux] = dx[:, 3]
            self.v_delay[ux] = self._randint(dx[:, 4], self.beh.approval_delay_days)
            self.v_back[ux] = bx
            self.plan_visit(ux, int(s))

    def plan_visit(self, u: IntArray, s: int) -> None:
        needs = self.t.needs[s]
        length = self.v_len[u]
        sub = 0
        if needs.study:
            self.at(7, u, _STUDY, sub=sub)
        sub += 1
        names = list(needs.milestones)
        if names:
            missing = [(self.bits[u] >> self.t.bits[n]) & 1 == 0 for n in names]
            total = np.sum(missing, axis=0)
            k = np.zeros(u.shape[0], dtype=np.int64)
            for name, miss in zip(names, missing, strict=True):
                k = k + miss
                if miss.any():
                    um, km, tm = u[miss], k[miss], total[miss]
                    self.at(-(-length[miss] * km // tm), um, _MILESTONE, self.t.bits[name], sub=sub)
                sub += 1
        half = -(-length // 2)
        members = self.members[u]
        for name in needs.coverage:
            ci = self.t.coverage.index(name)
            have_total = self.cov_total[name][u]
            have = self.cov_done[name][u]
            skip = (have_total >= 0) & (have == members)
            none = have_total < 0
            split = ~skip & none & (self.mobile[u] > 0)
            whole = ~skip & ~split
            self.at(half[split], u[split], _COVERAGE, ci * 2, sub=sub)
            self.at(half[whole], u[whole], _COVERAGE, ci * 2 + 1, sub=sub)
            sub += 1
            self.at(half[split] + self.v_makeup[u[split]], u[split], _COVERAGE, ci * 2 + 1, sub=sub)
            sub += 1
        if needs.survey:
            self.at(length, u, _SURVEY, sub=sub)
        elif needs.approvals:
            self.at(length + self.v_delay[u], u, _APPROVE, sub=sub)
        else:
            self.at(length, u, _APPLY, sub=sub)

    # --- batches ------------------------------------------------------------------------

    def open_batch(self, number: int, later: int | None, late_batches: set[int]) -> None:
        if later is not None and number in late_batches:
            late = np.flatnonzero(
                (self.batch0 == number) & self.late & ~self.deferred & ~self.moved_ever
            )
            if late.shape[0]:
                # The leading group moves units that cannot start to the next batch.
                j = self.judge(late, "defer", self.t.deferrer)
                ok = j.dest >= 0
                moved = late[ok]
                n = int(ok.sum())
                if n:
                    self.deferred[moved] = True
                    self.deferred_out[number] = self.deferred_out.get(number, 0) + n
                    self.deferred_in[later] = self.deferred_in.get(later, 0) + n
                    self.moved(moved, j.dest[ok], to_batch=np.full(n, later, dtype=np.int64))
        cand = np.flatnonzero((self.batch == number) & (self.t.kind_code[self.stage] == _WAITING))
        if cand.shape[0]:
            j = self.judge(cand, "start", _SYSTEM)
            ok = j.dest >= 0
            if ok.any():
                self.move_judged(j, ok)

    def flush(self) -> None:
        for b in sorted(self.dirty):
            now = self.counts[b].tolist()
            if self.emitted.get(b) != now:
                self.points.append((self.today, b, now))
                self.emitted[b] = now
        self.dirty.clear()

    # --- the day loop -------------------------------------------------------------------

    def run(
        self,
        openings: Mapping[int, Sequence[int]],
        last: int,
        next_batch: Mapping[int, int],
        late_batches: set[int],
        progress: ProgressCallback | None,
        total: int,
    ) -> _ShardOut:
        day = self.sc.start.toordinal()
        last_opening = max(openings) if openings else day
        end = day
        finished_by_day: dict[int, int] = {}
        while day <= last:
            self.today = day
            for number in sorted(openings.get(day, ())):
                self.open_batch(number, next_batch.get(number), late_batches)
            chunks = self.events.pop(day, None)
            if chunks:
                self.process(chunks)
            self.flush()
            if not finished_by_day or finished_by_day[max(finished_by_day)] != self.finished:
                finished_by_day[day] = self.finished
            if progress is not None:
                progress(date.fromordinal(day), self.finished, total)
            end = day
            if day >= last_opening and (self.finished == self.n or not self.events):
                break
            day += 1
        batches: dict[int, tuple[int, int, int, int]] = {}
        closes = {b: c for b, (_, c) in self.windows.items()}
        for b in np.unique(self.batch):
            m = self.batch == b
            fin = self.finished_on[m]
            fin = fin[fin >= 0]
            closing = closes.get(int(b))
            batches[int(b)] = (
                int(m.sum()),
                int(fin.shape[0]),
                int(fin.max()) if fin.shape[0] else -1,
                int((fin <= closing).sum()) if closing is not None else 0,
            )
        return _ShardOut(
            points=self.points,
            stays={s: h.tolist() for s, h in self.stays.items()},
            rounds=dict(self.rounds),
            remedial_units=int(self.remedial_unit.sum()),
            blocking=dict(self.blocking),
            batches=batches,
            deferred_in=dict(self.deferred_in),
            deferred_out=dict(self.deferred_out),
            end=end,
            all_finished=self.finished == self.n,
            queue_end=max(self.events) if self.events else end,
            finished_by_day=finished_by_day,
        )


# --- the whole run ---------------------------------------------------------------------------


def _plan(scenario: Scenario) -> tuple[dict[int, list[int]], dict[int, int], set[int]]:
    openings: dict[int, list[int]] = {}
    for b in scenario.batches:
        openings.setdefault(b.opens.toordinal(), []).append(b.number)
    numbers = sorted(b.number for b in scenario.batches)
    next_batch = dict(pairwise(numbers))
    late = scenario.behaviour.late_start.batches
    return openings, next_batch, set(late) if late else set(numbers[:-1])


def _run_shard(
    scenario: Scenario,
    seed: int,
    lo: int,
    members: IntArray,
    batch: IntArray,
    total: int,
    progress: ProgressCallback | None = None,
) -> _ShardOut:
    workflow = scenario.load_workflow()
    tables = _compile(workflow, None)
    shard = _Shard(scenario, tables, seed, lo, members, batch)
    openings, next_batch, late = _plan(scenario)
    return shard.run(openings, scenario.last_day.toordinal(), next_batch, late, progress, total)


def _run_shard_args(args: tuple[Any, ...]) -> _ShardOut:
    return _run_shard(*args)


def simulate_fast(
    scenario: Scenario,
    *,
    seed: int | None = None,
    shards: int = 1,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Play ``scenario`` forward in bulk; the same results record as exact mode (``mode="fast"``).

    ``shards`` > 1 runs groups of whole unit blocks in worker processes (at most one per
    CPU); the result is byte-identical for any shard count. ``progress(day, done, total)``
    is called once per simulated day (after the workers finish when ``shards`` > 1).

    A workflow fast mode cannot run (:func:`fast_blockers`: a guard without a bulk form, an
    unsupported shape) runs in exact mode instead, with a :class:`SimulationFallback`
    warning naming the reason.

    Raises:
        ValidationError: a bad seed or shard count, or a scenario whose workflow does not load.
    """
    import warnings

    seed = scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        refuse("seed", seed, "must be a whole number from 0 to 2**63 - 1")
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 1024:
        refuse("shards", shards, "must be a whole number from 1 to 1024")
    workflow = scenario.load_workflow()
    from campaignflow.simulation.exact import _check_fits

    _check_fits(scenario, workflow)
    blockers = fast_blockers(workflow)
    if blockers:
        warnings.warn(
            SimulationFallback(
                f"scenario {scenario.name!r}: fast mode cannot run workflow {workflow.name!r} "
                f"({'; '.join(blockers)}); running in exact mode instead"
            ),
            stacklevel=2,
        )
        from campaignflow.simulation.exact import simulate_exact

        result, campaign = simulate_exact(scenario, seed=seed, progress=progress)
        campaign.close()
        return result
    members, batch = _roster(scenario, seed)
    total = int(members.shape[0])
    n_blocks = max(1, -(-total // BLOCK))
    groups = [
        (g * n_blocks // shards * BLOCK, min(total, (g + 1) * n_blocks // shards * BLOCK))
        for g in range(min(shards, n_blocks))
    ]
    groups = [(a, b) for a, b in groups if b > a] or [(0, 0)]
    if len(groups) == 1:
        outs = [_run_shard(scenario, seed, 0, members, batch, total, progress)]
        replay = False
    else:
        import multiprocessing

        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        work = [(scenario, seed, a, members[a:b], batch[a:b], total) for a, b in groups]
        workers = min(len(groups), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            outs = list(pool.map(_run_shard_args, work))
        replay = progress is not None
    return _merge(scenario, workflow, seed, total, outs, progress if replay else None)


def _merge(
    scenario: Scenario,
    workflow: Workflow,
    seed: int,
    total: int,
    outs: Sequence[_ShardOut],
    progress: ProgressCallback | None,
) -> SimulationResult:
    stages = tuple(s.id for s in workflow.stages)
    last = scenario.last_day.toordinal()
    if all(o.all_finished for o in outs):
        end = max(o.end for o in outs)
    else:
        end = min(last, max(o.end if not o.all_finished else o.queue_end for o in outs))
    # Timeline: a batch's point on each day its summed counts change.
    by_day: dict[int, list[tuple[int, int, list[int]]]] = {}
    for i, o in enumerate(outs):
        for day, b, counts in o.points:
            by_day.setdefault(day, []).append((i, b, counts))
    current: dict[tuple[int, int], list[int]] = {}
    emitted: dict[int, list[int]] = {}
    timeline: list[TimelinePoint] = []
    for day in sorted(by_day):
        touched: set[int] = set()
        for i, b, counts in by_day[day]:
            current[(i, b)] = counts
            touched.add(b)
        for b in sorted(touched):
            now = [0] * len(stages)
            for (_, bb), counts in current.items():
                if bb == b:
                    now = [x + y for x, y in zip(now, counts, strict=True)]
            if emitted.get(b) != now:
                emitted[b] = now
                timeline.append(
                    TimelinePoint(
                        day=date.fromordinal(day),
                        batch=b,
                        counts=dict(zip(stages, now, strict=True)),
                    )
                )
    # Time in stage from the merged histograms of stays.
    hists: dict[str, list[int]] = {}
    for o in outs:
        for s, h in o.stays.items():
            prev = hists.setdefault(stages[s], [])
            if len(prev) < len(h):
                prev.extend([0] * (len(h) - len(prev)))
            for d, c in enumerate(h):
                prev[d] += c
    time_in_stage = {
        stage: StageTime(
            median_days=round(_hist_percentile(h, 0.5), 6),
            p90_days=round(_hist_percentile(h, 0.9), 6),
            units=sum(h),
        )
        for stage, h in sorted(hists.items())
    }
    rounds: dict[str, int] = {}
    blocking: dict[tuple[str, str], int] = {}
    deferred_in: dict[int, int] = {}
    deferred_out: dict[int, int] = {}
    per_batch: dict[int, list[int]] = {}
    for o in outs:
        for s, n in o.rounds.items():
            rounds[stages[s]] = rounds.get(stages[s], 0) + n
        for (code, s), n in o.blocking.items():
            blocking[(code, stages[s])] = blocking.get((code, stages[s]), 0) + n
        for b, n in o.deferred_in.items():
            deferred_in[b] = deferred_in.get(b, 0) + n
        for b, n in o.deferred_out.items():
            deferred_out[b] = deferred_out.get(b, 0) + n
        for b, (units, fin, last_fin, on_time) in o.batches.items():
            acc = per_batch.setdefault(b, [0, 0, -1, 0])
            acc[0] += units
            acc[1] += fin
            acc[2] = max(acc[2], last_fin)
            acc[3] += on_time
    windows = {w.number: w for w in workflow.batches}
    batches = []
    for number in sorted(set(windows) | set(per_batch)):
        units, fin, last_fin, on_time = per_batch.get(number, [0, 0, -1, 0])
        window = windows.get(number)
        if window is not None:
            opens, closes = window.opens, window.closes
        else:
            opens = closes = date.fromordinal(last_fin) if last_fin >= 0 else date.min
            on_time = fin
        batches.append(
            BatchOutcome(
                batch=number,
                units=units,
                window_start=opens,
                window_end=closes,
                completed_on=date.fromordinal(last_fin) if units and fin == units else None,
                on_time_share=round(on_time / units, 6) if units else 0.0,
                deferred_in=deferred_in.get(number, 0),
                deferred_out=deferred_out.get(number, 0),
            )
        )
    if progress is not None:
        steps = sorted({d for o in outs for d in o.finished_by_day})
        start = scenario.start.toordinal()
        for day in range(start, end + 1):
            done = 0
            for o in outs:
                known = [d for d in o.finished_by_day if d <= day]
                done += o.finished_by_day[max(known)] if known else 0
            progress(date.fromordinal(day), done, total)
        del steps
    return SimulationResult(
        scenario=scenario.name,
        seed=seed,
        mode="fast",
        workflow=f"{workflow.name}@{workflow.version}",
        units=total,
        start=scenario.start,
        end=date.fromordinal(end),
        stages=stages,
        timeline=tuple(timeline),
        batches=tuple(batches),
        remedial=RemedialSummary(
            units=sum(o.remedial_units for o in outs),
            rounds=sum(rounds.values()),
            by_stage=dict(sorted(rounds.items())),
        ),
        time_in_stage=time_in_stage,
        blocking=tuple(
            BlockingReason(code=code, stage=stage, count=n)
            for (code, stage), n in sorted(blocking.items(), key=lambda kv: (-kv[1], kv[0]))[
                :TOP_BLOCKING
            ]
        ),
        audit_head=None,
    )


def _hist_percentile(hist: Sequence[int], q: float) -> float:
    """``summary.percentile`` over the sorted values a histogram of whole days stands for."""
    n = sum(hist)
    if n == 0:
        return 0.0
    cum = np.cumsum(np.asarray(hist, dtype=np.int64))
    pos = (n - 1) * q
    low = int(pos)
    high = min(low + 1, n - 1)
    v_low = int(np.searchsorted(cum, low, side="right"))
    v_high = int(np.searchsorted(cum, high, side="right"))
    return float(v_low + (v_high - v_low) * (pos - low))
