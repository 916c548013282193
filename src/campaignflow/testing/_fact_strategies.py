"""Strategies for the facts a unit records: study sessions, surveys, milestones, approvals.

:func:`facts_for` draws the facts a stage's gates read, near their numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from hypothesis import strategies as st

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow.guards._spec import GuardSpec
from campaignflow.presets import district_2005
from campaignflow.testing._strategy_tools import (
    choices,
    named,
    problem,
    rate_bounds,
    simplest_between,
)
from campaignflow.workflow import Workflow

__all__ = ["MILESTONE_NAMES", "approvals", "facts_for", "milestones", "study_sessions", "surveys"]


def study_sessions(
    *, max_hours: float = 12, guided: bool | None = None, whole_hours: bool = False
) -> st.SearchStrategy[StudySession]:
    """Valid :class:`~campaignflow.StudySession` facts (学时).

    Args:
        max_hours: the most hours one session logs (a session may log up to 1,000).
        guided: always guided (True), never (False) or either (None).
        whole_hours: whole hours only; otherwise halves and odd decimals too.
    """
    if (
        isinstance(max_hours, bool)
        or not isinstance(max_hours, int | float)
        or not 0 <= max_hours <= 1000
    ):
        raise problem("study_sessions: max_hours", "must be a number from 0 to 1000", max_hours)
    if guided is not None and not isinstance(guided, bool):
        raise problem("study_sessions: guided", "must be True, False or None", guided)
    whole = st.integers(0, int(max_hours)).map(float)
    hours = (
        whole
        if whole_hours
        else st.one_of(
            whole,
            st.floats(0, max_hours, allow_nan=False).map(lambda h: min(round(h, 2), max_hours)),
        )
    )
    flags = st.booleans() if guided is None else st.just(guided)
    return st.builds(StudySession, hours=hours, guided=flags)


def surveys(
    *,
    scale: int | None = None,
    satisfied_rate: float | tuple[float, float] | None = None,
    max_ballots: int = 200,
) -> st.SearchStrategy[Survey]:
    """Valid :class:`~campaignflow.Survey` facts (群众满意度测评).

    Args:
        scale: 3 (满意/基本满意/不满意), 4 (adds 比较满意) or None for either.
        satisfied_rate: a share or a (low, high) pair: every survey's satisfied rate (as
            ``Survey.satisfied_rate`` counts it, exactly) lies within. A single share is hit
            exactly, with a ballot count its denominator divides.
        max_ballots: the most valid ballots of a survey (when no exact rate forces more).
    """
    if scale not in (None, 3, 4):
        raise problem("surveys: scale", "must be 3, 4 or None", scale)
    rate_bounds(satisfied_rate)
    if isinstance(max_ballots, bool) or not isinstance(max_ballots, int) or max_ballots < 1:
        raise problem("surveys: max_ballots", "must be a whole number >= 1", max_ballots)
    return _surveys(scale=scale, satisfied_rate=satisfied_rate, max_ballots=max_ballots)


@named("surveys")
def _surveys(
    draw: st.DrawFn,
    *,
    scale: int | None,
    satisfied_rate: float | tuple[float, float] | None,
    max_ballots: int,
) -> Survey:
    bounds = rate_bounds(satisfied_rate)
    ballots = draw(st.integers(1, max_ballots))
    if bounds is None:
        dissatisfied = draw(st.integers(0, ballots))
    else:
        low, high = bounds
        # dissatisfied d must satisfy low <= (n - d) / n <= high, i.e.
        # n * (1 - high) <= d <= n * (1 - low).
        least = -((-ballots * (1 - high).numerator) // (1 - high).denominator)
        most = (ballots * (1 - low).numerator) // (1 - low).denominator
        if least > most:
            # No count of this size fits: take a multiple of the denominator of the simplest
            # rate within the bounds, where that rate is hit exactly.
            rate = simplest_between(low, high)
            ballots = rate.denominator * draw(
                st.integers(1, max(1, max_ballots // rate.denominator))
            )
            least = most = int(ballots * (1 - rate))
        dissatisfied = draw(st.integers(least, most))
    content = ballots - dissatisfied
    four = draw(st.booleans()) if scale is None else scale == 4
    satisfied = draw(st.integers(0, content))
    rest = content - satisfied
    fairly: int | None = None
    if four:
        fairly = draw(st.integers(0, rest))
        rest -= fairly
    return Survey(
        satisfied=satisfied,
        fairly_satisfied=fairly,
        basically_satisfied=rest,
        dissatisfied=dissatisfied,
    )


#: Milestone names of the shipped presets (shrinking goes to the first).
MILESTONE_NAMES: tuple[str, ...] = (
    "implementation_plan",
    "leading_group_established",
    "mobilization_meeting",
    "advanced_standards_adopted",
    "transition_application",
    "opinions_solicited",
    "org_life_meeting",
    "democratic_appraisal",
    "feedback_published",
    "heart_to_heart_talks",
    "party_spirit_report",
    "rectification_plan_reviewed",
    "rectification_plan_published",
    "rectification_plan_filed",
    "rectification_results_published",
    "follow_up_review",
    "summing_up",
    "remedial_completed",
)


def milestones(
    *, names: Sequence[str] = MILESTONE_NAMES, coverage: bool | None = None, max_total: int = 60
) -> st.SearchStrategy[Milestone]:
    """Valid :class:`~campaignflow.Milestone` facts: a step done, or ``done`` of ``total``.

    Args:
        names: milestone names to draw from.
        coverage: with done/total (True), without (False) or either (None).
        max_total: the largest ``total`` of a coverage report.
    """
    names_ = choices("milestones: names", names)
    if isinstance(max_total, bool) or not isinstance(max_total, int) or max_total < 0:
        raise problem("milestones: max_total", "must be a whole number >= 0", max_total)
    return _milestones(names=names_, coverage=coverage, max_total=max_total)


@named("milestones")
def _milestones(
    draw: st.DrawFn, *, names: tuple[str, ...], coverage: bool | None, max_total: int
) -> Milestone:
    name = draw(st.sampled_from(names))
    counted = draw(st.booleans()) if coverage is None else coverage
    if not counted:
        return Milestone(name=name)
    total = draw(st.integers(0, max_total))
    return Milestone(name=name, done=total - draw(st.integers(0, total)), total=total)


def approvals(
    *, roles: Sequence[str] = ("supervision_group",), rejected: bool | None = None
) -> st.SearchStrategy[Approval]:
    """Valid :class:`~campaignflow.Approval` facts by one of ``roles``.

    ``rejected``: only refusals (True), only approvals (False), or either (None).
    """
    roles_ = choices("approvals: roles", roles)
    decisions: st.SearchStrategy[str] = (
        st.sampled_from(("approved", "rejected"))
        if rejected is None
        else st.just("rejected" if rejected else "approved")
    )
    return st.builds(
        Approval,
        role=st.sampled_from(roles_),
        decision=decisions,
        comment=st.sampled_from(("", "同意转段", "材料不全")),
    )


def _leaf_specs(specs: Sequence[GuardSpec]) -> list[GuardSpec]:
    found: list[GuardSpec] = []
    for spec in specs:
        if spec.children:
            found.extend(_leaf_specs(spec.children))
        else:
            found.append(spec)
    return found


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    return [float(value)]


def facts_for(
    stage: str, *, workflow: Workflow | None = None, include_other: bool = True
) -> st.SearchStrategy[object]:
    """Facts a unit in ``stage`` would record: those its way-out gates read, near their numbers.

    Study hours cluster around every ``hours`` param of the stage's guards (one below, at,
    above), milestones come from the names the guards ask for, coverage reports from their
    milestones with counts at and around the rate, surveys around every ``rate``, approvals
    from the roles ``approved_by`` names. Custom guards are covered through the same param
    names (``hours``, ``names``, ``milestone``, ``rate``, ``role``).

    Args:
        stage: the stage id (must exist in the workflow).
        workflow: the rules (default: ``campaignflow.presets.district_2005()``).
        include_other: also draw facts unrelated to the gates (any study session or survey).
    """
    if workflow is None:
        workflow = district_2005()
    workflow.stage(stage)  # raises ValidationError naming the stages
    specs = _leaf_specs(
        [
            bound.spec
            for trigger in workflow.triggers(stage)
            for candidate in workflow.candidates(stage, trigger)
            for bound in candidate.guards
        ]
    )
    hours: set[float] = set()
    names: set[str] = set()
    covered: set[str] = set()
    rates: set[Fraction] = set()
    roles: set[str] = set()
    for spec in specs:
        for h in _numbers(spec.params.get("hours", None)):
            hours.update(x for x in (h - 1, h - 0.5, h, h + 1) if 0 <= x <= 1000)
        listed = spec.params.get("names")
        if isinstance(listed, tuple | list):
            names.update(n for n in listed if isinstance(n, str))
        milestone = spec.params.get("milestone")
        if isinstance(milestone, str):
            covered.add(milestone)
        for r in _numbers(spec.params.get("rate", None)):
            rates.add(Fraction(repr(r)))
        role = spec.params.get("role", "supervision_group" if spec.name == "approved_by" else None)
        if isinstance(role, str):
            roles.add(role)
        if spec.name in ("min_study_hours", "min_guided_hours") and "hours" not in spec.params:
            hours.update((39.0, 40.0, 23.0, 24.0))
    options: list[st.SearchStrategy[object]] = []
    if hours:
        options.append(
            st.builds(StudySession, hours=st.sampled_from(sorted(hours)), guided=st.booleans())
        )
    if names:
        options.append(milestones(names=sorted(names), coverage=False))
    if covered:
        options.append(_coverage_reports(sorted(covered), sorted(rates) or [Fraction(1)]))
    for rate in sorted(rates):
        r = float(rate)
        low = max(0.0, r - 0.1)
        options.append(surveys(satisfied_rate=(low, r)))
        options.append(surveys(satisfied_rate=(r, min(1.0, r + 0.1))))
    if roles:
        options.append(approvals(roles=sorted(roles)))
    if include_other or not options:
        # One branch for everything else, so the facts the gates read stay the likely draws.
        options.append(st.one_of(study_sessions(), surveys()))
    return st.one_of(*options)


def _coverage_reports(names: list[str], rates: list[Fraction]) -> st.SearchStrategy[Milestone]:
    @st.composite
    def report(draw: st.DrawFn) -> Milestone:
        name = draw(st.sampled_from(names))
        rate = draw(st.sampled_from(rates))
        total = draw(st.integers(1, 40))
        at = min(total, -((-total * rate.numerator) // rate.denominator))
        done = draw(st.sampled_from(sorted({at, max(0, at - 1), total})))
        return Milestone(name=name, done=done, total=total)

    return report()
