"""Exact mode on the district example: the campaign takes the shape the speech and rules give it."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path

import attrs
import pytest

import campaignflow as cf
from campaignflow.audit import AuditRecord
from campaignflow.simulation import (
    Scenario,
    SimulationResult,
    TimelinePoint,
    simulate,
    summarise,
)
from campaignflow.simulation.exact import simulate_exact
from tests.simulation.conftest import small_scenario

Run = tuple[Scenario, SimulationResult, cf.Campaign]


def _trail(campaign: cf.Campaign) -> list[AuditRecord]:
    return list(campaign.audit_trail())


def test_every_batch_completes_and_every_unit_is_accepted(district: Run) -> None:
    """All units reach the final stage; each batch has a completion date."""
    _, result, campaign = district
    assert result.units == len(campaign.units())
    assert all(b.completed_on is not None for b in result.batches)
    assert all(campaign.workflow.is_final(s.stage) for _, s in campaign.units())
    assert result.final_counts()["accepted"] == result.units
    assert sum(b.units for b in result.batches) == result.units


def test_no_unit_is_accepted_before_90_days_of_concentrated_activity(district: Run) -> None:
    """The speech forbids rushing: acceptance comes at least 90 days after the unit started."""
    _, _, campaign = district
    started: dict[str, date] = {}
    accepted: dict[str, date] = {}
    for record in _trail(campaign):
        if record.outcome != "ok" or record.unit_id is None:
            continue
        if record.source == "pending" and record.dest == "preparation":
            started[record.unit_id] = record.on
        if record.dest == "accepted":
            accepted[record.unit_id] = record.on
    assert accepted.keys() == started.keys()
    gaps = [(accepted[u] - started[u]).days for u in accepted]
    assert min(gaps) >= 90


def test_units_below_the_gate_go_to_make_up(district: Run) -> None:
    """Every assessment below 60 % satisfied sends the unit to its stage's make-up (补课)."""
    _scenario, result, campaign = district
    gate = 0.6
    pending_failure: dict[str, str] = {}
    failures = 0
    for record in _trail(campaign):
        uid = record.unit_id
        if uid is None or record.outcome != "ok":
            continue
        fact = record.payload.get("fact", {})
        if record.command == "record" and fact.get("kind") == "survey":
            survey = cf.fact_types.load(fact)
            assert isinstance(survey, cf.Survey)
            if survey.satisfied_rate < gate:
                pending_failure[uid] = record.source or ""
                failures += 1
        elif record.dest is not None and uid in pending_failure:
            stage = pending_failure.pop(uid)
            assert record.dest == f"{stage}_remedial", (uid, stage, record.dest)
    assert failures > 0, "the example's failure rate should produce some make-up"
    assert not pending_failure
    assert result.remedial.rounds == failures
    assert sum(result.remedial.by_stage.values()) == failures


def test_deferred_units_finish_in_the_next_batch(district: Run) -> None:
    """Units of batch 2 that cannot start move to batch 3 and are accepted there."""
    _, result, campaign = district
    deferred = {
        r.unit_id: r.payload["to_batch"]
        for r in _trail(campaign)
        if r.command == "defer" and r.outcome == "ok"
    }
    assert deferred, "the example defers some late units"
    assert set(deferred.values()) == {3}
    for uid in deferred:
        assert campaign.unit(uid).batch == 2
        state = campaign.state(uid)
        assert state.batch == 3
        assert campaign.workflow.is_final(state.stage)
        assert state.started_on is not None
        assert state.started_on >= date(2006, 1, 1)
    by_batch = {b.batch: b for b in result.batches}
    assert by_batch[2].deferred_out == by_batch[3].deferred_in == len(deferred)


def test_the_audit_chain_verifies_and_its_head_is_reported(district: Run) -> None:
    """The simulation is a real campaign: its audit chain holds, and the result names its head."""
    _, result, campaign = district
    check = campaign.verify_audit()
    assert check.ok
    assert check.head is not None
    assert result.audit_head == check.head.hash


def test_summarise_rebuilds_the_reported_result(district: Run) -> None:
    """summarise(campaign) over the audit trail gives exactly what the simulation reported."""
    scenario, result, campaign = district
    again = summarise(
        campaign,
        scenario_name=scenario.name,
        seed=scenario.seed,
        mode="exact",
        start=scenario.start,
        end=result.end,
    )
    assert again.to_json() == result.to_json()


def test_the_timeline_adds_up_every_day(district: Run) -> None:
    """Each batch's counts sum to its units at each point, and the stages are the workflow's."""
    _, result, campaign = district
    assert result.stages == tuple(s.id for s in campaign.workflow.stages)
    latest: dict[int, dict[str, int]] = {}
    by_day: dict[date, list[TimelinePoint]] = defaultdict(list)
    for point in result.timeline:
        by_day[point.day].append(point)
    assert list(by_day) == sorted(by_day)
    for points in by_day.values():
        for point in points:
            assert set(point.counts) == set(result.stages)
            latest[point.batch] = point.counts
        assert sum(sum(c.values()) for c in latest.values()) == result.units


def test_time_in_stage_respects_the_minimums(district: Run) -> None:
    """Study lasts at least 30 days; make-up stays are counted; p90 >= median."""
    _, result, _ = district
    study = result.time_in_stage["study_mobilization"]
    assert study.units >= result.units
    assert study.median_days >= 30
    for stage_time in result.time_in_stage.values():
        assert stage_time.p90_days >= stage_time.median_days >= 0


def test_blocking_reasons_are_codes_with_counts_most_first(district: Run) -> None:
    """The top reasons are stable verdict codes, most frequent first, at most ten."""
    _, result, campaign = district
    counts = [b.count for b in result.blocking]
    assert 0 < len(counts) <= 10
    assert counts == sorted(counts, reverse=True)
    stages = {s.id for s in campaign.workflow.stages}
    assert all(b.stage in stages and "." in b.code for b in result.blocking)
    assert any(b.code == "satisfaction.too_low" for b in result.blocking)


def test_sqlite_gives_the_same_result_as_memory(tmp_path: Path) -> None:
    """The embedded store and the in-memory one record the same campaign, byte for byte."""
    scenario = small_scenario()
    in_memory, _ = simulate_exact(scenario)
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    on_disk, campaign = simulate_exact(scenario, store=url)
    assert on_disk.to_json() == in_memory.to_json()
    # The database alone rebuilds the report (what `campaignflow report --db` does).
    with cf.Campaign(campaign.workflow, url, campaign_id=scenario.name) as reopened:
        rebuilt = summarise(
            reopened,
            scenario_name=scenario.name,
            seed=scenario.seed,
            mode="exact",
            start=scenario.start,
            end=in_memory.end,
        )
        assert rebuilt.to_json() == in_memory.to_json()
        assert reopened.verify_audit().ok
    campaign.close()


def test_a_store_that_already_holds_the_campaign_is_refused(tmp_path: Path) -> None:
    """Simulating twice into one database would mix two runs: refused."""
    scenario = small_scenario()
    url = f"sqlite:///{tmp_path / 'c.db'}"
    _, campaign = simulate_exact(scenario, store=url)
    campaign.close()
    with pytest.raises(cf.ValidationError, match="already holds"):
        simulate_exact(scenario, store=url)


def test_progress_is_called_once_per_simulated_day() -> None:
    """progress(day, done, total): consecutive days, done never falls, ends with all done."""
    calls: list[tuple[date, int, int]] = []
    result = simulate(small_scenario(), mode="exact", progress=lambda *a: calls.append(a))
    days = [c[0] for c in calls]
    assert days[0] == result.start
    assert days[-1] == result.end
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    done = [c[1] for c in calls]
    assert done == sorted(done)
    assert done[-1] == calls[-1][2] == result.units


def test_a_stricter_gate_sends_more_units_to_make_up() -> None:
    """Raising the satisfaction gate to 0.7 (troubled units' dissatisfied share 30-60 %)."""
    base = small_scenario()
    strict = attrs.evolve(base, workflow_overrides={"satisfaction_rate_at_least": {"rate": 0.7}})
    loose = simulate(base, mode="exact")
    tight = simulate(strict, mode="exact")
    assert tight.remedial.rounds > loose.remedial.rounds


def test_mobile_members_delay_the_analysis_stage() -> None:
    """With many mobile members, party-spirit reports wait for make-up: coverage blocks units."""
    data = small_scenario().to_dict()
    data["behaviour"]["mobile_members"] = {"share": 0.3, "makeup_delay_days": [20, 20]}
    result = simulate(Scenario.from_dict(data), mode="exact")
    codes = {(b.code, b.stage) for b in result.blocking}
    assert ("coverage.insufficient", "analysis_review") in codes
    data["behaviour"]["mobile_members"] = {"share": 0.0, "makeup_delay_days": [20, 20]}
    without = simulate(Scenario.from_dict(data), mode="exact")
    assert ("coverage.insufficient", "analysis_review") not in {
        (b.code, b.stage) for b in without.blocking
    }
    assert (
        result.time_in_stage["analysis_review"].median_days
        > without.time_in_stage["analysis_review"].median_days
    )


def test_closed_enterprises_can_run_as_their_own_units() -> None:
    """closed_enterprise = "own_unit": a unit of its own under a community branch."""
    data = small_scenario().to_dict()
    data["behaviour"]["closed_enterprise"] = "own_unit"
    data["batches"][1]["kinds"].append("closed_enterprise")
    scenario = Scenario.from_dict(data)
    units = {u.id: u for u in scenario.units()}
    closed = [u for u in units.values() if u.kind == "closed_enterprise"]
    assert len(closed) == 1
    assert units[closed[0].parent or ""].kind == "community"
    assert simulate(scenario, mode="exact").units == len(units)


def test_a_run_cut_short_reports_unfinished_batches() -> None:
    """With ``end`` before the campaign is over, unfinished batches have no completion date."""
    scenario = attrs.evolve(small_scenario(), end=date(2005, 9, 30))
    result = simulate(scenario, mode="exact")
    assert result.end == date(2005, 9, 30)
    by_batch = {b.batch: b for b in result.batches}
    assert by_batch[1].completed_on is not None
    assert by_batch[2].completed_on is None
    assert by_batch[3].completed_on is None
    assert by_batch[3].on_time_share == 0.0
    assert result.final_counts()["pending"] > 0


def test_late_starts_need_a_defer_transition(tmp_path: Path) -> None:
    """A workflow that cannot defer units refuses a late-start share before anything runs."""
    flow = cf.presets.district_2005().to_dict()
    flow["transitions"] = [t for t in flow["transitions"] if t["trigger"] != "defer"]
    (tmp_path / "flow.json").write_text(json.dumps(flow), encoding="utf-8")
    data = small_scenario().to_dict()
    data["workflow"] = "flow.json"
    scenario = Scenario.from_dict(data, base_dir=tmp_path)
    with pytest.raises(cf.ValidationError, match=r"late_start\.share"):
        simulate(scenario, mode="exact")
    data["behaviour"]["late_start"]["share"] = 0.0
    result = simulate(Scenario.from_dict(data, base_dir=tmp_path), mode="exact")
    assert all(b.deferred_out == 0 for b in result.batches)


@pytest.mark.parametrize("preset", ["advanced_nature_2005", "no_stages_2019"])
def test_every_shipped_preset_can_be_simulated(preset: str) -> None:
    """The simulator reads what to record from the gates, so every preset runs to the end."""
    result = simulate(attrs.evolve(small_scenario(), workflow=preset), mode="exact")
    assert all(b.completed_on is not None for b in result.batches)
    assert result.workflow.startswith(f"{preset}@")


def test_postgresql_gives_the_same_result_as_memory() -> None:
    """On the real PostgreSQL server (a fresh campaign id), the same campaign, byte for byte."""
    from tests.store.conftest import pg_dsn

    dsn = pg_dsn()
    scenario = small_scenario()
    in_memory, _ = simulate_exact(scenario, campaign_id="sim-pg")
    cid = f"sim-pg-{uuid.uuid4().hex[:12]}"
    on_pg, campaign = simulate_exact(scenario, store=dsn, campaign_id=cid)
    try:
        # The campaign id is in every audit record, so only the chain head differs.
        assert attrs.evolve(on_pg, audit_head=None) == attrs.evolve(in_memory, audit_head=None)
        assert campaign.verify_audit().ok
    finally:
        campaign.close()


def test_retired_members_delay_each_weeks_study_by_the_home_visits() -> None:
    """Every member retired or frail, 2 homes a day: the first week's study is recorded
    ceil(members / 2) days after the week ends; without them, on the seventh day."""

    def first_study_gaps(share: float) -> set[int]:
        data = small_scenario().to_dict()
        data["behaviour"]["retired_members"] = {"share": share, "home_visits_per_day": 2}
        result, campaign = simulate_exact(Scenario.from_dict(data, source="retired"))
        gaps = set()
        for unit, _ in campaign.units():
            facts = campaign.facts(unit.id, "study_mobilization")
            study = [f for f in facts if isinstance(f.fact, cf.StudySession)]
            entered = next(
                r.on
                for r in campaign.history(unit.id)
                if getattr(r, "dest", None) == "study_mobilization"
            )
            gaps.add((study[0].on - entered).days - (7 + -(-unit.members // 2) if share else 7))
        campaign.close()
        assert result.final_counts()["accepted"] == result.units
        return gaps

    assert first_study_gaps(1.0) == {0}
    assert first_study_gaps(0.0) == {0}


def test_retired_members_come_from_their_own_stream() -> None:
    """The "retired" stream is separate: the other once-only draws do not change with it."""
    from campaignflow.simulation.behaviour import draw_unit, unit_stream

    behaviour = small_scenario().behaviour
    plain = draw_unit(behaviour, unit_stream(1, "behaviour", "u"), 30)
    given = draw_unit(
        behaviour, unit_stream(1, "behaviour", "u"), 30, unit_stream(1, "retired", "u")
    )
    assert attrs.evolve(given, retired=0, home_delay=0) == plain
    assert (plain.retired, plain.home_delay) == (0, 0)
    visits = behaviour.retired_members.home_visits_per_day
    assert given.home_delay == -(-given.retired // visits)
