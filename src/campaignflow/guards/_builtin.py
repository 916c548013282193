"""The built-in guards: one per rule of the default policy (docs/presets.md).

Each is a plain function registered under its name; the numbers are params so presets and
workflow files can change them (the minimums are local policy, not law). The threshold
guards (a measured number against a minimum or maximum) are built by one factory,
``_threshold``, from a measure that keeps the guard's name, params and docstring.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Concatenate, ParamSpec

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow._words.verdicts import Verdict
from campaignflow.guards._builtin_recipes import recipe_of
from campaignflow.guards._context import GuardContext
from campaignflow.guards._earliest import Earliest, EarliestFn, waits_for
from campaignflow.guards._registry import ParamCheck, guard

__all__ = [
    "approved_by",
    "coverage_at_least",
    "dissatisfied_rate_at_most",
    "milestones_done",
    "min_concentrated_days",
    "min_days_in_stage",
    "min_guided_hours",
    "min_study_hours",
    "satisfaction_rate_at_least",
    "survey_recorded",
    "within_batch_window",
]


def _non_negative(*names: str) -> Any:
    def check(params: Mapping[str, Any]) -> Iterable[str]:
        for name in names:
            if name in params and params[name] < 0:
                yield f"{name}: must be >= 0, got {params[name]!r}"
            elif name in params and params[name] > _PARAM_MAX:
                yield f"{name}: must be at most {_PARAM_MAX:,}, got {params[name]!r}"

    return check


#: No minimum of hours or days in any campaign comes near this; larger numbers are mistakes.
_PARAM_MAX = 1_000_000


def _share(*names: str) -> Any:
    def check(params: Mapping[str, Any]) -> Iterable[str]:
        for name in names:
            if name in params and not 0 <= params[name] <= 1:
                yield f"{name}: must be a share between 0 and 1, got {params[name]!r}"

    return check


@functools.lru_cache(maxsize=256)
def exact_rate(rate: float) -> tuple[int, int]:
    """``rate`` as the fraction written, ``(p, q)``: 0.6 is ``(3, 5)``, not 0.59999....

    So a share exactly on the boundary passes. Remembered: a campaign uses a handful of rates.
    """
    fraction = Fraction(repr(rate))
    return fraction.numerator, fraction.denominator


def _at_least(num: int, den: int, rate: float) -> bool:
    """``num / den >= rate`` exactly, for ``den > 0``."""
    p, q = exact_rate(rate)
    return num * q >= den * p


def _at_most(num: int, den: int, rate: float) -> bool:
    """``num / den <= rate`` exactly, for ``den > 0``."""
    p, q = exact_rate(rate)
    return num * q <= den * p


P = ParamSpec("P")


#: What a threshold guard measured: ``(passed, params)``, whether it holds (None when there
#: is nothing to measure yet: no survey, no report) and the numbers its verdict shows. A
#: plain tuple: a named one costs a third of a guard's judgement, on every advance.
_Reading = tuple[bool | None, dict[str, Any]]


def _threshold(
    *,
    codes: tuple[str, str],
    missing: str = "",
    check: ParamCheck | None = None,
    earliest: EarliestFn,
) -> Callable[
    [Callable[Concatenate[GuardContext, P], _Reading]],
    Callable[Concatenate[GuardContext, P], Verdict],
]:
    """The one factory of threshold guards: register the decorated measure's name as a guard
    judged by it.

    The measure, written with the guard's own params and docstring, reads the facts and
    compares them with its threshold (a ``_Reading``); the guard built from it gives the
    verdict: code ``codes[0]`` when it holds, ``codes[1]`` when not, ``missing`` when there
    was nothing to measure; ``earliest`` declares its dates (see :class:`Earliest`). The
    guard keeps the measure's name, docstring and params (which it takes by keyword only;
    the measure takes them by position, the cheaper call), so the
    registry checks them as for any guard.
    """
    holds, short = codes

    def build(
        measure: Callable[Concatenate[GuardContext, P], _Reading],
    ) -> Callable[Concatenate[GuardContext, P], Verdict]:
        name = measure.__name__
        measured = inspect.signature(measure)

        def bind(params: Mapping[str, Any]) -> Callable[[GuardContext], Verdict]:
            # Judging is on every advance's path: the params are matched to the measure's
            # once, here (a TypeError for a wrong one, as calling it would raise), and each
            # judgement passes them by position, in the one call it costs.
            try:
                arguments = measured.bind(None, **params)
            except TypeError as exc:
                raise TypeError(f"{name}() {exc}") from None
            arguments.apply_defaults()
            values = arguments.args[1:]
            measure_by_position: Callable[..., _Reading] = measure

            def bound(ctx: GuardContext) -> Verdict:
                passed, shown = measure_by_position(ctx, *values)
                if passed is None:
                    return Verdict(guard=name, passed=False, code=missing, params=shown)
                code = holds if passed else short
                return Verdict(guard=name, passed=passed, code=code, params=shown)

            return bound

        @functools.wraps(measure)
        def judge(ctx: GuardContext, /, *args: P.args, **params: P.kwargs) -> Verdict:
            if args:
                raise TypeError(f"{name}() takes its params by keyword, got {args!r}")
            return bind(params)(ctx)

        judge.__campaignflow_bind__ = bind  # type: ignore[attr-defined]
        # The guard's own face: the measure's params, keyword-only, and a Verdict returned.
        ctx_param, *rest = measured.parameters.values()
        judge.__signature__ = measured.replace(  # type: ignore[attr-defined]
            parameters=[ctx_param, *(p.replace(kind=p.KEYWORD_ONLY) for p in rest)],
            return_annotation="Verdict",
        )
        judge.__annotations__ = {**measure.__annotations__, "return": "Verdict"}
        # The measure takes its params by position, the guard by keyword only: a tool that
        # unwraps to the measure's source (Sphinx's preserved defaults) would pair the two
        # wrongly, so the guard is not marked as wrapping it.
        del judge.__wrapped__
        return guard(name, check=check, recipe=recipe_of(name), earliest=earliest)(judge)

    return build


def _from(start: date | None, days: Any, passed: bool) -> Earliest:
    """Passing from ``start + days`` on; with no start, the count stays what it is today."""
    if start is None:
        return Earliest.always() if passed else Earliest.never()
    try:
        return Earliest.on_and_after(start + timedelta(days=days))
    except OverflowError:  # past the calendar's end: no date reaches it
        return Earliest.never()


def _stage_days_from(ctx: GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
    # Without a stage start, days_in_stage reads 0 whatever the date.
    return _from(ctx.state.stage_since, params.get("days", 30), passed)


def _concentrated_from(ctx: GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
    # Not started: days_since_start reads 0 and the gate fails until a transition starts it.
    if ctx.state.started_on is None:
        return Earliest.never()
    return _from(ctx.state.started_on, params.get("days", 90), passed)


def _window_dates(ctx: GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
    window = ctx.batch_window
    if window is None:
        return Earliest.never()
    return Earliest.between(window.opens, window.closes)


def _hours(ctx: GuardContext, required: float, *, guided_only: bool) -> _Reading:
    """Whether the stage's study sessions (the guided ones only, or all) add up to ``required``."""
    actual = math.fsum(s.hours for s in ctx.facts(StudySession) if s.guided or not guided_only)
    return (actual >= required, {"actual": actual, "required": required})


@_threshold(
    codes=("study_hours.sufficient", "study_hours.insufficient"),
    check=_non_negative("hours"),
    earliest=waits_for(StudySession),
)
def min_study_hours(ctx: GuardContext, hours: float = 40) -> _Reading:
    """At least ``hours`` of study logged in the stage (学时; 40 per branch by default)."""
    return _hours(ctx, hours, guided_only=False)


@_threshold(
    codes=("guided_hours.sufficient", "guided_hours.insufficient"),
    check=_non_negative("hours"),
    earliest=waits_for(StudySession),
)
def min_guided_hours(ctx: GuardContext, hours: float = 24) -> _Reading:
    """At least ``hours`` of guided study (lectures, videos, discussion); 24 by default."""
    return _hours(ctx, hours, guided_only=True)


@_threshold(
    codes=("days_in_stage.enough", "days_in_stage.too_few"),
    check=_non_negative("days"),
    earliest=_stage_days_from,
)
def min_days_in_stage(ctx: GuardContext, days: int = 30) -> _Reading:
    """At least ``days`` since the unit first entered its stage (remedial time included)."""
    actual = ctx.days_in_stage
    return (actual >= days, {"actual": actual, "required": days, "stage": ctx.stage})


@_threshold(
    codes=("concentrated_days.enough", "concentrated_days.too_few"),
    check=_non_negative("days"),
    earliest=_concentrated_from,
)
def min_concentrated_days(ctx: GuardContext, days: int = 90) -> _Reading:
    """At least ``days`` since the unit's concentrated activity began (90 by default)."""
    actual = ctx.days_since_start
    started = ctx.state.started_on is not None
    return (started and actual >= days, {"actual": actual, "required": days})


@guard("within_batch_window", recipe=recipe_of("within_batch_window"), earliest=_window_dates)
def within_batch_window(ctx: GuardContext) -> Verdict:
    """Today falls inside the dates of the unit's batch (批次)."""
    window = ctx.batch_window
    batch = ctx.state.batch
    if window is None:
        return Verdict(
            guard="within_batch_window",
            passed=False,
            code="batch_window.undefined",
            params={"batch": batch},
        )
    passed = window.contains(ctx.today)
    return Verdict(
        "within_batch_window",
        passed,
        "batch_window.open" if passed else "batch_window.closed",
        {
            "batch": batch,
            "today": ctx.today.isoformat(),
            "opens": window.opens.isoformat(),
            "closes": window.closes.isoformat(),
        },
    )


def _names_given(params: Mapping[str, Any]) -> Iterable[str]:
    if not params.get("names"):
        yield "names: must list at least one milestone"


@guard(
    "milestones_done",
    check=_names_given,
    recipe=recipe_of("milestones_done"),
    earliest=waits_for(Milestone),
)
def milestones_done(ctx: GuardContext, *, names: tuple[str, ...]) -> Verdict:
    """Every named milestone (a document filed or published, a meeting held) is recorded."""
    done = {m.name for m in ctx.facts(Milestone)}
    missing = [n for n in names if n not in done]
    return Verdict(
        "milestones_done",
        not missing,
        "milestones.missing" if missing else "milestones.done",
        {"missing": missing, "required": list(names)},
    )


@_threshold(
    codes=("coverage.enough", "coverage.insufficient"),
    missing="coverage.missing",
    check=_share("rate"),
    earliest=waits_for(Milestone),
)
def coverage_at_least(ctx: GuardContext, milestone: str, rate: float) -> _Reading:
    """The latest report of ``milestone`` covers at least ``rate`` of members.

    Talks (谈心活动) need 0.95 by default policy; party-spirit reports need 1.0.
    """
    reports = [m for m in ctx.facts(Milestone) if m.name == milestone and m.total is not None]
    if not reports:
        return (None, {"milestone": milestone, "required": rate})
    latest = reports[-1]
    done, total = latest.done or 0, latest.total or 0
    return (
        total > 0 and _at_least(done, total, rate),
        {
            "milestone": milestone,
            "done": done,
            "total": total,
            "actual": latest.coverage,
            "required": rate,
        },
    )


@guard("approved_by", recipe=recipe_of("approved_by"), earliest=waits_for(Approval))
def approved_by(ctx: GuardContext, *, role: str = "supervision_group") -> Verdict:
    """The latest decision by ``role`` since the unit's last transition is an approval.

    The supervision group (督导组) approves stage transitions by default.
    """
    decisions = [
        r
        for r in ctx.records
        if isinstance(r.fact, Approval) and r.fact.role == role and r.version == ctx.state.version
    ]
    if not decisions:
        return Verdict(
            guard="approved_by", passed=False, code="approval.missing", params={"role": role}
        )
    latest = decisions[-1]
    fact: Approval = latest.fact
    return Verdict(
        "approved_by",
        fact.approved,
        "approval.granted" if fact.approved else "approval.refused",
        {"role": role, "by": latest.actor_id, "comment": fact.comment},
    )


@_threshold(
    codes=("satisfaction.enough", "satisfaction.too_low"),
    missing="survey.missing",
    check=_share("rate"),
    earliest=waits_for(Survey),
)
def satisfaction_rate_at_least(ctx: GuardContext, rate: float = 0.6) -> _Reading:
    """The latest assessment's satisfied rate is at least ``rate`` (0.60 in the district preset).

    Satisfied rate = (满意 + 比较满意 + 基本满意) / valid ballots.
    """
    survey = ctx.latest(Survey)
    if survey is None:
        return (None, {"required": rate})
    content = survey.valid_ballots - survey.dissatisfied
    return (
        _at_least(content, survey.valid_ballots, rate),
        {
            "actual": survey.satisfied_rate,
            "required": rate,
            "ballots": survey.valid_ballots,
            "scale": survey.scale,
        },
    )


@_threshold(
    codes=("dissatisfied.within_limit", "dissatisfied.too_many"),
    missing="survey.missing",
    check=_share("rate"),
    earliest=waits_for(Survey),
)
def dissatisfied_rate_at_most(ctx: GuardContext, rate: float = 0.5) -> _Reading:
    """The latest assessment's dissatisfied rate is at most ``rate``.

    Central rule: if the majority are dissatisfied (> 50 %), the unit must make up (补课).
    """
    survey = ctx.latest(Survey)
    if survey is None:
        return (None, {"limit": rate})
    return (
        _at_most(survey.dissatisfied, survey.valid_ballots, rate),
        {
            "actual": survey.dissatisfied_rate,
            "limit": rate,
            "ballots": survey.valid_ballots,
            "scale": survey.scale,
        },
    )


@guard("survey_recorded", recipe=recipe_of("survey_recorded"), earliest=waits_for(Survey))
def survey_recorded(ctx: GuardContext) -> Verdict:
    """An assessment was recorded since the unit's last transition.

    Pair it with ``not_(satisfaction_rate_at_least(...))`` to send a unit whose assessment
    failed to remedial make-up, and not one that has simply not been assessed yet.
    """
    survey = ctx.latest(Survey)
    if survey is None:
        return Verdict(guard="survey_recorded", passed=False, code="survey.missing", params={})
    return Verdict(
        guard="survey_recorded",
        passed=True,
        code="survey.recorded",
        params={"ballots": survey.valid_ballots},
    )
