"""``campaignflow report --under`` (roll-up and stuck list) and ``campaignflow adopt``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from campaignflow._words.records import Organisation

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
UNITS = {
    "fin-01": ("dist-a", 40),  # logs its 40 hours: not held by the study-hour gate
    "edu-02": ("dist-a", 32),
    "tax-03": ("dist-b", 20),
    "city-04": ("city-1", 0),
}


def build(path: Path) -> str:
    """A district-preset campaign on SQLite: a city, two districts, four units, three refusals."""
    clock = cf.FixedClock(date(2005, 2, 1))
    url = f"sqlite:///{path}"
    with cf.Campaign(cf.presets.district_2005(), url, clock=clock, campaign_id="city") as camp:
        camp.add_organisations(
            [
                Organisation(id="city-1", name="示范市", level="city"),
                Organisation(id="dist-a", name="甲区", level="district", parent="city-1"),
                Organisation(id="dist-b", name="乙区", level="district", parent="city-1"),
            ]
        )
        camp.add_units(
            [
                cf.Unit(
                    id=uid, name=f"{uid} 党支部", kind="organ", batch=1, members=30, parent=parent
                )
                for uid, (parent, _) in UNITS.items()
            ]
        )
        office = cf.Actor(id="leader", roles={"leading_group", "records_office"})
        camp.start_batch(1, on=date(2005, 1, 10), actor=office)  # back-dated: the records office
        for uid, (_, hours) in UNITS.items():
            for name in ("implementation_plan", "leading_group_established"):
                camp.record(uid, cf.Milestone(name), actor=CLERK)
            camp.advance(uid, actor=CLERK)
            if hours:
                camp.record(uid, cf.StudySession(hours=hours, guided=True), actor=CLERK)
            if uid != "city-04":
                with pytest.raises(cf.TransitionRejected):
                    camp.advance(uid, actor=CLERK)
    return url


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    path = tmp_path / "city.db"
    build(path)
    return path


def run(runner: CliRunner, cli: Any, *args: str) -> Any:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def test_rollup_table_tree_and_stuck_list(runner: CliRunner, cli: Any, city_db: Path) -> None:
    """--under shows the city's roll-up, its tree as an indented list, and who is stuck and why."""
    result = run(runner, cli, "report", "--db", str(city_db), "--under", "city-1", "--lang", "en")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Roll-up under 示范市 (city-1)" in out
    tree = out.split("Organisation tree", 1)[1]
    assert "  - 示范市 (city-1, city): 4 units, 0 finished, 3 stuck" in tree
    assert "    - 甲区 (dist-a, district): 2 units, 0 finished, 2 stuck" in tree
    assert "    - 乙区 (dist-b, district): 1 units, 0 finished, 1 stuck" in tree
    stuck = out.split("Stuck units (3 of 3)", 1)[1]
    for uid in ("fin-01", "edu-02", "tax-03"):
        assert f"{uid} {uid} 党支部" in stuck
    assert "city-04" not in stuck
    assert "32 logged, at" in stuck  # the gate's numbers (the column wraps the rest)


def test_rollup_json_matches_the_api(runner: CliRunner, cli: Any, city_db: Path) -> None:
    """--json gives the same figures as Campaign.progress(under=) and stuck(under=)."""
    result = run(runner, cli, "report", "--db", str(city_db), "--under", "dist-a", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    with cf.Campaign(
        cf.presets.district_2005(), f"sqlite:///{city_db}", campaign_id="city"
    ) as camp:
        node = camp.progress(under="dist-a")
        stuck = camp.stuck(under="dist-a")
    assert data["rollup"]["total"] == node.total == 2
    assert data["rollup"]["stuck"] == node.stuck
    assert data["stuck"]["total"] == stuck.total == 2
    assert {u["unit"] for u in data["stuck"]["units"]} == {"fin-01", "edu-02"}
    codes = {u["unit"]: {f["code"] for f in u["failures"]} for u in data["stuck"]["units"]}
    assert "study_hours.insufficient" in codes["edu-02"]
    assert "study_hours.insufficient" not in codes["fin-01"]


def test_rollup_depth_and_longer_than(runner: CliRunner, cli: Any, city_db: Path) -> None:
    """--depth 0 lists only the organisation; --longer-than filters the stuck list."""
    db = str(city_db)
    shallow = run(runner, cli, "report", "--db", db, "--under", "city-1", "--depth", "0", "--json")
    assert json.loads(shallow.stdout)["rollup"]["children"] == []
    far = run(
        runner, cli, "report", "--db", db, "--under", "city-1", "--longer-than", "36500", "--json"
    )
    assert json.loads(far.stdout)["stuck"] == {"total": 0, "units": []}


def test_rollup_of_an_unknown_organisation(runner: CliRunner, cli: Any, city_db: Path) -> None:
    """An organisation the database does not know: exit 2 with the library's message."""
    result = run(runner, cli, "report", "--db", str(city_db), "--under", "nowhere")
    assert result.exit_code == 2
    assert "under" in result.stderr


def _new_version(tmp_path: Path, **params: Any) -> Path:
    new = cf.presets.district_2005().with_params("min_study_hours", **params)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(new.to_dict(), ensure_ascii=False), encoding="utf-8")
    return path


def test_adopt_dry_run_changes_nothing(
    runner: CliRunner, cli: Any, city_db: Path, tmp_path: Path
) -> None:
    """--dry-run lists every unit that would move and why; the database stays as it was."""
    new = _new_version(tmp_path, hours=32)
    before = run(runner, cli, "audit", "verify", "--db", str(city_db)).stdout
    result = run(
        runner,
        cli,
        "adopt",
        str(new),
        "--db",
        str(city_db),
        "--policy",
        "migrate",
        "--dry-run",
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("would adopt district_2005@2005.1#")
    for uid in UNITS:
        assert f"  - {uid}: " in result.stdout
    assert run(runner, cli, "audit", "verify", "--db", str(city_db)).stdout == before


def test_adopt_migrate_moves_units_and_keeps_the_chain(
    runner: CliRunner, cli: Any, city_db: Path, tmp_path: Path
) -> None:
    """--policy migrate: every unit is judged by the new version; the audit chain verifies."""
    new = _new_version(tmp_path, hours=32)
    result = run(
        runner, cli, "adopt", str(new), "--db", str(city_db), "--policy", "migrate", "--json"
    )
    assert result.exit_code == 0, result.stderr
    adoption = json.loads(result.stdout)
    assert adoption["dry_run"] is False
    assert {c["unit_id"] for c in adoption["changes"]} == set(UNITS)
    with cf.Campaign(
        cf.presets.district_2005(), f"sqlite:///{city_db}", campaign_id="city"
    ) as camp:
        assert camp.state("edu-02").workflow == adoption["workflow"]
        assert camp.verify_audit().ok
    assert run(runner, cli, "audit", "verify", "--db", str(city_db)).exit_code == 0


def test_adopt_refused_plan_changes_nothing(
    runner: CliRunner, cli: Any, city_db: Path, tmp_path: Path
) -> None:
    """A stage map to a stage the new version lacks: exit 2, every problem named, nothing written."""
    new = _new_version(tmp_path, hours=30)
    before = run(runner, cli, "audit", "verify", "--db", str(city_db)).stdout
    result = run(
        runner,
        cli,
        "adopt",
        str(new),
        "--db",
        str(city_db),
        "--policy",
        "migrate",
        "--map",
        "study_mobilization=no_such_stage",
    )
    assert result.exit_code == 2
    assert "no_such_stage" in result.stderr
    assert run(runner, cli, "audit", "verify", "--db", str(city_db)).stdout == before


def test_adopt_bad_map_is_a_usage_error(
    runner: CliRunner, cli: Any, city_db: Path, tmp_path: Path
) -> None:
    """--map without '=': exit 2."""
    new = _new_version(tmp_path, hours=30)
    result = run(runner, cli, "adopt", str(new), "--db", str(city_db), "--map", "oops")
    assert result.exit_code == 2
    assert "OLD=NEW" in result.stderr


def test_report_on_a_real_campaign(
    runner: CliRunner, cli: Any, city_db: Path, tmp_path: Path
) -> None:
    """A campaign an OA system ran (not simulated): the report reads its audit trail."""
    result = run(
        runner, cli, "report", "--db", str(city_db), "--json", "--out", str(tmp_path / "r")
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "recorded"
    assert data["scenario"] == "city"
    assert data["units"] == 4
    blocked = {(b["code"], b["stage"]): b["count"] for b in data["blocking"]}
    assert blocked[("study_hours.insufficient", "study_mobilization")] == 2  # edu-02, tax-03
    assert (tmp_path / "r" / "report.html").stat().st_size > 0


def test_rollup_reads_chinese(runner: CliRunner, cli: Any, city_db: Path) -> None:
    """--under under zh_CN: the roll-up, the tree and the stuck list hold no English word."""
    from tests.cli.test_chinese import untranslated

    result = run(
        runner, cli, "report", "--db", str(city_db), "--under", "city-1", "--lang", "zh_CN"
    )
    assert result.exit_code == 0, result.stderr
    assert "督导组尚未批准 3、" in result.stdout
    # The organisations' ids and levels are the host's own identifiers.
    host_ids = {"city", "district", "dist"}
    assert [line for line in untranslated(result.stdout) if not _only(line, host_ids)] == []
    assert untranslated(result.stderr) == []


def _only(line: str, allowed: set[str]) -> bool:
    """Whether the words ``untranslated`` found on ``line`` are all in ``allowed``."""
    words = line.rsplit(": ", 1)[1].strip("[]").replace("'", "").split(", ")
    return set(words) <= allowed
