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

The parts, one job each: :mod:`._fast_tables` (the workflow compiled), :mod:`._fast_roster`
(random-stream blocks, the roster as arrays), :mod:`._fast_state` (a shard's arrays and
event queue), :mod:`._fast_moves` (judging and transitions), :mod:`._fast_day` (a shard's
day loop), :mod:`._fast_merge` (the shards' outputs as one result); this module runs them.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from typing import Any

from campaignflow._validators import refuse
from campaignflow.simulation import _fast_roster
from campaignflow.simulation._bulk import IntArray
from campaignflow.simulation._fast_day import _Shard
from campaignflow.simulation._fast_merge import _merge
from campaignflow.simulation._fast_roster import BLOCK, _roster
from campaignflow.simulation._fast_state import _ShardOut
from campaignflow.simulation._fast_tables import _compile, fast_blockers
from campaignflow.simulation._run import SimulationFallback
from campaignflow.simulation.exact import ProgressCallback
from campaignflow.simulation.results import SimulationResult
from campaignflow.simulation.scenario import Scenario

__all__ = ["BLOCK", "SimulationFallback", "fast_blockers", "simulate_fast"]

# SimulationFallback lives in ``_run`` (it must import without numpy); re-exported here.
# BLOCK is re-exported for reading; the knob itself is ``_fast_roster.BLOCK``.


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
    block = _fast_roster.BLOCK
    n_blocks = max(1, -(-total // block))
    groups = [
        (g * n_blocks // shards * block, min(total, (g + 1) * n_blocks // shards * block))
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
