"""check_guard judges a guard alone; guard_boundary finds where it flips and checks its numbers."""

from __future__ import annotations

import math

import pytest

import campaignflow as cf
from campaignflow import guards as g
from campaignflow.guards import registry
from campaignflow.testing import check_guard, guard_boundary


def test_check_guard_takes_a_function_a_name_or_a_spec() -> None:
    """The same guard judged three ways gives the same verdict, with its numbers."""
    facts = [cf.StudySession(hours=30), cf.StudySession(hours=2.5)]
    by_function = check_guard(g.min_study_hours, facts, hours=40)
    by_name = check_guard("min_study_hours", facts, hours=40)
    by_spec = check_guard(cf.use("min_study_hours", hours=40), facts)
    assert by_function == by_name == by_spec
    assert not by_function.passed
    assert dict(by_function.params) == {"actual": 32.5, "required": 40}


def test_check_guard_builds_time_and_combinators() -> None:
    """Days in stage and combinators work as in a campaign."""
    assert check_guard(g.min_days_in_stage, days_in_stage=30, days=30).passed
    assert not check_guard(g.min_days_in_stage, days_in_stage=29, days=30).passed
    spec = cf.all_of(cf.use("survey_recorded"), cf.not_(cf.use("satisfaction_rate_at_least")))
    low = cf.Survey(satisfied=5, basically_satisfied=0, dissatisfied=5)
    assert check_guard(spec, [low]).passed
    assert not check_guard(spec, []).passed


def test_check_guard_counts_earlier_visits_only_for_accumulating_facts() -> None:
    """Hours from an earlier visit count; a survey from one does not."""
    old = [cf.StudySession(hours=40), cf.Survey(satisfied=9, basically_satisfied=0, dissatisfied=1)]
    assert check_guard(g.min_study_hours, earlier=old, hours=40).passed
    assert check_guard(g.satisfaction_rate_at_least, earlier=old).code == "survey.missing"


def test_check_guard_rejects_bad_guards_and_params() -> None:
    """A non-guard is a ValidationError; a bad param of a named guard a DefinitionError."""
    with pytest.raises(cf.ValidationError, match="check_guard"):
        check_guard(42)  # type: ignore[arg-type]
    with pytest.raises(cf.DefinitionError, match="hours"):
        check_guard("min_study_hours", hours="forty")
    with pytest.raises(cf.ValidationError, match="days_in_stage"):
        check_guard(g.min_days_in_stage, days_in_stage=-1)


@pytest.mark.parametrize(
    ("guard", "param", "facts", "options", "expected"),
    [
        (g.min_study_hours, "hours", [cf.StudySession(hours=32.5)], {}, 32.5),
        (g.min_guided_hours, "hours", [cf.StudySession(hours=24, guided=True)], {}, 24),
        (g.min_days_in_stage, "days", [], {"days_in_stage": 17}, 17),
        (g.min_concentrated_days, "days", [], {"days_since_start": 91}, 91),
        (
            g.satisfaction_rate_at_least,
            "rate",
            [cf.Survey(satisfied=2, basically_satisfied=0, dissatisfied=1)],
            {"low": 0.0, "high": 1.0},
            2 / 3,
        ),
        (
            g.dissatisfied_rate_at_most,
            "rate",
            [cf.Survey(satisfied=1, basically_satisfied=0, dissatisfied=1)],
            {"low": 0.0, "high": 1.0},
            0.5,
        ),
    ],
)
def test_every_numeric_builtin_flips_where_its_verdict_says(
    guard: object, param: str, facts: list[object], options: dict[str, object], expected: float
) -> None:
    """The flip point of each built-in guard is the ``actual`` number its verdict reports."""
    found = guard_boundary(guard, param, facts, examples=60, **options)  # type: ignore[arg-type]
    assert found.below <= expected <= found.above
    assert found.verdict_below.passed is not found.verdict_above.passed
    assert math.isclose(float(found.actual), expected)


def test_guard_boundary_catches_a_guard_that_lets_39_hours_through() -> None:
    """An off-by-one guard reports actual=39 but flips at 40: the helper says so."""
    broken_registry = registry.copy()

    @cf.guard("sloppy_hours", registry=broken_registry)
    def sloppy_hours(ctx: cf.GuardContext, *, hours: float = 40) -> cf.Verdict:
        actual = math.fsum(s.hours for s in ctx.facts(cf.StudySession))
        return cf.Verdict(
            "sloppy_hours", actual >= hours - 1, "x", {"actual": actual, "required": hours}
        )

    with pytest.raises(AssertionError, match="reports actual=39"):
        guard_boundary(sloppy_hours, "hours", [cf.StudySession(hours=39)], examples=30)


def test_guard_boundary_catches_a_guard_that_hides_its_numbers() -> None:
    """A verdict that does not echo the param it judged fails the numbers check."""

    def quiet(ctx: cf.GuardContext, *, hours: float = 40) -> cf.Verdict:
        actual = math.fsum(s.hours for s in ctx.facts(cf.StudySession))
        return cf.Verdict("quiet", actual >= hours, "x", {"actual": actual})

    with pytest.raises(AssertionError, match="does not report that number"):
        guard_boundary(quiet, "hours", [cf.StudySession(hours=10)], examples=30)


def test_guard_boundary_without_a_flip_is_a_validation_error() -> None:
    """A range where the verdict never changes is refused, naming the param."""
    with pytest.raises(cf.ValidationError, match="never flips"):
        guard_boundary(g.min_study_hours, "hours", [cf.StudySession(hours=500)], high=100)
