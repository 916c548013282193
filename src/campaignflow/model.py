"""Where the records used to live; they are in :mod:`campaignflow._words` now.

A plain re-export kept while imports move to ``campaignflow._words.records``, ``.facts`` and
``.verdicts`` (the public home of every name stays :mod:`campaignflow`).
"""

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow._words.records import (
    ORG_LEVELS,
    SYSTEM,
    Actor,
    BatchWindow,
    FactRecord,
    Organisation,
    TransitionRecord,
    Unit,
    UnitState,
    WorkflowVersion,
    trusted_unit,
)
from campaignflow._words.verdicts import Candidate, Decision, ParamValue, Refusal, Verdict

__all__ = [
    "ORG_LEVELS",
    "SYSTEM",
    "Actor",
    "Approval",
    "BatchWindow",
    "Candidate",
    "Decision",
    "FactRecord",
    "Milestone",
    "Organisation",
    "ParamValue",
    "Refusal",
    "StudySession",
    "Survey",
    "TransitionRecord",
    "Unit",
    "UnitState",
    "Verdict",
    "WorkflowVersion",
    "trusted_unit",
]
