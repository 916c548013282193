"""``compare`` and ``simulate --runs`` from the command line: tables, JSON, files, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from campaignflow.cli._outputs import HTML_MARK, PNG_MARK
from tests.cli.conftest import EXAMPLES, SMALL

GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


def test_compare_with_a_setting_prints_both_and_writes_one_page(
    runner: CliRunner, cli: Any, tmp_path: Path
) -> None:
    """Both runs side by side on stdout; compare.html (marked, charts inline) in --out."""
    out = tmp_path / "cmp"
    done = runner.invoke(
        cli, ["compare", str(SMALL), "--set", f"{GATE}=0.9", "--out", str(out), "--lang", "en"]
    )
    assert done.exit_code == 0, done.output
    assert "What-if comparison: small_district.toml vs small_district.toml + " in done.stdout
    assert "B later than A (days)" in done.stdout
    assert "A: times held" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["compare.html"]
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert HTML_MARK in page.splitlines()[1]
    for name in ("stages_a", "stages_b", "gantt_a", "gantt_b"):
        assert f'id="{name}"' in page
    assert f"{GATE}=0.9" in page
    assert "wrote" in done.stderr


@pytest.mark.slow
def test_compare_refuses_to_replace_unless_overwrite(
    runner: CliRunner, cli: Any, tmp_path: Path
) -> None:
    """A second run stops before any work; --overwrite replaces the page it wrote."""
    args = ["compare", str(SMALL), "--set", "seed=8", "--out", str(tmp_path), "--lang", "en"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    (tmp_path / "other.html").write_text("<p>mine</p>", encoding="utf-8")
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0
    assert (tmp_path / "other.html").read_text(encoding="utf-8") == "<p>mine</p>"


def test_compare_refuses_a_symlinked_page(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A link at compare.html is never written through, even with --overwrite."""
    victim = tmp_path / "victim.html"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "compare.html").symlink_to(victim)
    done = runner.invoke(
        cli,
        ["compare", str(SMALL), "--set", "seed=8", "--out", str(tmp_path / "out"), "--overwrite"],
    )
    assert done.exit_code == 2
    assert "symbolic link" in done.stderr
    assert victim.read_text(encoding="utf-8") == "keep"


@pytest.mark.slow
def test_compare_json_has_both_results_with_one_seed(runner: CliRunner, cli: Any) -> None:
    """--json prints the comparison: the same seed for both, B with the stricter gate."""
    done = runner.invoke(
        cli, ["compare", str(SMALL), "--set", f"{GATE}=0.95", "--seed", "3", "--json"]
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["seed"] == 3
    assert data["a"]["seed"] == data["b"]["seed"] == 3
    assert data["settings"] == {GATE: 0.95}
    assert data["a"] != data["b"]
    # as simulate does, the page goes to the default folder unless --no-report
    assert Path("small_district-compare/compare.html").is_file()


def test_compare_two_files(runner: CliRunner, cli: Any) -> None:
    """Two scenario files: B is the second file, labelled by its name."""
    done = runner.invoke(cli, ["compare", str(SMALL), str(SMALL), "--no-report", "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "small_district.toml vs small_district.toml" in done.stdout
    assert "+0" in done.stdout


def test_a_misspelt_setting_gets_a_did_you_mean(runner: CliRunner, cli: Any) -> None:
    """A near-miss guard name is refused with the closest one, in the chosen language."""
    bad = "workflow_overrides.satisfaction_rate_at_lest.rate=0.7"
    done = runner.invoke(cli, ["compare", str(SMALL), "--set", bad, "--no-report"])
    assert done.exit_code == 2
    assert "did you mean 'satisfaction_rate_at_least'?" in done.stderr
    zh = runner.invoke(cli, ["compare", str(SMALL), "--set", bad, "--no-report", "--lang", "zh_CN"])
    assert zh.exit_code == 2
    assert "是不是 'satisfaction_rate_at_least'" in zh.stderr


def test_compare_needs_b_or_a_setting(runner: CliRunner, cli: Any) -> None:
    """Nothing to compare, or a --set without '=', is one line and exit 2."""
    alone = runner.invoke(cli, ["compare", str(SMALL), "--no-report"])
    assert alone.exit_code == 2
    assert "give a second scenario B" in alone.stderr
    syntax = runner.invoke(cli, ["compare", str(SMALL), "--set", "seed", "--no-report"])
    assert syntax.exit_code == 2
    assert "expected KEY=VALUE" in syntax.stderr


@pytest.mark.slow
def test_runs_json_is_identical_for_the_same_seeds(runner: CliRunner, cli: Any) -> None:
    """Two --runs invocations (one in two workers) print byte-identical summaries."""
    args = ["simulate", str(SMALL), "--runs", "4", "--seed", "5", "--json", "--no-report"]
    first = runner.invoke(cli, args)
    second = runner.invoke(cli, [*args, "--shards", "2"])
    assert first.exit_code == second.exit_code == 0, second.stderr
    assert first.stdout_bytes == second.stdout_bytes
    data = json.loads(first.stdout)
    assert data["seeds"] == [5, 6, 7, 8]
    assert [b["batch"] for b in data["batches"]] == [1, 2, 3]


def test_runs_table_and_outlook_page(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """--runs prints the percentile table and writes runs.html and bands.png, both marked."""
    out = tmp_path / "runs"
    done = runner.invoke(
        cli, ["simulate", str(SMALL), "--runs", "3", "--out", str(out), "--lang", "en", "-q"]
    )
    assert done.exit_code == 0, done.output
    assert "Completion outlook over 3 runs: small_district" in done.stdout
    assert "Chance on time" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["bands.png", "runs.html"]
    assert PNG_MARK in (out / "bands.png").read_bytes()
    page = (out / "runs.html").read_text(encoding="utf-8")
    assert HTML_MARK in page
    assert 'id="bands"' in page
    again = runner.invoke(cli, ["simulate", str(SMALL), "--runs", "3", "--out", str(out)])
    assert again.exit_code == 2


def test_runs_refuses_db(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """--db keeps one campaign; many runs keep none: a usage error, nothing written."""
    done = runner.invoke(
        cli, ["simulate", str(SMALL), "--runs", "2", "--db", str(tmp_path / "x.db")]
    )
    assert done.exit_code == 2
    assert "--db does not apply with --runs" in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_compare_as_a_process_in_chinese(tmp_path: Path) -> None:
    """``python -m campaignflow compare`` with the custom-gate example prints Chinese tables."""
    scenario = EXAMPLES / "oa_custom_gate" / "scenario.toml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "campaignflow",
            "compare",
            str(scenario),
            "--set",
            "workflow_overrides.oa_branch_attendance.percent=100",
            "--no-report",
            "--lang",
            "zh_CN",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "COLUMNS": "160"},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "对比分析：scenario.toml 与 scenario.toml + " in done.stdout
    assert "B 比 A 推迟（天）" in done.stdout


def test_runs_of_a_custom_gate_run_fast_without_a_note(runner: CliRunner, cli: Any) -> None:
    """The OA example's gate has no bulk form: fast mode judges it unit by unit, no note."""
    scenario = EXAMPLES / "oa_custom_gate" / "scenario.toml"
    done = runner.invoke(
        cli,
        ["simulate", str(scenario), "--runs", "2", "--mode", "fast", "--no-report", "--lang", "en"],
    )
    assert done.exit_code == 0, done.stderr
    assert "note:" not in done.stderr
    assert "mode: fast (units moved in bulk); seeds: 2005 – 2006" in done.stdout


def test_runs_of_a_shape_fast_mode_does_not_model_fall_back_with_one_note(
    runner: CliRunner, cli: Any, tmp_path: Path
) -> None:
    """A stage re-entered through another: --mode fast says so once, then runs exact."""
    data = cf.presets.district_2005().to_dict()
    data["transitions"].append(
        {
            "source": "analysis_review",
            "dest": "study_mobilization",
            "guards": [{"guard": "min_days_in_stage", "days": 3650}],
        }
    )
    (tmp_path / "custom.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    scenario = tmp_path / "custom.toml"
    scenario.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            'workflow = "district_2005"', 'workflow = "custom.json"'
        ),
        encoding="utf-8",
    )
    args = ["simulate", str(scenario), "--runs", "2", "--mode", "fast", "--no-report"]
    done = runner.invoke(cli, [*args, "--lang", "en"])
    assert done.exit_code == 0, done.stderr
    assert done.stderr.count("note: ") == 1
    assert "'study_mobilization' can be re-entered" in done.stderr
    assert "mode: exact (every unit through the real workflow); seeds: 7 – 8" in done.stdout
    zh = runner.invoke(cli, [*args, "--lang", "zh_CN"])
    assert zh.stderr.count("注：快速模式无法运行这个流程，改用精确模式：流程的结构") == 1
