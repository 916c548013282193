"""``simulate``: one entry point choosing exact or fast mode for a scenario."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Literal

from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.i18n import messages
from campaignflow.simulation.exact import ProgressCallback, simulate_exact
from campaignflow.simulation.results import SimulationFallback, SimulationResult
from campaignflow.simulation.scenario import Scenario, load_scenario
from campaignflow.store._protocol import Store
from campaignflow.workflow import Workflow

__all__ = ["FAST_THRESHOLD", "simulate"]

#: ``mode="auto"`` runs fast mode from this many units up.
FAST_THRESHOLD = 100_000

_MODES = ("exact", "fast", "auto")


#: Exact mode's measured pace: about 100 units a second (the district workflow, one CPU).
#: ``auto`` uses it to say how long an exact run of a big scenario would take.
EXACT_UNITS_PER_SECOND = 100


def _numpy_missing() -> bool:
    try:
        import numpy  # noqa: F401  (the ``sim`` extra: fast mode runs only with it)
    except ImportError:
        return True
    return False


def _fast_blocker(workflow: Workflow) -> str | None:
    """Why fast mode cannot run this workflow (numpy is there), or None when it can."""
    from campaignflow.simulation._fast import fast_blockers

    found = fast_blockers(workflow)
    return "; ".join(found) if found else None


def _needs_numpy(scenario: Scenario, mode: str) -> ImportError:
    """The error that stops fast mode (or a big ``auto`` run) before it starts without numpy."""
    if mode == "fast":
        return ImportError(messages.render("simulation.fast_needs_numpy", {}, "en"))
    units = scenario.unit_count()
    minutes = max(1, math.ceil(units / EXACT_UNITS_PER_SECOND / 60))
    params = {"name": repr(scenario.name), "units": f"{units:,}", "minutes": f"{minutes:,}"}
    return ImportError(messages.render("simulation.auto_needs_numpy", params, "en"))


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    mode: Literal["exact", "fast", "auto"] = "auto",
    store: str | Store | None = None,
    progress: ProgressCallback | None = None,
    shards: int = 1,
    host: Any = None,
) -> SimulationResult:
    """Play ``scenario`` forward and return its results.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario TOML file.
        seed: overrides the scenario's seed.
        mode: ``exact`` drives the real :class:`~campaignflow.Campaign` day by day (same
            guards, store and audit chain); ``fast`` advances units in bulk with numpy (the
            ``sim`` extra); ``auto`` is fast from :data:`FAST_THRESHOLD` units up. Fast mode
            judges a guard without a bulk form by its own function, unit by unit; a
            workflow shape it does not model makes fast mode (and a big ``auto`` run) warn
            :class:`SimulationFallback`, naming the reason, before it runs exact.
        store: exact mode's store: None (memory), a URL (``sqlite:///out/campaign.db``) or
            a :class:`~campaignflow.store.Store`. Fast mode keeps no store.
        progress: ``progress(day, done_units, total_units)``, once per simulated day.
        shards: fast mode's shards of whole random-stream blocks, run in worker processes
            when more than one (results do not depend on their number). More than one with
            ``mode="exact"`` is refused; ``auto`` or a fallback that runs exact ignores it.
        host: the host data for guards registered with ``reads_host=True``: the
            campaign's ``host=``. The host data of the recipes played for a unit (each
            ``Recipe.host``) is merged into it, per unit, and passed with every command
            that judges the unit's gates (in both modes).

    Raises:
        ValidationError: a bad scenario, mode, seed, shard count or store.
        ImportError: numpy is missing and ``mode`` is ``fast``, or ``auto`` on a scenario of
            :data:`FAST_THRESHOLD` units or more (exact mode would take minutes: the
            message says about how many); it names ``pip install 'campaignflow[sim]'``.
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
            if _numpy_missing():
                # Never a silent exact run of a big scenario: it would take minutes to hours.
                raise _needs_numpy(scenario, mode)
            blocker = _fast_blocker(scenario.load_workflow())
            if blocker is None:
                from campaignflow.simulation._fast import simulate_fast

                result: SimulationResult = simulate_fast(
                    scenario, seed=seed, shards=shards, progress=progress, host=host
                )
                return result
            # Said before the run, so a caller showing warnings can stop a long one.
            warnings.warn(
                f"simulating {scenario.name!r} in exact mode: {blocker}",
                SimulationFallback,
                stacklevel=2,
            )
    result, campaign = simulate_exact(
        scenario, seed=seed, store=store, progress=progress, host=host
    )
    if store is None or isinstance(store, str):
        campaign.close()
    return result
