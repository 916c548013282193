"""Built-in guards judged in isolation, the combinators, and the guard registry.

Contexts are built by hand (``cf.GuardContext`` with ``cf.FactRecord``s), so each guard's codes,
params and boundaries are checked without a campaign around it.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow import guards as g
from campaignflow.guards import GuardRegistry
from campaignflow.i18n import MessageCatalog, messages
from campaignflow.testing import strategies as cfst

TODAY = date(2005, 3, 1)
UNIT = cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32)
B1 = cf.BatchWindow(number=1, opens=date(2005, 1, 1), closes=date(2005, 6, 30))
VERSION = 2


def record(
    fact: object, *, version: int = VERSION, actor: str = "zhang", seq: int = 1
) -> cf.FactRecord:
    """A fact record of the unit in study_mobilization at ``version``."""
    return cf.FactRecord(
        unit_id=UNIT.id,
        stage="study_mobilization",
        version=version,
        fact=fact,
        on=TODAY,
        at=datetime(2005, 3, 1, 8, tzinfo=UTC),
        actor_id=actor,
        seq=seq,
    )


def ctx(
    *facts: object,
    today: date = TODAY,
    batch_window: cf.BatchWindow | None = B1,
    **state: Any,
) -> cf.GuardContext:
    """A context on ``today`` holding ``facts`` (plain facts become records of the current visit)."""
    fields: dict[str, Any] = {
        "unit_id": UNIT.id,
        "stage": "study_mobilization",
        "batch": 1,
        "version": VERSION,
        "stage_since": date(2005, 2, 1),
        "started_on": date(2005, 1, 10),
    }
    fields.update(state)
    records = tuple(
        f if isinstance(f, cf.FactRecord) else record(f, seq=i + 1) for i, f in enumerate(facts)
    )
    return cf.GuardContext(
        unit=UNIT,
        state=cf.UnitState(**fields),
        today=today,
        records=records,
        batch_window=batch_window,
    )


def judged(verdict: cf.Verdict) -> tuple[bool, str, dict[str, Any]]:
    return verdict.passed, verdict.code, dict(verdict.params)


def bind(spec: cf.GuardSpec) -> g.BoundGuard:
    return g.registry.bind(spec)


# --- study hours -------------------------------------------------------------------------


def test_min_study_hours_counts_every_session_guided_or_not() -> None:
    """40 hours (24 guided + 16 other) reach 40; params carry logged and required hours."""
    c = ctx(cf.StudySession(hours=24, guided=True), cf.StudySession(hours=16))
    assert judged(g.min_study_hours(c, hours=40)) == (
        True,
        "study_hours.sufficient",
        {"actual": 40.0, "required": 40},
    )


def test_min_study_hours_below_required_is_insufficient() -> None:
    """39.5 hours fail 40 with actual=39.5, required=40."""
    c = ctx(cf.StudySession(hours=24, guided=True), cf.StudySession(hours=15.5))
    assert judged(g.min_study_hours(c, hours=40)) == (
        False,
        "study_hours.insufficient",
        {"actual": 39.5, "required": 40},
    )


def test_min_study_hours_with_no_sessions_is_zero() -> None:
    """No study logged is 0 hours: it fails a positive minimum and passes a zero one."""
    assert judged(g.min_study_hours(ctx(), hours=40))[:2] == (False, "study_hours.insufficient")
    assert g.min_study_hours(ctx(), hours=40).params["actual"] == 0
    assert g.min_study_hours(ctx(), hours=0).passed


def test_min_study_hours_accumulates_over_earlier_visits_to_the_stage() -> None:
    """Hours logged before a remedial round (an older version) still count."""
    c = ctx(record(cf.StudySession(hours=30), version=1), cf.StudySession(hours=10))
    assert g.min_study_hours(c, hours=40).passed


def test_min_study_hours_default_is_40() -> None:
    """Without params the guard asks for 40 hours."""
    assert g.min_study_hours(ctx(cf.StudySession(hours=39))).params["required"] == 40


def test_min_study_hours_float_sums_are_exact() -> None:
    """Ten sessions of 0.1 h plus 39 h are 40 h, not 39.99999…: the sum is exact (fsum)."""
    c = ctx(cf.StudySession(hours=39), *[cf.StudySession(hours=0.1) for _ in range(10)])
    verdict = g.min_study_hours(c, hours=40)
    assert verdict.passed
    assert verdict.params["actual"] == 40.0


def test_min_guided_hours_counts_only_guided_sessions() -> None:
    """Only guided sessions count: 23.5 guided of 40 fail 24; 24 guided pass."""
    short = ctx(cf.StudySession(hours=23.5, guided=True), cf.StudySession(hours=16.5))
    assert judged(g.min_guided_hours(short, hours=24)) == (
        False,
        "guided_hours.insufficient",
        {"actual": 23.5, "required": 24},
    )
    enough = ctx(cf.StudySession(hours=24, guided=True), cf.StudySession(hours=100))
    assert judged(g.min_guided_hours(enough, hours=24)) == (
        True,
        "guided_hours.sufficient",
        {"actual": 24.0, "required": 24},
    )


# --- days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_in", "passes"), [(29, False), (30, True), (45, True)])
def test_min_days_in_stage_boundary(days_in: int, passes: bool) -> None:
    """29 days in the stage fail 30; 30 and more pass; params name the stage."""
    since = date(2005, 2, 1)
    c = ctx(today=date.fromordinal(since.toordinal() + days_in), stage_since=since)
    assert judged(g.min_days_in_stage(c, days=30)) == (
        passes,
        "days_in_stage.enough" if passes else "days_in_stage.too_few",
        {"actual": days_in, "required": 30, "stage": "study_mobilization"},
    )


def test_min_days_in_stage_without_entry_date_counts_zero_days() -> None:
    """A state without stage_since has spent 0 days in its stage."""
    verdict = g.min_days_in_stage(ctx(stage_since=None), days=30)
    assert judged(verdict)[:2] == (False, "days_in_stage.too_few")
    assert verdict.params["actual"] == 0


@pytest.mark.parametrize(("days_in", "passes"), [(89, False), (90, True)])
def test_min_concentrated_days_boundary(days_in: int, passes: bool) -> None:
    """89 days since the unit started fail 90; 90 pass."""
    started = date(2005, 1, 10)
    c = ctx(today=date.fromordinal(started.toordinal() + days_in), started_on=started)
    assert judged(g.min_concentrated_days(c, days=90)) == (
        passes,
        "concentrated_days.enough" if passes else "concentrated_days.too_few",
        {"actual": days_in, "required": 90},
    )


def test_min_concentrated_days_fails_for_a_unit_that_never_started() -> None:
    """A unit with no start date has no concentrated activity, even against a zero minimum."""
    verdict = g.min_concentrated_days(ctx(started_on=None), days=0)
    assert judged(verdict) == (False, "concentrated_days.too_few", {"actual": 0, "required": 0})


# --- batch window ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "passes"),
    [
        (date(2004, 12, 31), False),
        (date(2005, 1, 1), True),
        (date(2005, 6, 30), True),
        (date(2005, 7, 1), False),
    ],
)
def test_within_batch_window_includes_both_ends(today: date, passes: bool) -> None:
    """The window holds from its opening day to its closing day, both included."""
    assert judged(g.within_batch_window(ctx(today=today))) == (
        passes,
        "batch_window.open" if passes else "batch_window.closed",
        {"batch": 1, "today": today.isoformat(), "opens": "2005-01-01", "closes": "2005-06-30"},
    )


def test_within_batch_window_undefined_batch_fails() -> None:
    """A batch the workflow gives no dates fails with batch_window.undefined."""
    verdict = g.within_batch_window(ctx(batch_window=None, batch=4))
    assert judged(verdict) == (False, "batch_window.undefined", {"batch": 4})


# --- milestones and coverage -------------------------------------------------------------------


def test_milestones_done_lists_the_missing_in_the_required_order() -> None:
    """Missing milestones are listed in the order the rule names them."""
    c = ctx(cf.Milestone("plan_filed"))
    assert judged(g.milestones_done(c, names=("plan_reviewed", "plan_filed", "results"))) == (
        False,
        "milestones.missing",
        {
            "missing": ["plan_reviewed", "results"],
            "required": ["plan_reviewed", "plan_filed", "results"],
        },
    )


def test_milestones_done_passes_when_every_name_is_recorded() -> None:
    """Every named milestone recorded (from any visit to the stage) passes."""
    c = ctx(record(cf.Milestone("a"), version=1), cf.Milestone("b"), cf.Milestone("c"))
    assert judged(g.milestones_done(c, names=("a", "b"))) == (
        True,
        "milestones.done",
        {"missing": [], "required": ["a", "b"]},
    )


@pytest.mark.parametrize(
    ("done", "total", "rate", "passes"),
    [(19, 20, 0.95, True), (18, 20, 0.95, False), (32, 32, 1.0, True), (31, 32, 1.0, False)],
)
def test_coverage_at_least_boundary(done: int, total: int, rate: float, passes: bool) -> None:
    """19/20 meets 95 %, 18/20 does not; 32/32 meets 100 %, 31/32 does not."""
    c = ctx(cf.Milestone("talks", done=done, total=total))
    assert judged(g.coverage_at_least(c, milestone="talks", rate=rate)) == (
        passes,
        "coverage.enough" if passes else "coverage.insufficient",
        {
            "milestone": "talks",
            "done": done,
            "total": total,
            "actual": done / total,
            "required": rate,
        },
    )


@given(
    total=st.integers(1, 10**6),
    share=st.fractions(0, 1),
    rate=st.one_of(
        st.floats(min_value=0, max_value=1),
        st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.6, 0.7, 0.95, 1.0]),
    ),
)
def test_coverage_passes_iff_exact_fraction_reaches_rate(
    total: int, share: Fraction, rate: float
) -> None:
    """Passes iff done / total >= Fraction(str(rate)), exactly, however many digits the rate has."""
    done = int(share * total)
    c = ctx(cf.Milestone("talks", done=done, total=total))
    verdict = g.coverage_at_least(c, milestone="talks", rate=rate)
    assert verdict.passed is (Fraction(done, total) >= Fraction(str(rate)))


def test_coverage_at_least_latest_report_counts() -> None:
    """A later, lower report replaces an earlier full one."""
    c = ctx(cf.Milestone("talks", done=20, total=20), cf.Milestone("talks", done=10, total=20))
    assert g.coverage_at_least(c, milestone="talks", rate=0.95).code == "coverage.insufficient"


def test_coverage_at_least_without_a_report_is_missing() -> None:
    """No report, or only a plain milestone without counts, is coverage.missing."""
    for c in (ctx(), ctx(cf.Milestone("talks")), ctx(cf.Milestone("other", done=5, total=5))):
        assert judged(g.coverage_at_least(c, milestone="talks", rate=0.95)) == (
            False,
            "coverage.missing",
            {"milestone": "talks", "required": 0.95},
        )


def test_coverage_at_least_of_zero_members_is_insufficient() -> None:
    """A report of 0 out of 0 covers nobody, even against a zero rate."""
    verdict = g.coverage_at_least(
        ctx(cf.Milestone("talks", done=0, total=0)), milestone="talks", rate=0.0
    )
    assert (verdict.passed, verdict.code, verdict.params["actual"]) == (
        False,
        "coverage.insufficient",
        0.0,
    )


# --- approval ---------------------------------------------------------------------------


def test_approved_by_missing_without_a_decision() -> None:
    """No decision by the role since the last transition is approval.missing."""
    assert judged(g.approved_by(ctx())) == (
        False,
        "approval.missing",
        {"role": "supervision_group"},
    )


def test_approved_by_granted_names_the_approver() -> None:
    """An approval by the role passes and names who gave it."""
    c = ctx(record(cf.Approval("supervision_group"), actor="zhang"))
    assert judged(g.approved_by(c, role="supervision_group")) == (
        True,
        "approval.granted",
        {"role": "supervision_group", "by": "zhang", "comment": ""},
    )


def test_approved_by_refused_carries_the_comment() -> None:
    """A rejection fails with approval.refused, who refused and why."""
    c = ctx(record(cf.Approval("supervision_group", "rejected", "笔记不全"), actor="zhao"))
    assert judged(g.approved_by(c)) == (
        False,
        "approval.refused",
        {"role": "supervision_group", "by": "zhao", "comment": "笔记不全"},
    )


def test_approved_by_latest_decision_counts() -> None:
    """An approval after a rejection passes; a rejection after an approval fails."""
    yes, no = cf.Approval("supervision_group"), cf.Approval("supervision_group", "rejected")
    assert g.approved_by(ctx(record(no, seq=1), record(yes, seq=2))).passed
    assert not g.approved_by(ctx(record(yes, seq=1), record(no, seq=2))).passed


def test_approved_by_ignores_older_versions_and_other_roles() -> None:
    """An approval before the last transition, or by another role, does not count."""
    c = ctx(
        record(cf.Approval("supervision_group"), version=VERSION - 1), cf.Approval("leading_group")
    )
    assert g.approved_by(c).code == "approval.missing"
    assert g.approved_by(c, role="leading_group").code == "approval.granted"


# --- satisfaction ---------------------------------------------------------------------------


def survey(
    satisfied: int, dissatisfied: int, basically: int = 0, fairly: int | None = None
) -> cf.Survey:
    return cf.Survey(
        satisfied=satisfied,
        basically_satisfied=basically,
        dissatisfied=dissatisfied,
        fairly_satisfied=fairly,
    )


@pytest.mark.parametrize(
    ("fact", "passes"),
    [
        (survey(3, 2), True),
        (survey(2, 2, basically=1), True),
        (survey(599, 401), False),
        (survey(600, 400), True),
        (survey(1, 2, basically=1, fairly=1), True),
    ],
)
def test_satisfaction_rate_exact_boundary(fact: cf.Survey, passes: bool) -> None:
    """Exactly 0.6 (3 of 5, 600 of 1000) passes 0.6; 599 of 1000 does not."""
    verdict = g.satisfaction_rate_at_least(ctx(fact), rate=0.6)
    assert judged(verdict) == (
        passes,
        "satisfaction.enough" if passes else "satisfaction.too_low",
        {
            "actual": fact.satisfied_rate,
            "required": 0.6,
            "ballots": fact.valid_ballots,
            "scale": fact.scale,
        },
    )


def test_satisfaction_rate_counts_fairly_satisfied_on_the_4_level_scale() -> None:
    """比较满意 counts as satisfied: 200 + 300 fairly + 100 basically of 1000 is 60 %."""
    verdict = g.satisfaction_rate_at_least(
        ctx(survey(200, 400, basically=100, fairly=300)), rate=0.6
    )
    assert (verdict.passed, verdict.params["actual"], verdict.params["scale"]) == (True, 0.6, 4)


def test_satisfaction_rate_without_current_survey_is_survey_missing() -> None:
    """No survey since the last transition (an old one does not count) is survey.missing."""
    for c in (ctx(), ctx(record(survey(10, 0), version=VERSION - 1))):
        assert judged(g.satisfaction_rate_at_least(c, rate=0.6)) == (
            False,
            "survey.missing",
            {"required": 0.6},
        )


def test_satisfaction_rate_latest_survey_counts() -> None:
    """A second, worse assessment replaces the first."""
    c = ctx(record(survey(10, 0), seq=1), record(survey(1, 9), seq=2))
    assert g.satisfaction_rate_at_least(c, rate=0.6).code == "satisfaction.too_low"


@pytest.mark.parametrize(
    ("dissatisfied", "passes"), [(1, True), (50, True), (51, False), (100, False)]
)
def test_dissatisfied_rate_at_most_boundary(dissatisfied: int, passes: bool) -> None:
    """50 of 100 dissatisfied is within 0.5; 51 of 100 is too many."""
    fact = survey(100 - dissatisfied, dissatisfied)
    assert judged(g.dissatisfied_rate_at_most(ctx(fact), rate=0.5)) == (
        passes,
        "dissatisfied.within_limit" if passes else "dissatisfied.too_many",
        {"actual": dissatisfied / 100, "limit": 0.5, "ballots": 100, "scale": 3},
    )


def test_dissatisfied_rate_exact_half() -> None:
    """1 of 2 dissatisfied is exactly 0.5 and passes."""
    assert g.dissatisfied_rate_at_most(ctx(survey(1, 1)), rate=0.5).passed


def test_dissatisfied_rate_without_survey_is_survey_missing() -> None:
    """No current survey is survey.missing with the limit."""
    assert judged(g.dissatisfied_rate_at_most(ctx(), rate=0.5)) == (
        False,
        "survey.missing",
        {"limit": 0.5},
    )


def test_survey_recorded() -> None:
    """A current survey is survey.recorded with its ballots; none (or an old one) is survey.missing."""
    assert judged(g.survey_recorded(ctx(survey(30, 2)))) == (
        True,
        "survey.recorded",
        {"ballots": 32},
    )
    assert judged(g.survey_recorded(ctx())) == (False, "survey.missing", {})
    assert not g.survey_recorded(ctx(record(survey(30, 2), version=VERSION - 1))).passed


# --- property tests ----------------------------------------------------------------------

# one session is at most 1000 hours (StudySession refuses more)
hours_st = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)


@given(
    sessions=st.lists(st.tuples(hours_st, st.booleans()), max_size=20),
    required=st.one_of(st.integers(0, 200), hours_st),
)
def test_study_hours_pass_iff_exact_sum_reaches_required(
    sessions: list[tuple[float, bool]], required: float
) -> None:
    """min_study_hours / min_guided_hours pass iff math.fsum(hours) >= required; params say so."""
    c = ctx(*[cf.StudySession(hours=h, guided=guided) for h, guided in sessions])
    total = math.fsum(h for h, _ in sessions)
    guided = math.fsum(h for h, is_guided in sessions if is_guided)
    verdict = g.min_study_hours(c, hours=required)
    assert verdict.passed is (total >= required)
    assert verdict.params == {"actual": total, "required": required}
    guided_verdict = g.min_guided_hours(c, hours=required)
    assert guided_verdict.passed is (guided >= required)
    assert guided_verdict.params == {"actual": guided, "required": required}


# Surveys of either scale, up to 8,000 ballots: the testing kit's strategy (dogfooding).
surveys = functools.partial(cfst.surveys, max_ballots=8000)


rates = st.one_of(
    st.floats(min_value=0, max_value=1),
    st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.6, 0.7, 0.95, 1.0]),
)


@given(fact=surveys(), rate=rates)
def test_satisfaction_rate_passes_iff_exact_fraction_reaches_rate(
    fact: cf.Survey, rate: float
) -> None:
    """Passes iff (ballots - dissatisfied) / ballots >= Fraction(str(rate)), exactly."""
    ballots = fact.valid_ballots
    verdict = g.satisfaction_rate_at_least(ctx(fact), rate=rate)
    assert verdict.passed is (Fraction(ballots - fact.dissatisfied, ballots) >= Fraction(str(rate)))
    assert verdict.params == {
        "actual": (ballots - fact.dissatisfied) / ballots,
        "required": rate,
        "ballots": ballots,
        "scale": 3 if fact.fairly_satisfied is None else 4,
    }


@given(fact=surveys(), rate=rates)
def test_dissatisfied_rate_passes_iff_exact_fraction_within_rate(
    fact: cf.Survey, rate: float
) -> None:
    """Passes iff dissatisfied / ballots <= Fraction(str(rate)), exactly."""
    ballots = fact.valid_ballots
    verdict = g.dissatisfied_rate_at_most(ctx(fact), rate=rate)
    assert verdict.passed is (Fraction(fact.dissatisfied, ballots) <= Fraction(str(rate)))
    assert verdict.params["ballots"] == ballots
    assert verdict.params["actual"] == fact.dissatisfied / ballots


# --- combinators ----------------------------------------------------------------------------

HOURS = cf.use("min_study_hours", hours=40)  # fails on FAILING_CTX
SURVEYED = cf.use("survey_recorded")  # passes on FAILING_CTX
APPROVED = cf.use("approved_by")  # fails on FAILING_CTX
FAILING_CTX = ctx(cf.StudySession(hours=10), survey(30, 2))


def test_all_of_flattens_nested_all_of() -> None:
    """all_of(all_of(a, b), c) is one all_of of three children."""
    spec = cf.all_of(cf.all_of(HOURS, SURVEYED), APPROVED)
    assert spec.children == (HOURS, SURVEYED, APPROVED)
    assert spec == cf.all_of(HOURS, cf.all_of(SURVEYED, APPROVED))
    assert len(bind(spec)(FAILING_CTX).children) == 3


def test_any_of_flattens_nested_any_of_but_not_all_of() -> None:
    """any_of(any_of(a, b), c) has three children; any_of(all_of(a, b), c) keeps two."""
    assert cf.any_of(cf.any_of(HOURS, SURVEYED), APPROVED).children == (HOURS, SURVEYED, APPROVED)
    mixed = cf.any_of(cf.all_of(HOURS, SURVEYED), APPROVED)
    assert mixed.children == (cf.all_of(HOURS, SURVEYED), APPROVED)


def test_all_of_judges_every_child_and_keeps_every_verdict() -> None:
    """A failing first child does not stop the others: all three verdicts are kept."""
    verdict = bind(cf.all_of(HOURS, SURVEYED, APPROVED))(FAILING_CTX)
    assert judged(verdict) == (False, "all_of.failed", {"failed": 2, "of": 3})
    assert [c.code for c in verdict.children] == [
        "study_hours.insufficient",
        "survey.recorded",
        "approval.missing",
    ]
    assert [f.code for f in verdict.failures()] == ["study_hours.insufficient", "approval.missing"]
    assert len(verdict.leaves()) == 3


def test_all_of_passes_when_every_child_passes() -> None:
    """all_of of passing guards passes with all_of.passed."""
    verdict = bind(cf.all_of(SURVEYED, cf.use("min_study_hours", hours=10)))(FAILING_CTX)
    assert judged(verdict) == (True, "all_of.passed", {"failed": 0, "of": 2})
    assert verdict.failures() == ()


def test_any_of_passes_with_one_child_and_keeps_every_verdict() -> None:
    """any_of passes when one child passes and still keeps every child's verdict."""
    verdict = bind(cf.any_of(HOURS, SURVEYED, APPROVED))(FAILING_CTX)
    assert judged(verdict) == (True, "any_of.passed", {"passed": 1, "of": 3})
    assert [c.passed for c in verdict.children] == [False, True, False]


def test_any_of_fails_when_no_child_passes() -> None:
    """any_of with every child failing lists each child's failure."""
    verdict = bind(cf.any_of(HOURS, APPROVED))(FAILING_CTX)
    assert judged(verdict) == (False, "any_of.failed", {"passed": 0, "of": 2})
    assert [f.code for f in verdict.failures()] == ["study_hours.insufficient", "approval.missing"]


def test_not_inverts_and_keeps_the_child_verdict() -> None:
    """not_(g) passes when g fails, carrying g's verdict and code."""
    passing = bind(cf.not_(HOURS))(FAILING_CTX)
    assert judged(passing) == (
        True,
        "not.passed",
        {"guard": "min_study_hours(hours=40)", "code": "study_hours.insufficient"},
    )
    assert [c.code for c in passing.children] == ["study_hours.insufficient"]
    failing = bind(cf.not_(SURVEYED))(FAILING_CTX)
    assert judged(failing)[:2] == (False, "not.failed")
    assert failing.failures() == (failing,)


def test_double_negation_is_the_guard_itself() -> None:
    """not_(not_(g)) is g."""
    assert cf.not_(cf.not_(HOURS)) == HOURS


def test_combinator_reprs_show_how_they_were_built() -> None:
    """A spec's repr reads as the expression that built it."""
    spec = cf.all_of(HOURS, cf.not_(SURVEYED))
    assert repr(spec) == "all_of(min_study_hours(hours=40), not_(survey_recorded()))"
    assert repr(bind(spec)) == repr(spec)


@pytest.mark.parametrize("combinator", [cf.all_of, cf.any_of])
def test_combinators_reject_no_children_and_non_specs(combinator: Any) -> None:
    """A combinator needs at least one guard spec, and only specs."""
    with pytest.raises(cf.ValidationError):
        combinator()
    with pytest.raises(cf.ValidationError):
        combinator(HOURS, "min_study_hours")
    with pytest.raises(cf.ValidationError):
        cf.not_("survey_recorded")  # type: ignore[arg-type]


# --- registry: every problem at once when a workflow loads ---------------------------------------


def _workflow(guards: list[Any], unless: list[Any] | None = None) -> dict[str, Any]:
    transition: dict[str, Any] = {"source": "study", "dest": "done", "guards": guards}
    if unless:
        transition["unless"] = unless
    return {
        "name": "bad_guards",
        "stages": [{"id": "study"}, {"id": "done", "kind": "final"}],
        "transitions": [transition],
    }


def test_unknown_guards_and_bad_params_are_reported_together() -> None:
    """One DefinitionError lists the unknown name and every bad param, each with its path."""
    data = _workflow(
        [
            {"guard": "no_such_guard"},
            {"guard": "min_study_hours", "hours": "forty"},
            {"guard": "min_guided_hours", "hours": -3},
            {"guard": "min_days_in_stage", "days": 30, "weeks": 4},
            {"guard": "coverage_at_least", "rate": 0.95},
            {"guard": "satisfaction_rate_at_least", "rate": 1.5},
            {"guard": "milestones_done", "names": []},
        ],
        unless=[{"all_of": [{"guard": "survey_recorded"}, {"guard": "also_unknown"}]}],
    )
    with pytest.raises(cf.DefinitionError) as error:
        cf.Workflow.from_dict(data)
    problems = error.value.problems
    expected = [
        ("$.transitions[0].guards[0].guard", "no_such_guard"),
        ("$.transitions[0].guards[1].hours", "forty"),
        ("$.transitions[0].guards[2].hours", "-3"),
        ("$.transitions[0].guards[3].weeks", "weeks"),
        ("$.transitions[0].guards[4].milestone", "milestone"),
        ("$.transitions[0].guards[5].rate", "1.5"),
        ("$.transitions[0].guards[6].names", "names"),
        ("$.transitions[0].unless[0].all_of[1].guard", "also_unknown"),
    ]
    for path, detail in expected:
        assert any(p.startswith(path) and detail in p for p in problems), (path, problems)
    assert len(problems) == len(expected)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"guard": "min_study_hours", "hours": True}, "must be a number"),
        ({"guard": "min_study_hours", "hours": float("nan")}, "must be a number"),
        ({"guard": "min_days_in_stage", "days": 30.5}, "must be a whole number"),
        ({"guard": "milestones_done", "names": "plan"}, "must be a list"),
        ({"guard": "approved_by", "role": 3}, "must be text"),
        ({"guard": "min_study_hours", "hours": -0.5}, "must be >= 0"),
        ({"guard": "dissatisfied_rate_at_most", "rate": -0.1}, "between 0 and 1"),
        ({"guard": "milestones_done"}, "needs param 'names'"),
        ({"guard": "survey_recorded", "rate": 0.6}, "takes no param 'rate'"),
    ],
)
def test_bad_guard_param_is_a_definition_error_naming_the_path(
    spec: dict[str, Any], fragment: str
) -> None:
    """A wrongly typed, out-of-range, missing or unknown param fails the load with its path."""
    with pytest.raises(cf.DefinitionError) as error:
        cf.Workflow.from_dict(_workflow([spec]))
    [problem] = error.value.problems
    assert problem.startswith("$.transitions[0].guards[0].")
    assert fragment in problem


def test_registry_bind_reports_every_problem_of_a_spec() -> None:
    """GuardRegistry.bind raises one DefinitionError for all the problems under a spec."""
    spec = cf.all_of(cf.use("nope"), cf.use("min_study_hours", hours=-1, minutes=3))
    with pytest.raises(cf.DefinitionError) as error:
        g.registry.bind(spec)
    assert len(error.value.problems) == 2
    assert g.registry.problems(spec) == list(error.value.problems)
    assert g.registry.problems(HOURS) == []


@given(
    st.dictionaries(
        st.sampled_from(["hours", "rate", "class", "min-rate", "_0", "_guard", "ctx2", "名额"])
        | st.text(min_size=1, max_size=6).filter(lambda name: name != "ctx"),
        st.integers() | st.text(max_size=3) | st.none(),
        max_size=5,
    )
)
def test_a_bound_guard_passes_each_param_by_its_name(params: dict[str, Any]) -> None:
    """Binding hands the guard exactly its params: identifiers, keywords and other names alike."""
    seen: list[dict[str, Any]] = []
    reg = _fresh_registry()

    @cf.guard("echo", registry=reg)
    def echo(ctx: cf.GuardContext, **given_params: Any) -> cf.Verdict:
        seen.append(given_params)
        return cf.Verdict("echo", True, "echo.ok")

    bound = reg.bind(cf.use("echo", **params))
    context = ctx()
    assert bound(context) == cf.Verdict("echo", True, "echo.ok")
    assert bound(context) == cf.Verdict("echo", True, "echo.ok")
    assert seen == [params, params]
    seen[0]["extra"] = 1  # each judgement gets its own dict: nothing leaks into the next
    bound(context)
    assert seen[2] == params


# --- registry: custom guards ------------------------------------------------------------------


def _fresh_registry() -> GuardRegistry:
    # Its own catalog too, so the test's messages stay out of the default one.
    return GuardRegistry(catalog=MessageCatalog())


def test_custom_guard_registers_in_a_fresh_registry_and_drives_a_workflow() -> None:
    """A guard registered in its own registry binds, judges and loads in a workflow there only."""
    catalog = MessageCatalog()
    reg = GuardRegistry(catalog=catalog)

    def check(params: Any) -> list[str]:
        return [] if 0 <= params.get("rate", 0.9) <= 1 else ["rate: must be a share"]

    @cf.guard(
        "attendance_at_least",
        registry=reg,
        check=check,
        messages={
            "attendance.enough": {"zh_CN": "出勤 {present} 人", "en": "{present} present"},
            "attendance.low": {"zh_CN": "出勤不足：{present} 人", "en": "only {present} present"},
        },
    )
    def attendance_at_least(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
        """At least ``rate`` of members attended every study session."""
        present = len(ctx.records)
        passed = present >= rate * ctx.unit.members
        return cf.Verdict(
            "attendance_at_least",
            passed,
            f"attendance.{'enough' if passed else 'low'}",
            {"present": present},
        )

    assert "attendance_at_least" in reg
    assert reg.get("attendance_at_least") is attendance_at_least
    assert "attendance_at_least" not in g.registry
    assert "attendance.low" in catalog.codes()
    assert "attendance.low" not in messages.codes()

    verdict = reg.bind(cf.use(attendance_at_least, rate=0.0))(ctx())
    assert judged(verdict) == (True, "attendance.enough", {"present": 0})
    assert catalog.render(verdict.code, verdict.params, "en") == "0 present"
    assert attendance_at_least(ctx(), rate=0.5).code == "attendance.low"

    data = _workflow([{"guard": "attendance_at_least", "rate": 0.5}])
    workflow = cf.Workflow.from_dict(data, registry=reg)
    [candidate] = workflow.candidates("study")
    assert candidate.judge(ctx(stage="study")).verdicts[0].code == "attendance.low"
    with pytest.raises(cf.DefinitionError, match="unknown guard 'attendance_at_least'"):
        cf.Workflow.from_dict(data)
    with pytest.raises(cf.DefinitionError, match="rate: must be a share"):
        cf.Workflow.from_dict(
            _workflow([{"guard": "attendance_at_least", "rate": 2.0}]), registry=reg
        )


def test_duplicate_guard_name_is_rejected_unless_replacing() -> None:
    """Registering another function under a taken name fails; the same function or replace=True is fine."""
    reg = _fresh_registry()

    def first(ctx: cf.GuardContext) -> cf.Verdict:
        return cf.Verdict("x", True, "x.ok")

    def second(ctx: cf.GuardContext) -> cf.Verdict:
        return cf.Verdict("x", False, "x.no")

    reg.register("x", first)
    reg.register("x", first)
    with pytest.raises(cf.ValidationError, match="already registered"):
        reg.register("x", second)
    assert reg.get("x") is first
    reg.register("x", second, replace=True)
    assert reg.get("x") is second


@pytest.mark.parametrize("name", ["all_of", "any_of", "not"])
def test_combinator_names_are_reserved(name: str) -> None:
    """all_of, any_of and not cannot name a guard."""
    with pytest.raises(cf.ValidationError, match="reserved"):
        _fresh_registry().register(name, lambda ctx: cf.Verdict(name, True, "ok"))


@pytest.mark.parametrize("name", ["", "min-hours", "2fast", "with space"])
def test_guard_names_must_be_identifiers(name: str) -> None:
    """A guard name must read as a Python identifier."""
    with pytest.raises(cf.ValidationError, match="identifier"):
        _fresh_registry().register(name, lambda ctx: cf.Verdict("x", True, "ok"))


def test_guard_must_take_the_context_positionally() -> None:
    """A function with no positional parameter cannot be a guard."""

    def keyword_only(*, ctx: cf.GuardContext) -> cf.Verdict:
        return cf.Verdict("x", True, "ok")

    with pytest.raises(cf.ValidationError, match="first positional"):
        _fresh_registry().register("kw", keyword_only)


def test_unknown_name_in_registry_get_is_validation_error() -> None:
    """Asking a registry for a guard it lacks raises ValidationError."""
    with pytest.raises(cf.ValidationError, match="no such guard"):
        _fresh_registry().get("min_study_hours")


def test_use_rejects_an_unregistered_function() -> None:
    """cf.use needs a registered name or a function decorated with @cf.guard."""

    def plain(ctx: cf.GuardContext) -> cf.Verdict:
        return cf.Verdict("plain", True, "ok")

    with pytest.raises(cf.ValidationError, match="not a registered guard"):
        cf.use(plain)
    assert cf.use(g.min_study_hours, hours=32) == cf.use("min_study_hours", hours=32)


# --- threshold guards bound by the registry ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "facts", "passed", "required"),
    [
        ("min_study_hours", {"hours": 40}, (cf.StudySession(hours=30),), False, 40),
        ("min_study_hours", {"hours": 20}, (cf.StudySession(hours=30),), True, 20),
        ("min_study_hours", {}, (cf.StudySession(hours=45),), True, 40),
        ("min_guided_hours", {"hours": 10}, (cf.StudySession(hours=12, guided=True),), True, 10),
        ("min_days_in_stage", {"days": 28}, (), True, 28),
        ("min_days_in_stage", {"days": 29}, (), False, 29),
    ],
)
def test_a_bound_threshold_guard_applies_its_own_params(
    name: str, params: dict[str, Any], facts: tuple[object, ...], passed: bool, required: int
) -> None:
    """Params applied once at binding: the given threshold (or the default) is the one judged,
    and the verdict is the guard's own when called with them."""
    context = ctx(*facts)
    verdict = bind(cf.use(name, **params))(context)
    assert (verdict.passed, verdict.params["required"]) == (passed, required)
    assert verdict == getattr(g, name)(context, **params)


def test_a_threshold_guard_takes_its_params_by_keyword_only() -> None:
    """Its face keeps the keyword-only params; a positional or unknown one is a TypeError."""
    import inspect

    shown = inspect.signature(g.min_study_hours).parameters["hours"]
    assert shown.kind is inspect.Parameter.KEYWORD_ONLY
    assert shown.default == 40
    with pytest.raises(TypeError, match="min_study_hours"):
        g.min_study_hours(ctx(), 40)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"min_study_hours.*hourz"):
        g.min_study_hours(ctx(), hourz=40)  # type: ignore[call-arg]
