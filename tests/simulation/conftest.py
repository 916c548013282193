"""Shared runs for the simulation tests: the district example is simulated once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.simulation import Scenario, SimulationResult, load_scenario
from campaignflow.simulation.exact import simulate_exact

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DISTRICT = EXAMPLES / "district_2005.toml"


@cache
def district_run() -> tuple[Scenario, SimulationResult, cf.Campaign]:
    """The district example in exact mode, in memory (about a second)."""
    scenario = load_scenario(DISTRICT)
    result, campaign = simulate_exact(scenario)
    return scenario, result, campaign


@pytest.fixture
def district() -> tuple[Scenario, SimulationResult, cf.Campaign]:
    """The district example's scenario, result and campaign (shared; do not write to it)."""
    return district_run()


def small_scenario(**changes: object) -> Scenario:
    """A 24-unit district scenario for quick runs; ``changes`` replace top-level keys."""
    data = load_scenario(DISTRICT).to_dict()
    data["roster"]["counts"] = {"organ": 8, "community": 6, "closed_enterprise": 1, "village": 9}
    data["behaviour"]["late_start"] = {"share": 0.2, "batches": [2]}
    data["behaviour"]["survey"]["failure_rate"] = 0.2
    data.update(changes)
    return Scenario.from_dict(data, source="small")
