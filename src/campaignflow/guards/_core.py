"""Re-exports of the old ``campaignflow.guards._core`` (the integrator rewrites the imports).

The guard core now lives in :mod:`~campaignflow.guards._context` (GuardContext),
:mod:`~campaignflow.guards._spec` (specs and combinators) and
:mod:`~campaignflow.guards._registry` (the registry, binding, ``guard()``).
"""

from campaignflow.guards._context import GuardContext
from campaignflow.guards._registry import (
    ENTRY_POINT_GROUP,
    BoundGuard,
    Guard,
    GuardRegistry,
    guard,
    registry,
)
from campaignflow.guards._spec import COMBINATORS, GuardSpec, all_of, any_of, not_, use

__all__ = [
    "COMBINATORS",
    "ENTRY_POINT_GROUP",
    "BoundGuard",
    "Guard",
    "GuardContext",
    "GuardRegistry",
    "GuardSpec",
    "all_of",
    "any_of",
    "guard",
    "not_",
    "registry",
    "use",
]
