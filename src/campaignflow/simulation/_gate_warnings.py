"""What a simulation says before it starts about gates it cannot pass (``NoRecipeWarning``).

Shared by exact and fast mode, so both name the same gates for the same workflow.
"""

from __future__ import annotations

import warnings
from typing import Any

from campaignflow.guards import GuardRegistry, NoRecipeWarning
from campaignflow.guards._recipe import without_host
from campaignflow.simulation.behaviour import KNOWN_GUARDS, satisfiable_leaves
from campaignflow.workflow import Workflow

__all__ = ["warn_without_recipe"]


def warn_without_recipe(
    workflow: Workflow, registry: GuardRegistry, *, host: Any, stacklevel: int
) -> None:
    """Name every gate on a way forward that no simulated unit can pass (``NoRecipeWarning``).

    A gate with no passing recipe, or (when the run has no ``host`` data) a host-reading
    one whose recipe brings none: units reaching it stay there, so the run says which gate
    holds them, before it starts.
    """
    for t in workflow.transitions:
        if t.trigger != "advance":
            # The simulator opens batches and defers units by its own rules and plays no
            # recipe there: a custom gate that needs its recipe may hold units until the
            # window closes. Say so before the run rather than let them wait silently (a
            # gate without a recipe, e.g. one on the date, is retried daily and may pass).
            unplayed = dict.fromkeys(
                leaf.name
                for leaf in satisfiable_leaves(t.guards)
                if leaf.name not in KNOWN_GUARDS and not registry.without_recipe(leaf)
            )
            for name in unplayed:
                for source in t.source:
                    warnings.warn(
                        NoRecipeWarning(name, source, t.dest, unplayed=True),
                        stacklevel=stacklevel,
                    )
            continue
        for spec in t.guards:
            for name in registry.without_recipe(spec):
                for source in t.source:
                    warnings.warn(NoRecipeWarning(name, source, t.dest), stacklevel=stacklevel)
            for name in () if host is not None else without_host(registry, spec):
                for source in t.source:
                    warnings.warn(
                        NoRecipeWarning(name, source, t.dest, host=True), stacklevel=stacklevel
                    )
