"""Recipes are part of a guard's registration, and every consumer uses them.

The integrator's kind of gate: a custom fact type (``BranchAttendance``) and a custom guard
(``kit_attendance_coverage``: at least ``rate`` of the branch's members attended) with a
recipe, on the district preset's study_mobilization → analysis_review. The path finder, the
stateful machine and the exact simulator all pass it; a gate without a recipe is named.
(Host data is not used here: the host-data branch is not merged into this one.)
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
from campaignflow.simulation import Scenario
from campaignflow.simulation.exact import simulate_exact
from campaignflow.testing import (
    CampaignMachine,
    NoRecipeWarning,
    covering_paths,
    machine_settings,
    shortest_paths,
    walk,
)
from campaignflow.testing.paths import steps
from tests.testing.scenarios import two_batch_scenario

GATE = "kit_attendance_coverage"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@cf.fact_type("kit_attendance")
@attrs.frozen
class BranchAttendance:
    """Members present at one study session of the branch."""

    present: int
    members: int


def attendance_recipe(params: Mapping[str, Any], passing: bool) -> cf.Recipe | None:
    """Exactly the rate out of 20 members passes; one member fewer fails."""
    rate = Fraction(str(params.get("rate", 0.9)))
    needed = math.ceil(rate * 20)
    if passing:
        return cf.Recipe(facts=(BranchAttendance(present=needed, members=20),))
    if needed == 0:
        return None
    return cf.Recipe(facts=(BranchAttendance(present=needed - 1, members=20),))


@cf.guard(GATE, recipe=attendance_recipe)
def branch_attendance_coverage(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
    """At least ``rate`` of the members attended (summed over the stage's sessions)."""
    seen = ctx.facts(BranchAttendance)
    members = sum(a.members for a in seen)
    present = sum(a.present for a in seen)
    passed = members > 0 and Fraction(present, members) >= Fraction(str(rate))
    return cf.Verdict(GATE, passed, "x", {"present": present, "members": members})


def _no_recipe(ctx: cf.GuardContext) -> cf.Verdict:
    """A gate registered without a recipe."""
    return cf.Verdict("roster_signed", True, "x", {})


def with_gate(name: str = GATE, **params: Any) -> dict[str, Any]:
    """The district preset with ``name`` added on study_mobilization → analysis_review."""
    data = cf.presets.load("district_2005").to_dict()
    for t in data["transitions"]:
        source = t["source"] if isinstance(t["source"], list) else [t["source"]]
        if source == ["study_mobilization"] and t["dest"] == "analysis_review":
            t["guards"] = [*t.get("guards", []), {"guard": name, **params}]
    return data


WORKFLOW = cf.Workflow.from_dict(with_gate(rate=0.9))
EDGE = ("study_mobilization", "advance", "analysis_review")


def test_recipe_is_part_of_the_registration_and_goes_through_combinators() -> None:
    """recipe_for answers from the registration, through all_of / any_of / not_."""
    reg = cf.guards.registry
    spec = cf.use(GATE, rate=0.9)
    assert reg.recipe_for(spec, True) == cf.Recipe(facts=(BranchAttendance(18, 20),))
    assert reg.recipe_for(spec, False) == cf.Recipe(facts=(BranchAttendance(17, 20),))
    assert reg.recipe_for(cf.not_(spec), True) == reg.recipe_for(spec, False)
    both = reg.recipe_for(cf.all_of(spec, cf.use("min_study_hours", hours=10)), True)
    assert both is not None
    assert both.facts == (BranchAttendance(18, 20), cf.StudySession(hours=10, guided=True))
    assert cf.testing.Recipe is cf.Recipe is cf.guards.Recipe


def test_every_builtin_guard_registers_a_recipe() -> None:
    """No built-in gate is without a recipe."""
    reg = cf.guards.registry
    builtins = {n for n in reg.names() if reg.get(n).__module__.startswith("campaignflow.")}
    assert builtins
    assert [n for n in sorted(builtins) if reg.without_recipe(cf.use(n))] == []


def test_a_recipe_that_returns_something_else_is_refused() -> None:
    """A recipe must give a Recipe or None: anything else names the guard."""
    reg = cf.guards.registry.copy()
    reg.register("odd", _no_recipe, recipe=lambda params, passing: {"facts": ()})
    with pytest.raises(cf.ValidationError, match="odd"):
        reg.recipe_for(cf.use("odd"), True)


def test_the_path_cover_takes_every_transition_through_the_custom_gate() -> None:
    """covering_paths covers every transition of the workflow, the custom gate's included."""
    paths = covering_paths(WORKFLOW)
    taken = {s.edge for p in paths for s in p.steps}
    edges = {
        (stage.id, trigger, c.dest)
        for stage in WORKFLOW.stages
        for trigger in WORKFLOW.triggers(stage.id)
        for c in WORKFLOW.candidates(stage.id, trigger)
    }
    print(f"path cover: {len(taken & edges)}/{len(edges)} transitions covered")
    assert EDGE in taken
    assert taken == edges
    assert "accepted" in shortest_paths(WORKFLOW)


def test_walking_the_path_passes_the_custom_gate_on_a_real_campaign() -> None:
    """walk records the recipe's BranchAttendance and the campaign moves through the gate."""
    clock = cf.SimulatedClock(cf.presets.load("district_2005").batches[0].opens)
    campaign = cf.Campaign(WORKFLOW, clock=clock)
    campaign.add_units([cf.Unit(id="u-1", name="支部", kind="organ", batch=1, members=20)])
    walk(campaign, "u-1", shortest_paths(WORKFLOW)["accepted"], clock=clock)
    assert campaign.state("u-1").stage == "accepted"
    kinds = {type(r.fact) for r in campaign.facts("u-1", "study_mobilization")}
    assert BranchAttendance in kinds


def test_hook_still_overrides_the_registered_recipe() -> None:
    """hook= (kept one release) answers first; None falls back to the registration."""
    never = steps(WORKFLOW, hook=lambda spec, passing: None)
    assert next(s for s in never if s.edge == EDGE).recipe is not None
    fail = cf.Recipe(facts=(BranchAttendance(0, 20),))

    def hook(spec: cf.GuardSpec, passing: bool) -> cf.Recipe | None:
        return fail if spec.name == GATE else None

    blocked = steps(WORKFLOW, hook=hook)
    assert next(s for s in blocked if s.edge == EDGE).recipe is None


def test_a_gate_without_a_recipe_is_named_by_the_path_finder() -> None:
    """No recipe: a NoRecipeWarning naming the gate and the transition, not a silent stop."""
    reg = cf.guards.registry.copy()
    reg.register("roster_signed", _no_recipe)
    wf = cf.Workflow.from_dict(with_gate("roster_signed"), registry=reg)
    with pytest.warns(NoRecipeWarning) as caught:
        shortest_paths(wf)
    text = str(caught[0].message)
    assert "`roster_signed`" in text
    assert "study_mobilization → analysis_review" in text
    assert "recipe=" in text
    assert "没有配方" in caught[0].message.message("zh_CN")  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NoRecipeWarning):
            covering_paths(wf)


class Integrator(CampaignMachine):
    """The machine on the integrator's workflow, two units, requiring the custom gate's edge."""

    workflow = WORKFLOW
    unit_ids = ("u-1", "u-2")
    require_coverage = (EDGE,)
    reached = 0
    runs = 0

    def teardown(self) -> None:
        type(self).runs += 1
        if any(s.stage == "accepted" for _, s in self.campaign.units()):
            type(self).reached += 1
        super().teardown()


@pytest.mark.sized(default=40)
def test_the_machine_reaches_the_final_stage_through_the_custom_gate(size: int | None) -> None:
    """200 runs × 60 steps (40 in the default run): units pass the custom gate and reach
    ``accepted``."""
    Integrator.reached = Integrator.runs = 0
    Integrator._taken.clear()
    run_state_machine_as_test(
        Integrator,
        settings=machine_settings(max_examples=size or 200, steps=60, database=None),
    )
    found = Integrator.check_coverage()
    print(f"machine: {Integrator.reached}/{Integrator.runs} runs reached accepted")
    print(found.report())
    assert EDGE in found.covered
    assert Integrator.reached > 0


def test_require_coverage_fails_a_test_that_never_took_a_transition() -> None:
    """A required transition no run took fails the TestCase, listing it."""

    class Idle(CampaignMachine):
        workflow = WORKFLOW
        require_coverage = True

    Idle.TestCase.settings = machine_settings(max_examples=2, steps=1, database=None)
    case = Idle.TestCase()
    case.setUp()
    case.runTest()
    with pytest.raises(AssertionError, match=r"required transition\(s\) never taken") as info:
        case.tearDown()
    assert "closing -advance-> accepted" in str(info.value)
    assert Idle.coverage().missing


def test_require_coverage_refuses_an_edge_the_workflow_lacks() -> None:
    """A required transition that is no edge of the workflow is named."""

    class Wrong(CampaignMachine):
        workflow = WORKFLOW
        require_coverage = (("preparation", "advance", "accepted"),)

    Wrong._derived = None
    run_state_machine_as_test(Wrong, settings=machine_settings(max_examples=1, steps=1))
    with pytest.raises(cf.ValidationError, match="no transition"):
        Wrong.check_coverage()


def test_a_machine_on_a_gate_without_a_recipe_fails_at_once() -> None:
    """Under -W error (the project's pytest config) the machine names the gate when it starts."""
    reg = cf.guards.registry.copy()
    reg.register("roster_signed", _no_recipe)

    class Vacuous(CampaignMachine):
        workflow = cf.Workflow.from_dict(with_gate("roster_signed"), registry=reg)

    with pytest.raises(NoRecipeWarning, match="roster_signed"):
        run_state_machine_as_test(Vacuous, settings=machine_settings(max_examples=1, steps=1))


def _scenario(tmp_path: Path, workflow: dict[str, Any], **behaviour: Any) -> Scenario:
    return two_batch_scenario(tmp_path, workflow, name="integrator", end="2006-12-31", **behaviour)


def test_the_exact_simulation_finishes_units_through_the_custom_gate(tmp_path: Path) -> None:
    """The simulator records the gate's passing recipe after_days into the stage; units finish."""
    scenario = _scenario(tmp_path, with_gate(rate=0.9), guards={GATE: {"after_days": 10}})
    _, campaign = simulate_exact(scenario)
    finished = sum(1 for _, s in campaign.units() if s.stage == "accepted")
    print(f"simulation: {finished}/{len(campaign.units())} units finished")
    assert finished > 0
    first = next(u for u, _ in campaign.units())
    records = campaign.facts(first.id, "study_mobilization")
    assert any(isinstance(r.fact, BranchAttendance) for r in records)
    campaign.close()


def test_the_scenario_names_a_timed_gate_the_workflow_lacks(tmp_path: Path) -> None:
    """[behaviour.guards.<name>] is checked: a bad after_days or an unknown gate, with paths."""
    with pytest.raises(cf.ValidationError, match=r"behaviour\.guards\.x\.after_days"):
        _scenario(tmp_path, with_gate(), guards={"x": {"after_days": -1}})
    scenario = _scenario(tmp_path, with_gate(), guards={"no_such_gate": {"after_days": 3}})
    with pytest.raises(cf.ValidationError, match=r"behaviour\.guards\.no_such_gate"):
        scenario.load_workflow()


def test_the_simulator_names_a_gate_without_a_recipe(tmp_path: Path) -> None:
    """A simulation of a gate no recipe passes warns at once (an error under -W error)."""
    if "sim_roster_signed" not in cf.guards.registry:
        cf.guards.registry.register("sim_roster_signed", _no_recipe)
    scenario = _scenario(tmp_path, with_gate("sim_roster_signed"))
    with pytest.raises(NoRecipeWarning, match="sim_roster_signed"):
        simulate_exact(scenario)


def test_fast_forward_plays_the_custom_gate(tmp_path: Path, fast_forward: Any) -> None:
    """fast_forward runs the simulator, so a unit records the gate's recipe and moves on."""
    scenario = _scenario(tmp_path, with_gate(rate=0.9), guards={GATE: {"after_days": 5}})
    forwarded = fast_forward(scenario, days=200)
    stages = {s.stage for _, s in forwarded.campaign.units()}
    assert stages - {"pending", "preparation", "study_mobilization"}, stages


def test_require_coverage_of_another_kind_is_refused() -> None:
    """require_coverage is True, False or a list of edges; anything else is named."""

    class Odd(CampaignMachine):
        workflow = WORKFLOW
        require_coverage = "yes"  # type: ignore[assignment]

    with pytest.raises(cf.ValidationError, match="require_coverage"):
        Odd.check_coverage()


def test_recipes_add_up_with_host_data_merged() -> None:
    """Facts together, the longest waits, host mappings merged (the host-data contract)."""
    a = cf.Recipe(facts=(1,), days_in_stage=3, host={"roster": 20})
    b = cf.Recipe(facts=(2,), days_since_start=5, outside_window=True, host={"present": 18})
    total = a + b
    assert total.facts == (1, 2)
    assert (total.days_in_stage, total.days_since_start, total.outside_window) == (3, 5, True)
    assert total.host == {"roster": 20, "present": 18}
    assert (cf.Recipe() + a).host == {"roster": 20}
