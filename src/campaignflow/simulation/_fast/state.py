"""Fast mode, part 3: one shard's state as arrays, its once-only draws and its event queue.

Every unit's stage, dates, the facts its current stage's guards look at (and those of the
stage being made up), the current visit's draws and the results counters are columns of
numpy arrays; events are planned per day as chunks of unit indices, in plan order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import attrs
import numpy as np

import campaignflow.simulation._fast.roster as roster_module
from campaignflow._words.facts import Approval, Milestone, StudySession
from campaignflow._words.records import BatchWindow, FactRecord, UnitState
from campaignflow.guards import GuardContext
from campaignflow.guards._recipe import merge_host
from campaignflow.simulation._fast.bulk import (
    APPROVAL_APPROVED,
    APPROVAL_NONE,
    BoolArray,
    BulkFacts,
    FloatArray,
    IntArray,
)
from campaignflow.simulation._fast.roster import _PURPOSE_UNIT, _stream, _Units
from campaignflow.simulation._fast.tables import _ALL_READS, _REMEDIAL_KIND, _Tables
from campaignflow.simulation.scenario import Scenario


def simulated_records(
    unit_id: str, stage: str, version: int, today: date, facts: Sequence[object]
) -> list[FactRecord]:
    """``facts`` as the simulator records them for a unit in ``stage`` at ``version``: dated
    ``today`` at midnight, by ``"simulator"``, unsealed (seq 0)."""
    at = datetime.combine(today, time())
    return [
        FactRecord(
            unit_id=unit_id,
            stage=stage,
            version=version,
            fact=fact,
            on=today,
            at=at,
            actor_id="simulator",
            seq=0,
        )
        for fact in facts
    ]


class Event:
    """Event types (a unit's events run in the order they were planned, whatever their type)."""

    STUDY, MILESTONE, COVERAGE, SURVEY, APPROVE, REMEDIAL, APPLY, RECIPE = range(8)


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


class _ShardState:
    """Units ``lo..hi`` of the roster (whole blocks): their state, draws and event queue."""

    def __init__(
        self,
        scenario: Scenario,
        tables: _Tables,
        seed: int,
        lo: int,
        members: IntArray,
        batch: IntArray,
        host: Any = None,
    ) -> None:
        self.sc = scenario
        # Host data: the run's, merged per unit with that of the recipes played for it.
        self.host = host
        self.unit_host: dict[int, Any] = {}
        # The facts custom gates' recipes recorded in the current stage (and the stash of
        # the stage being made up), per unit: what a guard without a bulk form sees.
        self.records: dict[int, list[FactRecord]] = {}
        self.s_records: dict[int, list[FactRecord]] = {}
        self.book = _Units(scenario, seed)
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
        self.home_delay = np.zeros(n, dtype=i64)
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
        # Units of opened batches whose start gate has not held yet (ascending), retried daily.
        self.unstarted: dict[int, IntArray] = {}
        self.opened_on: dict[int, int] = {}

    # --- draws --------------------------------------------------------------------------

    def _blocks(self, idx: IntArray) -> list[tuple[int, IntArray]]:
        """``idx`` (sorted) cut by random-stream block: (block number, positions in idx)."""
        glob = idx + self.lo
        blocks = glob // roster_module.BLOCK
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
            retired = beh.retired_members
            if retired.share > 0:
                # Drawn last, so the other draws of a block do not depend on it (as exact
                # mode's separate "retired" stream).
                r = rng.binomial(self.members[pos], retired.share)
                self.home_delay[pos] = -(-r // retired.home_visits_per_day)
        self.any_home_delay = bool(self.home_delay.any())
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
            contexts=self._contexts(u) if "context" in reads else None,
        )

    # --- one unit's context, for guards without a bulk form ------------------------------

    def host_of(self, i: int) -> Any:
        """The host data unit ``i``'s gates are judged with (exact mode's ``host_of``)."""
        return merge_host(self.host, self.unit_host.get(i))

    def _contexts(self, u: IntArray) -> Any:
        made: list[Sequence[GuardContext]] = []

        def contexts() -> Sequence[GuardContext]:
            # Built once per judgement, for however many guards of it need them.
            if not made:
                made.append([self.context(int(i)) for i in u.tolist()])
            return made[0]

        return contexts

    def context(self, i: int) -> GuardContext:
        """Unit ``i``'s GuardContext today: its state, the stage's facts, its host data.

        The facts are those its custom gates' recipes recorded, and the behaviour model's
        built-in facts as fast mode keeps them: the stage's study hours as one guided and
        one unguided session, each milestone and the latest coverage report of each, and
        the approvals since the last transition. Surveys are not rebuilt.
        """
        t = self.t
        today = date.fromordinal(self.today)
        batch = int(self.batch[i])
        unit = self.book.unit(self.lo + i, int(self.members[i]), batch)
        stage = t.stages[int(self.stage[i])]
        version = int(self.token[i])

        def day(value: Any) -> date | None:
            return date.fromordinal(int(value)) if value >= 0 else None

        state = UnitState(
            unit_id=unit.id,
            stage=stage,
            batch=batch,
            version=version,
            entered_on=day(self.entered[i]),
            stage_since=day(self.since[i]),
            started_on=day(self.started[i]),
            remedial=bool(t.kind_code[int(self.stage[i])] == _REMEDIAL_KIND),
            workflow=t.workflow,
        )
        facts: list[object] = []
        guided, rest = float(self.guided[i]), float(self.hours[i] - self.guided[i])
        if guided > 0:
            facts.append(StudySession(hours=guided, guided=True))
        if rest > 0:
            facts.append(StudySession(hours=rest, guided=False))
        bits = int(self.bits[i])
        for name, bit in t.bits.items():
            if name in self.cov_total and self.cov_total[name][i] >= 0:
                done, total = int(self.cov_done[name][i]), int(self.cov_total[name][i])
                facts.append(Milestone(name=name, done=done, total=total))
            elif bits >> bit & 1:
                facts.append(Milestone(name=name))
        for role in t.roles:
            decision = int(self.approvals[role][i])
            if decision != APPROVAL_NONE:
                approved = decision == APPROVAL_APPROVED
                facts.append(Approval(role=role, decision="approved" if approved else "rejected"))
        records = simulated_records(unit.id, stage, version, today, facts)
        records.extend(self.records.get(i, ()))
        window = self.windows.get(batch)
        return GuardContext(
            unit=unit,
            state=state,
            today=today,
            records=tuple(records),
            batch_window=None
            if window is None
            else BatchWindow(
                number=batch, opens=date.fromordinal(window[0]), closes=date.fromordinal(window[1])
            ),
            workflow=t.workflow,
            host=self.host_of(i),
        )
