"""The OA app's host-reading custom gate, tested and simulated like a built-in.

Run with ``python -m pytest -s examples/oa_custom_gate`` (CI runs it: tests/testing/
test_examples.py). Prints the numbers the issue's closing note quotes: how often the machine
reaches ``accepted`` over 200 runs, transitions covered, simulated units that finished.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from oa_gate import workflow as oa_workflow
from oa_gate.guards import GATE, FixedRoster, SQLiteRoster, StudyAttendee

import campaignflow as cf
from campaignflow.testing import (
    CampaignMachine,
    check_guard,
    covering_paths,
    machine_settings,
    walk,
)

HERE = Path(__file__).resolve().parent
WF = oa_workflow.workflow()
EDGES = {
    (stage.id, trigger, c.dest)
    for stage in WF.stages
    for trigger in WF.triggers(stage.id)
    for c in WF.candidates(stage.id, trigger)
}


def test_the_committed_workflow_file_is_the_generated_one() -> None:
    """district_gate.json is what oa_gate.workflow writes (``python -m oa_gate.workflow``)."""
    assert (HERE / "district_gate.json").read_text(encoding="utf-8") == oa_workflow.text()


@given(
    size=st.integers(1, 60),
    attended=st.sets(st.integers(1, 60)),
    strangers=st.sets(st.integers(100, 110), max_size=5),
    percent=st.integers(0, 100),
)
def test_the_gate_agrees_with_an_exact_fraction_oracle(
    size: int, attended: set[int], strangers: set[int], percent: int
) -> None:
    """passed ⇔ |attendees ∩ current| / |current| ≥ percent/100, exactly; params tell why."""
    roster = FixedRoster(size)
    facts = [StudyAttendee(f"e{i:02d}") for i in sorted(attended | strangers)]
    counted = len({f"e{i:02d}" for i in attended} & set(roster.current("b")))
    verdict = check_guard(GATE, facts, host=roster, percent=percent)
    assert verdict.passed == (Fraction(counted, size) >= Fraction(percent, 100))
    assert verdict.params == {"attended": counted, "employees": size, "percent": percent}
    assert verdict.message("zh_CN") != verdict.message("en")


def test_the_host_table_is_read_at_each_judgement() -> None:
    """A real SQLite roster: an employee leaving changes the next verdict, not the past."""
    conn = sqlite3.connect(":memory:")
    roster = SQLiteRoster.create(conn)
    for i in range(10):
        roster.hire(f"e{i}", "unit-1")
    facts = [StudyAttendee(f"e{i}") for i in range(1, 9)]  # 8 of 10: below 90 %
    assert not check_guard(GATE, facts, host=roster).passed
    roster.leave("e0")  # 8 of 9 current employees: still below
    assert not check_guard(GATE, facts, host=roster).passed
    roster.leave("e9")  # 8 of 8
    verdict = check_guard(GATE, facts, host=roster)
    assert verdict.passed
    assert "8 of 8 current employees" in verdict.message("en")
    assert "8 名在册职工中 8 人参学" in verdict.message("zh_CN")


def test_a_path_cover_takes_every_transition() -> None:
    """Every transition, the host-reading gate's included, is on a path walked for real."""
    paths = covering_paths(WF)
    taken = {s.edge for p in paths for s in p.steps}
    print(f"\npath cover: {len(taken & EDGES)}/{len(EDGES)} transitions covered")
    assert taken == EDGES
    walked: set[tuple[str, str, str]] = set()
    for path in paths:  # each path on a fresh campaign, its clock in batch 1's window
        clock = cf.SimulatedClock(WF.batches[0].opens)
        campaign = cf.Campaign(WF, clock=clock)  # no host=: the recipes bring the roster
        campaign.add_units([cf.Unit(id="u-1", name="支部", kind="organ", batch=1, members=20)])
        records = walk(campaign, "u-1", path, clock=clock)
        walked |= {(s.source, s.trigger, r.dest) for s, r in zip(path.steps, records, strict=True)}
    assert walked == EDGES


class OaMachine(CampaignMachine):
    """Random commands on the OA workflow; every transition must be taken over the runs."""

    workflow = WF
    unit_ids = ("u-1", "u-2")
    require_coverage = True
    reached = 0
    runs = 0

    def teardown(self) -> None:
        type(self).runs += 1
        if any(s.stage == "accepted" for _, s in self.campaign.units()):
            type(self).reached += 1
        super().teardown()


def test_the_machine_reaches_accepted_and_covers_every_transition() -> None:
    """200 runs × 60 steps: units pass the host-reading gate; require_coverage=True holds."""
    OaMachine.reached = OaMachine.runs = 0
    OaMachine._taken.clear()
    run_state_machine_as_test(
        OaMachine, settings=machine_settings(max_examples=200, steps=60, database=None)
    )
    found = OaMachine.check_coverage()  # fails, listing them, if a transition was never taken
    print(f"\nmachine: {OaMachine.reached}/{OaMachine.runs} runs reached accepted")
    print(f"machine: {len(found.covered)}/{len(EDGES)} transitions covered")
    assert OaMachine.reached > 0


PAST_THE_GATE = ("analysis_review", "rectification", "closing", "accepted")
AT_THE_GATE = ("study_mobilization", "study_mobilization_remedial", *PAST_THE_GATE)


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_campaignflow_simulate_finishes_units(tmp_path: Path, mode: str) -> None:
    """The CLI plays scenario.toml (plugins, host): units pass the gate in both modes."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "campaignflow",
            "simulate",
            str(HERE / "scenario.toml"),
            "--mode",
            mode,
            "--json",
            "--quiet",
            "--no-report",
            "--db",
            str(tmp_path / "campaign.db"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["mode"] == mode
    last = {p["batch"]: p["counts"] for p in result["timeline"]}
    reached = sum(c.get(s, 0) for c in last.values() for s in AT_THE_GATE)
    passed = sum(c.get(s, 0) for c in last.values() for s in PAST_THE_GATE)
    finished = sum(c.get("accepted", 0) for c in last.values())
    print(
        f"\nsimulation ({mode}): {reached}/{result['units']} units reached the gate, "
        f"{passed} passed it, {finished} finished"
    )
    assert reached == passed == finished == result["units"]
