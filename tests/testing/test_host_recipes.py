"""A HOST-READING custom gate is passed by the kit and the simulator through its recipe's host.

The integrator's typical gate: at least ``rate`` of the branch's current employees (a host
roster, read through ``ctx.host``) attended a study session in the stage. Its recipe gives
the attendance facts AND the host data (a stand-in roster) that make it pass or fail; the
path finder, ``walk``, the stateful machine, ``fast_forward`` and the exact simulator all
pass that host data per call. A host-reading gate whose recipe gives no host is named.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis.stateful import run_state_machine_as_test

import campaignflow as cf
from campaignflow.simulation import Scenario, simulate
from campaignflow.testing import (
    CampaignMachine,
    NoRecipeWarning,
    covering_paths,
    machine_settings,
    shortest_paths,
    walk,
)
from campaignflow.testing.paths import fires, steps
from tests.testing.scenarios import two_batch_scenario

GATE = "kit_host_coverage"
EDGE = ("study_mobilization", "advance", "analysis_review")


@attrs.frozen
class FixedRoster:
    """A stand-in roster: every branch has ``headcount`` current employees."""

    headcount: int

    def employees(self, unit_id: str) -> int:
        """The branch's current employees."""
        return self.headcount


@cf.fact_type("kit_host_attendance")
@attrs.frozen
class HostAttendance:
    """Employees present at one study session of the branch."""

    present: int


def coverage_recipe(params: Mapping[str, Any], passing: bool) -> cf.Recipe | None:
    """20 employees in the roster; exactly the rate passes, one fewer fails."""
    needed = math.ceil(Fraction(str(params.get("rate", 0.9))) * 20)
    host = {"kit_roster": FixedRoster(20)}
    if passing:
        return cf.Recipe(facts=(HostAttendance(present=needed),), host=host)
    if needed == 0:
        return None
    return cf.Recipe(facts=(HostAttendance(present=needed - 1),), host=host)


@cf.guard(GATE, reads_host=True, recipe=coverage_recipe)
def host_coverage(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
    """At least ``rate`` of the roster's employees attended (the headcount goes in params)."""
    employees = ctx.host["kit_roster"].employees(ctx.unit.id)
    present = max((a.present for a in ctx.facts(HostAttendance)), default=0)
    passed = employees > 0 and Fraction(present, employees) >= Fraction(str(rate))
    return cf.Verdict(GATE, passed, "x", {"present": present, "employees": employees})


def _hostless(params: Mapping[str, Any], passing: bool) -> cf.Recipe | None:
    return cf.Recipe(facts=(HostAttendance(present=20),)) if passing else None


def with_gate(name: str = GATE, **params: Any) -> dict[str, Any]:
    """The district preset with ``name`` on study_mobilization → analysis_review."""
    data = cf.presets.load("district_2005").to_dict()
    for t in data["transitions"]:
        source = t["source"] if isinstance(t["source"], list) else [t["source"]]
        if source == ["study_mobilization"] and t["dest"] == "analysis_review":
            t["guards"] = [*t.get("guards", []), {"guard": name, **params}]
    return data


WORKFLOW = cf.Workflow.from_dict(with_gate(rate=0.9))


def _edges(wf: cf.Workflow) -> set[tuple[str, str, str]]:
    return {
        (stage.id, trigger, c.dest)
        for stage in wf.stages
        for trigger in wf.triggers(stage.id)
        for c in wf.candidates(stage.id, trigger)
    }


def test_fires_judges_with_the_recipes_host_data() -> None:
    """The step's recipe carries the roster; without it the gate cannot fire."""
    step = next(s for s in steps(WORKFLOW) if s.edge == EDGE)
    assert step.recipe is not None
    assert step.recipe.host == {"kit_roster": FixedRoster(20)}
    assert fires(WORKFLOW, step, step.recipe)
    assert not fires(WORKFLOW, step, attrs.evolve(step.recipe, host=None))
    smaller = attrs.evolve(step.recipe, host={"kit_roster": FixedRoster(21)})
    assert not fires(WORKFLOW, step, smaller)  # 18 of 21 is below 90 %


def test_the_path_cover_and_walk_pass_the_host_reading_gate() -> None:
    """covering_paths takes every transition; walk passes the gate with no campaign host."""
    taken = {s.edge for p in covering_paths(WORKFLOW) for s in p.steps}
    assert taken == _edges(WORKFLOW)
    clock = cf.SimulatedClock(cf.presets.load("district_2005").batches[0].opens)
    campaign = cf.Campaign(WORKFLOW, clock=clock)
    campaign.add_units([cf.Unit(id="u-1", name="支部", kind="organ", batch=1, members=20)])
    walk(campaign, "u-1", shortest_paths(WORKFLOW)["accepted"], clock=clock)
    assert campaign.state("u-1").stage == "accepted"
    moved = next(r for r in campaign.history("u-1") if r.dest == "analysis_review")
    assert moved.decision is not None
    verdicts = [v for c in moved.decision["candidates"] for v in c["verdicts"]]
    assert any(v["params"].get("employees") == 20 for v in verdicts)


def test_a_host_reading_gate_whose_recipe_gives_no_host_is_named() -> None:
    """Facts but no host data: recipes.no_host, in both languages, an error under -W error."""
    reg = cf.guards.registry.copy()
    reg.register("kit_hostless", host_coverage, reads_host=True, recipe=_hostless)
    wf = cf.Workflow.from_dict(with_gate("kit_hostless"), registry=reg)
    with pytest.warns(NoRecipeWarning) as caught:
        found = steps(wf)
    warning = caught[0].message
    assert isinstance(warning, NoRecipeWarning)
    assert warning.code == "recipes.no_host"
    assert "`kit_hostless`" in str(warning)
    assert "host=" in str(warning)
    assert "宿主数据" in warning.message("zh_CN")
    assert next(s for s in found if s.edge == EDGE).recipe is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NoRecipeWarning, match="kit_hostless"):
            covering_paths(wf)


class HostMachine(CampaignMachine):
    """The machine on the host-reading workflow, requiring every transition."""

    workflow = WORKFLOW
    unit_ids = ("u-1", "u-2")
    reached = 0
    runs = 0

    def teardown(self) -> None:
        type(self).runs += 1
        if any(s.stage == "accepted" for _, s in self.campaign.units()):
            type(self).reached += 1
        super().teardown()


@pytest.mark.slow
def test_the_machine_passes_the_host_reading_gate() -> None:
    """Runs merge the recipes' host per unit: units pass the gate and reach accepted."""
    HostMachine.reached = HostMachine.runs = 0
    HostMachine._taken.clear()
    run_state_machine_as_test(
        HostMachine, settings=machine_settings(max_examples=40, steps=60, database=None)
    )
    found = HostMachine.coverage()
    assert EDGE in found.covered
    assert HostMachine.reached > 0


def _scenario(tmp_path: Path, **behaviour: Any) -> Scenario:
    return two_batch_scenario(
        tmp_path, with_gate(rate=0.9), name="host-gate", end="2006-06-30", **behaviour
    )


def test_the_simulation_passes_the_host_reading_gate(tmp_path: Path) -> None:
    """The recipe's roster is merged per unit and passed per call: units finish."""
    scenario = _scenario(tmp_path, guards={GATE: {"after_days": 10}})
    result = simulate(scenario, mode="exact")
    last = {p.batch: p for p in result.timeline}
    finished = sum(p.counts.get("accepted", 0) for p in last.values())
    assert finished > 0, result.blocking


def test_fast_forward_passes_the_host_reading_gate(tmp_path: Path, fast_forward: Any) -> None:
    """fast_forward plays the recipe with its host: units leave study_mobilization forward."""
    forwarded = fast_forward(_scenario(tmp_path, guards={GATE: {"after_days": 5}}), days=200)
    stages = {s.stage for _, s in forwarded.campaign.units()}
    assert stages - {"pending", "preparation", "study_mobilization"}, stages
