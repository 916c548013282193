"""Fast mode, part 4: judging units in bulk as ``decide`` does, refusals, and transitions.

``judge`` takes the first passing candidate per unit; ``moved`` applies transitions as
``engine.next_state`` does (stage dates, the make-up stash of facts), records the results
(stays, counts, make-up rounds, finishes) and draws and plans the next visit, exactly as
exact mode's ``moved`` (:mod:`campaignflow.simulation.behaviour`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from campaignflow.simulation._fast.bulk import BoolArray, IntArray
from campaignflow.simulation._fast.roster import _PURPOSE_VISIT, _stream
from campaignflow.simulation._fast.state import (
    Event,
    Failure,
    _Judgement,
    _ShardState,
)
from campaignflow.simulation._fast.tables import (
    _CLERK,
    _FINAL,
    _REMEDIAL_KIND,
    _WAITING,
    _WORKING,
    _present,
)
from campaignflow.simulation.behaviour import TIME_CODES
from campaignflow.workflow._engine import host_missing

#: A refused application waiting on facts is filed again at the latest this many days later
#: (as in exact mode).
RETRY_DAYS = 7


class _ShardMoves(_ShardState):
    """Judging, refusals and transitions of one shard's units."""

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
            if self.host is None:
                self.require_host(u[pos], cands, trigger)
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

    def require_host(self, u: IntArray, cands: Sequence[Any], trigger: str) -> None:
        """As the engine's ``require_host``: no host-reading gate is judged without host data."""
        for cand in cands:
            if cand.host_guards and any(i not in self.unit_host for i in u.tolist()):
                raise host_missing(cand.host_guards[0], cand.source, cand.dest_id, trigger)

    def split_ready(self, u: IntArray) -> tuple[IntArray, IntArray]:
        """``u`` split in two: the units that may be judged now, and those still without the
        host data their stage's ways forward read, which are not judged (exact's rule)."""
        if self.host is not None or not any(self.t.reads_host):
            return u, u[:0]
        ok = np.ones(u.shape[0], dtype=np.bool_)
        reads = np.array(self.t.reads_host, dtype=np.bool_)[self.stage[u]]
        for k in np.flatnonzero(reads).tolist():
            ok[k] = int(u[k]) in self.unit_host
        return u[ok], u[~ok]

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
        """The units file their application to move on (转段申请); refusals count as blocking.

        A unit whose stage has a host-reading gate and which has no host data yet (its
        recipe not played) files nothing: it waits for its next fact, as in exact mode.
        """
        u, later = self.split_ready(u)
        if later.shape[0]:
            self.waiting[later] = True
            if u.shape[0] == 0:
                return
        j, refused = self.advance(u)
        if refused.any():
            self.refused(j, refused)

    def advance(self, u: IntArray) -> tuple[_Judgement, BoolArray]:
        """Judge the applications ``u`` file to move on and move those allowed; returns the
        judgement and which of ``u`` it refused (for the caller to count or send on)."""
        j = self.judge(u, "advance", _CLERK)
        allowed = j.dest >= 0
        if allowed.any():
            self.move_judged(j, allowed)
        return j, ~allowed

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
            self.at(w_sel[time_only], tu, Event.APPLY)
        ou = u[~time_only]
        if ou.shape[0]:
            self.waiting[ou] = True
            fu = ou[self.fallback[ou] <= self.today]
            self.fallback[fu] = self.today + RETRY_DAYS
            self.at(RETRY_DAYS, fu, Event.APPLY)

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
                self._keep_facts(u[stash], t.coverage, to_stash=True)
            if back.any():
                self._keep_facts(u[back], t.coverage, to_stash=False)
            clear = ~back & ~same
            if self.records or self.s_records:
                self._keep_records(u, stash, back, clear)
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
            self.at(self._randint(draws1[rs], self.beh.remedial_days), ur, Event.REMEDIAL)
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

    def _keep_facts(self, u: IntArray, coverage: Sequence[str], *, to_stash: bool) -> None:
        """Copy the stage's facts of units ``u`` into the stash, or (not ``to_stash``) back."""
        pairs = [(self.hours, self.s_hours), (self.guided, self.s_guided), (self.bits, self.s_bits)]
        for c in coverage:
            pairs += [
                (self.cov_done[c], self.s_cov_done[c]),
                (self.cov_total[c], self.s_cov_total[c]),
            ]
        for live, kept in pairs:
            if to_stash:
                kept[u] = live[u]
            else:
                live[u] = kept[u]

    def _keep_records(
        self, u: IntArray, stash: BoolArray, back: BoolArray, clear: BoolArray
    ) -> None:
        """The recipes' fact records follow the stage's facts: stashed, brought back, cleared."""
        for i in u[stash].tolist():
            self.s_records[i] = list(self.records.get(i, ()))
        for i in u[back].tolist():
            self.records[i] = list(self.s_records.get(i, ()))
        for i in u[clear].tolist():
            self.records.pop(i, None)

    def plan_visit(self, u: IntArray, s: int) -> None:
        needs = self.t.needs[s]
        length = self.v_len[u]
        sub = 0
        for spec in needs.custom:
            # A custom gate's passing recipe, planned first as in exact mode.
            timing = self.beh.guards.get(spec.name)
            offset = length if timing is None else timing.after_days
            self.at(offset, u, Event.RECIPE, self.t.custom.index(spec), sub=sub)
        if needs.study:
            # The week's study counts once brought to retired and frail members' homes.
            first = 7 + self.home_delay[u] if self.any_home_delay else 7
            self.at(first, u, Event.STUDY, sub=sub)
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
                    self.at(
                        -(-length[miss] * km // tm), um, Event.MILESTONE, self.t.bits[name], sub=sub
                    )
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
            self.at(half[split], u[split], Event.COVERAGE, ci * 2, sub=sub)
            self.at(half[whole], u[whole], Event.COVERAGE, ci * 2 + 1, sub=sub)
            sub += 1
            self.at(
                half[split] + self.v_makeup[u[split]], u[split], Event.COVERAGE, ci * 2 + 1, sub=sub
            )
            sub += 1
        if needs.survey:
            self.at(length, u, Event.SURVEY, sub=sub)
        elif needs.approvals:
            self.at(length + self.v_delay[u], u, Event.APPROVE, sub=sub)
        else:
            self.at(length, u, Event.APPLY, sub=sub)
