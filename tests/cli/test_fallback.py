"""``simulate --mode fast``: a custom guard without a bulk form runs fast (judged unit by unit);
a workflow shape fast mode does not model gets a note, then exact mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from tests.cli.conftest import SMALL


def always_passes(ctx: cf.GuardContext) -> cf.Verdict:
    """A custom guard with no bulk form (fast mode judges it unit by unit)."""
    return cf.Verdict("cli_test_always_passes", True, "cli_test_always_passes.ok", {})


@pytest.fixture
def custom_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cli_test_always_passes`` in the default registry for this test only."""
    registry = cf.guards.registry
    monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    cf.guard(
        "cli_test_always_passes",
        messages={"cli_test_always_passes.ok": {"zh_CN": "总是通过", "en": "always passes"}},
    )(always_passes)


def _scenario(tmp_path: Path, data: dict[str, Any]) -> Path:
    (tmp_path / "custom.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    scenario = tmp_path / "custom.toml"
    scenario.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            'workflow = "district_2005"', 'workflow = "custom.json"'
        ),
        encoding="utf-8",
    )
    return scenario


def _fast(runner: CliRunner, cli: Any, scenario: Path) -> Any:
    return runner.invoke(
        cli, ["simulate", str(scenario), "--mode", "fast", "--json", "--no-report", "--db", "x.db"]
    )


@pytest.mark.usefixtures("custom_guard")
def test_a_guard_without_a_bulk_form_runs_fast(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """No fallback: the run is fast, and no note names the guard."""
    data = cf.presets.district_2005().to_dict()
    data["transitions"][0]["guards"].append({"guard": "cli_test_always_passes"})
    result = _fast(runner, cli, _scenario(tmp_path, data))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "fast"
    assert "cli_test_always_passes" not in result.stderr


def test_fast_mode_falls_back_with_a_note(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A stage re-entered through another: the run is exact, and stderr says why."""
    data = cf.presets.district_2005().to_dict()
    data["transitions"].append(
        {
            "source": "analysis_review",
            "dest": "study_mobilization",
            "guards": [{"guard": "min_days_in_stage", "days": 3650}],
        }
    )
    result = _fast(runner, cli, _scenario(tmp_path, data))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "exact"
    assert "note: " in result.stderr
    assert "'study_mobilization' can be re-entered" in result.stderr
