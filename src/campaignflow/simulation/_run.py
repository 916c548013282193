"""``simulate``: one entry point choosing exact or fast mode for a scenario."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.simulation.exact import ProgressCallback, simulate_exact
from campaignflow.simulation.results import SimulationFallback, SimulationResult
from campaignflow.simulation.scenario import Scenario, load_scenario
from campaignflow.store._protocol import Store
from campaignflow.workflow import Workflow

__all__ = ["FAST_THRESHOLD", "simulate"]

#: ``mode="auto"`` runs fast mode from this many units up.
FAST_THRESHOLD = 100_000

_MODES = ("exact", "fast", "auto")


def _fast_blocker(workflow: Workflow) -> str | None:
    """Why fast mode cannot run this workflow, or None when it can."""
    try:
        # numpy is the ``sim`` extra: fast mode loads only when it is installed.
        from campaignflow.simulation._fast import fast_blockers
    except ImportError:
        return "fast mode needs numpy: pip install 'campaignflow[sim]'"
    found = fast_blockers(workflow)
    return "; ".join(found) if found else None


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    mode: Literal["exact", "fast", "auto"] = "auto",
    store: str | Store | None = None,
    progress: ProgressCallback | None = None,
    shards: int = 1,
) -> SimulationResult:
    """Play ``scenario`` forward and return its results.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario TOML file.
        seed: overrides the scenario's seed.
        mode: ``exact`` drives the real :class:`~campaignflow.Campaign` day by day (same
            guards, store and audit chain); ``fast`` advances units in bulk with numpy (the
            ``sim`` extra); ``auto`` is fast from :data:`FAST_THRESHOLD` units up when every
            guard has a bulk form and numpy is installed, else exact. Fast mode that cannot
            run warns :class:`SimulationFallback` (naming the guard) and runs exact.
        store: exact mode's store: None (memory), a URL (``sqlite:///out/campaign.db``) or
            a :class:`~campaignflow.store.Store`. Fast mode keeps no store.
        progress: ``progress(day, done_units, total_units)``, once per simulated day.
        shards: fast mode's shards of whole random-stream blocks, run in worker processes
            when more than one (results do not depend on their number). More than one with
            ``mode="exact"`` is refused; ``auto`` or a fallback that runs exact ignores it.

    Raises:
        ValidationError: a bad scenario, mode, seed, shard count or store.
    """
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        refuse("scenario", scenario, "must be a Scenario or a file path")
    if mode not in _MODES:
        raise ValidationError(
            code="validation.one_of",
            params={"field": "mode", "choices": list(_MODES), "value": repr(mode)},
        )
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 1024:
        refuse("shards", shards, "must be a whole number from 1 to 1024")
    if mode == "exact" and shards > 1:
        # Exact mode drives one campaign through one store: there is nothing to shard.
        refuse("shards", shards, "applies to fast mode only: exact mode runs in one process")
    if progress is not None and not callable(progress):
        refuse("progress", progress, "must be callable")
    if mode != "exact":
        big = scenario.unit_count() >= FAST_THRESHOLD
        if mode == "fast" or big:
            blocker = _fast_blocker(scenario.load_workflow())
            if blocker is None:
                from campaignflow.simulation._fast import simulate_fast

                result: SimulationResult = simulate_fast(
                    scenario, seed=seed, shards=shards, progress=progress
                )
                return result
            if mode == "fast":
                warnings.warn(
                    f"simulating {scenario.name!r} in exact mode: {blocker}",
                    SimulationFallback,
                    stacklevel=2,
                )
    result, campaign = simulate_exact(scenario, seed=seed, store=store, progress=progress)
    if store is None or isinstance(store, str):
        campaign.close()
    return result
