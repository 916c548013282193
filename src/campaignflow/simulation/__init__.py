"""Simulation: play a campaign forward from a scenario, exactly or in bulk, and read the results.

``simulate(load_scenario("examples/district_2005.toml"))`` runs the district campaign through
the real :class:`~campaignflow.Campaign` day by day (exact mode); at province or nation scale
``mode="fast"`` (numpy, the ``sim`` extra) advances units in bulk; ``simulate_fast`` is
imported on first use, so this package imports without numpy. ``summarise(campaign)``
builds the same results from any campaign's audit trail.
"""

from typing import Any

from campaignflow._public import publish
from campaignflow.simulation._run import FAST_THRESHOLD, simulate
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
    "BatchOutcome",
    "BatchPlan",
    "Behaviour",
    "BlockingReason",
    "LateStartModel",
    "MembersModel",
    "MobileMembersModel",
    "RemedialSummary",
    "RetiredMembersModel",
    "Roster",
    "Scenario",
    "SimulationFallback",
    "SimulationResult",
    "StageTime",
    "StudyModel",
    "SurveyModel",
    "TimelinePoint",
    "load_scenario",
    "simulate",
    "simulate_fast",
    "summarise",
]


def __getattr__(name: str) -> Any:
    # Fast mode needs numpy (the ``sim`` extra): import it only when asked for.
    if name == "simulate_fast":
        from campaignflow.simulation._fast import simulate_fast

        publish(__name__, {name: simulate_fast}, [name])
        return simulate_fast
    raise AttributeError(f"module 'campaignflow.simulation' has no attribute {name!r}")


publish(__name__, globals(), [n for n in __all__ if n in globals()])
