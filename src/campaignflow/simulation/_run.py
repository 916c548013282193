"""``simulate``: one entry point choosing exact or fast mode for a scenario."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

from campaignflow._validators import refuse
from campaignflow.errors import ValidationError
from campaignflow.simulation.exact import ProgressCallback, simulate_exact
from campaignflow.simulation.results import SimulationResult
from campaignflow.simulation.scenario import Scenario, load_scenario
from campaignflow.store._protocol import Store
from campaignflow.workflow import Workflow

__all__ = ["FAST_THRESHOLD", "SimulationFallback", "simulate"]

#: ``mode="auto"`` runs fast mode from this many units up.
FAST_THRESHOLD = 100_000

_MODES = ("exact", "fast", "auto")


class SimulationFallback(UserWarning):
    """Fast mode was asked for but cannot run; the simulation ran in exact mode instead.

    This is the one public warning class (``campaignflow.simulation.SimulationFallback``);
    it imports without numpy, so fast mode's module re-uses it rather than defining its own.

    The message says why: a guard without a bulk form (named), or numpy missing
    (``pip install 'campaignflow[sim]'``).
    """


def _fast_blocker(workflow: Workflow) -> str | None:
    """Why fast mode cannot run this workflow, or None when it can."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "fast mode needs numpy: pip install 'campaignflow[sim]'"
    try:
        from campaignflow.simulation import _bulk, _fast
    except ImportError as exc:
        return f"fast mode is not available in this installation ({exc})"
    reasons = getattr(_fast, "fast_blockers", None)
    if callable(reasons):
        # Fast mode's own check also names workflow shapes it does not model.
        found = tuple(reasons(workflow))
        return "; ".join(found) if found else None
    specs = [spec for t in workflow.transitions for spec in (*t.guards, *t.unless)]
    missing = _bulk.guards_without_bulk(specs)
    if missing:
        return (
            f"guard(s) without a bulk form: {', '.join(missing)} (register one with "
            "campaignflow.simulation._bulk.register_bulk to run fast)"
        )
    return None


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
                from campaignflow.simulation._fast import (  # type: ignore[import-not-found,attr-defined,unused-ignore]
                    simulate_fast,
                )

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
