"""Fast mode's runner: cut the roster into shards, run each shard's days, merge the outputs.

The package docstring (:mod:`campaignflow.simulation._fast`) says how fast mode works; the
parts, one job each: :mod:`.tables` (the workflow compiled), :mod:`.roster` (random-stream
blocks, the roster as arrays), :mod:`.state` (a shard's arrays and event queue),
:mod:`.moves` (judging and transitions), :mod:`.day` (a shard's day loop), :mod:`.merge`
(the shards' outputs as one result); this module runs them.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from typing import Any

import campaignflow.simulation._fast.roster as roster_module
from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.simulation._exact_store import check_fits
from campaignflow.simulation._fast.bulk import IntArray
from campaignflow.simulation._fast.day import _Shard
from campaignflow.simulation._fast.merge import _merge
from campaignflow.simulation._fast.roster import _roster
from campaignflow.simulation._fast.state import _ShardOut
from campaignflow.simulation._fast.tables import _compile, fast_blockers, guard_registry
from campaignflow.simulation._gate_warnings import warn_without_recipe
from campaignflow.simulation.exact import ProgressCallback, simulate_exact
from campaignflow.simulation.results import SimulationFallback, SimulationResult
from campaignflow.simulation.scenario import Scenario

__all__ = ["simulate_fast"]


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
    host: Any = None,
) -> _ShardOut:
    workflow = scenario.load_workflow()
    tables = _compile(workflow, None)
    if host is None:
        host = scenario.make_host()  # a worker builds the scenario's host data for itself
    shard = _Shard(scenario, tables, seed, lo, members, batch, host)
    openings, next_batch, late = _plan(scenario)
    return shard.run(openings, scenario.last_day.toordinal(), next_batch, late, progress, total)


def _check_pickles(host: Any) -> None:
    """Refuse host data the worker processes cannot receive, before any of them starts."""
    try:
        pickle.dumps(host)
    except Exception as exc:  # whatever pickling the host's object raises
        raise ValidationError(
            code="simulation.host_not_picklable",
            params={"value": repr(host), "error": f"{type(exc).__name__}: {exc}"},
        ) from None


def _run_shard_args(args: tuple[Any, ...]) -> _ShardOut:
    return _run_shard(*args)


def simulate_fast(
    scenario: Scenario,
    *,
    seed: int | None = None,
    shards: int = 1,
    progress: ProgressCallback | None = None,
    host: Any = None,
) -> SimulationResult:
    """Play ``scenario`` forward in bulk; the same results record as exact mode (``mode="fast"``).

    ``shards`` > 1 runs groups of whole unit blocks in worker processes (at most one per
    CPU); the result is byte-identical for any shard count. ``progress(day, done, total)``
    is called once per simulated day (after the workers finish when ``shards`` > 1).

    Custom gates play their passing recipes as in exact mode (facts recorded, ``Recipe.host``
    merged into the unit's host data); a guard without a bulk form is judged by its own
    function, one unit at a time, on the unit's :class:`~campaignflow.GuardContext`, while
    the other guards stay vectorised. ``host``: the run's host data (``Campaign(host=)``;
    default: what the scenario's ``host = "module:callable"`` builds, once per worker process
    when ``shards`` > 1); a ``host`` given with ``shards`` > 1 must pickle. A gate no unit can pass (no recipe, or a
    host-reading one whose recipe gives no host data) is named by a
    :class:`~campaignflow.NoRecipeWarning` before the run.

    A workflow whose shape fast mode does not model (:func:`fast_blockers`) runs in exact
    mode instead, with a :class:`SimulationFallback` warning naming the reason.

    Raises:
        ValidationError: a bad seed or shard count, a scenario whose workflow does not load,
            a scenario host that cannot be built, or (``shards`` > 1) a ``host`` that does
            not pickle (``simulation.host_not_picklable``).
    """
    seed = scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        refuse("seed", seed, "must be a whole number from 0 to 2**63 - 1")
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 1024:
        refuse("shards", shards, "must be a whole number from 1 to 1024")
    workflow = scenario.load_workflow()
    check_fits(scenario, workflow)
    blockers = fast_blockers(workflow)
    if blockers:
        warnings.warn(
            SimulationFallback(
                f"scenario {scenario.name!r}: fast mode cannot run workflow {workflow.name!r} "
                f"({'; '.join(blockers)}); running in exact mode instead"
            ),
            stacklevel=2,
        )
        result, campaign = simulate_exact(scenario, seed=seed, progress=progress, host=host)
        campaign.close()
        return result
    given = host
    if host is None:
        host = scenario.make_host()  # built before the run: one that cannot be stops it now
    warn_without_recipe(workflow, guard_registry(workflow), host=host, stacklevel=3)
    members, batch = _roster(scenario, seed)
    total = int(members.shape[0])
    block = roster_module.BLOCK
    n_blocks = max(1, -(-total // block))
    groups = [
        (g * n_blocks // shards * block, min(total, (g + 1) * n_blocks // shards * block))
        for g in range(min(shards, n_blocks))
    ]
    groups = [(a, b) for a, b in groups if b > a] or [(0, 0)]
    if len(groups) == 1:
        outs = [_run_shard(scenario, seed, 0, members, batch, total, progress, host)]
        replay = False
    else:
        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        if given is not None:
            _check_pickles(given)
        work = [
            (scenario, seed, a, members[a:b], batch[a:b], total, None, given) for a, b in groups
        ]
        workers = min(len(groups), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            outs = list(pool.map(_run_shard_args, work))
        replay = progress is not None
    return _merge(scenario, workflow, seed, total, outs, progress if replay else None)
