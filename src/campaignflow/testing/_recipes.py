"""Recipes: the facts and waiting time that make a gate pass or fail, and the records of a path.

A :class:`Recipe` (defined with the guards: :mod:`campaignflow.guards._recipe`) is what to
record (and how long to wait) so that a guard comes out one way; :func:`recipe` asks each
guard's registered recipe through the combinators, and a :data:`RecipeHook` overrides it. :class:`Step` and :class:`Path` are the plain-data
records :mod:`campaignflow.testing.paths` builds from them.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from campaignflow.guards._recipe import Recipe, combined
from campaignflow.guards._registry import GuardRegistry
from campaignflow.guards._registry import registry as default_registry
from campaignflow.guards._spec import GuardSpec
from campaignflow.workflow import Workflow

__all__ = [
    "Edge",
    "GuardCase",
    "Path",
    "Recipe",
    "RecipeHook",
    "Step",
    "combined",
    "recipe",
    "registry_of",
]

#: A transition as coverage counts it: (source, trigger, dest).
Edge = tuple[str, str, str]


#: ``hook(spec, passing)``: an override asked before a guard's registered recipe (one release).
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
    fire, or None when no recipe was found (a guard registered without one, or a candidate
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


# --- recipes through the registry --------------------------------------------------------


def registry_of(workflow: Workflow) -> GuardRegistry:
    """The guard registry ``workflow`` was loaded with (the default one if it says none)."""
    found = getattr(workflow, "_registry", None)
    return found if isinstance(found, GuardRegistry) else default_registry


def recipe(
    spec: GuardSpec,
    passing: bool,
    *,
    hook: RecipeHook | None = None,
    registry: GuardRegistry | None = None,
) -> Recipe | None:
    """Facts that make ``spec`` pass (or fail), through combinators; None when unknown.

    Each guard's own recipe (``@cf.guard(name, recipe=...)``) answers, from ``registry``
    (default: the default registry). ``hook(spec, passing)``, kept for one release, is an
    override asked first for every guard that is not a combinator; when it gives None the
    registered recipe answers.
    """
    reg = registry or default_registry
    if hook is None:
        return reg.recipe_for(spec, passing)
    if spec.name == "not":
        return recipe(spec.children[0], not passing, hook=hook, registry=reg)
    if spec.name in ("all_of", "any_of"):
        parts = [recipe(c, passing, hook=hook, registry=reg) for c in spec.children]
        if (spec.name == "all_of") == passing:
            return combined(parts)
        return next((p for p in parts if p is not None), None)
    found = hook(spec, passing)
    return found if found is not None else reg.recipe_for(spec, passing)
