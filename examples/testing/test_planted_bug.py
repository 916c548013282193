"""A subclassed CampaignMachine finds a planted bug: a guard that lets 39 hours through.

This test is meant to FAIL: ``attendance_hours`` should require 40 hours of study but
compares against ``hours - 1``. The machine's random commands find a unit that left the
study stage with 39 hours, and hypothesis shrinks the run to a few steps::

    python -m pytest examples/testing/test_planted_bug.py

The failure report prints the shrunk program (the steps after ``state = Bug()``) and how
many examples the machine ran before the first failure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis.stateful import invariant

import campaignflow as cf
from campaignflow.guards import registry
from campaignflow.testing import CampaignMachine, machine_settings

guards = registry.copy()


def hours_recipe(params: Mapping[str, Any], passing: bool) -> cf.Recipe:
    """The study that passes the gate at its boundary (``hours``), or fails it just below."""
    hours = params.get("hours", 40)
    return cf.Recipe(facts=(cf.StudySession(hours=hours if passing else hours - 1),))


@cf.guard("attendance_hours", registry=guards, recipe=hours_recipe)
def attendance_hours(ctx: cf.GuardContext, *, hours: float = 40) -> cf.Verdict:
    """At least ``hours`` of study in the stage. PLANTED BUG: ``- 1`` lets 39 hours pass."""
    actual = math.fsum(s.hours for s in ctx.facts(cf.StudySession))
    passed = actual >= hours - 1
    return cf.Verdict(
        "attendance_hours",
        passed,
        "study_hours.sufficient" if passed else "study_hours.insufficient",
        {"actual": actual, "required": hours},
    )


WORKFLOW = cf.Workflow.from_dict(
    {
        "name": "attendance",
        "stages": [{"id": "study"}, {"id": "done", "kind": "final"}],
        "transitions": [
            {
                "source": "study",
                "dest": "done",
                "guards": [{"guard": "attendance_hours", "hours": 40}],
            }
        ],
    },
    registry=guards,
)


class Bug(CampaignMachine):
    """The library's machine on our workflow, plus the rule we care about as an invariant."""

    workflow = WORKFLOW
    examples = 0
    first_failure: int | None = None

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1

    @invariant()
    def nobody_leaves_study_with_fewer_than_40_hours(self) -> None:
        for unit, state in self.campaign.units():
            if state.stage != "done":
                continue
            studied = math.fsum(
                r.fact.hours
                for r in self.campaign.facts(unit.id, "study")
                if isinstance(r.fact, cf.StudySession)
            )
            if studied < 40 and Bug.first_failure is None:
                Bug.first_failure = Bug.examples
                print(f"planted bug found after {Bug.examples} examples")
            assert studied >= 40, f"unit {unit.id} finished with {studied} hours of study"


Bug.TestCase.settings = machine_settings(max_examples=200, steps=30, database=None)
TestBug = Bug.TestCase
