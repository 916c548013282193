"""For scripts: validate --json with stable keys, line and column, "did you mean", a named
empty file, and the documented exit codes (issue 19, point 5; docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.cli.conftest import EXAMPLES, SMALL

KEYS = {"ok", "file", "kind", "summary", "message", "problems"}
PROBLEM_KEYS = {"path", "code", "params", "line", "column", "message", "did_you_mean"}


def _validate(cli: Any, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["validate", str(path), "--json", *extra])
    assert result.stderr == ""
    return result.exit_code, json.loads(result.stdout)


def _typo(tmp_path: Path, old: str, new: str) -> Path:
    text = (EXAMPLES / "flow.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "typo.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_validate_json_of_a_valid_workflow_and_scenario(cli: Any) -> None:
    """ok, the kind and the summary's numbers; exit 0."""
    code, data = _validate(cli, EXAMPLES / "flow.toml")
    assert code == 0
    assert set(data) == KEYS
    assert data["ok"] is True
    assert data["kind"] == "workflow"
    assert data["summary"]["stages"] == 6
    assert data["problems"] == []
    code, data = _validate(cli, SMALL)
    assert (code, data["kind"], data["summary"]["name"]) == (0, "scenario", "small_district")


def test_unknown_stage_and_guard_carry_line_and_did_you_mean(cli: Any, tmp_path: Path) -> None:
    """A misspelt stage and guard: each problem names its line and the close name."""
    path = _typo(tmp_path, 'source = "study_research"', 'source = "study_reserch"')
    text = path.read_text(encoding="utf-8").replace(
        'guard = "min_study_hours"', 'guard = "min_study_hour"', 1
    )
    path.write_text(text, encoding="utf-8")
    code, data = _validate(cli, path)
    assert code == 1
    assert data["ok"] is False
    by_code = {p["code"]: p for p in data["problems"]}
    assert all(set(p) == PROBLEM_KEYS for p in data["problems"])
    stage = by_code["definition.unknown_stage"]
    assert stage["did_you_mean"] == ["study_research"]
    lines = text.splitlines()
    assert 'source = "study_reserch"' in lines[stage["line"] - 1]
    guard = by_code["guards.unknown_guard"]
    assert guard["did_you_mean"][0] == "min_study_hours"
    assert 'guard = "min_study_hour"' in lines[guard["line"] - 1]  # its own entry's line


def test_unknown_key_gets_did_you_mean_in_both_languages(cli: Any, tmp_path: Path) -> None:
    """A misspelt key of a stage: "did you mean title" on the person's screen too."""
    path = _typo(tmp_path, 'title_en = "Done"', 'title_en = "Done"\ntitel = "x"')
    code, data = _validate(cli, path)
    assert code == 1
    (problem,) = data["problems"]
    assert problem["code"] == "problem.unknown_keys"
    assert problem["did_you_mean"][0] == "title"
    assert problem["line"] is not None
    zh = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh_CN"])
    assert "是不是 title" in zh.stderr
    en = CliRunner().invoke(cli, ["validate", str(path), "--lang", "en"])
    assert "did you mean title" in en.stderr


def test_a_toml_syntax_error_has_line_and_column(cli: Any, tmp_path: Path) -> None:
    """tomllib's position is a line and a column; the reason is in --lang."""
    path = _typo(tmp_path, 'initial = "pending"', 'initial = "pending\n')
    code, data = _validate(cli, path)
    assert code == 1
    (problem,) = data["problems"]
    assert (problem["line"], problem["column"]) == (10, 19)
    zh = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh_CN"])
    assert "第 10 行第 19 列" in zh.stderr
    assert "非法字符" in zh.stderr
    assert "Illegal" not in zh.stderr


def test_the_empty_file_message_names_the_file(cli: Any, tmp_path: Path) -> None:
    """An empty file is named, not called "file"."""
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    code, data = _validate(cli, path)
    assert code == 1
    assert data["message"].startswith(f"{path} is empty")
    zh = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh_CN"])
    assert f"{path} 是空文件" in zh.stderr


def test_exit_codes_are_the_documented_ones(cli: Any, tmp_path: Path) -> None:
    """0 valid, 1 a check failed, 2 bad usage or input (docs/cli.md)."""
    runner = CliRunner()
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert runner.invoke(cli, ["validate", str(SMALL)]).exit_code == 0
    assert runner.invoke(cli, ["validate", str(empty)]).exit_code == 1
    assert runner.invoke(cli, ["validate"]).exit_code == 2
    assert runner.invoke(cli, ["validate", str(tmp_path / "missing.toml")]).exit_code == 2
    assert runner.invoke(cli, ["nonsense"]).exit_code == 2
    assert runner.invoke(cli, ["simulate", str(empty), "-q", "--no-report"]).exit_code == 2


def test_system_errors_and_missing_extras_read_in_lang() -> None:
    """An OSError by its errno, a missing extra by its pip command: in --lang's words."""
    import errno

    from campaignflow.cli._common import missing_extra, os_error

    denied = PermissionError(errno.EACCES, "Permission denied", "/srv/x.db")
    assert os_error(denied, "zh_CN") == "/srv/x.db：没有权限"
    assert os_error(denied, "en") == "/srv/x.db: Permission denied"
    odd = OSError(errno.EXDEV, "Invalid cross-device link", "a")
    assert os_error(odd, "zh_CN") == "a：系统错误（EXDEV）"
    missing = ImportError("charts need matplotlib: pip install 'campaignflow[plot]'")
    assert missing_extra(missing, "zh_CN") == (
        "需要 matplotlib，但没有安装：pip install 'campaignflow[plot]'"
    )
    assert missing_extra(missing, "en") == str(missing)


def test_a_misspelt_scenario_key_gets_did_you_mean(cli: Any, tmp_path: Path) -> None:
    """A scenario's key too: its line and the closest field name."""
    path = tmp_path / "scenario.toml"
    text = SMALL.read_text(encoding="utf-8").replace("hours_per_week =", "hours_per_wek =")
    path.write_text(text, encoding="utf-8")
    code, data = _validate(cli, path)
    assert code == 1
    (problem,) = data["problems"]
    assert problem["did_you_mean"] == ["hours_per_week"]
    assert "hours_per_wek" in text.splitlines()[problem["line"] - 1]
