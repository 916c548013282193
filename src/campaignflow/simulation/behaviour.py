"""Behaviour models: how each simulated unit studies, files, is assessed and approved — seeded.

Every unit draws from its own random stream, so a unit's story never depends on the order
units are processed in, on other units, on the process or on ``PYTHONHASHSEED``. Exact mode
uses :func:`unit_stream` (a stdlib ``random.Random`` seeded by SHA-256 of ``(seed, purpose,
unit id)``, never Python's ``hash()``); fast mode may use numpy generators instead, and must
then reproduce the *distributions* documented here, draw by draw:

``randint(u, (lo, hi))`` is ``lo + floor(u * (hi - lo + 1))`` for a uniform ``u`` in [0, 1).

Per unit, once, from the ``"behaviour"`` stream, in this order (:func:`draw_unit`):

1. ``u_late``: the unit cannot start with its batch when ``u_late < late_start.share``
   (applied only if a later batch exists; the unit is deferred to the next batch).
2. ``u_hours``: weekly study hours ``h = round2(lo + u_hours * (hi - lo))`` with
   ``round2(x) = round(x * 2) / 2`` (half hours); guided hours ``g = round2(h * guided_share)``.
3. ``members`` draws ``u_i``: mobile members ``m = #{i : u_i < mobile_members.share}``
   (a Binomial(members, share)).

Per unit, once, from its own ``"retired"`` stream, only when ``retired_members.share > 0``
(so the ``"behaviour"`` stream's draws do not depend on it): ``members`` draws ``u_i``,
retired or frail members ``r = #{i : u_i < retired_members.share}`` (a Binomial(members,
share)), and the home-visit delay ``d = ceil(r / retired_members.home_visits_per_day)``
(0 when ``r = 0``).

Per stage visit (:func:`draw_visit`), five draws in this order: working length
``L = randint(u, stage_days[stage])``, make-up delay ``randint(u, makeup_delay_days)``,
``u_troubled``, ``u_dissatisfied``, approval delay ``randint(u, approval_delay_days)``.
A return visit after make-up draws the same five, with ``reassess_days`` for ``L``. A remedial
visit draws one: ``randint(u, remedial_days)``.

Starting (both modes, in the simulator's day loop): on the day a batch opens, its late units
are deferred first, then every waiting unit of it fires ``start`` (as the system). A unit whose
start gate does not hold is tried again every following day, after that day's events, up to
and including the last day of its batch window; one still waiting at the end of that day is
deferred by the leading group to the next batch when its batch is one of the late-start
batches and a next batch exists (and tried again with that batch: at its opening, or the next
day if it is already open), else it stays pending, never started.

What a unit does in a stage follows from the gates of the workflow (:func:`stage_needs`),
relative to the day ``E`` it entered the stage:

- ``min_study_hours`` / ``min_guided_hours``: every 7 days (E+7+d, E+14+d, …) while in the
  stage, a guided session of ``g`` hours and an unguided one of ``h - g`` (each only if > 0):
  a week's study counts once it has been brought to the retired and frail members' homes,
  ``d`` days after the week ends.
- ``milestones_done(names)``: the k-th of n names (1-based, in the order written) on day
  ``E + max(1, ceil(L * k / n))``.
- ``coverage_at_least(milestone)``: on ``E + max(1, ceil(L / 2))`` a report of
  ``members - m`` done out of ``members``; when ``m > 0``, the full report ``members`` of
  ``members`` a make-up delay later (mobile members make up when they come home).
- a survey gate (``satisfaction_rate_at_least``, ``dissatisfied_rate_at_most``,
  ``survey_recorded``): the superior organisation's assessment on ``E + L`` (see
  :func:`survey_for`); if the unit may then move (its make-up transition), it moves that day.
- ``approved_by(role)``: the role's approval on ``E + L + approval delay``, and the unit
  applies to move (``advance``) that day. Without survey and approval gates it applies on
  ``E + L``.
- A refused application whose failing gates are all time gates (``days_in_stage.too_few``,
  ``concentrated_days.too_few``) is filed again on the day they will pass; otherwise after the
  unit's next recorded fact, or 7 days later at the latest.
- A return visit (back from make-up) records no milestones or coverage again (they count over
  every visit); it is re-assessed on ``E + L`` with ``retry_failure_rate`` and approved again.
- A remedial (补课) visit records the passing recipes of its way out's custom gates and the
  milestones it needs on ``E + R``, then applies.
- Any other gate (a custom guard): its passing recipe (the guard's ``recipe=``, see
  :meth:`~campaignflow.guards.GuardRegistry.recipe_for`) is recorded on ``E + after_days``
  when the scenario has ``[behaviour.guards.<name>] after_days = N``, else on ``E + L``
  (the day the unit applies, before it applies). A gate without a recipe is named by a
  :class:`~campaignflow.NoRecipeWarning` when the simulation starts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

import attrs

from campaignflow._public import publish
from campaignflow._words.facts import Survey
from campaignflow.guards._spec import GuardSpec
from campaignflow.simulation._scenario_models import LEVELS_3, LEVELS_4, Behaviour, SurveyModel
from campaignflow.simulation._streams import randint, stream_seed, unit_stream
from campaignflow.simulation.scenario import KIND_TITLES, generate_roster
from campaignflow.workflow import Workflow

__all__ = [
    "KIND_TITLES",
    "StageNeeds",
    "UnitDraws",
    "VisitDraws",
    "draw_unit",
    "draw_visit",
    "generate_roster",
    "randint",
    "satisfiable_leaves",
    "stage_needs",
    "stream_seed",
    "survey_for",
    "unit_stream",
]

#: Guards the simulator plays by its own behaviour models (the others play their recipes).
KNOWN_GUARDS = frozenset(
    {
        "min_study_hours",
        "min_guided_hours",
        "min_days_in_stage",
        "min_concentrated_days",
        "within_batch_window",
        "milestones_done",
        "coverage_at_least",
        "approved_by",
        "satisfaction_rate_at_least",
        "dissatisfied_rate_at_most",
        "survey_recorded",
    }
)

#: Verdict codes of gates that pass by themselves once enough days have gone by.
TIME_CODES = frozenset({"days_in_stage.too_few", "concentrated_days.too_few"})

_SURVEY_GUARDS = frozenset(
    {"satisfaction_rate_at_least", "dissatisfied_rate_at_most", "survey_recorded"}
)


def _half(x: float) -> float:
    return round(x * 2) / 2


# --- per-unit and per-visit draws -------------------------------------------------------


@attrs.frozen
class UnitDraws:
    """A unit's once-only draws: late start, weekly study hours, mobile and retired members.

    ``home_delay``: days after each week's end until its study counts (home visits to the
    ``retired`` retired and frail members).
    """

    late: bool
    hours_per_week: float
    guided_hours: float
    mobile: int
    retired: int = 0
    home_delay: int = 0


def draw_unit(
    behaviour: Behaviour,
    rng: random.Random,
    members: int,
    retired_rng: random.Random | None = None,
) -> UnitDraws:
    """Draw a unit's once-only behaviour from its ``"behaviour"`` stream (see the module doc).

    ``retired_rng`` is the unit's ``"retired"`` stream; without it (or with a zero share)
    the unit has no retired or frail members.
    """
    late = rng.random() < behaviour.late_start.share
    lo, hi = behaviour.study.hours_per_week
    hours = _half(lo + rng.random() * (hi - lo))
    guided = min(hours, _half(hours * behaviour.study.guided_share))
    share = behaviour.mobile_members.share
    mobile = sum(1 for _ in range(members) if rng.random() < share)
    retired = home_delay = 0
    model = behaviour.retired_members
    if retired_rng is not None and model.share > 0:
        retired = sum(1 for _ in range(members) if retired_rng.random() < model.share)
        home_delay = -(-retired // model.home_visits_per_day)
    return UnitDraws(
        late=late,
        hours_per_week=hours,
        guided_hours=guided,
        mobile=mobile,
        retired=retired,
        home_delay=home_delay,
    )


@attrs.frozen
class VisitDraws:
    """The draws of one stay in a stage: length, make-up delay, survey and approval delay."""

    length: int
    makeup_delay: int
    u_troubled: float
    u_dissatisfied: float
    approval_delay: int


def draw_visit(behaviour: Behaviour, rng: random.Random, span: tuple[int, int]) -> VisitDraws:
    """Five draws for a stay whose working length ranges over ``span`` (see the module doc)."""
    return VisitDraws(
        length=randint(rng.random(), span),
        makeup_delay=randint(rng.random(), behaviour.mobile_members.makeup_delay_days),
        u_troubled=rng.random(),
        u_dissatisfied=rng.random(),
        approval_delay=randint(rng.random(), behaviour.approval_delay_days),
    )


def survey_for(
    model: SurveyModel, members: int, u_troubled: float, u_dissatisfied: float, *, retry: bool
) -> Survey:
    """The ballots of one assessment of a unit with ``members`` members.

    1. troubled when ``u_troubled < p`` (``p`` = ``retry_failure_rate`` after make-up,
       else ``failure_rate``);
    2. dissatisfied share ``d = lo + u_dissatisfied * (hi - lo)`` over
       ``troubled_dissatisfied`` when troubled, else ``u_dissatisfied * 2 * levels.dissatisfied``
       (mean: the level's share), at most 1;
    3. ``n = max(min_ballots, round(members * raters_per_member))`` ballots, of which
       ``round(d * n)`` dissatisfied (Python's round, half to even);
    4. the other ballots split over the content levels in proportion to their shares, by
       largest remainder (ties to the level written first).
    """
    p = model.retry_failure_rate if retry else model.failure_rate
    if u_troubled < p:
        lo, hi = model.troubled_dissatisfied
        d = lo + u_dissatisfied * (hi - lo)
    else:
        d = u_dissatisfied * 2 * model.levels["dissatisfied"]
    d = min(1.0, d)
    n = max(model.min_ballots, round(members * model.raters_per_member))
    dissatisfied = min(n, round(d * n))
    levels = LEVELS_4 if model.scale == 4 else LEVELS_3
    content = [lvl for lvl in levels if lvl != "dissatisfied"]
    counts = _split(n - dissatisfied, [model.levels[lvl] for lvl in content])
    by_level = dict(zip(content, counts, strict=True))
    return Survey(
        satisfied=by_level["satisfied"],
        fairly_satisfied=by_level.get("fairly_satisfied"),
        basically_satisfied=by_level["basically_satisfied"],
        dissatisfied=dissatisfied,
    )


def _split(total: int, weights: Sequence[float]) -> list[int]:
    whole = math.fsum(weights)
    if whole <= 0:
        weights, whole = [1.0] * len(weights), float(len(weights))
    shares = [total * w / whole for w in weights]
    counts = [min(total, math.floor(s)) for s in shares]
    left = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: max(0, left)]:
        counts[i] += 1
    while sum(counts) > total:  # float shares may overshoot by one at the edges
        counts[counts.index(max(counts))] -= 1
    return counts


# --- what each stage asks for -----------------------------------------------------------


@attrs.frozen
class StageNeeds:
    """The facts a unit records in a stage, read from the gates of the ways out of it."""

    study: bool = False
    milestones: tuple[str, ...] = ()
    coverage: tuple[str, ...] = ()
    survey: bool = False
    approvals: tuple[str, ...] = ()
    #: Gates the simulator knows no model for (custom guards): it records their recipes.
    custom: tuple[GuardSpec, ...] = ()


def satisfiable_leaves(specs: Iterable[GuardSpec]) -> Iterable[GuardSpec]:
    """The single gates under ``specs`` a unit must meet: combinators opened, ``not`` left out."""
    for spec in specs:
        if spec.name == "not":
            continue  # a negated gate is not something to satisfy
        if spec.children:
            yield from satisfiable_leaves(spec.children)
        else:
            yield spec


def stage_needs(workflow: Workflow) -> dict[str, StageNeeds]:
    """What a unit does in each stage: the gates of every ``advance`` way out, in order.

    Only ``guards`` count (``unless`` gates are conditions not to meet); other (custom)
    guards are listed in ``custom``: the simulator records their passing recipes.
    """
    needs: dict[str, StageNeeds] = {}
    for stage in workflow.stages:
        study = survey = False
        milestones: list[str] = []
        coverage: list[str] = []
        approvals: list[str] = []
        custom: list[GuardSpec] = []
        for t in workflow.transitions:
            if t.trigger != "advance" or stage.id not in t.source:
                continue
            for spec in satisfiable_leaves(t.guards):
                params = spec.params
                if spec.name in ("min_study_hours", "min_guided_hours"):
                    study = True
                elif spec.name == "milestones_done":
                    for name in params.get("names", ()):
                        if name not in milestones:
                            milestones.append(name)
                elif spec.name == "coverage_at_least":
                    name = params.get("milestone")
                    if isinstance(name, str) and name not in coverage:
                        coverage.append(name)
                elif spec.name in _SURVEY_GUARDS:
                    survey = True
                elif spec.name == "approved_by":
                    role = params.get("role", "supervision_group")
                    if isinstance(role, str) and role not in approvals:
                        approvals.append(role)
                elif spec.name not in KNOWN_GUARDS and spec not in custom:
                    custom.append(spec)
        needs[stage.id] = StageNeeds(
            study=study,
            milestones=tuple(milestones),
            coverage=tuple(coverage),
            survey=survey,
            approvals=tuple(approvals),
            custom=tuple(custom),
        )
    return needs


publish(__name__, globals(), [n for n in __all__ if n in globals()])
