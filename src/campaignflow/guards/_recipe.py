"""Recipes: what to record, which host data to show and how long to wait so a gate comes out one way.

A guard brings its recipe when it is registered (``@cf.guard(name, recipe=fn)``):
``fn(params, passing)`` gives the :class:`Recipe` that makes the gate pass at its boundary
(``passing=True``) or fail just below it (``passing=False``), or None when no facts give that
outcome. The testing kit (paths, the stateful machine, ``fast_forward``) and the simulator
read recipes through :meth:`GuardRegistry.recipe_for`, which also goes through the
combinators. A gate without a recipe is named by a :class:`NoRecipeWarning`, never skipped
in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import attrs

from campaignflow.guards._spec import GuardSpec
from campaignflow.i18n import messages


class _Registry(Protocol):
    """What :func:`without_host` asks of a guard registry (:class:`GuardRegistry`)."""

    def problems(self, spec: GuardSpec, path: str = "$") -> list[str]: ...

    def bind(self, spec: GuardSpec, path: str = "$") -> Any: ...

    def recipe_for(self, spec: GuardSpec, passing: bool) -> Recipe | None: ...


__all__ = ["NoRecipeWarning", "Recipe", "RecipeFn", "combined", "merge_host", "without_host"]


def merge_host(a: Any, b: Any) -> Any:
    """Host data of two recipes together: mappings merged (``b`` wins a key), else ``a``."""
    return _merge_host(a, b)


def _merge_host(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return {**a, **b}
    return a


@attrs.frozen
class Recipe:
    """What makes a gate (or a step) come out one way: facts to record, host data, time to wait.

    ``facts``: fact objects to record in the stage (built-in or your own fact types);
    ``host``: the host data the gate must see (for a guard that reads host data; ``None``
    when it reads none); ``days_in_stage``: days the unit must have spent in the stage;
    ``days_since_start``: days since its concentrated activity began; ``outside_window``:
    judge on a day outside the unit's batch window.

    Two recipes add up (``a + b``): facts together, host mappings merged, the longest waits.
    """

    facts: tuple[object, ...] = ()
    days_in_stage: int = 0
    days_since_start: int = 0
    outside_window: bool = False
    host: Any = attrs.field(default=None, hash=False)

    def __add__(self, other: Recipe) -> Recipe:
        return Recipe(
            facts=self.facts + other.facts,
            days_in_stage=max(self.days_in_stage, other.days_in_stage),
            days_since_start=max(self.days_since_start, other.days_since_start),
            outside_window=self.outside_window or other.outside_window,
            host=_merge_host(self.host, other.host),
        )


#: A guard's recipe: ``fn(params, passing)`` gives the recipe for that outcome, or None.
RecipeFn = Callable[[Mapping[str, Any], bool], "Recipe | None"]


def combined(parts: Iterable[Recipe | None]) -> Recipe | None:
    """Every part at once (facts together, the longest waits), or None when one is missing."""
    total = Recipe()
    for p in parts:
        if p is None:
            return None
        total = total + p
    return total


def without_host(registry: _Registry, spec: GuardSpec) -> tuple[str, ...]:
    """The host-reading guards under ``spec`` whose passing recipe brings no host data.

    A gate registered with ``reads_host=True`` judged without host data fails the call
    (``guard.host_missing``), so a recipe that gives facts but no ``host`` cannot pass it.
    Empty when ``spec`` reads no host data, has no passing recipe (named by
    :meth:`GuardRegistry.without_recipe` instead) or its recipe brings ``host``.
    """
    if registry.problems(spec):
        return ()
    readers: tuple[str, ...] = registry.bind(spec).host_guards
    if not readers:
        return ()
    found = registry.recipe_for(spec, True)
    if found is None or found.host is not None:
        return ()
    return readers


class NoRecipeWarning(UserWarning):
    """A gate has no recipe (or no host data in it): no test or simulation can pass it.

    Raised as a warning (an error under ``-W error``) by the path finder, the stateful
    machine and the simulator, naming the gate and the transition it guards. ``code`` and
    ``params`` give the catalogue entry (``recipes.no_recipe``; ``recipes.no_host`` for a
    host-reading gate whose recipe gives no ``host``; ``recipes.not_played`` for a custom gate
    on a ``start`` or ``defer`` way, where the simulator plays no recipe); ``message(locale)`` the text in
    ``zh_CN`` or ``en`` (``str()`` is the English text).
    """

    code = "recipes.no_recipe"

    def __init__(
        self, guard: str, source: str, dest: str, *, host: bool = False, unplayed: bool = False
    ) -> None:
        self.params = {"guard": guard, "source": source, "dest": dest}
        if host:
            self.code = "recipes.no_host"
        elif unplayed:
            self.code = "recipes.not_played"
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh_CN") -> str:
        """The warning as text in ``locale``."""
        if self.code == "recipes.no_host":
            return messages.render("recipes.no_host", self.params, locale)
        if self.code == "recipes.not_played":
            return messages.render("recipes.not_played", self.params, locale)
        return messages.render("recipes.no_recipe", self.params, locale)
