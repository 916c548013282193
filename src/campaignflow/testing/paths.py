"""Paths through a workflow, with the facts that make every gate pass or fail.

A :class:`Step` is one candidate transition (source, trigger, dest) with a :class:`Recipe`
for each of its guards — the facts and waiting time that make it pass, and those that make
it fail — and one verified recipe that makes the step fire (every guard of the candidate
passes and every earlier candidate of the trigger fails, as checked by the engine itself).
A :class:`Path` is a list of steps from the initial stage. Everything is plain data, ready to
parametrize a pytest test::

    @pytest.mark.parametrize("path", covering_paths(wf), ids=lambda p: p.id)
    def test_every_transition(path, campaign, clock):
        walk(campaign, "u-1", path, clock=clock)

:func:`assert_covers` tells which transitions (and, optionally, which gate outcomes) a suite
never exercised, from the campaigns, audit records or transition records it produced.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from campaignflow._validators import refuse
from campaignflow.audit import AuditRecord
from campaignflow.campaign import Campaign
from campaignflow.engine import decide
from campaignflow.errors import NotAuthorized, TransitionRejected, ValidationError
from campaignflow.guards._core import GuardSpec
from campaignflow.model import (
    Actor,
    Approval,
    Decision,
    Milestone,
    StudySession,
    Survey,
    TransitionRecord,
    Unit,
)
from campaignflow.testing.guards import guard_context
from campaignflow.workflow import Workflow

__all__ = [
    "Coverage",
    "GuardCase",
    "OutcomeCase",
    "Path",
    "Recipe",
    "Step",
    "assert_covers",
    "coverage",
    "covering_paths",
    "fire",
    "fires",
    "guard_outcomes",
    "play_outcome",
    "prepare",
    "recipe",
    "shortest_paths",
    "simple_paths",
    "steps",
    "walk",
]

#: A transition as coverage counts it: (source, trigger, dest).
Edge = tuple[str, str, str]


@attrs.frozen
class Recipe:
    """What makes a gate (or a step) come out one way: facts to record and time to wait.

    ``days_in_stage``: days the unit must have spent in the stage; ``days_since_start``:
    days since its concentrated activity began; ``outside_window``: judge on a day outside
    the unit's batch window.
    """

    facts: tuple[object, ...] = ()
    days_in_stage: int = 0
    days_since_start: int = 0
    outside_window: bool = False

    def __add__(self, other: Recipe) -> Recipe:
        return Recipe(
            facts=self.facts + other.facts,
            days_in_stage=max(self.days_in_stage, other.days_in_stage),
            days_since_start=max(self.days_since_start, other.days_since_start),
            outside_window=self.outside_window or other.outside_window,
        )


#: ``recipe_for(spec, passing)``: a recipe for a guard the library does not know, or None.
RecipeHook = Callable[[GuardSpec, bool], "Recipe | None"]


@attrs.frozen
class GuardCase:
    """One guard of a step with a recipe for each outcome (None: no facts give that outcome)."""

    spec: GuardSpec
    passing: Recipe | None
    failing: Recipe | None


@attrs.frozen
class Step:
    """One candidate transition: where from, by which trigger, where to, and how to make it fire.

    ``index`` is the candidate's position among the trigger's candidates from ``source``;
    ``by`` the roles allowed to fire it; ``guards`` one :class:`GuardCase` per guard (an
    ``unless`` appears as ``not_``); ``recipe`` the verified facts that make this candidate
    fire, or None when no recipe was found (a custom guard without a hook, or a candidate
    shadowed by an earlier one that always passes).
    """

    source: str
    trigger: str
    dest: str
    index: int
    by: frozenset[str]
    guards: tuple[GuardCase, ...]
    recipe: Recipe | None

    @property
    def edge(self) -> Edge:
        """(source, trigger, dest)."""
        return (self.source, self.trigger, self.dest)

    @property
    def id(self) -> str:
        """A readable id for pytest: ``study_mobilization-advance->analysis_review``."""
        return f"{self.source}-{self.trigger}->{self.dest}"


@attrs.frozen
class Path:
    """Steps from the workflow's initial stage, each starting where the last one ended."""

    steps: tuple[Step, ...]

    @property
    def stages(self) -> tuple[str, ...]:
        """Every stage the path visits, the initial one first."""
        if not self.steps:
            return ()
        return (self.steps[0].source, *(s.dest for s in self.steps))

    @property
    def end(self) -> str | None:
        """The stage the path ends in."""
        return self.steps[-1].dest if self.steps else None

    @property
    def id(self) -> str:
        """A readable id for pytest: the stages joined by ``>`` (triggers other than advance named)."""
        if not self.steps:
            return "(empty)"
        parts = [self.steps[0].source]
        for s in self.steps:
            parts.append(s.dest if s.trigger == "advance" else f"[{s.trigger}]{s.dest}")
        return ">".join(parts)

    def __len__(self) -> int:
        return len(self.steps)


# --- recipes for the built-in guards ----------------------------------------------------


def _num(spec: GuardSpec, name: str, default: float) -> float:
    value = spec.params.get(name, default)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _sessions(hours: float) -> tuple[object, ...]:
    # One session holds at most 1,000 hours (StudySession refuses more).
    out: list[object] = []
    while hours > 1000:
        out.append(StudySession(hours=1000, guided=True))
        hours -= 1000
    out.append(StudySession(hours=hours, guided=True))
    return tuple(out)


def _builtin(spec: GuardSpec, passing: bool) -> Recipe | None:
    name = spec.name
    if name in ("min_study_hours", "min_guided_hours"):
        hours = _num(spec, "hours", 40 if name == "min_study_hours" else 24)
        if passing:
            return Recipe(_sessions(hours))
        if hours <= 0:
            return None
        below = hours - 1 if hours >= 1 else hours / 2
        return Recipe(_sessions(below) if below > 0 else ())
    if name in ("min_days_in_stage", "min_concentrated_days"):
        days = math.ceil(_num(spec, "days", 30 if name == "min_days_in_stage" else 90))
        wait = days if passing else days - 1
        if wait < 0:
            return None
        if name == "min_days_in_stage":
            return Recipe(days_in_stage=wait)
        return Recipe(days_since_start=wait)
    if name == "within_batch_window":
        return Recipe() if passing else Recipe(outside_window=True)
    if name == "survey_recorded":
        return (
            Recipe((Survey(satisfied=1, basically_satisfied=0, dissatisfied=0),))
            if passing
            else Recipe()
        )
    if name == "milestones_done":
        names = [n for n in spec.params.get("names", ()) if isinstance(n, str)]
        if passing:
            return Recipe(tuple(Milestone(n) for n in names))
        return Recipe(tuple(Milestone(n) for n in names[1:])) if names else None
    if name == "coverage_at_least":
        milestone = spec.params.get("milestone")
        if not isinstance(milestone, str):
            return None
        rate = _num(spec, "rate", 1.0)
        if passing:
            return Recipe((Milestone(milestone, done=20, total=20),))
        # Just below the rate (or an empty report when any share would do).
        done = max(0, math.ceil(rate * 20) - 1) if rate > 0 else 0
        total = 20 if rate > 0 else 0
        return Recipe((Milestone(milestone, done=done, total=total),))
    if name == "approved_by":
        role = spec.params.get("role", "supervision_group")
        if not isinstance(role, str):
            return None
        return Recipe((Approval(role=role, decision="approved" if passing else "rejected"),))
    if name == "satisfaction_rate_at_least":
        rate = _num(spec, "rate", 0.6)
        if passing:
            return Recipe((Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate <= 0:
            return None
        content = math.ceil(rate * 100) - 1
        return Recipe(
            (Survey(satisfied=content, basically_satisfied=0, dissatisfied=100 - content),)
        )
    if name == "dissatisfied_rate_at_most":
        rate = _num(spec, "rate", 0.5)
        if passing:
            return Recipe((Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate >= 1:
            return None
        bad = math.floor(rate * 100) + 1
        return Recipe((Survey(satisfied=100 - bad, basically_satisfied=0, dissatisfied=bad),))
    return None


def recipe(spec: GuardSpec, passing: bool, *, hook: RecipeHook | None = None) -> Recipe | None:
    """Facts that make ``spec`` pass (or fail), through combinators; None when unknown.

    ``hook`` answers for guards the library does not know (your own), or returns None.
    """
    if spec.name == "not":
        return recipe(spec.children[0], not passing, hook=hook)
    if spec.name in ("all_of", "any_of"):
        every = (spec.name == "all_of") == passing
        parts = [recipe(c, passing, hook=hook) for c in spec.children]
        if every:
            if any(p is None for p in parts):
                return None
            total = Recipe()
            for p in parts:
                assert p is not None
                total = total + p
            return total
        return next((p for p in parts if p is not None), None)
    found = hook(spec, passing) if hook is not None else None
    return found if found is not None else _builtin(spec, passing)


# --- steps ------------------------------------------------------------------------------

_VERIFY_UNIT = Unit(id="path-unit", name="路径单位", kind="organ", batch=1, members=20)


def _judge_day(workflow: Workflow, r: Recipe, batch: int) -> date:
    window = workflow.batch(batch)
    wait = max(r.days_in_stage, r.days_since_start)
    if window is None:
        return date(2005, 1, 1) + timedelta(days=wait)
    if r.outside_window:
        return window.closes + timedelta(days=1 + wait)
    return window.opens + timedelta(days=wait)


def fires(workflow: Workflow, step: Step, r: Recipe, *, batch: int = 1) -> bool:
    """Whether recording ``r`` in ``step.source`` makes the engine choose ``step.dest``."""
    unit = attrs.evolve(_VERIFY_UNIT, batch=batch)
    today = _judge_day(workflow, r, batch)
    ctx = guard_context(
        r.facts,
        today=today,
        days_in_stage=r.days_in_stage,
        days_since_start=r.days_since_start,
        unit=unit,
        stage=step.source,
    )
    if workflow.stage(step.source).kind == "waiting":
        ctx = attrs.evolve(ctx, state=attrs.evolve(ctx.state, started_on=None))
    decision = decide(workflow, unit, ctx.state, ctx.records, today, step.trigger, roles=None)
    chosen = next((i for i, c in enumerate(decision.candidates) if c.passed), None)
    return chosen == step.index


def _step_recipe(workflow: Workflow, step: Step) -> Recipe | None:
    passing = [g.passing for g in step.guards]
    if any(p is None for p in passing):
        return None
    base = Recipe()
    for p in passing:
        assert p is not None
        base = base + p
    candidates = workflow.candidates(step.source, step.trigger)
    # Earlier candidates must fail: add the failing recipe of one of their guards if needed.
    options = [base]
    for earlier in candidates[: step.index]:
        extended: list[Recipe] = []
        for option in options:
            for bound in earlier.guards:
                fail = recipe(bound.spec, False)
                if fail is not None:
                    extended.append(option + fail)
                    extended.append(fail + option)
        options = extended or options
    batch = workflow.batches[0].number if workflow.batches else 1
    return next((o for o in options if fires(workflow, step, o, batch=batch)), None)


def steps(workflow: Workflow, *, hook: RecipeHook | None = None) -> list[Step]:
    """Every candidate transition of ``workflow`` as a :class:`Step`, in the workflow's order."""
    found: list[Step] = []
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for index, candidate in enumerate(workflow.candidates(stage.id, trigger)):
                cases = tuple(
                    GuardCase(
                        b.spec,
                        recipe(b.spec, True, hook=hook),
                        recipe(b.spec, False, hook=hook),
                    )
                    for b in candidate.guards
                )
                draft = Step(stage.id, trigger, candidate.dest, index, candidate.by, cases, None)
                found.append(attrs.evolve(draft, recipe=_step_recipe(workflow, draft)))
    return found


def _firing(workflow: Workflow, hook: RecipeHook | None) -> dict[str, list[Step]]:
    out: dict[str, list[Step]] = {}
    for s in steps(workflow, hook=hook):
        if s.recipe is not None:
            out.setdefault(s.source, []).append(s)
    return out


def shortest_paths(workflow: Workflow, *, hook: RecipeHook | None = None) -> dict[str, Path]:
    """The shortest path (fewest steps with a recipe) to every stage reachable that way.

    The initial stage maps to the empty path.
    """
    by_source = _firing(workflow, hook)
    best: dict[str, Path] = {workflow.initial: Path(())}
    queue = deque([workflow.initial])
    while queue:
        stage = queue.popleft()
        for s in by_source.get(stage, []):
            if s.dest not in best:
                best[s.dest] = Path((*best[stage].steps, s))
                queue.append(s.dest)
    return best


def simple_paths(
    workflow: Workflow,
    *,
    to: str | None = None,
    hook: RecipeHook | None = None,
    limit: int = 10_000,
) -> list[Path]:
    """Every path from the initial stage that visits no stage twice and ends in ``to``.

    ``to`` defaults to the final stages. Stops at ``limit`` paths.
    """
    if to is not None:
        workflow.stage(to)
    by_source = _firing(workflow, hook)
    ends = {to} if to is not None else {s.id for s in workflow.stages if s.kind == "final"}
    found: list[Path] = []

    def visit(stage: str, trail: tuple[Step, ...], seen: frozenset[str]) -> None:
        if len(found) >= limit:
            return
        if stage in ends and trail:
            found.append(Path(trail))
        for s in by_source.get(stage, []):
            if s.dest not in seen:
                visit(s.dest, (*trail, s), seen | {s.dest})

    visit(workflow.initial, (), frozenset({workflow.initial}))
    return found


def covering_paths(workflow: Workflow, *, hook: RecipeHook | None = None) -> list[Path]:
    """Paths that together take every transition that facts can fire, each path a shortest way in.

    A transition no recipe fires (see :attr:`Step.recipe`) cannot be covered and is left
    out; :func:`assert_covers` lists it.
    """
    shortest = shortest_paths(workflow, hook=hook)
    chosen: list[Path] = []
    covered: set[tuple[str, str, str, int]] = set()
    for s in steps(workflow, hook=hook):
        key = (s.source, s.trigger, s.dest, s.index)
        if s.recipe is None or key in covered or s.source not in shortest:
            continue
        path = Path((*shortest[s.source].steps, s))
        chosen.append(path)
        covered.update((x.source, x.trigger, x.dest, x.index) for x in path.steps)
    return chosen


@attrs.frozen
class OutcomeCase:
    """One gate of one step with the recipe that gives ``outcome`` (pass or fail)."""

    step: Step
    guard: GuardSpec
    passed: bool
    recipe: Recipe

    @property
    def id(self) -> str:
        """A readable id for pytest."""
        return f"{self.step.id}:{self.guard!r}:{'pass' if self.passed else 'fail'}"


def guard_outcomes(workflow: Workflow, *, hook: RecipeHook | None = None) -> list[OutcomeCase]:
    """Every gate of every transition with a recipe for each outcome it can have."""
    cases: list[OutcomeCase] = []
    for s in steps(workflow, hook=hook):
        for g in s.guards:
            for passed, r in ((True, g.passing), (False, g.failing)):
                if r is not None:
                    cases.append(OutcomeCase(s, g.spec, passed, r))
    return cases


# --- playing a path on a real campaign ----------------------------------------------------


def _move(clock: Any, day: date) -> None:
    now = clock.now()
    if day > now.date():
        clock.set(datetime.combine(day, now.timetz()))


def _actor_for(workflow: Workflow, campaign: Campaign, fact: object, unit_id: str) -> Actor:
    if isinstance(fact, Approval):
        return Actor(id=f"approver-{fact.role}", roles=frozenset({fact.role}))
    kind = campaign.fact_types.name_of(fact)
    role = workflow.fact_roles.get(kind) or campaign.fact_types.role_for(kind)
    if role is not None:
        return Actor(id=f"outsider-{role}", roles=frozenset({role}))
    return Actor(id=f"clerk-{unit_id}", roles=frozenset({"branch_committee"}), unit=unit_id)


def prepare(campaign: Campaign, unit_id: str, step: Step, *, clock: Any) -> Actor:
    """Make ``step`` ready to fire on ``unit_id``: move the clock, record the recipe's facts.

    The clock (a ``SimulatedClock`` or ``FixedClock`` the campaign reads) moves into the
    unit's batch window and past the waiting time the recipe needs; surveys are recorded by
    the role the workflow reserves them for, approvals by the approving role, other facts by
    the unit's clerk. Returns an actor allowed to fire the step (holding its ``by`` roles).

    Raises:
        ValidationError: the step has no recipe, or a fact is refused as invalid.
    """
    if step.recipe is None:
        raise ValidationError(code="testing.step_no_recipe", params={"step": step.id})
    workflow = campaign.workflow
    state = campaign.state(unit_id)
    window = workflow.batch(state.batch)
    r = step.recipe
    if window is not None and not r.outside_window and clock.now().date() < window.opens:
        _move(clock, window.opens)
    since = state.stage_since or clock.now().date()
    target = since + timedelta(days=r.days_in_stage)
    if state.started_on is not None:
        target = max(target, state.started_on + timedelta(days=r.days_since_start))
    _move(clock, target)
    if r.outside_window and window is not None:
        _move(clock, window.closes + timedelta(days=1))
    for fact in r.facts:
        actor = _actor_for(workflow, campaign, fact, unit_id)
        if isinstance(fact, Approval):
            campaign.approve(unit_id, actor=actor, role=fact.role, decision=fact.decision)
        else:
            campaign.record(unit_id, fact, actor=actor)
    return Actor(
        id="mover", roles=frozenset(step.by) if step.by else frozenset({"branch_committee"})
    )


def fire(campaign: Campaign, unit_id: str, step: Step, *, actor: Actor) -> TransitionRecord:
    """Fire ``step``'s trigger on ``unit_id`` (``defer`` to the next batch) as ``actor``.

    Raises:
        TransitionRejected, NotAuthorized, ValidationError: as the campaign's commands do.
    """
    if step.trigger == "defer":
        batch = campaign.state(unit_id).batch
        later = [b.number for b in campaign.workflow.batches if b.number > batch]
        return campaign.defer(unit_id, actor=actor, to_batch=min(later) if later else None)
    return campaign.advance(unit_id, actor=actor, trigger=step.trigger)


def walk(
    campaign: Campaign, unit_id: str, path: Path | Sequence[Step], *, clock: Any
) -> list[TransitionRecord]:
    """Play ``path`` on ``unit_id`` through the real campaign; returns the transition records.

    Each step is :func:`prepare`-d (clock moved, facts recorded) then :func:`fire`-d.

    Raises:
        AssertionError: a step did not go where the path says, with the decision explained.
    """
    done: list[TransitionRecord] = []
    for s in path.steps if isinstance(path, Path) else path:
        state = campaign.state(unit_id)
        assert state.stage == s.source, (
            f"walk: unit {unit_id!r} is in {state.stage!r}, not {s.source!r}"
        )
        mover = prepare(campaign, unit_id, s, clock=clock)
        try:
            record = fire(campaign, unit_id, s, actor=mover)
        except TransitionRejected as refused:
            raise AssertionError(
                f"walk: step {s.id} was refused:\n{refused.decision.explain('en')}"
            ) from None
        assert record.dest == s.dest, f"walk: step {s.id} went to {record.dest!r}"
        done.append(record)
    return done


def play_outcome(campaign: Campaign, unit_id: str, case: OutcomeCase, *, clock: Any) -> Decision:
    """Walk ``unit_id`` to the case's stage, record the case's recipe, and try the step.

    The attempt is a real command: applied or refused, its decision (with this gate's
    verdict) lands in the audit trail, where :func:`assert_covers` with ``outcomes=True``
    finds it. Returns the decision the campaign judged just before the attempt.
    """
    way = shortest_paths(campaign.workflow).get(case.step.source)
    if way is None:
        raise ValidationError(code="testing.no_path", params={"source": repr(case.step.source)})
    walk(campaign, unit_id, way, clock=clock)
    step = attrs.evolve(case.step, recipe=case.recipe)
    actor = prepare(campaign, unit_id, step, clock=clock)
    decision = campaign.check(unit_id, step.trigger, actor=actor)
    # A refusal is an outcome too: its decision is audited like an applied move's.
    with contextlib.suppress(TransitionRejected, NotAuthorized):
        fire(campaign, unit_id, step, actor=actor)
    return decision


# --- coverage ---------------------------------------------------------------------------


@attrs.frozen
class Coverage:
    """Which transitions (and gate outcomes) a set of runs exercised, and which it never did.

    Gate outcomes are keyed ``(source, trigger, dest, guard_index, passed)`` from the
    decisions the audit trail keeps (applied and refused commands).
    """

    transitions: tuple[Edge, ...]
    covered: frozenset[Edge]
    outcomes: tuple[tuple[str, str, str, int, bool], ...]
    seen_outcomes: frozenset[tuple[str, str, str, int, bool]]

    @property
    def missing(self) -> tuple[Edge, ...]:
        """Transitions never taken, in the workflow's order."""
        return tuple(e for e in self.transitions if e not in self.covered)

    @property
    def missing_outcomes(self) -> tuple[tuple[str, str, str, int, bool], ...]:
        """Gate outcomes never seen, in the workflow's order."""
        return tuple(o for o in self.outcomes if o not in self.seen_outcomes)

    def report(self) -> str:
        """A short text report: counts, then every transition never taken."""
        lines = [
            f"transitions: {len(self.transitions) - len(self.missing)}/{len(self.transitions)} covered",
            f"gate outcomes: {len(self.outcomes) - len(self.missing_outcomes)}/{len(self.outcomes)} seen",
        ]
        lines.extend(f"  never taken: {s} -{t}-> {d}" for s, t, d in self.missing)
        return "\n".join(lines)


def _edges(workflow: Workflow) -> tuple[Edge, ...]:
    seen: dict[Edge, None] = {}
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for c in workflow.candidates(stage.id, trigger):
                seen[(stage.id, trigger, c.dest)] = None
    return tuple(seen)


def _outcome_keys(workflow: Workflow) -> tuple[tuple[str, str, str, int, bool], ...]:
    keys: list[tuple[str, str, str, int, bool]] = []
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for c in workflow.candidates(stage.id, trigger):
                for i, bound in enumerate(c.guards):
                    for passed in (True, False):
                        if recipe(bound.spec, passed) is not None:
                            keys.append((stage.id, trigger, c.dest, i, passed))
    return tuple(dict.fromkeys(keys))


def _runs(runs: Iterable[Any]) -> Iterable[Any]:
    for run in runs:
        if isinstance(run, Campaign):
            yield from run.audit_trail()
        elif isinstance(run, Path):
            yield from run.steps
        elif isinstance(run, list | tuple) and not (
            len(run) == 3 and all(isinstance(x, str) for x in run)
        ):
            yield from _runs(run)
        else:
            yield run


def coverage(workflow: Workflow, runs: Iterable[Any]) -> Coverage:
    """The :class:`Coverage` of ``runs``: campaigns, audit records, transition records, paths,
    steps or ``(source, trigger, dest)`` tuples, in any mix (lists are flattened)."""
    covered: set[Edge] = set()
    seen: set[tuple[str, str, str, int, bool]] = set()
    for item in _runs(runs):
        if isinstance(item, AuditRecord):
            decision = item.decision
            if decision is not None:
                _note_outcomes(decision, seen)
            if item.outcome == "ok" and item.dest is not None and item.command != "add_unit":
                trigger = str(item.payload.get("trigger", "advance"))
                covered.add((item.source or "", trigger, item.dest))
        elif isinstance(item, TransitionRecord):
            covered.add((item.source, item.trigger, item.dest))
        elif isinstance(item, Step):
            covered.add(item.edge)
        elif isinstance(item, tuple) and len(item) == 3:
            covered.add((str(item[0]), str(item[1]), str(item[2])))
        else:
            refuse(
                "coverage",
                item,
                "runs must hold campaigns, audit or transition records, paths, steps or (source, trigger, dest) tuples",
            )
    return Coverage(
        transitions=_edges(workflow),
        covered=frozenset(covered),
        outcomes=_outcome_keys(workflow),
        seen_outcomes=frozenset(seen),
    )


def _note_outcomes(decision: Mapping[str, Any], seen: set[tuple[str, str, str, int, bool]]) -> None:
    source, trigger = decision.get("source"), decision.get("trigger")
    for c in decision.get("candidates", ()):
        for i, v in enumerate(c.get("verdicts", ())):
            seen.add((str(source), str(trigger), str(c.get("dest")), i, bool(v.get("passed"))))


def assert_covers(
    workflow: Workflow, tests_run: Iterable[Any], *, outcomes: bool = False
) -> Coverage:
    """Fail unless ``tests_run`` took every transition of ``workflow`` (and, with
    ``outcomes=True``, saw every gate pass and fail where facts can make it).

    Returns the :class:`Coverage` when nothing is missing.

    Raises:
        AssertionError: listing every transition (and gate outcome) never exercised.
    """
    found = coverage(workflow, tests_run)
    problems = [f"never taken: {s} -{t}-> {d}" for s, t, d in found.missing]
    if outcomes:
        problems.extend(
            f"never seen: {s} -{t}-> {d} gate #{i} {'passing' if p else 'failing'}"
            for s, t, d, i, p in found.missing_outcomes
        )
    if problems:
        raise AssertionError(
            f"workflow {workflow.name!r}: {found.report().splitlines()[0]}\n  "
            + "\n  ".join(problems)
        )
    return found
