"""The ``campaignflow`` command end to end through click's test runner: output and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from campaignflow.simulation import SimulationResult, load_scenario, simulate
from tests.cli.conftest import EXAMPLES, SMALL


def run(runner: CliRunner, cli: Any, *args: str) -> Any:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


# --- simulate ---------------------------------------------------------------------------------


def test_simulate_json_is_the_simulation(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """--json prints exactly the result the Python API gives for the same scenario and seed."""
    result = run(
        runner, cli, "simulate", str(SMALL), "--json", "--no-report", "--db", str(tmp_path / "a.db")
    )
    assert result.exit_code == 0, result.stderr
    expected = simulate(load_scenario(SMALL), mode="exact").to_json()
    assert result.stdout.strip() == expected
    parsed = SimulationResult.from_dict(json.loads(result.stdout))
    assert parsed.units == 12
    assert parsed.mode == "exact"
    assert parsed.audit_head


def test_simulate_seed_option(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """--seed overrides the scenario's seed and changes the run."""
    first = run(
        runner, cli, "simulate", str(SMALL), "--json", "--no-report", "--db", str(tmp_path / "a.db")
    )
    other = run(
        runner,
        cli,
        "simulate",
        str(SMALL),
        "--json",
        "--no-report",
        "--seed",
        "8",
        "--db",
        str(tmp_path / "b.db"),
    )
    assert first.exit_code == other.exit_code == 0
    assert json.loads(other.stdout)["seed"] == 8
    assert json.loads(first.stdout)["audit_head"] != json.loads(other.stdout)["audit_head"]


def test_simulate_out_writes_report_and_database(simulated: Path) -> None:
    """--out holds the charts, the page, the JSON summary and the campaign database."""
    names = {p.name for p in simulated.iterdir()}
    assert {"stages.png", "gantt.png", "report.html", "summary.json", "campaign.db"} <= names
    for name in ("stages.png", "gantt.png", "report.html", "summary.json"):
        assert (simulated / name).stat().st_size > 0
    summary = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))
    assert summary["units"] == 12


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "Campaign report: small_district",
                "Batch 1",
                "Study and mobilisation",
                "Attempts held back (gates not yet met)",
                "Median (days)",
                "exact (every unit through the real workflow)",
            ],
        ),
        (
            "zh_CN",
            [
                "活动推进报告：small_district",
                "第一批",
                "学习动员",
                "暂缓转段的申请（关卡尚未满足）",
                "中位数（天）",
                "精确模式",
            ],
        ),
    ],
)
def test_simulate_prints_summary_tables(
    runner: CliRunner, cli: Any, tmp_path: Path, lang: str, words: list[str]
) -> None:
    """Without --json the summary is a set of tables in the chosen language."""
    result = run(
        runner,
        cli,
        "simulate",
        str(SMALL),
        "-q",
        "--no-report",
        "--lang",
        lang,
        "--db",
        str(tmp_path / "c.db"),
    )
    assert result.exit_code == 0, result.stderr
    for word in words:
        assert word in result.stdout


def test_simulate_plain_progress_when_not_a_terminal(
    runner: CliRunner, cli: Any, tmp_path: Path
) -> None:
    """Off a terminal, progress is one plain line per simulated month on stderr."""
    result = run(runner, cli, "simulate", str(SMALL), "--no-report", "--db", str(tmp_path / "d.db"))
    assert result.exit_code == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.endswith("units finished")]
    assert len(lines) >= 12  # the campaign runs well over a year
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}  \d+/12 units finished", ln) for ln in lines)
    assert "\x1b[" not in result.stderr  # no bar, no escape codes


def test_default_database_is_refused_then_replaced_with_overwrite(
    runner: CliRunner, cli: Any
) -> None:
    """A second run refuses the existing database; --overwrite replaces it (its own output)."""
    first = run(runner, cli, "simulate", str(SMALL), "-q", "--json", "--no-report")
    assert first.exit_code == 0, first.stderr
    again = run(runner, cli, "simulate", str(SMALL), "-q", "--json", "--no-report")
    assert again.exit_code == 2
    assert "--overwrite" in again.stderr
    replaced = run(
        runner, cli, "simulate", str(SMALL), "-q", "--json", "--no-report", "--overwrite"
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert Path("campaign.db").is_file()
    assert json.loads(first.stdout)["audit_head"] == json.loads(replaced.stdout)["audit_head"]


def test_explicit_database_is_never_overwritten(
    runner: CliRunner, cli: Any, tmp_path: Path
) -> None:
    """An explicit --db that already holds the campaign is refused with exit 2, not replaced."""
    db = str(tmp_path / "kept.db")
    assert (
        run(runner, cli, "simulate", str(SMALL), "--json", "--no-report", "--db", db).exit_code == 0
    )
    again = run(runner, cli, "simulate", str(SMALL), "--json", "--no-report", "--db", db)
    assert again.exit_code == 2
    assert "already holds units" in again.stderr


def test_bad_scenario_is_one_clear_message(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A bad value gives exit 2 and a message naming the key, the value and the rule."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SMALL.read_text(encoding="utf-8").replace("failure_rate = 0.3", "failure_rate = 2"),
        encoding="utf-8",
    )
    result = run(runner, cli, "simulate", str(bad))
    assert result.exit_code == 2
    assert "behaviour.survey.failure_rate" in result.stderr
    assert "2" in result.stderr
    assert result.stdout == ""


def test_missing_scenario_is_a_usage_error(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A scenario path that does not exist: exit 2 from the argument check."""
    result = run(runner, cli, "simulate", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# --- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "start"),
    [
        (EXAMPLES / "flow.toml", "ok: workflow three_stages_2008@1"),
        (EXAMPLES / "district_2005.toml", "ok: scenario district_2005"),
        (SMALL, "ok: scenario small_district"),
    ],
)
def test_validate_good_files(runner: CliRunner, cli: Any, path: Path, start: str) -> None:
    """A valid workflow or scenario: exit 0 and a one-line summary saying which it is."""
    result = run(runner, cli, "validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(start)


def test_validate_json_workflow(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A workflow in JSON validates like its TOML."""
    import campaignflow as cf

    path = tmp_path / "flow.json"
    path.write_text(json.dumps(cf.Workflow.from_file(EXAMPLES / "flow.toml").to_dict()))
    result = run(runner, cli, "validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert "ok: workflow three_stages_2008@1" in result.stdout


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("broken.toml", "[x", "not valid TOML"),
        ("neither.toml", "title = 'x'\n", "neither a workflow"),
        ("list.json", "[1, 2]", "must hold a table"),
        ("flow.yaml", "stages: []", "unsupported file type"),
        (
            "stages.toml",
            (EXAMPLES / "flow.toml")
            .read_text(encoding="utf-8")
            .replace('initial = "pending"', 'initial = "nowhere"'),
            "nowhere",
        ),
    ],
)
def test_validate_bad_files(
    runner: CliRunner, cli: Any, tmp_path: Path, name: str, text: str, expect: str
) -> None:
    """An invalid file: exit 1 and the problem on stderr."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run(runner, cli, "validate", str(path))
    assert result.exit_code == 1
    assert expect in result.stderr


# --- diagram ------------------------------------------------------------------------------------


def test_diagram_preset_mermaid(runner: CliRunner, cli: Any) -> None:
    """--preset prints a mermaid state diagram with the preset's stages."""
    result = run(runner, cli, "diagram", "--preset", "district_2005")
    assert result.exit_code == 0
    assert "stateDiagram-v2" in result.stdout
    assert "study_mobilization_remedial" in result.stdout


def test_diagram_file_dot(runner: CliRunner, cli: Any) -> None:
    """A workflow file as graphviz dot."""
    result = run(runner, cli, "diagram", str(EXAMPLES / "flow.toml"), "--format", "dot")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph")


def test_diagram_of_a_scenario_draws_its_workflow(runner: CliRunner, cli: Any) -> None:
    """A scenario file draws the workflow it runs."""
    result = run(runner, cli, "diagram", str(SMALL))
    assert result.exit_code == 0, result.stderr
    assert "analysis_review" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["diagram"],
        ["diagram", "--preset", "nope"],
        ["diagram", "--format", "svg", "--preset", "district_2005"],
    ],
)
def test_diagram_usage_errors(runner: CliRunner, cli: Any, args: list[str]) -> None:
    """Neither or a bad choice: exit 2."""
    result = run(runner, cli, *args)
    assert result.exit_code == 2


def test_diagram_file_and_preset_together(runner: CliRunner, cli: Any) -> None:
    """FILE and --preset together: exit 2."""
    result = run(runner, cli, "diagram", str(EXAMPLES / "flow.toml"), "--preset", "district_2005")
    assert result.exit_code == 2
    assert "either" in result.stderr


# --- audit verify -------------------------------------------------------------------------------


def _copy_db(simulated: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy.db"
    shutil.copy(simulated / "campaign.db", db)
    return db


def _sql(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement)
    conn.close()


def test_audit_verify_ok(runner: CliRunner, cli: Any, simulated: Path) -> None:
    """An untouched database verifies: exit 0, record count and head."""
    result = run(runner, cli, "audit", "verify", "--db", str(simulated / "campaign.db"))
    assert result.exit_code == 0, result.stderr
    head = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))["audit_head"]
    assert result.stdout.startswith("ok: campaign small_district: ")
    assert head in result.stdout


def test_audit_verify_names_the_altered_record(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """A record changed in the database: exit 1, its seq, the reason and the record itself."""
    db = _copy_db(simulated, tmp_path)
    _sql(db, "UPDATE cf_audit SET actor_id = 'mallory' WHERE seq = 40")
    result = run(runner, cli, "audit", "verify", "--db", str(db))
    assert result.exit_code == 1
    assert "TAMPERED: campaign small_district: record 40: content does not match" in result.stdout
    record = json.loads(result.stdout.split("first broken record:\n", 1)[1])
    assert record["seq"] == 40
    assert record["actor_id"] == "mallory"


def test_audit_verify_catches_a_truncated_tail(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """The newest records deleted: the campaign's stored head no longer matches; exit 1."""
    db = _copy_db(simulated, tmp_path)
    _sql(db, "DELETE FROM cf_audit WHERE seq > (SELECT MAX(seq) - 3 FROM cf_audit)")
    result = run(runner, cli, "audit", "verify", "--db", str(db))
    assert result.exit_code == 1
    assert "TAMPERED" in result.stdout


def test_audit_verify_unreadable_record(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """A record that no longer parses counts as tampering, not as a crash."""
    db = _copy_db(simulated, tmp_path)
    _sql(db, "UPDATE cf_audit SET payload = '{{{' WHERE seq = 5")
    result = run(runner, cli, "audit", "verify", "--db", str(db))
    assert result.exit_code == 1
    assert "record 5" in result.stdout


def test_audit_verify_checkpoints(runner: CliRunner, cli: Any, simulated: Path) -> None:
    """An exported checkpoint that matches passes; a wrong one fails; a malformed one is usage."""
    head = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))["audit_head"]
    db = str(simulated / "campaign.db")
    seq = int(
        run(runner, cli, "audit", "verify", "--db", db).stdout.split("head seq ")[1].split()[0]
    )
    good = run(runner, cli, "audit", "verify", "--db", db, "--checkpoint", f"{seq}:{head}")
    assert good.exit_code == 0
    wrong = run(runner, cli, "audit", "verify", "--db", db, "--checkpoint", f"{seq}:{'0' * 64}")
    assert wrong.exit_code == 1
    malformed = run(runner, cli, "audit", "verify", "--db", db, "--checkpoint", "nonsense")
    assert malformed.exit_code == 2


@pytest.mark.parametrize("content", [None, b"this is not a database at all" * 40])
def test_audit_verify_bad_database(
    runner: CliRunner, cli: Any, tmp_path: Path, content: bytes | None
) -> None:
    """A missing file or a file that is not a database: exit 2, one line, nothing created."""
    db = tmp_path / "x.db"
    if content is not None:
        db.write_bytes(content)
    result = run(runner, cli, "audit", "verify", "--db", str(db))
    assert result.exit_code == 2
    assert "Error: db:" in result.stderr
    assert db.exists() == (content is not None)


# --- report ---------------------------------------------------------------------------------------


def test_report_from_database_matches_the_simulation(
    runner: CliRunner, cli: Any, simulated: Path
) -> None:
    """report --db rebuilds the simulation's timeline, batches, make-up and blockers."""
    result = run(
        runner,
        cli,
        "report",
        "--db",
        str(simulated / "campaign.db"),
        "--scenario",
        str(SMALL),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    recorded = json.loads(result.stdout)
    simulated_result = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))
    assert recorded["mode"] == "exact"
    for key in (
        "timeline",
        "batches",
        "remedial",
        "blocking",
        "time_in_stage",
        "units",
        "audit_head",
    ):
        assert recorded[key] == simulated_result[key], key


def test_report_on_a_simulation_database_is_the_simulations_own_summary(
    runner: CliRunner, cli: Any, simulated: Path
) -> None:
    """Without --scenario, report reads the run simulate kept: same seed, mode, workflow, no note."""
    result = run(runner, cli, "report", "--db", str(simulated / "campaign.db"), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    summary = (simulated / "summary.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(summary)
    tables = run(runner, cli, "report", "--db", str(simulated / "campaign.db"), "--lang", "zh_CN")
    assert tables.stderr == ""
    assert "精确模式" in tables.stdout
    assert str(json.loads(summary)["seed"]) in tables.stdout


def test_report_on_an_older_database_names_the_preset_it_assumes(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """A database without the kept run (written before it existed) reports with a note."""
    db = _copy_db(simulated, tmp_path)
    _sql(db, "DROP TABLE cf_cli_runs")
    result = run(runner, cli, "report", "--db", str(db), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "recorded"
    assert "note: the campaign ran" in result.stderr


def test_report_writes_files_and_names_the_preset(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """Without --workflow the kept run gives the workflow (no note); --out writes the files."""
    out = tmp_path / "rep"
    result = run(
        runner,
        cli,
        "report",
        "--db",
        str(simulated / "campaign.db"),
        "--out",
        str(out),
        "--lang",
        "zh_CN",
    )
    assert result.exit_code == 0, result.stderr
    assert "活动推进报告：small_district" in result.stdout
    assert "注：" not in result.stderr
    assert "已写出" in result.stderr
    for name in ("stages.png", "gantt.png", "report.html", "summary.json"):
        assert (out / name).stat().st_size > 0


def test_report_needs_a_campaign_when_several(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A database with two campaigns: report asks for --campaign (exit 2), verify checks both."""
    db = str(tmp_path / "two.db")
    other = tmp_path / "other.toml"
    other.write_text(
        SMALL.read_text(encoding="utf-8").replace('name = "small_district"', 'name = "other"'),
        encoding="utf-8",
    )
    for scenario in (SMALL, other):
        assert (
            run(
                runner, cli, "simulate", str(scenario), "--json", "--no-report", "--db", db
            ).exit_code
            == 0
        )
    refused = run(runner, cli, "report", "--db", db)
    assert refused.exit_code == 2
    assert "other, small_district" in refused.stderr
    chosen = run(runner, cli, "report", "--db", db, "--campaign", "other", "--json")
    assert chosen.exit_code == 0
    assert json.loads(chosen.stdout)["scenario"] == "other"
    unknown = run(runner, cli, "report", "--db", db, "--campaign", "nope")
    assert unknown.exit_code == 2
    verified = run(runner, cli, "audit", "verify", "--db", db)
    assert verified.exit_code == 0
    assert verified.stdout.count("ok: campaign ") == 2


def test_report_refuses_two_workflow_sources(runner: CliRunner, cli: Any, simulated: Path) -> None:
    """--preset and --scenario together: exit 2."""
    result = run(
        runner,
        cli,
        "report",
        "--db",
        str(simulated / "campaign.db"),
        "--preset",
        "district_2005",
        "--scenario",
        str(SMALL),
    )
    assert result.exit_code == 2


def test_unknown_command_and_version(runner: CliRunner, cli: Any) -> None:
    """An unknown command is a usage error; --version names the program."""
    assert run(runner, cli, "frobnicate").exit_code == 2
    version = run(runner, cli, "--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("campaignflow, version ")


def test_simulate_fast_mode_keeps_no_database(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """--mode fast: the bulk simulator runs, writes the report and no campaign database."""
    result = run(
        runner, cli, "simulate", str(SMALL), "--mode", "fast", "--json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert parsed["mode"] == "fast"
    assert parsed["audit_head"] is None
    assert parsed["units"] == 12
    assert not (tmp_path / "campaign.db").exists()
    assert (tmp_path / "report.html").stat().st_size > 0


def test_default_output_folder(runner: CliRunner, cli: Any) -> None:
    """Without --out the report and the database go to ./<scenario name>-report."""
    result = run(runner, cli, "simulate", str(SMALL), "-q")
    assert result.exit_code == 0, result.stderr
    folder = Path("small_district-report")
    for name in ("stages.png", "gantt.png", "report.html", "summary.json", "campaign.db"):
        assert (folder / name).stat().st_size > 0, name
    assert f"wrote {folder / 'report.html'}" in result.stderr


def test_no_report_writes_only_the_database(runner: CliRunner, cli: Any) -> None:
    """--no-report: the campaign database in the current folder, and nothing else."""
    result = run(runner, cli, "simulate", str(SMALL), "-q", "--no-report")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in Path().iterdir()) == ["campaign.db"]
    both = run(runner, cli, "simulate", str(SMALL), "--no-report", "--out", "x")
    assert both.exit_code == 2


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"CAMPAIGNFLOW_LANG": "zh_CN", "LANG": "C.UTF-8"}, "第一批"),
        (
            {"CAMPAIGNFLOW_LANG": "", "LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""},
            "第一批",
        ),
        ({"CAMPAIGNFLOW_LANG": "", "LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, "Batch 1"),
    ],
)
def test_default_language_follows_the_environment(
    runner: CliRunner, cli: Any, env: dict[str, str], word: str
) -> None:
    """Without --lang: $CAMPAIGNFLOW_LANG, else Chinese under a Chinese locale, else English."""
    result = runner.invoke(cli, ["simulate", str(SMALL), "-q", "--no-report"], env=env)
    assert result.exit_code == 0, result.stderr
    assert word in result.stdout


@pytest.fixture
def sharded_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 255-unit scenario file, with random-stream blocks of 64 units: four blocks."""
    fast_roster = pytest.importorskip("campaignflow.simulation._fast.roster")
    # The block size is a private knob: lowered here (and inherited by the forked workers) so
    # a quick run spans several blocks instead of needing 200,000 units.
    monkeypatch.setattr(fast_roster, "BLOCK", 64)
    data = load_scenario(EXAMPLES / "district_2005.toml").to_dict()
    data["roster"]["counts"] = {"organ": 90, "community": 80, "closed_enterprise": 4, "village": 85}
    data["behaviour"]["late_start"] = {"share": 0.1, "batches": [2]}
    data["behaviour"]["survey"]["failure_rate"] = 0.2
    path = tmp_path / "sharded.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_simulate_shards_give_byte_identical_json(
    runner: CliRunner, cli: Any, sharded_scenario: Path
) -> None:
    """--shards 1, 2 and 3 print the same bytes: whole blocks per shard, streams per block."""
    outputs = {}
    for shards in ("1", "2", "3"):
        result = run(
            runner,
            cli,
            "simulate",
            str(sharded_scenario),
            "--mode",
            "fast",
            "--json",
            "--no-report",
            "--shards",
            shards,
        )
        assert result.exit_code == 0, result.stderr
        outputs[shards] = result.stdout
    assert outputs["1"] == outputs["2"] == outputs["3"]
    parsed = json.loads(outputs["1"])
    assert (parsed["mode"], parsed["units"]) == ("fast", 255)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "0 is not in the range 1<=x<=1024"),
        ("1025", "1025 is not in the range 1<=x<=1024"),
        ("two", "'two' is not a valid integer"),
        ("1.5", "'1.5' is not a valid integer"),
    ],
)
def test_simulate_bad_shards_are_usage_errors(
    runner: CliRunner, cli: Any, value: str, message: str
) -> None:
    """--shards takes a whole number from 1 to 1024: anything else exits 2 with one message."""
    result = run(runner, cli, "simulate", str(SMALL), "--no-report", "--shards", value)
    assert result.exit_code == 2
    assert "--shards" in result.stderr
    assert message in result.stderr


def test_simulate_shards_with_exact_mode_is_refused(runner: CliRunner, cli: Any) -> None:
    """Exact mode runs one campaign in one process: --shards 2 with it is a usage error."""
    result = run(runner, cli, "simulate", str(SMALL), "--mode", "exact", "--shards", "2")
    assert result.exit_code == 2
    assert "--shards applies to fast mode" in result.stderr
    assert not Path("small_district-report").exists()  # refused before anything ran


def test_simulate_shards_note_when_auto_runs_exact(runner: CliRunner, cli: Any) -> None:
    """auto picks exact mode for a small scenario: the run goes ahead and says --shards was unused."""
    result = run(runner, cli, "simulate", str(SMALL), "--no-report", "--quiet", "--shards", "2")
    assert result.exit_code == 0, result.stderr
    assert "--shards 2 was not used" in " ".join(result.stderr.split())  # rich wraps lines


# --- errors in the chosen language ----------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_errors_follow_lang(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """A bad scenario under --lang zh_CN: the one message is Chinese, naming the key and value."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SMALL.read_text(encoding="utf-8").replace("failure_rate = 0.3", "failure_rate = 2"),
        encoding="utf-8",
    )
    english = run(runner, cli, "simulate", str(bad), "--lang", "en")
    chinese = run(runner, cli, "simulate", str(bad), "--lang", "zh_CN")
    assert english.exit_code == chinese.exit_code == 2
    assert not _CJK.search(english.stderr)
    assert _CJK.search(chinese.stderr)
    assert "behaviour.survey.failure_rate" in chinese.stderr
    assert chinese.stderr != english.stderr


def test_validate_problems_follow_lang(runner: CliRunner, cli: Any, tmp_path: Path) -> None:
    """validate --lang zh_CN lists a workflow's problems in Chinese, each after its path."""
    path = tmp_path / "stages.toml"
    path.write_text(
        (EXAMPLES / "flow.toml")
        .read_text(encoding="utf-8")
        .replace('initial = "pending"', 'initial = "nowhere"'),
        encoding="utf-8",
    )
    result = run(runner, cli, "validate", str(path), "--lang", "zh_CN")
    assert result.exit_code == 1
    assert "nowhere" in result.stderr
    assert _CJK.search(result.stderr)


def test_audit_verify_reason_follows_lang(
    runner: CliRunner, cli: Any, simulated: Path, tmp_path: Path
) -> None:
    """The reason a chain is broken is given in the chosen language."""
    db = _copy_db(simulated, tmp_path)
    _sql(db, "UPDATE cf_audit SET actor_id = 'mallory' WHERE seq = 40")
    english = run(runner, cli, "audit", "verify", "--db", str(db), "--lang", "en")
    chinese = run(runner, cli, "audit", "verify", "--db", str(db), "--lang", "zh_CN")
    assert english.exit_code == chinese.exit_code == 1
    first = chinese.stdout.splitlines()[0]
    # The status word is Chinese too: scripts read the exit code.
    assert first.startswith("已被篡改：活动 small_district：第 40 条记录：")
    assert _CJK.search(first.split("：")[-1])
    assert "content does not match" in english.stdout.splitlines()[0]


def test_status_lines_follow_lang(runner: CliRunner, cli: Any, simulated: Path) -> None:
    """validate and audit verify say their status word ("ok:", "通过：") in --lang too."""
    chinese = run(runner, cli, "validate", str(SMALL), "--lang", "zh_CN")
    assert chinese.exit_code == 0
    assert chinese.stdout.startswith("通过：")
    assert "情景 small_district" in chinese.stdout
    english = run(runner, cli, "validate", str(SMALL), "--lang", "en")
    assert english.stdout.startswith("ok: scenario small_district")
    verified = run(
        runner, cli, "audit", "verify", "--db", str(simulated / "campaign.db"), "--lang", "zh_CN"
    )
    assert verified.exit_code == 0
    assert verified.stdout.startswith("通过：活动 small_district：已核验 ")
    assert "链头序号" in verified.stdout
