"""``campaignflow simulate`` gives host data to host-reading guards: the scenario's
``host = "module:callable"`` or ``--host MODULE:CALLABLE`` builds it, found as plugins are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from campaignflow.simulation import load_scenario
from campaignflow.simulation.scenario import build_host

from .conftest import SMALL

PLUGIN = "cf_cli_host_gate"

# The host's module: a custom fact type, a gate reading the host's staff list, a recipe that
# brings the attendees but no host data (the run must give it), and builders of host data.
SOURCE = """
import attrs
import campaignflow as cf


@cf.fact_type("cf_cli_host_badge")
@attrs.frozen
class Badge:
    employee_id: str


@attrs.frozen
class Staff:
    size: int

    def current(self, branch):
        return [f"e{i}" for i in range(self.size)]


def _recipe(params, passing):
    n = params["at_least"] - (0 if passing else 1)
    return cf.Recipe(facts=tuple(Badge(f"e{i}") for i in range(n))) if n >= 0 else None


@cf.guard(
    "cf_cli_host_gate",
    reads_host=True,
    recipe=_recipe,
    messages={
        "cf_cli_host_gate.ok": {"zh_CN": "参学 {came} 人", "en": "{came} attended"},
        "cf_cli_host_gate.low": {"zh_CN": "参学仅 {came} 人", "en": "only {came} attended"},
    },
)
def gate(ctx, *, at_least):
    came = len({b.employee_id for b in ctx.facts(Badge)} & set(ctx.host.current(ctx.unit.id)))
    ok = came >= at_least
    return cf.Verdict("cf_cli_host_gate", ok, "cf_cli_host_gate.ok" if ok else "cf_cli_host_gate.low", {"came": came})


def staff():
    return Staff(50)


def two():
    return Staff(2)


def nothing():
    return None


def broken():
    raise RuntimeError("roster database is down")


NOT_CALLABLE = 3
"""


def _scenario(folder: Path, host: str | None) -> Path:
    """The small district scenario with the gate on 学习动员 → 分析评议, as a JSON file."""
    (folder / f"{PLUGIN}.py").write_text(SOURCE, encoding="utf-8")
    flow = cf.presets.district_2005().to_dict()
    for t in flow["transitions"]:
        if t["source"] == "study_mobilization" and t["dest"] == "analysis_review":
            t["guards"].append({"guard": PLUGIN, "at_least": 5})
    (folder / "flow.json").write_text(json.dumps(flow, ensure_ascii=False), encoding="utf-8")
    data = load_scenario(SMALL).to_dict()
    data |= {"workflow": "flow.json", "plugins": [PLUGIN]}
    if host is not None:
        data["host"] = host
    path = folder / "scenario.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _run(cli: Any, runner: CliRunner, scenario: Path, *args: str, mode: str = "exact") -> Any:
    return runner.invoke(
        cli, ["simulate", str(scenario), "--mode", mode, "--json", "--no-report", *args]
    )


def _past_the_gate(output: str) -> int:
    result = json.loads(output)
    last = {p["batch"]: p["counts"] for p in result["timeline"]}
    later = ("analysis_review", "rectification", "closing", "accepted")
    return sum(c.get(s, 0) for c in last.values() for s in later)


def test_the_scenarios_host_reaches_the_gate(cli: Any, runner: CliRunner, tmp_path: Path) -> None:
    """host = "module:callable" builds the staff list: every unit passes the gate, both modes."""
    scenario = _scenario(tmp_path, f"{PLUGIN}:staff")
    for mode in ("exact", "fast"):
        done = _run(cli, runner, scenario, mode=mode)
        assert done.exit_code == 0, done.output + done.stderr
        assert json.loads(done.stdout)["mode"] == mode
        assert _past_the_gate(done.stdout) == 12
        assert "recipe gives none" not in done.stderr


@pytest.mark.slow
def test_host_option_overrides_the_scenarios(cli: Any, runner: CliRunner, tmp_path: Path) -> None:
    """--host builds another staff list (two employees): no unit gets 5 attendees past it."""
    scenario = _scenario(tmp_path, f"{PLUGIN}:staff")
    small = _run(cli, runner, scenario, "--host", f"{PLUGIN}:two", "--db", "two.db")
    assert small.exit_code == 0, small.output + small.stderr
    assert _past_the_gate(small.stdout) == 0
    blocking = json.loads(small.stdout)["blocking"]
    assert blocking[0]["code"] == "cf_cli_host_gate.low"
    # With shards, fast mode's workers build it from the name: the same outcome.
    sharded = _run(cli, runner, scenario, "--host", f"{PLUGIN}:two", "--shards", "2", mode="fast")
    assert sharded.exit_code == 0, sharded.output + sharded.stderr
    assert _past_the_gate(sharded.stdout) == 0


def test_without_host_data_the_gate_is_named(cli: Any, runner: CliRunner, tmp_path: Path) -> None:
    """No host anywhere: a note names the gate whose recipe brings no host data."""
    bare = _run(cli, runner, _scenario(tmp_path, None))
    assert bare.exit_code == 0, bare.output + bare.stderr
    assert f"gate `{PLUGIN}` on study_mobilization → analysis_review" in bare.stderr
    assert "recipe gives none" in bare.stderr
    assert _past_the_gate(bare.stdout) == 0


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("no_colon", "must be 'module:callable'"),
        ("a-b:c", "made of Python-style names"),
        (f"{PLUGIN}:nothing", "returned None"),
        (f"{PLUGIN}:broken", "roster database is down"),
        (f"{PLUGIN}:NOT_CALLABLE", "not a callable"),
        (f"{PLUGIN}:missing", "has no attribute 'missing'"),
        ("cf_cli_no_such_module:x", "No module named 'cf_cli_no_such_module'"),
    ],
)
def test_a_host_that_cannot_be_built_stops_the_run_before_it_starts(
    cli: Any, runner: CliRunner, tmp_path: Path, target: str, said: str
) -> None:
    """Exit 2 with one line naming the target and why; no database is left behind."""
    scenario = _scenario(tmp_path, None)
    refused = _run(cli, runner, scenario, "--host", target)
    assert refused.exit_code == 2, refused.output
    assert said in refused.stderr
    assert "host" in refused.stderr
    assert not (tmp_path / "campaign.db").exists()


def test_a_bad_scenario_host_is_a_scenario_problem(tmp_path: Path) -> None:
    """host = "x" in the file: a ValidationError at the key path ``host``, naming the rule."""
    scenario = _scenario(tmp_path, None)
    data = json.loads(scenario.read_text(encoding="utf-8"))
    data["host"] = "x"
    with pytest.raises(cf.ValidationError) as caught:
        cf.simulation.Scenario.from_dict(data, base_dir=tmp_path)
    assert caught.value.problems[0].path == "host"
    assert "module:callable" in str(caught.value)
    data["host"] = f"{PLUGIN}:broken"
    sc = cf.simulation.Scenario.from_dict(data, base_dir=tmp_path, source="s.json")
    with pytest.raises(cf.ValidationError, match="roster database is down") as failed:
        sc.make_host()
    assert failed.value.problems[0].code == "scenario.host_failed"
    assert sc.to_dict()["host"] == f"{PLUGIN}:broken"
    assert build_host(f"{PLUGIN}:staff", tmp_path).current("u") == [f"e{i}" for i in range(50)]
