"""The ground floor: the records, facts, verdicts and checks every other room builds on.

``records``: units, actors, organisations, batch windows, a unit's state, workflow versions and
what commands produce. ``facts``: what a unit records and the fact-type registry. ``verdicts``:
what guards and the engine say. ``checks``: the attrs validators and the cattrs converter.
They import only :mod:`campaignflow.errors` and :mod:`campaignflow.i18n` (and each other,
downward: checks < records, facts < verdicts); the public names live on :mod:`campaignflow`.
"""

from campaignflow._words.facts import (
    Approval,
    FactTypes,
    Milestone,
    StudySession,
    Survey,
    fact_type,
    fact_types,
)
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
    "FactTypes",
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
    "fact_type",
    "fact_types",
]
