"""Recipes: the facts and waiting time that make a gate pass or fail, and the records of a path.

A :class:`Recipe` is what to record (and how long to wait) so that a guard comes out one
way; :func:`recipe` knows the built-in guards and goes through combinators, and a
:data:`RecipeHook` answers for your own. :class:`Step` and :class:`Path` are the plain-data
records :mod:`campaignflow.testing.paths` builds from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import attrs

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow.guards._spec import GuardSpec

__all__ = ["Edge", "GuardCase", "Path", "Recipe", "RecipeHook", "Step", "combined", "recipe"]

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
            return Recipe(facts=_sessions(hours))
        if hours <= 0:
            return None
        below = hours - 1 if hours >= 1 else hours / 2
        return Recipe(facts=_sessions(below) if below > 0 else ())
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
            Recipe(facts=(Survey(satisfied=1, basically_satisfied=0, dissatisfied=0),))
            if passing
            else Recipe()
        )
    if name == "milestones_done":
        names = [n for n in spec.params.get("names", ()) if isinstance(n, str)]
        if passing:
            return Recipe(facts=tuple(Milestone(name=n) for n in names))
        return Recipe(facts=tuple(Milestone(name=n) for n in names[1:])) if names else None
    if name == "coverage_at_least":
        milestone = spec.params.get("milestone")
        if not isinstance(milestone, str):
            return None
        rate = _num(spec, "rate", 1.0)
        if passing:
            return Recipe(facts=(Milestone(name=milestone, done=20, total=20),))
        # Just below the rate (or an empty report when any share would do).
        done = max(0, math.ceil(rate * 20) - 1) if rate > 0 else 0
        total = 20 if rate > 0 else 0
        return Recipe(facts=(Milestone(name=milestone, done=done, total=total),))
    if name == "approved_by":
        role = spec.params.get("role", "supervision_group")
        if not isinstance(role, str):
            return None
        return Recipe(facts=(Approval(role=role, decision="approved" if passing else "rejected"),))
    if name == "satisfaction_rate_at_least":
        rate = _num(spec, "rate", 0.6)
        if passing:
            return Recipe(facts=(Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate <= 0:
            return None
        content = math.ceil(rate * 100) - 1
        return Recipe(
            facts=(Survey(satisfied=content, basically_satisfied=0, dissatisfied=100 - content),)
        )
    if name == "dissatisfied_rate_at_most":
        rate = _num(spec, "rate", 0.5)
        if passing:
            return Recipe(facts=(Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate >= 1:
            return None
        bad = math.floor(rate * 100) + 1
        return Recipe(facts=(Survey(satisfied=100 - bad, basically_satisfied=0, dissatisfied=bad),))
    return None


def combined(parts: Iterable[Recipe | None]) -> Recipe | None:
    """Every part at once (facts together, the longest waits), or None when one is missing."""
    total = Recipe()
    for p in parts:
        if p is None:
            return None
        total = total + p
    return total


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
            return combined(parts)
        return next((p for p in parts if p is not None), None)
    found = hook(spec, passing) if hook is not None else None
    return found if found is not None else _builtin(spec, passing)
