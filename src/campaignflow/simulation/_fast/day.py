"""Fast mode, part 5: one shard's simulated days — batches opening, events handled in bulk.

Each day opens its batches (late units deferred, the others started), then runs that
day's events (study sessions, milestones, assessments, approvals, applications) for all
units at once, a unit's events in the order they were planned, and emits the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import numpy as np

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow.guards._recipe import merge_host
from campaignflow.simulation._fast.bulk import APPROVAL_APPROVED, APPROVAL_REJECTED, IntArray
from campaignflow.simulation._fast.moves import _ShardMoves
from campaignflow.simulation._fast.state import Event, _ShardOut, simulated_records
from campaignflow.simulation._fast.tables import _SYSTEM, _WAITING, _present
from campaignflow.simulation._scenario_models import LEVELS_3, LEVELS_4

ProgressCallback = Callable[[date, int, int], None]


class _Shard(_ShardMoves):
    """Units ``lo..hi`` of the roster (whole blocks), simulated day by day in bulk."""

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
            for ev in range(8):
                m = k == ev
                if m.any():
                    self.handle(ev, u[m], a[m])

    def handle(self, ev: int, u: IntArray, a: IntArray) -> None:
        if ev == Event.STUDY:
            # A guided session of g hours and an unguided one of h - g (each only if > 0):
            # half-hour multiples, so the sums are exact as in exact mode's fsum.
            self.guided[u] += self.g_pos[u]
            self.hours[u] += self.weekly[u]
            self.stamp += 1
            self.at(7, u, Event.STUDY)
            self.after_fact(u)
        elif ev == Event.MILESTONE:
            self.bits[u] |= np.left_shift(np.int64(1), a)
            self.after_fact(u)
        elif ev == Event.COVERAGE:
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
        elif ev == Event.SURVEY:
            self.survey(u)
        elif ev == Event.APPROVE:
            self.approve(u)
        elif ev == Event.RECIPE:
            self.play_recipes(u, a)
        elif ev == Event.REMEDIAL:
            for s in _present(self.stage[u]):
                uu = u[self.stage[u] == s]
                for spec in self.t.needs[int(s)].custom:
                    # A make-up visit plays its way out's custom recipes, as exact mode does.
                    k = self.t.custom.index(spec)
                    for i in uu.tolist():
                        self._play(i, k)
                mask = 0
                for name in self.t.needs[int(s)].milestones:
                    mask |= 1 << self.t.bits[name]
                self.bits[uu] |= np.int64(mask)
            self.apply(u)
        else:
            self.fallback[u] = np.where(self.fallback[u] == self.today, -1, self.fallback[u])
            self.apply(u)

    def play_recipes(self, u: IntArray, a: IntArray) -> None:
        """Record custom gates' passing recipes (exact mode's ``do_recipe``), unit by unit.

        Built-in facts of a recipe go to the columns the bulk guards read (and surveys and
        facts no column holds to the unit's records too); every other fact, and the recipe's
        host data, is kept for the guards judged one unit at a time.
        """
        played = [i for i, k in zip(u.tolist(), a.tolist(), strict=True) if self._play(i, k)]
        if played:
            self.after_fact(np.array(played, dtype=np.int64))

    def _play(self, i: int, k: int) -> bool:
        """Record custom gate ``k``'s passing recipe for unit ``i``; False when it has none."""
        recipe = self.t.recipes[k]
        if recipe is None:
            return False  # named by a NoRecipeWarning when the run started
        if recipe.host is not None:
            self.unit_host[i] = merge_host(self.unit_host.get(i), recipe.host)
        unit_id = self.book.unit(self.lo + i, int(self.members[i]), int(self.batch[i])).id
        stage, version = self.t.stages[int(self.stage[i])], int(self.token[i])
        # Each fact goes to the columns if one holds it (in the recipe's order); the rest kept.
        rest = [fact for fact in recipe.facts if not self._to_columns(i, fact)]
        self.records.setdefault(i, []).extend(
            simulated_records(unit_id, stage, version, date.fromordinal(self.today), rest)
        )
        return True

    def _to_columns(self, i: int, fact: object) -> bool:
        """Write a built-in fact into unit ``i``'s columns; False when no column holds it."""
        t = self.t
        if isinstance(fact, StudySession):
            self.hours[i] += fact.hours
            if fact.guided:
                self.guided[i] += fact.hours
            return True
        if isinstance(fact, Milestone) and fact.name in t.bits:
            self.bits[i] |= np.int64(1 << t.bits[fact.name])
            if fact.total is not None and fact.name in self.cov_total:
                self.cov_done[fact.name][i] = fact.done or 0
                self.cov_total[fact.name][i] = fact.total
            return True
        if isinstance(fact, Approval) and fact.role in self.approvals:
            self.approvals[fact.role][i] = APPROVAL_APPROVED if fact.approved else APPROVAL_REJECTED
            return True
        if isinstance(fact, Survey):
            self.ballots[i], self.dissat[i] = fact.valid_ballots, fact.dissatisfied
        return False

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
        u, later = self.split_ready(u)
        if later.shape[0]:
            # No host data yet for a host-reading gate: not judged (exact mode's rule).
            self.stamp += 1
            asks = self.t.asks_approval[self.stage[later]]
            self.at(self.v_delay[later[asks]], later[asks], Event.APPROVE)
            self.waiting[later[~asks]] = True
            if u.shape[0] == 0:
                return
        j, rest = self.advance(u)
        if rest.any():
            with_roles = self.t.asks_approval[j.stages]
            to_approve = rest & with_roles
            if to_approve.any():
                self.stamp += 1
                self.at(self.v_delay[u[to_approve]], u[to_approve], Event.APPROVE)
            refuse = rest & ~with_roles
            if refuse.any():
                self.refused(j, refuse)

    def approve(self, u: IntArray) -> None:
        for s in _present(self.stage[u]):
            uu = u[self.stage[u] == s]
            for role in self.t.needs[int(s)].approvals:
                self.approvals[role][uu] = APPROVAL_APPROVED
        self.apply(u)

    # --- batches ------------------------------------------------------------------------

    def open_batch(self, number: int, later: int | None, late_batches: set[int]) -> None:
        self.opened_on[number] = self.today
        if later is not None and number in late_batches:
            late = np.flatnonzero(
                (self.batch0 == number) & self.late & ~self.deferred & ~self.moved_ever
            )
            if late.shape[0]:
                # The leading group moves units that cannot start to the next batch.
                self.arrived(later, self.defer(late, number, later))
        cand = np.flatnonzero((self.batch == number) & (self.t.kind_code[self.stage] == _WAITING))
        if cand.shape[0]:
            j = self.judge(cand, "start", _SYSTEM)
            ok = j.dest >= 0
            if ok.any():
                self.move_judged(j, ok)
            self.arrived(number, cand[~ok])

    def defer(self, units: IntArray, number: int, later: int) -> IntArray:
        """The leading group defers ``units`` of batch ``number`` to ``later``; the moved ones."""
        j = self.judge(units, "defer", self.t.deferrer)
        ok = j.dest >= 0
        moved = units[ok]
        n = int(ok.sum())
        if n:
            self.deferred[moved] = True
            self.deferred_out[number] = self.deferred_out.get(number, 0) + n
            self.deferred_in[later] = self.deferred_in.get(later, 0) + n
            self.moved(moved, j.dest[ok], to_batch=np.full(n, later, dtype=np.int64))
        return moved

    def arrived(self, number: int, units: IntArray) -> None:
        """Units waiting in batch ``number`` after it opened: its daily retries take them."""
        if units.shape[0] and number in self.opened_on:
            known = self.unstarted.get(number)
            self.unstarted[number] = units if known is None else np.union1d(known, units)

    def retry_starts(self, next_batch: Mapping[int, int], late_batches: set[int]) -> None:
        """After the day's events, units whose start gate failed try ``start`` again.

        As exact mode's ``retry_starts``: daily up to the window's last day, then deferred
        to the next batch (when their batch defers late units) or left pending.
        """
        arrivals: dict[int, list[IntArray]] = {}
        for number in sorted(self.unstarted):
            waiting = self.unstarted.pop(number)
            if self.opened_on[number] != self.today:  # the opening itself tried them today
                j = self.judge(waiting, "start", _SYSTEM)
                ok = j.dest >= 0
                if ok.any():
                    self.move_judged(j, ok)
                waiting = waiting[~ok]
            if waiting.shape[0] and self.today >= self.windows[number][1]:
                later = next_batch.get(number)
                if later is not None and number in late_batches:
                    arrivals.setdefault(later, []).append(self.defer(waiting, number, later))
                waiting = waiting[:0]
            if waiting.shape[0]:
                self.unstarted[number] = waiting
        for number, parts in sorted(arrivals.items()):
            self.arrived(number, np.concatenate(parts))

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
            if self.unstarted:
                self.retry_starts(next_batch, late_batches)
            self.flush()
            if not finished_by_day or finished_by_day[max(finished_by_day)] != self.finished:
                finished_by_day[day] = self.finished
            if progress is not None:
                progress(date.fromordinal(day), self.finished, total)
            end = day
            idle = not self.events and not self.unstarted
            if day >= last_opening and (self.finished == self.n or idle):
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
