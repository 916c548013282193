"""Property-test a custom guard: an attendance rate (出勤率) over a custom fact type.

Run with ``python -m pytest examples/testing/test_custom_guard.py``. The guard is a plain
function; ``check_guard`` judges it on facts, hypothesis draws the facts, and
``guard_boundary`` finds where it flips and checks that its verdict reports the numbers.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
from hypothesis import given
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow import FactTypes
from campaignflow.guards import registry
from campaignflow.testing import check_guard, guard_boundary

facts = FactTypes()
guards = registry.copy()


@cf.fact_type("attendance", registry=facts)
@attrs.frozen
class Attendance:
    """Members present at one concentrated study session."""

    present: int
    members: int


@cf.guard("attendance_rate_at_least", registry=guards)
def attendance_rate_at_least(ctx: cf.GuardContext, *, rate: float = 0.8) -> cf.Verdict:
    """Members present over members expected, over every session of the stage, at least ``rate``."""
    sessions = ctx.facts(Attendance)
    present = sum(a.present for a in sessions)
    expected = sum(a.members for a in sessions)
    actual = present / expected if expected else 0.0
    passed = expected > 0 and Fraction(present, expected) >= Fraction(repr(rate))
    return cf.Verdict(
        "attendance_rate_at_least",
        passed,
        "attendance.enough" if passed else "attendance.too_low",
        {"actual": actual, "required": rate},
    )


@st.composite
def attendances(draw: st.DrawFn) -> Attendance:
    members = draw(st.integers(1, 60))
    return Attendance(present=draw(st.integers(0, members)), members=members)


@given(sessions=st.lists(attendances(), max_size=12), rate=st.sampled_from([0.5, 0.8, 0.95]))
def test_passes_exactly_when_the_attendance_rate_reaches_the_rate(
    sessions: list[Attendance], rate: float
) -> None:
    """The verdict is the exact comparison, and it says so with its numbers."""
    verdict = check_guard(attendance_rate_at_least, sessions, rate=rate)
    present = sum(a.present for a in sessions)
    expected = sum(a.members for a in sessions)
    assert verdict.passed is (expected > 0 and Fraction(present, expected) >= Fraction(str(rate)))
    assert verdict.params["required"] == rate


def test_flips_where_its_verdict_says() -> None:
    """18 of 24 present: the guard passes every rate up to 0.75 and fails above."""
    found = guard_boundary(
        attendance_rate_at_least, "rate", [Attendance(present=18, members=24)], low=0.0, high=1.0
    )
    assert found.below <= 0.75 <= found.above


def test_the_guard_drives_a_workflow() -> None:
    """Registered in its own registry, the guard loads in a workflow by name."""
    workflow = cf.Workflow.from_dict(
        {
            "name": "attendance",
            "stages": [{"id": "study"}, {"id": "done", "kind": "final"}],
            "transitions": [
                {
                    "source": "study",
                    "dest": "done",
                    "guards": [{"guard": "attendance_rate_at_least", "rate": 0.8}],
                }
            ],
        },
        registry=guards,
    )
    camp = cf.Campaign(workflow, fact_types=facts)
    camp.add_units([cf.Unit(id="u-1", name="党支部", kind="organ", batch=1, members=20)])
    clerk = cf.Actor(id="clerk", roles={"branch_committee"}, unit="u-1")
    camp.record("u-1", Attendance(present=15, members=20), actor=clerk)
    assert not camp.check("u-1").allowed
    camp.record("u-1", Attendance(present=20, members=20), actor=clerk)
    assert camp.advance("u-1", actor=clerk).dest == "done"
