"""campaignflow.testing: test your guards, your workflow and your campaign with hypothesis and pytest.

Only test code imports this package (it needs hypothesis and pytest, the ``test`` extra);
``import campaignflow`` never imports it. The pieces:

- :mod:`campaignflow.testing.strategies`: hypothesis strategies for units, rosters, actors,
  facts, workflows and scenarios;
- :class:`CampaignMachine`: a stateful test machine to subclass with your workflow, guards and
  store;
- :mod:`campaignflow.testing.paths`: paths through a workflow, with the facts that make every
  gate pass or fail, and :func:`assert_covers`;
- :func:`check_guard` and :func:`guard_boundary`: a guard judged in isolation;
- the pytest plugin (fixtures ``clock``, ``campaign``, ``sqlite_campaign``, ``fast_forward``),
  registered when campaignflow is installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaignflow.testing.guards import Boundary, check_guard, guard_boundary, guard_context
    from campaignflow.testing.machine import CampaignMachine, machine_settings
    from campaignflow.testing.paths import (
        Coverage,
        NoRecipeWarning,
        Path,
        Recipe,
        Step,
        assert_covers,
        coverage,
        covering_paths,
        guard_outcomes,
        play_outcome,
        shortest_paths,
        simple_paths,
        walk,
    )

__all__ = [
    "Boundary",
    "CampaignMachine",
    "Coverage",
    "NoRecipeWarning",
    "Path",
    "Recipe",
    "Step",
    "assert_covers",
    "check_guard",
    "coverage",
    "covering_paths",
    "guard_boundary",
    "guard_context",
    "guard_outcomes",
    "machine_settings",
    "play_outcome",
    "shortest_paths",
    "simple_paths",
    "walk",
]

# Names load on first use: the pytest plugin lives in this package and is imported by every
# pytest run, which must not pay for hypothesis and the whole library up front.
_WHERE = {
    "Boundary": "guards",
    "check_guard": "guards",
    "guard_boundary": "guards",
    "guard_context": "guards",
    "CampaignMachine": "machine",
    "machine_settings": "machine",
}


def __getattr__(name: str) -> Any:
    if name in __all__:
        module = importlib.import_module(f"campaignflow.testing.{_WHERE.get(name, 'paths')}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'campaignflow.testing' has no attribute {name!r}")
