"""campaignflow: run a staged, batched campaign across many units, with gates that explain themselves.

The public face: everything a host needs is importable from here (``import campaignflow as cf``).
``import campaignflow`` loads the words every part speaks (records, facts, verdicts, errors);
the rest loads when a host first names it (PEP 562): the runtime (``cf.Campaign``), the rules
(``cf.Workflow``, ``cf.guards``, ``cf.presets``), the audit, and the rooms most hosts never
touch (``cf.simulation``, ``cf.testing``, ``cf.report``, ``cf.cli``, ``cf.contrib``,
``cf.observability``, ``cf.store``).
"""

import logging
from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from campaignflow._public import publish
from campaignflow._words.events import Event, EventPage
from campaignflow._words.facts import (
    Approval,
    FactTypes,
    Milestone,
    StudySession,
    Survey,
    fact_type,
    fact_types,
)
from campaignflow._words.overview import OrgProgress, Satisfaction, StuckPage, StuckUnit
from campaignflow._words.records import (
    SYSTEM,
    Actor,
    BatchWindow,
    FactRecord,
    Organisation,
    TransitionRecord,
    Unit,
    UnitState,
    WorkflowVersion,
)
from campaignflow._words.verdicts import Candidate, Decision, Refusal, Verdict
from campaignflow._words.work import InboxPage, WorkItem
from campaignflow.errors import (
    AuditTampered,
    CampaignflowError,
    ConcurrencyConflict,
    DefinitionError,
    MissingExtra,
    NotAuthorized,
    TransitionRejected,
    UnknownUnit,
    ValidationError,
)

if TYPE_CHECKING:  # loaded on first use (see __getattr__); named here for type checkers
    from campaignflow import guards, presets
    from campaignflow.audit import AuditRecord, AuditVerification, Checkpoint
    from campaignflow.campaign import AdvanceOutcome, Campaign, Progress
    from campaignflow.clock import Clock, FixedClock, SimulatedClock, SystemClock
    from campaignflow.guards import (
        GuardContext,
        GuardSpec,
        NoRecipeWarning,
        Recipe,
        all_of,
        any_of,
        guard,
        not_,
        use,
    )
    from campaignflow.workflow import Reminder, Stage, Transition, Workflow
    from campaignflow.workflow._versions import Adoption, UnitChange

#: The public names that load on first use, by the module that defines or exports them.
_ON_FIRST_USE: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("AuditRecord", "AuditVerification", "Checkpoint"), "campaignflow.audit"),
        **dict.fromkeys(("AdvanceOutcome", "Campaign", "Progress"), "campaignflow.campaign"),
        **dict.fromkeys(
            ("Clock", "FixedClock", "SimulatedClock", "SystemClock"), "campaignflow.clock"
        ),
        **dict.fromkeys(
            (
                "GuardContext",
                "GuardSpec",
                "NoRecipeWarning",
                "Recipe",
                "all_of",
                "any_of",
                "guard",
                "not_",
                "use",
            ),
            "campaignflow.guards",
        ),
        **dict.fromkeys(("Reminder", "Stage", "Transition", "Workflow"), "campaignflow.workflow"),
        **dict.fromkeys(("Adoption", "UnitChange"), "campaignflow.workflow._versions"),
    }
)

#: Subpackages reachable as attributes (``cf.simulation``), imported on first use.
_SUBPACKAGES = frozenset(
    {
        "audit",
        "campaign",
        "cli",
        "clock",
        "contrib",
        "errors",
        "guards",
        "i18n",
        "observability",
        "presets",
        "report",
        "simulation",
        "store",
        "testing",
        "workflow",
    }
)


def __getattr__(name: str) -> Any:
    """Load a public name (or a subpackage) the first time it is asked for (PEP 562)."""
    if name in _SUBPACKAGES:
        return import_module(f"{__name__}.{name}")
    where = _ON_FIRST_USE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where), name)
    publish(__name__, {name: value}, [name])
    # Kept in this module's namespace, as an eager import would have: the next lookup
    # finds it there and this function is not asked again.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, those not loaded yet included."""
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

# The library logs under "campaignflow.*" and prints nothing until the host configures logging.
logging.getLogger("campaignflow").addHandler(logging.NullHandler())

__all__ = [
    "SYSTEM",
    "Actor",
    "Adoption",
    "AdvanceOutcome",
    "Approval",
    "AuditRecord",
    "AuditTampered",
    "AuditVerification",
    "BatchWindow",
    "Campaign",
    "CampaignflowError",
    "Candidate",
    "Checkpoint",
    "Clock",
    "ConcurrencyConflict",
    "Decision",
    "DefinitionError",
    "Event",
    "EventPage",
    "FactRecord",
    "FactTypes",
    "FixedClock",
    "GuardContext",
    "GuardSpec",
    "InboxPage",
    "Milestone",
    "MissingExtra",
    "NoRecipeWarning",
    "NotAuthorized",
    "OrgProgress",
    "Organisation",
    "Progress",
    "Recipe",
    "Refusal",
    "Reminder",
    "Satisfaction",
    "SimulatedClock",
    "Stage",
    "StuckPage",
    "StuckUnit",
    "StudySession",
    "Survey",
    "SystemClock",
    "Transition",
    "TransitionRecord",
    "TransitionRejected",
    "Unit",
    "UnitChange",
    "UnitState",
    "UnknownUnit",
    "ValidationError",
    "Verdict",
    "WorkItem",
    "Workflow",
    "WorkflowVersion",
    "__version__",
    "all_of",
    "any_of",
    "fact_type",
    "fact_types",
    "guard",
    "guards",
    "not_",
    "presets",
    "use",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
