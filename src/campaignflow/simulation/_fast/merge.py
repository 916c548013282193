"""Fast mode, part 6: the shards' outputs merged into one :class:`SimulationResult`.

Timeline points are summed per batch and day, stays per stage are merged histograms (the
median and p90 as ``summary.percentile`` computes them), counters are added, and the
top blocking reasons are ranked as ``summarise`` ranks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from campaignflow.simulation._fast.state import _ShardOut
from campaignflow.simulation.exact import ProgressCallback
from campaignflow.simulation.results import (
    BatchOutcome,
    SimulationResult,
    StageTime,
    TimelinePoint,
)
from campaignflow.simulation.scenario import Scenario
from campaignflow.simulation.summary import remedial_summary, top_blocking
from campaignflow.workflow import Workflow


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
        remedial=remedial_summary(sum(o.remedial_units for o in outs), rounds),
        time_in_stage=time_in_stage,
        blocking=top_blocking(blocking),
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
