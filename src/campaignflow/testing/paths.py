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
import warnings
from collections import deque
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from campaignflow._public import publish
from campaignflow._words.facts import Approval
from campaignflow._words.records import Actor, TransitionRecord, Unit
from campaignflow._words.verdicts import Decision
from campaignflow.campaign import Campaign
from campaignflow.campaign._checks import movers
from campaignflow.errors import NotAuthorized, TransitionRejected, ValidationError
from campaignflow.guards._recipe import NoRecipeWarning, without_host
from campaignflow.guards._spec import GuardSpec
from campaignflow.testing._coverage import Coverage, assert_covers, coverage
from campaignflow.testing._recipes import (
    GuardCase,
    Path,
    Recipe,
    RecipeHook,
    Step,
    combined,
    recipe,
    registry_of,
)
from campaignflow.testing.guards import guard_context
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import decide

__all__ = [
    "Coverage",
    "GuardCase",
    "NoRecipeWarning",
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
    """Whether recording ``r`` in ``step.source`` makes the engine choose ``step.dest``.

    The engine judges with ``r.host`` as the host data (``GuardContext.host``); a
    host-reading gate and a recipe without ``host`` never fire.
    """
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
    try:
        decision = decide(
            workflow, unit, ctx.state, ctx.records, today, step.trigger, roles=None, host=r.host
        )
    except ValidationError as missing:
        if missing.code == "guard.host_missing":
            return False  # a host-reading gate and no host data: named by steps() already
        raise
    chosen = next((i for i, c in enumerate(decision.candidates) if c.passed), None)
    return chosen == step.index


def _step_recipe(workflow: Workflow, step: Step, hook: RecipeHook | None) -> Recipe | None:
    base = combined(g.passing for g in step.guards)
    if base is None:
        return None
    candidates = workflow.candidates(step.source, step.trigger)
    # Earlier candidates must fail: add the failing recipe of one of their guards if needed.
    options = [base]
    for earlier in candidates[: step.index]:
        extended: list[Recipe] = []
        for option in options:
            for bound in earlier.guards:
                fail = recipe(bound.spec, False, hook=hook, registry=registry_of(workflow))
                if fail is not None:
                    extended.append(option + fail)
                    extended.append(fail + option)
        options = extended or options
    batch = workflow.batches[0].number if workflow.batches else 1
    return next((o for o in options if fires(workflow, step, o, batch=batch)), None)


def steps(workflow: Workflow, *, hook: RecipeHook | None = None) -> list[Step]:
    """Every candidate transition of ``workflow`` as a :class:`Step`, in the workflow's order.

    Each guard's recipe comes from its registration (``@cf.guard(name, recipe=...)``) in the
    workflow's registry; ``hook(spec, passing)``, kept for one release, overrides it.

    Warns:
        NoRecipeWarning: for each gate registered without a recipe (and not answered by
            ``hook``), or registered with ``reads_host=True`` and a recipe that gives no
            ``host``: no test can pass it (an error under ``-W error``).
    """
    registry = registry_of(workflow)
    found: list[Step] = []
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for index, candidate in enumerate(workflow.candidates(stage.id, trigger)):
                cases = tuple(
                    GuardCase(
                        b.spec,
                        recipe(b.spec, True, hook=hook, registry=registry),
                        recipe(b.spec, False, hook=hook, registry=registry),
                    )
                    for b in candidate.guards
                )
                for case in cases:
                    if case.passing is None:
                        for name in registry.without_recipe(case.spec):
                            warnings.warn(
                                NoRecipeWarning(name, stage.id, candidate.dest), stacklevel=2
                            )
                    elif hook is None:
                        for name in without_host(registry, case.spec):
                            warnings.warn(
                                NoRecipeWarning(name, stage.id, candidate.dest, host=True),
                                stacklevel=2,
                            )
                draft = Step(stage.id, trigger, candidate.dest, index, candidate.by, cases, None)
                found.append(attrs.evolve(draft, recipe=_step_recipe(workflow, draft, hook)))
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
    roles = movers(frozenset(step.by), step.trigger)  # a start naming nobody: the leading group
    return Actor(id="mover", roles=roles or frozenset({"branch_committee"}))


def _host_of(step: Step) -> Any:
    """The host data ``step``'s recipe brings (``Recipe.host``), or None."""
    return step.recipe.host if step.recipe is not None else None


def fire(
    campaign: Campaign, unit_id: str, step: Step, *, actor: Actor, host: Any = None
) -> TransitionRecord:
    """Fire ``step``'s trigger on ``unit_id`` (``defer`` to the next batch) as ``actor``.

    The command gets ``host`` as its host data, or else the host data of the step's recipe
    (``Recipe.host``) when it has some; with neither the campaign's own ``host=`` applies.

    Raises:
        TransitionRejected, NotAuthorized, ValidationError: as the campaign's commands do.
    """
    given = host if host is not None else _host_of(step)
    if step.trigger == "defer":
        batch = campaign.state(unit_id).batch
        later = [b.number for b in campaign.workflow.batches if b.number > batch]
        return campaign.defer(
            unit_id, actor=actor, to_batch=min(later) if later else None, host=given
        )
    return campaign.advance(unit_id, actor=actor, trigger=step.trigger, host=given)


def walk(
    campaign: Campaign, unit_id: str, path: Path | Sequence[Step], *, clock: Any
) -> list[TransitionRecord]:
    """Play ``path`` on ``unit_id`` through the real campaign; returns the transition records.

    Each step is :func:`prepare`-d (clock moved, facts recorded) then :func:`fire`-d with
    its recipe's host data (``Recipe.host``), if any.

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
    decision = campaign.check(unit_id, step.trigger, actor=actor, host=_host_of(step))
    # A refusal is an outcome too: its decision is audited like an applied move's.
    with contextlib.suppress(TransitionRejected, NotAuthorized):
        fire(campaign, unit_id, step, actor=actor)
    return decision


publish(__name__, globals(), [n for n in __all__ if n in globals()])
