"""Fast mode drives custom gates as exact mode does: their recipes' facts (of the host's own
fact types) and host data are played, a guard without a bulk form is judged by its own
function unit by unit, and the outcome is the same as exact mode's, record for record."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest

import campaignflow as cf
from campaignflow.simulation import Scenario, SimulationResult, simulate
from campaignflow.simulation.exact import simulate_exact

from .test_fast import _comparable, scenario

fast = pytest.importorskip("campaignflow.simulation._fast")
fast_roster = pytest.importorskip("campaignflow.simulation._fast.roster")

GATE = "test_fast_attendance"
BARE = "test_fast_no_recipe"
ROSTER = 20


@attrs.frozen
class Roster:
    """A stand-in host roster: every branch has ``size`` current employees."""

    size: int

    def current(self, branch: str) -> list[str]:
        return [f"e{i:02d}" for i in range(1, self.size + 1)]


@attrs.frozen
class Attendee:
    """One employee attended a study session of the branch (a custom fact type)."""

    employee_id: str


def _recipe(params: Mapping[str, Any], passing: bool) -> cf.Recipe | None:
    needed = math.ceil(Fraction(int(params.get("percent", 90)), 100) * ROSTER) - (not passing)
    if needed < 0:
        return None
    facts = tuple(Attendee(e) for e in Roster(ROSTER).current("any")[:needed])
    return cf.Recipe(facts=facts, host=Roster(ROSTER))


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    """The fact type and the host-reading gate (with its recipe), registered once."""
    if GATE not in cf.guards.registry:
        cf.fact_type("test_fast_attendee")(Attendee)
        messages = {
            "test_fast_attendance.enough": {"zh_CN": "参学够", "en": "enough attended"},
            "test_fast_attendance.low": {"zh_CN": "参学不足", "en": "too few attended"},
        }

        @cf.guard(GATE, reads_host=True, recipe=_recipe, messages=messages)
        def attendance(ctx: cf.GuardContext, *, percent: int = 90) -> cf.Verdict:
            roster = ctx.host.current(ctx.unit.id)
            came = len({a.employee_id for a in ctx.facts(Attendee)} & set(roster))
            ok = bool(roster) and Fraction(came, len(roster)) >= Fraction(percent, 100)
            code = "test_fast_attendance.enough" if ok else "test_fast_attendance.low"
            return cf.Verdict(GATE, ok, code, {"attended": came, "employees": len(roster)})

        @cf.guard(BARE, messages={"test_fast_bare.no": {"zh_CN": "否", "en": "no"}})
        def bare(ctx: cf.GuardContext) -> cf.Verdict:
            return cf.Verdict(BARE, False, "test_fast_bare.no", {})


#: The ways forward the gate is put on: its facts must not leak from one stage to the next,
#: and must come back with a unit returning from make-up (补课).
GATED = {("study_mobilization", "analysis_review"), ("analysis_review", "rectification")}


def _workflow(tmp_path: Path, gate: str, on: set[tuple[str, str]] = GATED, **params: Any) -> str:
    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if isinstance(t["source"], str) and (t["source"], t["dest"]) in on:
            t["guards"].append({"guard": gate, **params})
    path = tmp_path / f"{gate}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _timed(sc: Scenario, after_days: int | None) -> Scenario:
    raw = sc.to_dict()
    if after_days is not None:
        raw["behaviour"]["guards"] = {GATE: {"after_days": after_days}}
    return Scenario.from_dict(raw, source="custom", base_dir=sc.base_dir)


def _reached(result: SimulationResult) -> int:
    """Units that got past the custom gate (into analysis_review or beyond)."""
    finals = result.final_counts()
    return sum(
        n
        for s, n in finals.items()
        if s in ("analysis_review", "rectification", "closing", "accepted")
    )


@pytest.mark.parametrize(
    ("after_days", "failure", "mobile"),
    # after 40 days: later than the unit applies (33, 30 days) and than its re-assessment
    # back from make-up (7 days), so only the facts of the visit before count then.
    [(None, 0.0, 0.0), (14, 1.0, 1.0), (40, 0.0, 1.0), (40, 1.0, 0.0)],
)
def test_a_host_reading_custom_gate_gives_the_same_result_in_both_modes(
    tmp_path: Path, after_days: int | None, failure: float, mobile: float
) -> None:
    """Custom fact type + host-reading guard with a recipe: fast == exact, and all finish."""
    sc = _timed(
        scenario(workflow=_workflow(tmp_path, GATE, percent=90), failure=failure, mobile=mobile),
        after_days,
    )
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc)
    assert result.mode == "fast"
    assert _comparable(result) == _comparable(exact)
    assert result.final_counts()["accepted"] == result.units
    assert _reached(result) == result.units


def test_fast_mode_shards_a_custom_gate_as_it_runs_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recipes' facts and host data live with their shard: any shard count, one result."""
    sc = _timed(scenario(workflow=_workflow(tmp_path, GATE, percent=90)), 14)
    whole = fast.simulate_fast(sc)
    monkeypatch.setattr(fast_roster, "BLOCK", 8)
    assert fast.simulate_fast(sc, shards=3).to_json() == whole.to_json()


@pytest.mark.slow
def test_a_gate_without_a_recipe_is_named_and_holds_its_units_in_both_modes(
    tmp_path: Path,
) -> None:
    """NoRecipeWarning names the gate and the way it guards; no unit gets past it, in either mode."""
    sc = scenario(workflow=_workflow(tmp_path, BARE))
    with pytest.warns(cf.NoRecipeWarning, match=BARE) as caught:
        result = fast.simulate_fast(sc)
    assert result.mode == "fast"
    assert {
        w.message.params["dest"] for w in caught if isinstance(w.message, cf.NoRecipeWarning)
    } == {  # type: ignore[union-attr]
        "analysis_review",
        "rectification",
    }
    with pytest.warns(cf.NoRecipeWarning, match=BARE):
        exact, campaign = simulate_exact(sc)
    campaign.close()
    assert _comparable(result) == _comparable(exact)
    assert _reached(result) == 0
    assert result.final_counts()["study_mobilization"] == result.units
    assert result.blocking[0].code == "test_fast_bare.no"
    with warnings.catch_warnings():
        warnings.simplefilter("error", cf.NoRecipeWarning)
        with pytest.raises(cf.NoRecipeWarning, match=BARE):
            simulate(sc, mode="fast")


@pytest.mark.slow
def test_the_runs_host_data_reaches_a_gate_judged_one_unit_at_a_time(tmp_path: Path) -> None:
    """simulate(host=...) in fast mode: the gate reads the run's roster (here a smaller one)."""
    sc = _timed(scenario(workflow=_workflow(tmp_path, GATE, percent=90)), 14)
    # 18 attendees of a 19-employee roster: 94.7 % - passes; of a 40-employee one: fails.
    small = simulate(sc, mode="fast", host=Roster(19))
    assert small.mode == "fast"
    assert small.final_counts()["accepted"] == small.units
    big = simulate(sc, mode="fast", host=Roster(40))
    exact = simulate(sc, mode="exact", host=Roster(40))
    assert _comparable(big) == _comparable(exact)
    assert _reached(big) == 0


@pytest.mark.parametrize("closed", ["reattach", "own_unit"])
def test_a_guard_judged_one_unit_at_a_time_sees_exact_modes_unit_records(closed: str) -> None:
    """Ids, names, kinds and parents in fast mode's contexts are the generated roster's."""
    raw = scenario(counts={"organ": 3, "community": 4, "closed_enterprise": 5}).to_dict()
    raw["behaviour"]["closed_enterprise"] = closed
    if closed == "own_unit":
        raw["batches"][-1]["kinds"].append("closed_enterprise")
    sc = Scenario.from_dict(raw, source="units", base_dir=Path(__file__).parent)
    book = fast_roster._Units(sc, sc.seed)
    units = sc.units()
    seen = [book.unit(i, u.members, u.batch) for i, u in enumerate(units)]
    assert seen == units
    assert any(u.parent for u in units) == (closed == "own_unit")


SEEN = "test_fast_builtin_facts_seen"


def test_a_guard_judged_one_unit_at_a_time_sees_the_stages_builtin_facts(tmp_path: Path) -> None:
    """Study hours, milestones and approvals the behaviour model recorded are in its context."""
    if SEEN not in cf.guards.registry:

        @cf.guard(
            SEEN,
            messages={"test_fast_seen.ok": {"zh_CN": "是", "en": "ok"}},
            recipe=lambda params, passing: cf.Recipe() if passing else None,
        )
        def seen(ctx: cf.GuardContext, *, hours: float) -> cf.Verdict:
            studied = sum(s.hours for s in ctx.facts(cf.StudySession))
            guided = sum(s.hours for s in ctx.facts(cf.StudySession) if s.guided)
            filed = {m.name for m in ctx.facts(cf.Milestone)}
            approved = [a for a in ctx.facts(cf.Approval, current=True) if a.approved]
            ok = studied >= hours and guided > 0 and len(filed) >= 2 and bool(approved)
            return cf.Verdict(SEEN, ok, "test_fast_seen.ok", {"hours": studied})

    # 8 hours a week: 40 hours two days after the unit first applies (33 days in).
    first = {("study_mobilization", "analysis_review")}
    sc = scenario(workflow=_workflow(tmp_path, SEEN, first, hours=40))
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc)
    assert _comparable(result) == _comparable(exact)
    assert result.final_counts()["accepted"] == result.units
    assert result.time_in_stage["study_mobilization"].median_days == 35


def test_a_make_up_visit_plays_the_custom_gate_of_its_way_out(tmp_path: Path) -> None:
    """A gate on 学习动员补课 → 学习动员: the make-up visit records its recipe (both modes)."""
    way_back = {("study_mobilization_remedial", "study_mobilization")}
    sc = scenario(workflow=_workflow(tmp_path, GATE, way_back, percent=90), failure=1.0)
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc)
    assert _comparable(result) == _comparable(exact)
    assert result.remedial.units == result.units  # every unit went through the gate
    assert result.final_counts()["accepted"] == result.units


@pytest.mark.slow
def test_each_worker_builds_the_scenarios_host_and_a_given_host_must_pickle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """host = "module:callable" with shards: built in every worker; a given host must pickle."""
    (tmp_path / "cf_fast_host_builder.py").write_text(
        "import sqlite3\n"
        "class Staff:\n"
        "    def __init__(self):\n"
        "        self.conn = sqlite3.connect(':memory:')  # a connection: it does not pickle\n"
        "    def current(self, branch):\n"
        "        return [f'e{i:02d}' for i in range(1, 41)]\n"
        "def staff():\n"
        "    return Staff()\n",
        encoding="utf-8",
    )
    raw = _timed(scenario(workflow=_workflow(tmp_path, GATE, percent=90)), 14).to_dict()
    raw["host"] = "cf_fast_host_builder:staff"
    sc = Scenario.from_dict(raw, source="hosted", base_dir=tmp_path)
    whole = fast.simulate_fast(sc)
    # The run's roster (40 employees) wins over the recipe's (20): 18 attended, too few.
    assert whole.final_counts()["study_mobilization"] == whole.units
    assert whole.blocking[0].code == "test_fast_attendance.low"
    monkeypatch.setattr(fast_roster, "BLOCK", 8)
    assert fast.simulate_fast(sc, shards=3).to_json() == whole.to_json()
    with pytest.raises(cf.ValidationError, match="worker processes") as refused:
        fast.simulate_fast(sc, shards=3, host=sc.make_host())
    assert refused.value.code == "simulation.host_not_picklable"
