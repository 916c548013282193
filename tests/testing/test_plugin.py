"""The pytest plugin works in a separate project: fixtures, the marker, fast_forward."""

from __future__ import annotations

import pytest

PROJECT_TESTS = """
from datetime import date

import pytest

import campaignflow as cf


def test_clock_starts_inside_batch_one(clock):
    assert clock.today() == date(2005, 1, 10)
    clock.advance(days=30)
    assert clock.today() == date(2005, 2, 9)


def test_campaign_is_fresh_district_in_memory_on_the_clock(campaign, clock):
    assert campaign.workflow.name == "district_2005"
    assert campaign.units() == []
    campaign.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1)])
    campaign.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    assert campaign.state("fin-01").stage == "preparation"
    assert campaign.state("fin-01").started_on == clock.today()


@pytest.mark.campaign(preset="no_stages_2019", start=date(2019, 6, 1))
def test_marker_chooses_preset_and_start(sqlite_campaign, clock, tmp_path):
    assert sqlite_campaign.workflow.name == "no_stages_2019"
    assert (tmp_path / "campaign.db").exists()
    sqlite_campaign.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)])
    sqlite_campaign.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    assert sqlite_campaign.state("u1").stage == "in_progress"
    assert clock.today() == date(2019, 6, 1)


def test_fast_forward_plays_the_default_district(fast_forward):
    run = fast_forward(days=200)
    assert run.result.end == date(2005, 7, 20)
    assert run.finished(batch=1) == 6
    assert run.campaign.verify_audit().ok


def test_fixtures_are_independent(campaign):
    assert campaign.units() == []
"""


@pytest.mark.slow
def test_plugin_fixtures_work_in_a_separate_project(pytester: pytest.Pytester) -> None:
    """A temporary project with no conftest gets the fixtures from the installed entry point."""
    pytester.makepyfile(test_project=PROJECT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=5)


@pytest.mark.slow
def test_plugin_is_listed_and_documents_its_fixtures(pytester: pytest.Pytester) -> None:
    """``pytest --fixtures`` shows the plugin's fixtures with their docs."""
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    assert "fixtures defined from campaignflow.testing.pytest_plugin" in text
    for name in ("clock", "campaign", "sqlite_campaign", "fast_forward"):
        result.stdout.fnmatch_lines([f"{name} -- *pytest_plugin.py*"])
    result.stdout.fnmatch_lines(["*fresh in-memory campaign*"])
    result.stdout.fnmatch_lines(["*forward through the simulator*"])


@pytest.mark.slow
def test_a_bad_marker_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """An unknown marker option stops the test with a message naming it."""
    pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.campaign(presett="district_2005")
def test_typo(campaign):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*unknown option(s) presett*"])
    assert result.ret != 0


def test_fast_forward_stops_after_the_days_asked_and_refuses_bad_ones() -> None:
    """Zero days plays the first day only; a negative or non-integer count is refused."""
    from datetime import date

    import campaignflow as cf
    from campaignflow.testing.pytest_plugin import FastForward, default_scenario

    helper = FastForward()
    try:
        run = helper(days=0)
        assert run.result.end == date(2005, 1, 1)
        assert run.finished() == 0
        again = helper(default_scenario(), days=45, seed=7)
        assert again.result.seed == 7
        assert again.result.end == date(2005, 2, 15)
        for bad in (-1, 1.5, True):
            with pytest.raises(cf.ValidationError, match="days"):
                helper(days=bad)  # type: ignore[arg-type]
        with pytest.raises(cf.ValidationError, match="scenario"):
            helper(42, days=1)  # type: ignore[arg-type]
    finally:
        helper.close()
