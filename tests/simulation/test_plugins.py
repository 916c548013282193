"""A scenario's ``plugins`` are imported before its workflow loads: guards without packaging."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.simulation import load_scenario, simulate

PLUGIN = textwrap.dedent(
    '''
    import campaignflow as cf

    def _recipe(params, passing):
        return cf.Recipe(facts=(cf.Milestone(name="roster_checked"),)) if passing else cf.Recipe()

    @cf.guard("scenario_plugin_roster_checked", recipe=_recipe)
    def roster_checked(ctx: cf.GuardContext) -> cf.Verdict:
        """The branch checked its roster in this stage."""
        done = any(m.name == "roster_checked" for m in ctx.facts(cf.Milestone))
        return cf.Verdict("scenario_plugin_roster_checked", done, "x", {})
    '''
)


def _write(folder: Path, plugins: list[str]) -> Path:
    package = folder / "cf_scenario_plugin_pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "guards.py").write_text(PLUGIN, encoding="utf-8")
    flow = cf.presets.district_2005().to_dict()
    for t in flow["transitions"]:
        if t["source"] == "preparation" and t["dest"] == "study_mobilization":
            t["guards"] = [*t["guards"], {"guard": "scenario_plugin_roster_checked"}]
    (folder / "flow.json").write_text(json.dumps(flow), encoding="utf-8")
    listed = ", ".join(json.dumps(p) for p in plugins)
    scenario = folder / "scenario.toml"
    scenario.write_text(
        textwrap.dedent(
            f"""
            name = "plugins"
            workflow = "flow.json"
            plugins = [{listed}]
            start = 2005-01-01
            end = 2005-12-31

            [[batches]]
            number = 1
            opens = 2005-01-01
            closes = 2005-06-30
            kinds = ["organ"]

            [roster.counts]
            organ = 4
            """
        ),
        encoding="utf-8",
    )
    return scenario


def test_a_plugin_next_to_the_scenario_registers_its_guard(tmp_path: Path) -> None:
    """The module (found next to the scenario file) registers the gate; units pass it."""
    scenario = load_scenario(_write(tmp_path, ["cf_scenario_plugin_pkg.guards"]))
    assert scenario.plugins == ("cf_scenario_plugin_pkg.guards",)
    assert scenario.to_dict()["plugins"] == ["cf_scenario_plugin_pkg.guards"]
    result = simulate(scenario, mode="exact")
    assert "scenario_plugin_roster_checked" in cf.guards.registry
    assert result.batches[0].completed_on is not None


def test_a_plugin_that_cannot_be_imported_is_named_with_its_path(tmp_path: Path) -> None:
    """A missing module is a scenario problem at plugins[i], naming the module."""
    scenario = load_scenario(_write(tmp_path, ["cf_no_such_plugin_module"]))
    with pytest.raises(cf.ValidationError) as info:
        scenario.load_workflow()
    text = info.value.message("en")
    assert "plugins[0]" in text
    assert "cf_no_such_plugin_module" in text


def test_a_plugin_name_that_is_no_module_name_is_refused(tmp_path: Path) -> None:
    """A name that is not a dotted Python name is refused when the scenario is read."""
    with pytest.raises(cf.ValidationError, match=r"plugins\[0\]"):
        load_scenario(_write(tmp_path, ["not a module"]))
