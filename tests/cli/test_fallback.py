"""``simulate --mode fast`` with a custom guard that has no bulk form: a note, then exact mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from tests.cli.conftest import SMALL


def always_passes(ctx: cf.GuardContext) -> cf.Verdict:
    """A custom guard with no bulk form (fast mode cannot run it)."""
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


@pytest.mark.usefixtures("custom_guard")
def test_fast_mode_falls_back_with_a_note(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """The run is exact, and stderr names the guard that kept it from running fast."""
    data = cf.presets.district_2005().to_dict()
    data["transitions"][0]["guards"].append({"guard": "cli_test_always_passes"})
    (tmp_path / "custom.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    scenario = tmp_path / "custom.toml"
    scenario.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            'workflow = "district_2005"', 'workflow = "custom.json"'
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["simulate", str(scenario), "--mode", "fast", "--json", "--no-report", "--db", "x.db"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "exact"
    assert "note: " in result.stderr
    assert "cli_test_always_passes" in result.stderr
