"""The custom gate of an OA app, as its integrator writes it.

- :class:`SQLiteRoster`: the host's roster table (``employees``), read through ``sqlite3``
  (in a web app, the request's database connection or session).
- :class:`StudyAttendee`: the attendance fact type (``@cf.fact_type``): one employee attended a
  study session of the branch (参学).
- ``oa_branch_attendance``: the gate, ``reads_host=True``: at least ``percent`` % of the
  branch's *current* employees (from the host roster) attended, computed exactly with
  ``Fraction``; every host value it used is in the verdict's params, so the audit keeps it.
- :func:`attendance_recipe`: what makes the gate pass at its boundary (and fail one attendee
  below): the attendees AND the host data, a :class:`FixedRoster` standing in for the table.
  The testing kit and the simulator pass that host data per call.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs

import campaignflow as cf

GATE = "oa_branch_attendance"


class SQLiteRoster:
    """The host's roster table: ``employees(employee_id, branch, active)``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def create(cls, conn: sqlite3.Connection) -> SQLiteRoster:
        """Create the table (if missing) on ``conn``."""
        conn.execute(
            "CREATE TABLE IF NOT EXISTS employees ("
            " employee_id TEXT PRIMARY KEY, branch TEXT NOT NULL, active INTEGER NOT NULL)"
        )
        return cls(conn)

    def hire(self, employee_id: str, branch: str) -> None:
        """Add a current employee of ``branch``."""
        self.conn.execute("INSERT INTO employees VALUES (?, ?, 1)", (employee_id, branch))

    def leave(self, employee_id: str) -> None:
        """The employee leaves: no longer current."""
        self.conn.execute("UPDATE employees SET active = 0 WHERE employee_id = ?", (employee_id,))

    def current(self, branch: str) -> list[str]:
        """The branch's current employees, sorted."""
        rows = self.conn.execute(
            "SELECT employee_id FROM employees WHERE branch = ? AND active = 1"
            " ORDER BY employee_id",
            (branch,),
        )
        return [r[0] for r in rows]


@attrs.frozen
class FixedRoster:
    """A stand-in roster for tests and simulations: every branch has the same employees."""

    size: int

    def current(self, branch: str) -> list[str]:
        """``e01`` … ``eNN``, whatever the branch."""
        return [f"e{i:02d}" for i in range(1, self.size + 1)]


@cf.fact_type("oa_study_attendee")
@attrs.frozen
class StudyAttendee:
    """One employee attended a study session of the branch (参学)."""

    employee_id: str


#: The roster size the recipe plays with.
RECIPE_ROSTER = 20


def attendance_recipe(params: Mapping[str, Any], passing: bool) -> cf.Recipe | None:
    """Exactly ``percent`` % of a 20-employee roster passes; one attendee fewer fails."""
    roster = FixedRoster(RECIPE_ROSTER)
    needed = math.ceil(Fraction(int(params.get("percent", 90)), 100) * RECIPE_ROSTER)
    if not passing:
        if needed == 0:
            return None
        needed -= 1
    facts = tuple(StudyAttendee(e) for e in roster.current("any")[:needed])
    return cf.Recipe(facts=facts, host=roster)


def simulation_roster() -> FixedRoster:
    """The host data ``campaignflow simulate`` builds (scenario.toml: ``host = ...``).

    A simulation has no OA database behind it: a stand-in roster of the recipe's size.
    """
    return FixedRoster(RECIPE_ROSTER)


@cf.guard(
    GATE,
    reads_host=True,
    recipe=attendance_recipe,
    messages={
        "oa_branch_attendance.enough": {
            "zh_CN": "{employees} 名在册职工中 {attended} 人参学，不低于 {percent}%",
            "en": "{attended} of {employees} current employees attended, at least {percent}%",
        },
        "oa_branch_attendance.low": {
            "zh_CN": "参学面不足：{employees} 名在册职工中仅 {attended} 人参学，要求不低于 {percent}%",
            "en": "too few attended: {attended} of {employees} current employees, "
            "at least {percent}% required",
        },
    },
)
def branch_attendance(ctx: cf.GuardContext, *, percent: int = 90) -> cf.Verdict:
    """At least ``percent`` % of the branch's current employees attended in this stage."""
    roster = ctx.host.current(ctx.unit.id)
    attended = len({a.employee_id for a in ctx.facts(StudyAttendee)} & set(roster))
    passed = bool(roster) and Fraction(attended, len(roster)) >= Fraction(percent, 100)
    return cf.Verdict(
        GATE,
        passed,
        "oa_branch_attendance.enough" if passed else "oa_branch_attendance.low",
        {"attended": attended, "employees": len(roster), "percent": percent},
    )
