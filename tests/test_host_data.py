"""Host data under a contract (issue 16): a guard that declares ``reads_host`` gets the host's data.

The integrator's gate: *at least 90 % of the branch's current employees (a host table) attended
a study session in this stage*, over a custom fact type, computed exactly with ``Fraction``.
Every path that judges a gate (check, advance, the sweeps, due_units, progress) passes the
campaign's host data or the call's own, on memory, SQLite and PostgreSQL; judged without host
data it refuses with ``guard.host_missing`` and changes nothing; the verdict's params carry the
host values and the audit keeps them; replay never re-judges, so it equals state after the
roster changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.audit import replay
from campaignflow.store import MemoryStore, PostgresStore, SQLiteStore, Store
from campaignflow.testing import check_guard, guard_context
from tests.store.conftest import pg_dsn

DAY = date(2005, 3, 1)
CLERK = cf.Actor(id="li", roles={"branch_committee"})


@cf.fact_type("branch_attendance")
@attrs.frozen
class Attendance:
    """One employee attended a study session of the branch (出勤)."""

    employee_id: str


@attrs.frozen
class Roster:
    """The host's roster table: each branch's current employees."""

    employees: Mapping[str, tuple[str, ...]]

    def current(self, branch: str) -> tuple[str, ...]:
        """The branch's current employee ids."""
        return self.employees.get(branch, ())


@cf.guard(
    "branch_attendance_coverage",
    reads_host=True,
    messages={
        "branch_coverage.enough": {
            "zh_CN": "本支部 {employees} 名在册职工中 {attended} 人参加了学习，不低于 {percent}%",
            "en": "{attended} of the branch's {employees} current employees attended, at least {percent}%",
        },
        "branch_coverage.low": {
            "zh_CN": "参学面不足：{employees} 名在册职工中仅 {attended} 人参加学习，要求不低于 {percent}%",
            "en": "too few attended: {attended} of {employees} current employees, at least {percent}% required",
        },
    },
)
def branch_attendance_coverage(ctx: cf.GuardContext, *, percent: int = 90) -> cf.Verdict:
    """At least ``percent`` % of the branch's current employees attended in this stage."""
    roster = sorted(ctx.host.current(ctx.unit.id))
    attended = len({a.employee_id for a in ctx.facts(Attendance)} & set(roster))
    passed = bool(roster) and Fraction(attended, len(roster)) >= Fraction(percent, 100)
    return cf.Verdict(
        "branch_attendance_coverage",
        passed,
        "branch_coverage.enough" if passed else "branch_coverage.low",
        {"attended": attended, "employees": len(roster), "percent": percent, "roster": roster},
    )


def workflow() -> cf.Workflow:
    """pending → study_mobilization (start) → accepted (the host-reading gate)."""
    return cf.Workflow(
        name="host_gate_demo",
        stages=[
            cf.Stage("pending", kind="waiting"),
            cf.Stage("study_mobilization", title="学习动员", title_en="Study and mobilisation"),
            cf.Stage("accepted", kind="final", title="验收通过", title_en="Accepted"),
        ],
        transitions=[
            cf.Transition(source=("pending",), dest="study_mobilization", trigger="start"),
            cf.Transition(
                source=("study_mobilization",),
                dest="accepted",
                guards=(cf.use("branch_attendance_coverage", percent=90),),
            ),
        ],
    )


TEN = Roster({"b1": tuple(f"e{i}" for i in range(10)), "b2": tuple(f"e{i}" for i in range(10))})
UNITS = [
    cf.Unit(id="b1", name="一支部", kind="enterprise", batch=1, members=10),
    cf.Unit(id="b2", name="二支部", kind="enterprise", batch=1, members=10),
]


@pytest.fixture(params=("memory", "sqlite", "postgres"))
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A fresh store of each backend (a fresh campaign id on PostgreSQL)."""
    opened: list[Store] = []
    campaign_id = f"h-{request.node.name[-40:]}-{id(tmp_path)}"

    def make() -> Store:
        store: Store
        if request.param == "memory":
            store = MemoryStore()
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / "c.db", campaign_id=campaign_id)
        else:
            store = PostgresStore(pg_dsn(), campaign_id=campaign_id)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def started(store: Store, host: Any = None, attended: int = 9) -> cf.Campaign:
    """A campaign on ``store`` with b1 and b2 started; b1 has ``attended`` employees attending."""
    camp = cf.Campaign(workflow(), store=store, clock=cf.FixedClock(DAY), host=host)
    camp.add_units(UNITS)
    camp.start_batch(
        1, actor=cf.Actor(id="leader", roles={"leading_group"})
    )  # the start gate reads no host data: no host needed
    for i in range(attended):
        camp.record("b1", Attendance(f"e{i}"), actor=CLERK)
    return camp


# --- declaring --------------------------------------------------------------------------------


def test_the_workflow_and_its_bound_guards_know_which_gates_read_host_data() -> None:
    """Workflow.host_guards names the gate; the bound guard reads host data and equals its spec."""
    wf = workflow()
    (gate,) = wf.host_guards()
    assert (gate.source, gate.dest, gate.host_guards) == (
        "study_mobilization",
        "accepted",
        ("branch_attendance_coverage",),
    )
    assert wf.host_guards("start") == ()
    assert not wf.candidates("pending", "start")[0].reads_host
    bound = wf.candidates("study_mobilization")[0].guards[0]
    assert bound.reads_host
    assert bound.spec == cf.use("branch_attendance_coverage", percent=90)
    assert bound == cf.use("branch_attendance_coverage", percent=90)
    assert cf.use("branch_attendance_coverage", percent=90) == bound
    assert bound != cf.use("branch_attendance_coverage", percent=80)
    assert cf.guards.registry.reads_host("branch_attendance_coverage")
    assert not cf.guards.registry.reads_host("min_study_hours")
    wrapped = cf.guards.registry.bind(
        cf.not_(cf.all_of(cf.use("min_study_hours", hours=1), cf.use(branch_attendance_coverage)))
    )
    assert wrapped.host_guards == ("branch_attendance_coverage",)


def test_reads_host_must_be_a_bool() -> None:
    """register(..., reads_host=...) refuses anything but True or False."""
    reg = cf.guards.GuardRegistry()
    with pytest.raises(cf.ValidationError, match="reads_host"):
        reg.register("g", branch_attendance_coverage, reads_host="yes")  # type: ignore[arg-type]


# --- every path, every store --------------------------------------------------------------------


def test_every_judging_path_reads_the_campaigns_host_data(make_store: Callable[[], Store]) -> None:
    """check, due_units, advance_all, advance_due and advance judge with ctx.host; progress
    reports the refusal the sweep recorded (it reads counters and judges nothing)."""
    camp = started(make_store(), host=TEN)
    decision = camp.check("b1")
    assert decision.allowed
    assert decision.verdicts[0].params == {
        "attended": 9,
        "employees": 10,
        "percent": 90,
        "roster": sorted(TEN.current("b1")),
    }
    assert not camp.check("b2").allowed
    assert camp.due_units() == ["b1"]
    assert camp.progress().blocking == ()  # nothing refused yet
    outcomes = camp.advance_all()
    assert [(o.unit_id, o.advanced) for o in outcomes] == [("b1", True), ("b2", False)]
    with pytest.raises(cf.TransitionRejected):
        camp.advance("b2", actor=CLERK)  # the refusal is kept as b2's latest
    assert camp.progress().blocking == (("branch_coverage.low", 1),)
    for i in range(9):
        camp.record("b2", Attendance(f"e{i}"), actor=CLERK)
    assert [o.unit_id for o in camp.advance_due(sweep="s1") if o.advanced] == ["b2"]
    assert camp.state("b2").stage == "accepted"


def test_advance_reads_the_host_data_that_commits(make_store: Callable[[], Store]) -> None:
    """advance judges with the host's roster: 8 of 10 is refused, 9 of 10 moves."""
    camp = started(make_store(), host=TEN, attended=8)
    with pytest.raises(cf.TransitionRejected) as refused:
        camp.advance("b1", actor=CLERK)
    assert refused.value.decision.verdicts[0].params["attended"] == 8
    camp.record("b1", Attendance("e8"), actor=CLERK)
    assert camp.advance("b1", actor=CLERK).dest == "accepted"


def test_the_calls_host_data_beats_the_campaigns(make_store: Callable[[], Store]) -> None:
    """A per-call host= wins over Campaign(host=) on every judging path."""
    small = Roster({"b1": ("e0", "e1"), "b2": ("e0", "e1", "e2")})
    camp = started(make_store(), host=TEN, attended=2)
    assert not camp.check("b1").allowed
    assert camp.check("b2", host=small).verdicts[0].params["employees"] == 3
    assert camp.check("b1", host=small).verdicts[0].params == {
        "attended": 2,
        "employees": 2,
        "percent": 90,
        "roster": ["e0", "e1"],
    }
    assert camp.due_units() == []
    assert camp.due_units(host=small) == ["b1"]
    assert [o.advanced for o in camp.advance_all()] == [False, False]
    tiny = Roster({"b1": ("e0",), "b2": ("e9",)})
    assert [o.unit_id for o in camp.advance_due(sweep="s", host=tiny) if o.advanced] == ["b1"]
    camp.record("b2", Attendance("e0"), actor=CLERK)
    assert [o.advanced for o in camp.advance_all(host=small)] == [False]
    assert camp.advance("b2", actor=CLERK, host=Roster({"b2": ("e0",)})).dest == "accepted"


# --- no host data: a clear error, nothing changes ------------------------------------------------

MISSING: dict[str, Callable[[cf.Campaign], object]] = {
    "check": lambda c: c.check("b1"),
    "advance": lambda c: c.advance("b1", actor=CLERK, request_id="r-1"),
    "advance_all": lambda c: c.advance_all(),
    "advance_due": lambda c: c.advance_due(sweep="s"),
    "due_units": lambda c: c.due_units(),
}


@pytest.mark.parametrize("path", sorted(MISSING))
def test_judging_a_host_gate_without_host_data_is_refused_and_changes_nothing(
    path: str, make_store: Callable[[], Store]
) -> None:
    """With no host data on the campaign or the call, the call raises guard.host_missing."""
    camp = started(make_store())
    trail = [a.seq for a in camp.audit_trail()]
    with pytest.raises(cf.ValidationError) as missing:
        MISSING[path](camp)
    error = missing.value
    assert error.code == "guard.host_missing"
    assert error.params["guard"] == "'branch_attendance_coverage'"
    assert (error.params["source"], error.params["dest"]) == ("study_mobilization", "accepted")
    assert "host=" in error.message("en")
    assert "host=" in error.message("zh_CN")
    assert "'branch_attendance_coverage'" in str(error)
    assert [a.seq for a in camp.audit_trail()] == trail
    assert {s.stage for _, s in camp.units()} == {"study_mobilization"}
    assert camp.check("b1", host=TEN).allowed  # the same call with host data judges


def test_a_campaign_without_host_data_still_runs_gates_that_read_none() -> None:
    """Building the campaign and judging host-free gates (start) needs no host data."""
    camp = started(MemoryStore())
    assert {s.stage for _, s in camp.units()} == {"study_mobilization"}


# --- the audit keeps the host values; replay never re-judges -------------------------------------


def test_audit_keeps_host_values_and_replay_equals_state_after_the_roster_changes(
    make_store: Callable[[], Store],
) -> None:
    """The move's verdict params (the roster used) are in the audit; replay ignores today's roster."""
    camp = started(make_store(), host=TEN)
    camp.advance("b1", actor=CLERK)
    moved = [a for a in camp.history("b1") if a.command == "advance"][-1]
    params = moved.decision["candidates"][0]["verdicts"][0]["params"]
    assert params == {
        "attended": 9,
        "employees": 10,
        "percent": 90,
        "roster": sorted(TEN.current("b1")),
    }
    # The roster changes: b1 now has 20 employees, so its gate would fail if judged today.
    grown = Roster({"b1": tuple(f"e{i}" for i in range(20)), "b2": TEN.current("b2")})
    recorded = [Attendance(f"e{i}") for i in range(9)]
    assert not check_guard(branch_attendance_coverage, recorded, host=grown, unit=UNITS[0]).passed
    later = cf.Campaign(workflow(), store=camp.store, clock=cf.FixedClock(DAY), host=grown)
    states = replay(workflow(), later.audit_trail())
    assert states == {u.id: s for u, s in later.units()}
    assert states["b1"].stage == "accepted"
    assert later.verify_audit().ok


# --- the testing kit ---------------------------------------------------------------------------


def test_check_guard_and_guard_context_take_host_data() -> None:
    """check_guard(..., host=) and guard_context(host=) give the guard ctx.host."""
    roster = Roster({"unit-1": ("a", "b")})
    facts = [Attendance("a"), Attendance("b")]
    assert check_guard(branch_attendance_coverage, facts, host=roster).passed
    assert check_guard("branch_attendance_coverage", facts[:1], host=roster, percent=50).passed
    assert not check_guard("branch_attendance_coverage", facts[:1], host=roster).passed
    assert guard_context(host=roster).host is roster
    assert guard_context().host is None


@settings(max_examples=200, deadline=None)
@given(
    employees=st.integers(1, 60),
    attended=st.integers(0, 60),
    outsiders=st.integers(0, 5),
    percent=st.integers(0, 100),
)
def test_the_coverage_guard_matches_an_exact_fraction_oracle(
    employees: int, attended: int, outsiders: int, percent: int
) -> None:
    """The verdict passes exactly when attended / employees >= percent / 100 (outsiders ignored)."""
    attended = min(attended, employees)
    roster = Roster({"unit-1": tuple(f"e{i}" for i in range(employees))})
    facts = [Attendance(f"e{i}") for i in range(attended)]
    facts += [Attendance(f"x{i}") for i in range(outsiders)]
    verdict = check_guard(branch_attendance_coverage, facts, host=roster, percent=percent)
    assert verdict.passed == (attended * 100 >= percent * employees)
    assert (verdict.params["attended"], verdict.params["employees"]) == (attended, employees)


def test_reads_host_travels_with_the_decorator_and_entry_point_metadata() -> None:
    """@cf.guard(..., reads_host=True, registry=...) and its entry-point metadata keep the flag."""
    mine = cf.guards.GuardRegistry()

    @cf.guard("uses_roster", reads_host=True, registry=mine)
    def uses_roster(ctx: cf.GuardContext) -> cf.Verdict:
        return cf.Verdict("uses_roster", bool(ctx.host), "uses_roster.seen", {})

    assert mine.reads_host("uses_roster")
    assert uses_roster.__campaignflow_guard_meta__["reads_host"] is True  # type: ignore[attr-defined]
    other = cf.guards.GuardRegistry()
    other.register("uses_roster", uses_roster, **uses_roster.__campaignflow_guard_meta__)  # type: ignore[attr-defined]
    assert other.bind(cf.use("uses_roster")).host_guards == ("uses_roster",)
    assert mine.copy().reads_host("uses_roster")
    with pytest.raises(cf.ValidationError, match="no such guard"):
        mine.reads_host("nobody")


def test_check_guard_refuses_a_host_reading_guard_without_host_data() -> None:
    """check_guard, like a campaign, raises guard.host_missing rather than judge ctx.host=None."""
    for named in (branch_attendance_coverage, "branch_attendance_coverage"):
        with pytest.raises(cf.ValidationError) as missing:
            check_guard(named, [Attendance("a")])
        assert missing.value.code == "guard.host_missing"
    assert check_guard("min_study_hours", hours=0).passed  # a guard reading no host data


def test_a_sweep_without_host_data_is_refused_before_its_first_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """advance_all stops before moving anyone, not half-way, when a later page holds a host gate."""
    monkeypatch.setattr("campaignflow.campaign._sweeps._SWEEP_CHUNK", 1)
    wf = cf.Workflow(
        name="two_gates",
        stages=[
            cf.Stage("pending", kind="waiting"),
            cf.Stage("a"),
            cf.Stage("b"),
            cf.Stage("done", kind="final"),
        ],
        transitions=[
            cf.Transition(source=("pending",), dest="a", trigger="start"),
            cf.Transition(source=("a",), dest="b"),
            cf.Transition(source=("b",), dest="done", guards=(cf.use(branch_attendance_coverage),)),
        ],
    )
    camp = cf.Campaign(wf, clock=cf.FixedClock(DAY))
    camp.add_units(UNITS)
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    camp.advance("b2", actor=CLERK)  # b2 waits at the host gate; b1 could still move a → b
    with pytest.raises(cf.ValidationError, match="host"):
        camp.advance_all()
    assert [s.stage for _, s in camp.units()] == ["a", "b"]
