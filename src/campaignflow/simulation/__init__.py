"""Simulation: play a campaign forward from a scenario, exactly or in bulk, and read the results.

``simulate(load_scenario("examples/district_2005.toml"))`` runs the district campaign through
the real :class:`~campaignflow.Campaign` day by day (exact mode); at province or nation scale
``mode="fast"`` (numpy, the ``sim`` extra) advances units in bulk. ``summarise(campaign)``
builds the same results from any campaign's audit trail.
"""

from campaignflow.simulation.results import (
    BatchOutcome,
    BlockingReason,
    RemedialSummary,
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
    Roster,
    Scenario,
    StudyModel,
    SurveyModel,
    load_scenario,
)

__all__ = [
    "BatchOutcome",
    "BatchPlan",
    "Behaviour",
    "BlockingReason",
    "LateStartModel",
    "MembersModel",
    "MobileMembersModel",
    "RemedialSummary",
    "Roster",
    "Scenario",
    "SimulationResult",
    "StageTime",
    "StudyModel",
    "SurveyModel",
    "TimelinePoint",
    "load_scenario",
]
