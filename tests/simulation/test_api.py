"""simulate(): mode choice, the fast-mode fallback, argument checks, and no numpy on import."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import attrs
import pytest

import campaignflow as cf
from campaignflow.guards import GuardContext
from campaignflow.guards._registry import registry
from campaignflow.simulation import Scenario, simulate
from tests.simulation.conftest import EXAMPLES, small_scenario


def members_at_least(ctx: GuardContext, *, members: int = 0) -> cf.Verdict:
    """A host's own guard with no bulk form: the unit has at least ``members`` members."""
    passed = ctx.unit.members >= members
    return cf.Verdict(
        "sim_test_members_at_least",
        passed,
        "sim_test.members_ok" if passed else "sim_test.members_few",
        {"actual": ctx.unit.members, "required": members},
    )


registry.register(
    "sim_test_members_at_least",
    members_at_least,
    replace=True,
    # The gate reads the roster, not facts: nothing to record to pass it.
    recipe=lambda params, passing: cf.Recipe() if passing else None,
    messages={
        "sim_test.members_ok": {"zh_CN": "党员 {actual} 名", "en": "{actual} members"},
        "sim_test.members_few": {"zh_CN": "党员不足 {required} 名", "en": "fewer than {required}"},
    },
)


def _custom_scenario(folder: Path) -> Scenario:
    flow = cf.presets.district_2005().to_dict()
    for t in flow["transitions"]:
        if t["source"] == "preparation" and t["dest"] == "study_mobilization":
            t["guards"].append({"guard": "sim_test_members_at_least", "members": 1})
    (folder / "flow.json").write_text(json.dumps(flow), encoding="utf-8")
    data = small_scenario().to_dict()
    data["workflow"] = "flow.json"
    return Scenario.from_dict(data, base_dir=folder)


def test_fast_mode_judges_a_guard_without_bulk_form_unit_by_unit(tmp_path: Path) -> None:
    """No fallback and no warning: the run is fast, complete, and as exact mode's."""
    scenario = _custom_scenario(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simulate(scenario, mode="fast")
    assert result.mode == "fast"
    assert all(b.completed_on is not None for b in result.batches)
    exact = simulate(scenario, mode="exact")
    assert result.final_counts() == exact.final_counts()


def test_auto_mode_runs_small_scenarios_exactly_without_warning() -> None:
    """Below the threshold, auto is exact and says nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simulate(small_scenario())
    assert result.mode == "exact"


def test_a_scenario_path_is_accepted() -> None:
    """simulate() takes a file path as well as a Scenario."""
    result = simulate(EXAMPLES / "district_csv.toml", mode="exact")
    assert (result.scenario, result.units) == ("district_csv", 17)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "quick"}, "mode"),
        ({"shards": 0}, "shards"),
        ({"shards": True}, "shards"),
        ({"shards": 1.5}, "shards"),
        ({"mode": "exact", "shards": 2}, "shards: applies to fast mode"),
        ({"seed": -1}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"progress": 3}, "progress"),
    ],
)
def test_bad_arguments_are_validation_errors(kwargs: dict[str, object], field: str) -> None:
    """Each bad argument is refused with its name, before anything runs."""
    with pytest.raises(cf.ValidationError, match=field):
        simulate(small_scenario(), **kwargs)  # type: ignore[arg-type]


def test_not_a_scenario_is_a_validation_error() -> None:
    """A dict is not a Scenario (use Scenario.from_dict)."""
    with pytest.raises(cf.ValidationError, match="scenario"):
        simulate({"name": "x"})  # type: ignore[arg-type]


def test_the_package_imports_without_numpy() -> None:
    """numpy is the sim extra: importing the simulation package must not import it."""
    code = (
        "import sys, campaignflow.simulation as s; "
        "assert s.simulate and s.Scenario; "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_seeded_rerun_through_the_api_equals_the_first() -> None:
    """simulate() twice with the same seed: the same bytes."""
    scenario = attrs.evolve(small_scenario(), seed=11)
    assert simulate(scenario, mode="exact").to_json() == simulate(scenario, mode="exact").to_json()
