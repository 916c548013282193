"""Hypothesis strategies for campaign records, workflows and scenarios.

Every strategy generates only objects the library itself accepts (they are built through the
same constructors and loaders a host uses), and shrinks towards a small, readable example: one
unit of kind ``organ`` in batch 1, a survey of one satisfied ballot, a two-stage workflow.
Options are keyword-only; a bad option raises :class:`~campaignflow.ValidationError` at once,
never an empty strategy; the repr shows how a strategy was built::

    from hypothesis import given
    from campaignflow.testing import strategies as cfst

    @given(cfst.surveys(scale=4, satisfied_rate=(0.0, 0.59)))
    def test_low_satisfaction_is_refused(survey): ...
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, TypeVar

from hypothesis import strategies as st

from campaignflow._validators import field_error
from campaignflow.errors import ValidationError
from campaignflow.guards._core import GuardSpec
from campaignflow.model import Actor, Approval, Milestone, StudySession, Survey, Unit
from campaignflow.workflow import Workflow

__all__ = [
    "KINDS",
    "ROLES",
    "actors",
    "approvals",
    "facts_for",
    "guard_specs",
    "milestones",
    "rosters",
    "scenarios",
    "study_sessions",
    "surveys",
    "units",
    "workflow_dicts",
    "workflows",
]

T = TypeVar("T")

#: Unit kinds of the domain (shared/domain.md), the first being what examples shrink to.
KINDS: tuple[str, ...] = (
    "organ",
    "community",
    "school",
    "enterprise",
    "village",
    "closed_enterprise",
)

#: Roles of the domain, in the order examples shrink through them.
ROLES: tuple[str, ...] = (
    "branch_committee",
    "supervision_group",
    "superior_org",
    "leading_group",
    "unit_head",
    "leader_contact_point",
)

_NAMES = ("区财政局机关党支部", "东城社区党支部", "实验小学党支部", "机械厂党支部", "王庄村党支部")
_ID_CHARS = string.ascii_lowercase + string.digits + "-"


def _named(name: str) -> Callable[[Callable[..., T]], Callable[..., st.SearchStrategy[T]]]:
    # Composite strategies print as their function's name with the arguments given: name the
    # private implementation after the public factory so reprs read ``units(batches=(1, 2))``.
    def wrap(func: Callable[..., T]) -> Callable[..., st.SearchStrategy[T]]:
        func.__name__ = name
        func.__qualname__ = name
        return st.composite(func)

    return wrap


def _problem(name: str, rule: str, value: object) -> ValidationError:
    return field_error(name, value, rule)


def _choices(name: str, value: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise _problem(name, "must be a list of ids", value)
    items = tuple(value)
    if not items and not allow_empty:
        raise _problem(name, "must list at least one id", value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise _problem(name, "every entry must be non-empty text", value)
    return items


def _size(name: str, size: object) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        low, high = size, size
    elif (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    ):
        low, high = size
    else:
        raise _problem(name, "must be a whole number or a (min, max) pair", size)
    if not 0 <= low <= high:
        raise _problem(name, "must satisfy 0 <= min <= max", size)
    return low, high


def _rate_bounds(value: object) -> tuple[Fraction, Fraction] | None:
    if value is None:
        return None
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in pair
    ):
        raise _problem(
            "surveys: satisfied_rate", "must be a share 0..1 or a (low, high) pair of shares", value
        )
    low, high = (Fraction(repr(v)) for v in pair)
    if low > high:
        raise _problem("surveys: satisfied_rate", "low must not exceed high", value)
    if _simplest_between(low, high).denominator > _MAX_BALLOTS:
        raise ValidationError(
            code="testing.no_survey_in_rate",
            params={"ballots": _MAX_BALLOTS, "value": repr(value)},
        )
    return low, high


#: The most ballots a survey drawn to hit an exact rate may need.
_MAX_BALLOTS = 10**9


def _simplest_between(low: Fraction, high: Fraction) -> Fraction:
    """The fraction with the smallest denominator in [low, high] (Stern-Brocot descent)."""
    if low.denominator == 1 or low.numerator == 0:
        return low
    floor = low.numerator // low.denominator
    if Fraction(floor + 1) <= high:
        return Fraction(floor + 1)
    # Both lie in (floor, floor + 1): recurse on the reciprocals of the fractional parts.
    inner = _simplest_between(1 / (high - floor), 1 / (low - floor))
    return floor + 1 / inner


# --- units, rosters, actors -------------------------------------------------------------


def _unit_ids() -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, tail: head + tail,
        st.sampled_from("uabc"),
        st.text(_ID_CHARS, min_size=0, max_size=8),
    )


def units(
    *,
    kinds: Sequence[str] = KINDS,
    batches: Sequence[int] = (1, 2, 3),
    ids: st.SearchStrategy[str] | None = None,
    members: tuple[int, int] = (0, 60),
    parents: Sequence[str] = (),
) -> st.SearchStrategy[Unit]:
    """Valid :class:`~campaignflow.Unit` records.

    Args:
        kinds: unit kinds to draw from (shrinks to the first).
        batches: batch numbers to draw from (shrinks to the first).
        ids: a strategy for ids (default: short lowercase keys like ``u-01``).
        members: the (min, max) member count (20–41 is typical for a branch).
        parents: organisation ids a unit may name as its parent (none: no parent).
    """
    kinds_ = _choices("units: kinds", kinds)
    if isinstance(batches, str) or not batches:
        raise _problem("units: batches", "must list at least one batch number", batches)
    batches_ = tuple(batches)
    for b in batches_:
        if not isinstance(b, int) or isinstance(b, bool) or b < 1:
            raise _problem("units: batches", "every batch must be a whole number >= 1", batches)
    low, high = _size("units: members", members)
    parents_ = _choices("units: parents", parents, allow_empty=True)
    return _units(
        kinds=kinds_,
        batches=batches_,
        ids=ids if ids is not None else _unit_ids(),
        members=(low, high),
        parents=parents_,
    )


@_named("units")
def _units(
    draw: st.DrawFn,
    *,
    kinds: tuple[str, ...],
    batches: tuple[int, ...],
    ids: st.SearchStrategy[str],
    members: tuple[int, int],
    parents: tuple[str, ...],
) -> Unit:
    parent = draw(st.none() | st.sampled_from(parents)) if parents else None
    return Unit(
        id=draw(ids),
        name=draw(st.sampled_from(_NAMES)),
        kind=draw(st.sampled_from(kinds)),
        batch=draw(st.sampled_from(batches)),
        members=draw(st.integers(*members)),
        parent=parent,
    )


def rosters(
    *,
    kinds: Sequence[str] = KINDS,
    size: int | tuple[int, int] = (1, 20),
    batches: Sequence[int] = (1, 2, 3),
    members: tuple[int, int] = (0, 60),
) -> st.SearchStrategy[list[Unit]]:
    """Lists of units with distinct ids, as ``Campaign.add_units`` takes them.

    Args:
        kinds: unit kinds to draw from.
        size: how many units: a number or a (min, max) pair (shrinks to min).
        batches: batch numbers to draw from.
        members: the (min, max) member count of each unit.
    """
    low, high = _size("rosters: size", size)
    return st.lists(
        units(kinds=kinds, batches=batches, members=members),
        min_size=low,
        max_size=high,
        unique_by=lambda u: u.id,
    )


def actors(
    *,
    roles: Sequence[str] = ROLES,
    units: Sequence[str] = (),
    min_roles: int = 0,
) -> st.SearchStrategy[Actor]:
    """Valid :class:`~campaignflow.Actor` records holding some of ``roles``.

    Args:
        roles: roles to draw from (an actor holds a subset; shrinks to none or the first).
        units: unit ids the actor may belong to (none: outside every unit).
        min_roles: the fewest roles an actor holds.
    """
    roles_ = _choices("actors: roles", roles)
    units_ = _choices("actors: units", units, allow_empty=True)
    if isinstance(min_roles, bool) or not isinstance(min_roles, int):
        raise _problem("actors: min_roles", "must be a whole number", min_roles)
    if not 0 <= min_roles <= len(roles_):
        raise ValidationError(
            code="validation.whole_number",
            params={
                "field": "actors: min_roles",
                "minimum": 0,
                "maximum": len(roles_),
                "value": repr(min_roles),
            },
        )
    return _actors(roles=roles_, units=units_, min_roles=min_roles)


@_named("actors")
def _actors(
    draw: st.DrawFn, *, roles: tuple[str, ...], units: tuple[str, ...], min_roles: int
) -> Actor:
    held = draw(st.lists(st.sampled_from(roles), min_size=min_roles, unique=True))
    while len(held) < min_roles:  # unique draws from a small pool can fall short
        held.append(next(r for r in roles if r not in held))
    unit = draw(st.none() | st.sampled_from(units)) if units else None
    return Actor(
        id=draw(st.sampled_from(("zhang", "li", "wang"))), roles=frozenset(held), unit=unit
    )


# --- facts ------------------------------------------------------------------------------


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
        raise _problem("study_sessions: max_hours", "must be a number from 0 to 1000", max_hours)
    if guided is not None and not isinstance(guided, bool):
        raise _problem("study_sessions: guided", "must be True, False or None", guided)
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
        raise _problem("surveys: scale", "must be 3, 4 or None", scale)
    _rate_bounds(satisfied_rate)
    if isinstance(max_ballots, bool) or not isinstance(max_ballots, int) or max_ballots < 1:
        raise _problem("surveys: max_ballots", "must be a whole number >= 1", max_ballots)
    return _surveys(scale=scale, satisfied_rate=satisfied_rate, max_ballots=max_ballots)


@_named("surveys")
def _surveys(
    draw: st.DrawFn,
    *,
    scale: int | None,
    satisfied_rate: float | tuple[float, float] | None,
    max_ballots: int,
) -> Survey:
    bounds = _rate_bounds(satisfied_rate)
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
            rate = _simplest_between(low, high)
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
    names_ = _choices("milestones: names", names)
    if isinstance(max_total, bool) or not isinstance(max_total, int) or max_total < 0:
        raise _problem("milestones: max_total", "must be a whole number >= 0", max_total)
    return _milestones(names=names_, coverage=coverage, max_total=max_total)


@_named("milestones")
def _milestones(
    draw: st.DrawFn, *, names: tuple[str, ...], coverage: bool | None, max_total: int
) -> Milestone:
    name = draw(st.sampled_from(names))
    counted = draw(st.booleans()) if coverage is None else coverage
    if not counted:
        return Milestone(name)
    total = draw(st.integers(0, max_total))
    return Milestone(name, done=total - draw(st.integers(0, total)), total=total)


def approvals(
    *, roles: Sequence[str] = ("supervision_group",), rejected: bool | None = None
) -> st.SearchStrategy[Approval]:
    """Valid :class:`~campaignflow.Approval` facts by one of ``roles``.

    ``rejected``: only refusals (True), only approvals (False), or either (None).
    """
    roles_ = _choices("approvals: roles", roles)
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
        from campaignflow.presets import district_2005

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
        return Milestone(name, done=done, total=total)

    return report()


# --- workflows --------------------------------------------------------------------------

_BUILTIN_SPECS: list[st.SearchStrategy[dict[str, Any]]] = [
    st.builds(lambda h: {"guard": "min_study_hours", "hours": h}, st.integers(0, 80)),
    st.builds(
        lambda h: {"guard": "min_guided_hours", "hours": h},
        st.floats(0, 40).map(lambda x: round(x, 1)),
    ),
    st.builds(lambda d: {"guard": "min_days_in_stage", "days": d}, st.integers(0, 60)),
    st.builds(lambda d: {"guard": "min_concentrated_days", "days": d}, st.integers(0, 120)),
    st.just({"guard": "within_batch_window"}),
    st.just({"guard": "survey_recorded"}),
    st.builds(
        lambda names: {"guard": "milestones_done", "names": names},
        st.lists(
            st.sampled_from(["plan", "meeting", "report", "filing"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),
    st.builds(
        lambda m, r: {"guard": "coverage_at_least", "milestone": m, "rate": r},
        st.sampled_from(["talks", "reports"]),
        st.sampled_from([0.5, 0.9, 0.95, 1.0]),
    ),
    st.builds(
        lambda r: {"guard": "approved_by", "role": r},
        st.sampled_from(["supervision_group", "leading_group"]),
    ),
    st.builds(
        lambda r: {"guard": "satisfaction_rate_at_least", "rate": r},
        st.sampled_from([0.5, 0.6, 0.7]),
    ),
    st.builds(
        lambda r: {"guard": "dissatisfied_rate_at_most", "rate": r}, st.sampled_from([0.3, 0.5])
    ),
]


def guard_specs(*, max_leaves: int = 5) -> st.SearchStrategy[dict[str, Any]]:
    """Guard specs as workflow files write them: built-in guards nested in all_of/any_of/not.

    Shrinks to ``{"guard": "min_study_hours", "hours": 0}``.
    """
    if isinstance(max_leaves, bool) or not isinstance(max_leaves, int) or max_leaves < 1:
        raise _problem("guard_specs: max_leaves", "must be a whole number >= 1", max_leaves)
    leaves = st.one_of(*_BUILTIN_SPECS)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all_of": xs}),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any_of": xs}),
            children.map(lambda x: {"not": x}),
        ),
        max_leaves=max_leaves,
    )


def workflow_dicts(
    *, max_stages: int = 7, guards: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid workflow definitions as plain data (what a TOML or JSON file holds).

    A chain of stages from the initial one to a final one, with optional guards, ``unless``
    gates, role restrictions, remedial loops, extra edges, batches and fact roles. Shrinks to
    two stages joined by one unguarded transition.

    Args:
        max_stages: the longest chain (at least 2).
        guards: draw guards on transitions (False: every transition is unguarded).
    """
    if isinstance(max_stages, bool) or not isinstance(max_stages, int) or max_stages < 2:
        raise _problem("workflow_dicts: max_stages", "must be a whole number >= 2", max_stages)
    return _workflow_dicts(max_stages=max_stages, guards=guards)


@_named("workflow_dicts")
def _workflow_dicts(draw: st.DrawFn, *, max_stages: int, guards: bool) -> dict[str, Any]:
    specs = guard_specs()
    n = draw(st.integers(2, max_stages))
    ids = [f"s{i}" for i in range(n)]
    stages: list[dict[str, Any]] = []
    for i, sid in enumerate(ids):
        kind = "final" if i == n - 1 else ("waiting" if i == 0 and draw(st.booleans()) else "stage")
        stage: dict[str, Any] = {"id": sid, "kind": kind}
        if draw(st.booleans()):
            stage["title"] = draw(st.sampled_from(["学习动员", "分析评议", "整改提高", "准备"]))
        stages.append(stage)
    transitions: list[dict[str, Any]] = []
    for i in range(n - 1):
        t: dict[str, Any] = {"source": ids[i], "dest": ids[i + 1]}
        if i == 0 and stages[0]["kind"] == "waiting":
            t["trigger"] = "start"
        if guards:
            chosen = draw(st.lists(specs, max_size=3))
            if chosen:
                t["guards"] = chosen
            unless = draw(st.lists(specs, max_size=1))
            if unless:
                t["unless"] = unless
        if draw(st.integers(0, 4)) == 4:
            t["by"] = draw(
                st.lists(st.sampled_from(["leading_group", "unit_head"]), min_size=1, unique=True)
            )
        transitions.append(t)
    # Remedial loops (补课) for some working stages.
    for i in range(n - 1):
        if stages[i]["kind"] == "stage" and draw(st.integers(0, 3)) == 3:
            rid = f"{ids[i]}_remedial"
            stages.append({"id": rid, "kind": "remedial", "remedial_of": ids[i]})
            transitions.append(
                {"source": ids[i], "dest": rid, "guards": [{"guard": "survey_recorded"}]}
            )
            transitions.append(
                {
                    "source": rid,
                    "dest": ids[i],
                    "guards": [{"guard": "milestones_done", "names": ["remedial_completed"]}],
                }
            )
    # Extra edges, forwards or backwards, from any stage but the final one.
    extra = draw(st.lists(st.tuples(st.integers(0, n - 2), st.integers(0, n - 1)), max_size=3))
    for a, b in extra:
        transitions.append(
            {
                "source": ids[a],
                "dest": ids[b],
                "trigger": draw(st.sampled_from(["advance", "skip_ahead"])),
            }
        )
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": draw(st.sampled_from(["wf", "district_variant", "campaign_2013"])),
        "version": draw(st.sampled_from(["1", "2013.2"])),
        "initial": ids[0],
        "stages": stages,
        "transitions": transitions,
    }
    if draw(st.booleans()):
        data["batches"] = [
            {"number": 1, "opens": "2005-01-01", "closes": "2005-06-30"},
            {"number": 2, "opens": "2005-07-01", "closes": "2005-12-31"},
        ]
    if draw(st.booleans()):
        data["fact_roles"] = {"survey": "superior_org"}
    return data


def workflows(*, max_stages: int = 7, guards: bool = True) -> st.SearchStrategy[Workflow]:
    """Random valid :class:`~campaignflow.Workflow` objects (loaded by ``Workflow.from_dict``).

    Shrinks to the smallest workflow: ``s0`` → ``s1`` (final), one unguarded transition.
    Options as for :func:`workflow_dicts`.
    """
    return workflow_dicts(max_stages=max_stages, guards=guards).map(Workflow.from_dict)


# --- scenarios --------------------------------------------------------------------------


def scenarios(
    *,
    workflow: str = "district_2005",
    max_units: int = 12,
    start: date = date(2005, 1, 1),
) -> st.SearchStrategy[Any]:
    """Valid :class:`campaignflow.simulation.Scenario` objects, small enough to simulate.

    Batches follow the workflow's (three half-year windows for the 2005 presets), the roster
    is generated from counts per kind, and the behaviour models are drawn within the ranges
    the scenario format accepts. Shrinks to one organ in batch 1 with default behaviour.

    Args:
        workflow: a preset name or a workflow file path (as a scenario names it).
        max_units: the most units in the roster.
        start: the scenario's first day (batch windows are laid out from it).
    """
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise _problem("scenarios: max_units", "must be a whole number >= 1", max_units)
    if not isinstance(workflow, str) or not workflow:
        raise _problem("scenarios: workflow", "must be a preset name or a file path", workflow)
    return _scenarios(workflow=workflow, max_units=max_units, start=start)


@_named("scenarios")
def _scenarios(draw: st.DrawFn, *, workflow: str, max_units: int, start: date) -> Any:
    from campaignflow.simulation import Scenario

    n_batches = draw(st.integers(1, 3))
    kinds_by_batch = [["organ"], ["community", "school", "enterprise"], ["village"]]
    batches: list[dict[str, Any]] = []
    for i in range(n_batches):
        opens = start + timedelta(days=182 * i)
        batches.append(
            {
                "number": i + 1,
                "opens": opens.isoformat(),
                "closes": (opens + timedelta(days=180)).isoformat(),
                "kinds": kinds_by_batch[i],
            }
        )
    allowed = [k for b in batches for k in b["kinds"]]
    counts = draw(st.dictionaries(st.sampled_from(allowed), st.integers(0, max_units), min_size=1))
    if sum(counts.values()) > max_units or not any(counts.values()):
        counts = {next(iter(counts)): 1}
    low = draw(st.integers(1, 40))
    behaviour: dict[str, Any] = {}
    if draw(st.booleans()):
        hours_low = draw(st.floats(0, 20).map(lambda x: round(x, 1)))
        behaviour["study"] = {
            "hours_per_week": [hours_low, hours_low + draw(st.integers(0, 10))],
            "guided_share": draw(st.sampled_from([0.0, 0.5, 0.6, 1.0])),
        }
    if draw(st.booleans()):
        behaviour["survey"] = {
            "failure_rate": draw(st.sampled_from([0.0, 0.02, 0.1, 0.5, 1.0])),
            "retry_failure_rate": draw(st.sampled_from([0.0, 0.005, 0.1])),
        }
    if draw(st.booleans()):
        delay = draw(st.integers(0, 20))
        behaviour["approval_delay_days"] = [delay, delay + draw(st.integers(0, 10))]
    if n_batches > 1 and draw(st.booleans()):
        behaviour["late_start"] = {"share": draw(st.sampled_from([0.0, 0.1, 0.5]))}
    data: dict[str, Any] = {
        "name": draw(st.sampled_from(["district", "pilot", "batch-two"])),
        "seed": draw(st.integers(0, 2**32)),
        "workflow": workflow,
        "start": start.isoformat(),
        "batches": batches,
        "roster": {
            "counts": counts,
            "members": {
                "distribution": "uniform",
                "min": low,
                "max": low + draw(st.integers(0, 20)),
            },
        },
        "behaviour": behaviour,
    }
    if workflow == "district_2005" and draw(st.booleans()):
        data["workflow_overrides"] = {
            "satisfaction_rate_at_least": {"rate": draw(st.sampled_from([0.5, 0.6, 0.7]))}
        }
    return Scenario.from_dict(data, source="<scenarios()>")
