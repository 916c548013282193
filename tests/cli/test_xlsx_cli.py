"""``campaignflow report --xlsx FILE``: the workbook of a campaign database, under the output rules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import campaignflow as cf
from campaignflow.i18n import messages
from tests.cli.test_orgtree_cli import build, run

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def city(tmp_path: Path) -> Path:
    path = tmp_path / "city.db"
    build(path)
    return path


def rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    """The sheet's rows as {header: value}."""
    table = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def test_report_writes_the_workbook_in_chinese(runner: CliRunner, cli: Any, city: Path) -> None:
    """--xlsx writes the campaign's figures with Chinese headers under --lang zh_CN."""
    out = Path("city.xlsx")
    result = run(runner, cli, "report", "--db", str(city), "--xlsx", str(out), "--lang", "zh_CN")
    assert result.exit_code == 0, result.stderr
    assert messages.render("cli.wrote_xlsx", {"path": str(out)}, "zh_CN") in result.stderr
    with cf.Campaign(cf.presets.district_2005(), f"sqlite:///{city}", campaign_id="city") as camp:
        progress = camp.progress()
        stuck = camp.stuck(limit=None)
    (batch,) = (r for r in rows(out, "按批次") if r["批次"] == 1)
    assert batch["单位数（个）"] == progress.total == 4
    assert batch["学习动员（个）"] == progress.by_batch[1]["study_mobilization"]
    listed = rows(out, "受阻单位")
    assert [r["单位代码"] for r in listed] == [e.unit.id for e in stuck.units]
    assert all("学时不足" in r["受阻原因"] for r in listed if r["单位代码"] != "fin-01")
    assert [r["组织代码"] for r in rows(out, "按组织")] == ["city-1", "dist-a", "dist-b"]


def test_under_limits_the_workbook_to_the_organisation(
    runner: CliRunner, cli: Any, city: Path
) -> None:
    """--under with --xlsx exports the organisation's own roll-up and stuck units."""
    args = ["report", "--db", str(city), "--under", "dist-a", "--xlsx", "a.xlsx", "--lang", "en"]
    result = run(runner, cli, *args)
    assert result.exit_code == 0, result.stderr
    assert [r["Organisation id"] for r in rows(Path("a.xlsx"), "By organisation")] == ["dist-a"]
    assert {r["Unit id"] for r in rows(Path("a.xlsx"), "Stuck units")} == {"fin-01", "edu-02"}


def test_an_existing_file_is_replaced_only_when_ours_and_asked(
    runner: CliRunner, cli: Any, city: Path
) -> None:
    """A second run is refused; --overwrite replaces our workbook but never a user's file."""
    args = ["report", "--db", str(city), "--xlsx", "city.xlsx"]
    assert run(runner, cli, *args).exit_code == 0
    first = Path("city.xlsx").read_bytes()
    again = run(runner, cli, *args)
    assert again.exit_code == 2
    assert "--overwrite" in again.stderr
    assert Path("city.xlsx").read_bytes() == first
    assert run(runner, cli, *args, "--overwrite").exit_code == 0
    Path("mine.xlsx").write_bytes(b"a user's own spreadsheet")
    mine = run(runner, cli, "report", "--db", str(city), "--xlsx", "mine.xlsx", "--overwrite")
    assert mine.exit_code == 2
    assert "not written by campaignflow" in mine.stderr
    assert Path("mine.xlsx").read_bytes() == b"a user's own spreadsheet"


def test_a_workbook_of_another_campaign_is_not_replaced(
    runner: CliRunner, cli: Any, city: Path, tmp_path: Path
) -> None:
    """--overwrite leaves alone a campaignflow workbook written for another campaign."""
    with cf.Campaign(cf.presets.district_2005(), campaign_id="other") as other:
        other.export_xlsx(Path("city.xlsx"))
    before = Path("city.xlsx").read_bytes()
    result = run(runner, cli, "report", "--db", str(city), "--xlsx", "city.xlsx", "--overwrite")
    assert result.exit_code == 2
    assert Path("city.xlsx").read_bytes() == before


@pytest.mark.parametrize("name", ["city.html", "city", "campaign.db"])
def test_a_name_not_ending_in_xlsx_is_refused(
    runner: CliRunner, cli: Any, city: Path, name: str
) -> None:
    """The spreadsheet's name must end in .xlsx: a typo never writes over another file."""
    result = run(runner, cli, "report", "--db", str(city), "--xlsx", name, "--overwrite")
    assert result.exit_code == 2
    assert ".xlsx" in result.stderr
    assert not Path(name).exists()


def test_a_link_is_never_written_through(runner: CliRunner, cli: Any, city: Path) -> None:
    """A symbolic link at the path is refused, and its target is untouched."""
    Path("target.txt").write_text("kept")
    Path("link.xlsx").symlink_to("target.txt")
    result = run(runner, cli, "report", "--db", str(city), "--xlsx", "link.xlsx", "--overwrite")
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert Path("target.txt").read_text() == "kept"


def test_without_openpyxl_the_command_names_the_extra(
    runner: CliRunner, cli: Any, city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing openpyxl is one line naming pip install 'campaignflow[xlsx]'; nothing is written."""
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    result = run(runner, cli, "report", "--db", str(city), "--xlsx", "c.xlsx", "--lang", "zh_CN")
    assert result.exit_code == 2
    assert "pip install 'campaignflow[xlsx]'" in result.stderr
    assert "缺少可选组件" in result.stderr
    assert not Path("c.xlsx").exists()
