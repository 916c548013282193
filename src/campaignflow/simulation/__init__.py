"""Simulation: play a campaign forward from a scenario, exactly or in bulk, and read the results.

``simulate(load_scenario("examples/district_2005.toml"))`` runs the district campaign through
the real :class:`~campaignflow.Campaign` day by day (exact mode); at province or nation scale
``mode="fast"`` (numpy, the ``sim`` extra) advances units in bulk; ``simulate_fast`` is
imported on first use, so this package imports without numpy. ``summarise(campaign)``
builds the same results from any campaign's audit trail. ``compare(a, b)`` plays two
scenarios (or one and ``settings`` changed) with the same seed; ``simulate_runs(s, runs=50)``
plays many seeds and gives completion-date percentiles and on-time chances.
"""

from typing import Any

from campaignflow._public import publish
from campaignflow.simulation._compare import BatchDelta, Comparison, compare
from campaignflow.simulation._run import FAST_THRESHOLD, simulate
from campaignflow.simulation._runs import BatchSpread, RunsSummary, SpreadPoint, simulate_runs
from campaignflow.simulation._settings import parse_setting, with_settings
from campaignflow.simulation.results import (
    BatchOutcome,
    BlockingReason,
    RemedialSummary,
    SimulationFallback,
    SimulationResult,
    StageTime,
    TimelinePoint,
)
from campaignflow.simulation.scenario import (
    BatchPlan,
    Behaviour,
    LateStartModel,
    MembersModel,
    MobileMembersModel,
    RetiredMembersModel,
    Roster,
    Scenario,
    StudyModel,
    SurveyModel,
    load_scenario,
)
from campaignflow.simulation.summary import summarise

__all__ = [
    "FAST_THRESHOLD",
    "BatchDelta",
    "BatchOutcome",
    "BatchPlan",
    "BatchSpread",
    "Behaviour",
    "BlockingReason",
    "Comparison",
    "LateStartModel",
    "MembersModel",
    "MobileMembersModel",
    "RemedialSummary",
    "RetiredMembersModel",
    "Roster",
    "RunsSummary",
    "Scenario",
    "SimulationFallback",
    "SimulationResult",
    "SpreadPoint",
    "StageTime",
    "StudyModel",
    "SurveyModel",
    "TimelinePoint",
    "compare",
    "load_scenario",
    "parse_setting",
    "simulate",
    "simulate_fast",
    "simulate_runs",
    "summarise",
    "with_settings",
]


def __getattr__(name: str) -> Any:
    # Fast mode needs numpy (the ``sim`` extra): import it only when asked for.
    if name == "simulate_fast":
        from campaignflow.simulation._fast import simulate_fast

        publish(__name__, {name: simulate_fast}, [name])
        return simulate_fast
    raise AttributeError(f"module 'campaignflow.simulation' has no attribute {name!r}")


publish(__name__, globals(), [n for n in __all__ if n in globals()])
