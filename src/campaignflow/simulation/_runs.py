"""Many seeds of one scenario: completion-date percentiles and the chance of finishing on time.

``simulate_runs(scenario, runs=50)`` plays the scenario with seeds ``seed, seed + 1, …``
(fast mode where the workflow allows it), optionally in worker processes, and condenses the
runs into a :class:`RunsSummary`: per batch the 10th, 50th and 90th percentile of the day it
completed and the share of runs in which it completed inside its window, and per week the
spread of the share of its units finished (the bands on the chart). The summary depends on
the seeds only: not on the number of workers, the process or the hash seed.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs

from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.simulation._run import _fast_blocker, _numpy_missing, simulate
from campaignflow.simulation.results import SimulationFallback, SimulationResult
from campaignflow.simulation.scenario import Scenario, load_scenario

__all__ = ["BatchSpread", "RunsSummary", "SpreadPoint", "percentile", "simulate_runs"]

#: The most runs one call plays.
MAX_RUNS = 10_000
#: The percentiles reported, in percent.
PERCENTILES = (10, 50, 90)
_MAX_SEED = 2**63 - 1
#: Bands are sampled once a week from the scenario's start.
_STEP_DAYS = 7

#: ``progress(done_runs, total_runs)``, after each run (in seed order).
RunsProgress = Callable[[int, int], None]


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank ``pct``-th percentile of ``values``: an observed value, never a blend.

    ``math.inf`` (a batch that never completed) sorts after every day, so a percentile that
    lands on it says "not finished".
    """
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@attrs.frozen
class BatchSpread:
    """One batch over all runs.

    ``completed_p10`` / ``_p50`` / ``_p90``: nearest-rank percentiles of the day the batch's
    last unit finished (None: in at least that share of runs it never finished).
    ``on_time_probability``: share of runs in which it completed by ``window_end``.
    ``unfinished_runs``: runs in which it never completed. ``on_time_share_p50``: the
    median share of its units finished by ``window_end``.
    """

    batch: int
    window_start: date
    window_end: date
    completed_p10: date | None
    completed_p50: date | None
    completed_p90: date | None
    on_time_probability: float
    unfinished_runs: int
    on_time_share_p50: float


@attrs.frozen
class SpreadPoint:
    """The share of one batch's units finished on ``day``: its p10, p50 and p90 over runs."""

    day: date
    batch: int
    p10: float
    p50: float
    p90: float


@attrs.frozen
class RunsSummary:
    """What many seeds of one scenario say: per-batch spreads, make-up spread, weekly bands.

    ``seeds`` lists the runs' seeds in order; ``mode`` is the mode every run used.
    ``remedial_units_p10`` / ``_p50`` / ``_p90``: units that went to make-up (补课).
    """

    scenario: str
    workflow: str
    mode: str
    seeds: tuple[int, ...]
    stages: tuple[str, ...]
    batches: tuple[BatchSpread, ...]
    remedial_units_p10: int
    remedial_units_p50: int
    remedial_units_p90: int
    bands: tuple[SpreadPoint, ...]

    @property
    def runs(self) -> int:
        """How many runs the summary condenses."""
        return len(self.seeds)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-able data (dates as ISO text)."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, UTF-8 kept, compact): byte-identical for the same seeds."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_converter = cattrs.Converter()
_converter.register_unstructure_hook(date, lambda d: d.isoformat())


def _six(value: float) -> float:
    rounded = round(value, 6)
    return 0.0 if rounded == 0 else rounded


def _run_mode(scenario: Scenario, mode: str) -> str:
    """The mode every run uses: fast wherever the workflow and numpy allow it under ``auto``."""
    if mode == "exact":
        return "exact"
    if _numpy_missing():
        if mode == "fast":
            return "fast"  # simulate() raises the ImportError that names the extra
        return "exact"
    blocker = _fast_blocker(scenario.load_workflow())
    if blocker is None:
        return "fast"
    if mode == "fast":
        warnings.warn(
            f"simulating {scenario.name!r} in exact mode: {blocker}",
            SimulationFallback,
            stacklevel=3,
        )
    return "exact"


def _one(args: tuple[Scenario, int, str]) -> SimulationResult:
    scenario, seed, mode = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SimulationFallback)  # said once, before the runs
        return simulate(scenario, seed=seed, mode=mode)  # type: ignore[arg-type]


def _finished_share(
    result: SimulationResult, finals: set[str], days: list[date]
) -> dict[int, list[float]]:
    """Per batch, the share of its final units finished at the end of each of ``days``."""
    sizes = {b.batch: b.units for b in result.batches}
    out: dict[int, list[float]] = {}
    points = sorted(result.timeline, key=lambda p: (p.batch, p.day))
    for batch, size in sizes.items():
        mine = [p for p in points if p.batch == batch]
        shares: list[float] = []
        i = 0
        done = 0
        for day in days:
            while i < len(mine) and mine[i].day <= day:
                done = sum(n for s, n in mine[i].counts.items() if s in finals)
                i += 1
            shares.append(done / size if size else 0.0)
        out[batch] = shares
    return out


def _condense(
    scenario: Scenario, mode: str, seeds: tuple[int, ...], results: list[SimulationResult]
) -> RunsSummary:
    workflow = scenario.load_workflow()
    finals = {s.id for s in workflow.stages if s.kind == "final"}
    first = results[0]
    end = max(r.end for r in results)
    days = [
        scenario.start + timedelta(days=d)
        for d in range(0, (end - scenario.start).days + _STEP_DAYS, _STEP_DAYS)
    ]
    batches: list[BatchSpread] = []
    for outcome in first.batches:
        per_run = [next(b for b in r.batches if b.batch == outcome.batch) for r in results]
        ordinals = [
            float(b.completed_on.toordinal()) if b.completed_on else math.inf for b in per_run
        ]
        p10, p50, p90 = (percentile(ordinals, p) for p in PERCENTILES)
        batches.append(
            BatchSpread(
                batch=outcome.batch,
                window_start=outcome.window_start,
                window_end=outcome.window_end,
                completed_p10=None if math.isinf(p10) else date.fromordinal(int(p10)),
                completed_p50=None if math.isinf(p50) else date.fromordinal(int(p50)),
                completed_p90=None if math.isinf(p90) else date.fromordinal(int(p90)),
                on_time_probability=_six(
                    sum(
                        1
                        for b in per_run
                        if b.completed_on is not None and b.completed_on <= b.window_end
                    )
                    / len(per_run)
                ),
                unfinished_runs=sum(1 for b in per_run if b.completed_on is None),
                on_time_share_p50=_six(percentile([b.on_time_share for b in per_run], 50)),
            )
        )
    shares = [_finished_share(r, finals, days) for r in results]
    bands = [
        SpreadPoint(
            day=day,
            batch=b.batch,
            **{
                f"p{p}": _six(percentile([s.get(b.batch, [0.0] * len(days))[i] for s in shares], p))
                for p in PERCENTILES
            },
        )
        for b in batches
        for i, day in enumerate(days)
    ]
    remedial = [float(r.remedial.units) for r in results]
    return RunsSummary(
        scenario=scenario.name,
        workflow=first.workflow,
        mode=mode,
        seeds=seeds,
        stages=first.stages,
        batches=tuple(batches),
        remedial_units_p10=int(percentile(remedial, 10)),
        remedial_units_p50=int(percentile(remedial, 50)),
        remedial_units_p90=int(percentile(remedial, 90)),
        bands=tuple(bands),
    )


def simulate_runs(
    scenario: Scenario | str | Path,
    *,
    runs: int = 50,
    seed: int | None = None,
    mode: Literal["exact", "fast", "auto"] = "auto",
    shards: int = 1,
    progress: RunsProgress | None = None,
) -> RunsSummary:
    """Play ``scenario`` ``runs`` times, with seeds ``seed, seed + 1, …``, and condense the runs.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario TOML file.
        runs: how many seeds, 1 to 10,000.
        seed: the first seed (the scenario's own by default).
        mode: ``auto`` runs fast mode wherever it applies (numpy installed and every gate
            with a bulk form; the workflow is checked once) and exact mode otherwise;
            ``fast`` warns :class:`SimulationFallback` once when it cannot apply.
        shards: worker processes playing runs side by side (at most one per CPU); the
            summary does not depend on it.
        progress: ``progress(done_runs, total_runs)`` after each run, in seed order.

    Raises:
        ValidationError: a bad scenario, run count, seed, mode or shard count.
        ImportError: ``mode="fast"`` without numpy (``pip install 'campaignflow[sim]'``).
    """
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        refuse("scenario", scenario, "must be a Scenario or a file path")
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise ValidationError(
            code="simulation.runs_count", params={"value": repr(runs), "most": MAX_RUNS}
        )
    first = scenario.seed if seed is None else seed
    if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= _MAX_SEED:
        refuse("seed", first, "must be a whole number from 0 to 2**63 - 1")
    if first + runs - 1 > _MAX_SEED:
        raise ValidationError(
            code="simulation.runs_seed_overflow", params={"seed": first, "runs": runs}
        )
    if mode not in ("exact", "fast", "auto"):
        raise ValidationError(
            code="validation.one_of",
            params={"field": "mode", "choices": ["exact", "fast", "auto"], "value": repr(mode)},
        )
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 1024:
        refuse("shards", shards, "must be a whole number from 1 to 1024")
    if progress is not None and not callable(progress):
        refuse("progress", progress, "must be callable")
    chosen = _run_mode(scenario, mode)
    seeds = tuple(range(first, first + runs))
    work = [(scenario, s, chosen) for s in seeds]
    results: list[SimulationResult] = []
    workers = min(shards, runs, os.cpu_count() or 1)
    if workers <= 1:
        for item in work:
            results.append(_one(item))
            if progress is not None:
                progress(len(results), runs)
    else:
        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for result in pool.map(_one, work):  # in seed order, whichever worker ran it
                results.append(result)
                if progress is not None:
                    progress(len(results), runs)
    return _condense(scenario, chosen, seeds, results)
