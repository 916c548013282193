"""Properties of exact mode over random small scenarios: the rules hold whatever the behaviour."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow.audit import replay
from campaignflow.simulation import Scenario, summarise
from campaignflow.simulation.exact import simulate_exact
from tests.simulation.conftest import small_scenario

#: Random scenarios per run (each a whole campaign of 8-30 units).
RUNS = int(os.environ.get("CF_SIM_EXAMPLES", "8"))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Small district scenarios with random sizes, gates, failure rates and delays."""
    data = small_scenario().to_dict()
    data["seed"] = draw(st.integers(0, 2**32))
    data["roster"]["counts"] = {
        "organ": draw(st.integers(1, 10)),
        "community": draw(st.integers(1, 10)),
        "closed_enterprise": draw(st.integers(0, 3)),
        "village": draw(st.integers(1, 10)),
    }
    behaviour = data["behaviour"]
    behaviour["survey"]["failure_rate"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    behaviour["survey"]["retry_failure_rate"] = draw(st.sampled_from([0.0, 0.2]))
    behaviour["late_start"] = {"share": draw(st.sampled_from([0.0, 0.3, 1.0])), "batches": [2]}
    behaviour["mobile_members"]["share"] = draw(st.sampled_from([0.0, 0.05, 0.5]))
    behaviour["approval_delay_days"] = sorted(
        draw(st.lists(st.integers(0, 20), min_size=2, max_size=2))
    )
    behaviour["study"]["hours_per_week"] = [2.0, draw(st.sampled_from([4.0, 12.0]))]
    gate = draw(st.sampled_from([0.6, 0.7, 0.9]))
    data["workflow_overrides"] = {"satisfaction_rate_at_least": {"rate": gate}}
    return Scenario.from_dict(data, source="random")


@pytest.mark.sized(default=8)
@settings(
    max_examples=RUNS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_random_campaigns_keep_every_rule(scenario: Scenario) -> None:
    """Chain verifies; state = replay; >= 90 days; summarise = result; batches add up."""
    result, campaign = simulate_exact(scenario)
    assert campaign.verify_audit().ok
    trail = list(campaign.audit_trail())
    states = {u.id: s for u, s in campaign.units()}
    replayed = replay(campaign.workflow, trail)
    assert replayed == states
    for state in states.values():
        if campaign.workflow.is_final(state.stage):
            assert state.started_on is not None
            assert state.entered_on is not None
            assert (state.entered_on - state.started_on).days >= 90
    again = summarise(
        campaign,
        scenario_name=scenario.name,
        seed=scenario.seed,
        mode="exact",
        start=scenario.start,
        end=result.end,
    )
    assert again == result
    assert sum(b.units for b in result.batches) == result.units == len(states)
    assert sum(b.deferred_in for b in result.batches) == sum(b.deferred_out for b in result.batches)
    finished = sum(1 for s in states.values() if campaign.workflow.is_final(s.stage))
    assert result.final_counts()["accepted"] == finished
    # Every unit is accepted, unless the run reached its last day first.
    assert finished == len(states) or result.end == scenario.last_day
    assert all(b.count > 0 for b in result.blocking)
