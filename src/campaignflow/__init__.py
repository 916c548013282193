"""campaignflow: run a staged, batched campaign across many units, with gates that explain themselves.

The public face: everything a host needs is importable from here (``import campaignflow as cf``).
"""

import logging

from campaignflow import guards, presets
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
from campaignflow.audit import AuditRecord, AuditVerification, Checkpoint
from campaignflow.campaign import AdvanceOutcome, Campaign, Progress
from campaignflow.clock import Clock, FixedClock, SimulatedClock, SystemClock
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
