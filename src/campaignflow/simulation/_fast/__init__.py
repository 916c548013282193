"""Fast mode: the same campaign as exact mode, with units advanced in bulk on numpy arrays.

The workflow is compiled into tables (stage index, candidate transitions per stage and
trigger in order, each candidate's guards in bulk form, see :mod:`.bulk`), every unit's
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

Custom gates play their passing recipes here as in exact mode: the recipe's facts (of
built-in or the host's own fact types) are recorded on the same day, its host data merged
into the unit's. A guard without a bulk form (:func:`.bulk.register_bulk`) is judged by its
own function, one unit at a time, on the unit's :class:`~campaignflow.GuardContext` (its
state, the day, the host data, the recipes' facts and the stage's built-in facts as fast
mode keeps them), while every other guard stays vectorised. A gate no unit can pass is
named by a :class:`~campaignflow.NoRecipeWarning` before the run. A workflow whose shape
fast mode does not model (a working stage re-entered other than from its make-up) cannot
run here: :func:`fast_blockers` says why, and ``simulate`` falls back to exact mode with a
:class:`SimulationFallback` warning naming the reason.

The parts, one job each: :mod:`.bulk` (guards judged on arrays), :mod:`.tables` (the workflow
compiled), :mod:`.roster` (random-stream blocks, the roster as arrays), :mod:`.state` (a
shard's arrays and event queue), :mod:`.moves` (judging and transitions), :mod:`.day` (a
shard's day loop), :mod:`.merge` (the shards' outputs as one result) and :mod:`.run` (the
shards run and merged). numpy is the ``sim`` extra: importing this package without it raises
an ``ImportError`` that says ``pip install 'campaignflow[sim]'``.
"""

try:
    import numpy  # noqa: F401  (every module of the package uses it)
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fast simulation needs numpy, which is not installed: pip install 'campaignflow[sim]'"
    ) from None

# Importing the built-in bulk forms registers them (the registry is bulk.bulk_registry).
import campaignflow.simulation._fast.builtin  # noqa: F401
from campaignflow.simulation._fast.roster import BLOCK
from campaignflow.simulation._fast.run import simulate_fast
from campaignflow.simulation._fast.tables import fast_blockers
from campaignflow.simulation.results import SimulationFallback

__all__ = ["BLOCK", "SimulationFallback", "fast_blockers", "simulate_fast"]
