"""Workflows: a campaign's stages, transitions and gates as data, compiled once for all units.

The rooms: ``_parts`` (Stage, Transition), ``_definition`` (Workflow: loading, saving,
querying), ``_validate`` (every problem at once), ``_compile`` (one ``transitions`` machine
read into tables; diagrams), ``_engine`` (the pure judge and next state) and ``_versions``
(adoption plans).
"""

from campaignflow._public import publish
from campaignflow.workflow._compile import CompiledTransition
from campaignflow.workflow._definition import SCHEMA_VERSION, Workflow
from campaignflow.workflow._parts import Stage, Transition
from campaignflow.workflow._reminders import Reminder

__all__ = [
    "SCHEMA_VERSION",
    "CompiledTransition",
    "Reminder",
    "Stage",
    "Transition",
    "Workflow",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
