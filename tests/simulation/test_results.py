"""Results as data: canonical JSON, round trips, percentiles, survey ballots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.simulation import SimulationResult, SurveyModel
from campaignflow.simulation.behaviour import randint, stage_needs, survey_for
from campaignflow.simulation.summary import percentile
from tests.simulation.conftest import district_run


def test_to_json_is_canonical_and_round_trips() -> None:
    """Sorted keys, compact, UTF-8 kept; from_dict(json) gives the same result back."""
    _, result, _ = district_run()
    text = result.to_json()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    again = SimulationResult.from_dict(data)
    assert again.to_json() == text
    assert again.batches == result.batches
    assert again.timeline == result.timeline


def test_floats_are_rounded_to_six_places() -> None:
    """on_time_share and percentiles carry at most six decimals in JSON."""
    _, result, _ = district_run()

    def floats(value: object) -> list[float]:
        if isinstance(value, float):
            return [value]
        if isinstance(value, dict):
            return [f for v in value.values() for f in floats(v)]
        if isinstance(value, list):
            return [f for v in value for f in floats(v)]
        return []

    for number in floats(json.loads(result.to_json())):
        assert number == round(number, 6)


def test_from_dict_refuses_what_is_not_a_result() -> None:
    """A wrong shape raises ValidationError."""
    with pytest.raises(cf.ValidationError):
        SimulationResult.from_dict({"scenario": "x"})


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50), st.sampled_from([0.5, 0.9, 0.0, 1.0]))
def test_percentiles_match_numpys_linear_interpolation(values: list[float], q: float) -> None:
    """The documented percentile is numpy's default, so fast mode can use np.percentile."""
    ours = percentile(sorted(values), q)
    assert math.isclose(ours, float(np.percentile(values, q * 100)), rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200)
@given(
    members=st.integers(1, 500),
    u1=st.floats(0, 1, exclude_max=True),
    u2=st.floats(0, 1, exclude_max=True),
    retry=st.booleans(),
    scale=st.sampled_from([3, 4]),
)
def test_survey_ballots_add_up_and_follow_the_model(
    members: int, u1: float, u2: float, retry: bool, scale: int
) -> None:
    """Ballots = max(min, members x raters); troubled units land in the troubled range."""
    levels = (
        {
            "satisfied": 0.874,
            "fairly_satisfied": 0.105,
            "basically_satisfied": 0.017,
            "dissatisfied": 0.004,
        }
        if scale == 4
        else {"satisfied": 0.8, "basically_satisfied": 0.18, "dissatisfied": 0.02}
    )
    model = SurveyModel(scale=scale, levels=levels, failure_rate=0.3, retry_failure_rate=0.1)  # type: ignore[arg-type]
    survey = survey_for(model, members, u1, u2, retry=retry)
    n = max(model.min_ballots, round(members * model.raters_per_member))
    assert survey.valid_ballots == n
    assert survey.scale == scale
    troubled = u1 < (0.1 if retry else 0.3)
    d = survey.dissatisfied_rate
    if troubled:
        assert 0.3 - 1 / n <= d <= 0.6 + 1 / n
    else:
        assert d <= 2 * levels["dissatisfied"] + 1 / n


@given(st.floats(0, 1, exclude_max=True), st.integers(0, 100), st.integers(0, 100))
def test_randint_stays_in_range(u: float, a: int, b: int) -> None:
    """randint(u, (lo, hi)) is a whole number in [lo, hi]."""
    lo, hi = min(a, b), max(a, b)
    assert lo <= randint(u, (lo, hi)) <= hi


def test_stage_needs_read_the_district_gates() -> None:
    """Study in study_mobilization; coverage in analysis_review; surveys and approvals at exits."""
    needs = stage_needs(cf.presets.district_2005())
    assert needs["study_mobilization"].study
    assert not needs["analysis_review"].study
    assert needs["preparation"].milestones == ("implementation_plan", "leading_group_established")
    assert needs["analysis_review"].coverage == ("heart_to_heart_talks", "party_spirit_report")
    for stage in ("study_mobilization", "analysis_review", "rectification", "closing"):
        assert needs[stage].survey
        assert needs[stage].approvals == ("supervision_group",)
        assert needs[f"{stage}_remedial"].milestones == ("remedial_completed",)
    assert not needs["preparation"].survey
