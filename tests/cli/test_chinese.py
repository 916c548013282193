"""Under zh_CN the command line is all Chinese: help, errors (click's own too), progress,
notes, status words, tables and diagram labels (issue 19, point 1).

The check is a word list (``wordcheck.english_words``): what may stay in Latin letters is
an identifier, a code, a file name, an option, a capitalised metavar or acronym, or one of a
few technical words; any other English word is reported, with the line it is on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from campaignflow.cli import main
from campaignflow.i18n import messages
from tests.cli.conftest import SMALL
from tests.cli.wordcheck import english_words

ZH_ENVS = (
    {"CAMPAIGNFLOW_LANG": "zh_CN"},
    {"CAMPAIGNFLOW_LANG": "", "LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""},
)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def _command_names() -> frozenset[str]:
    return frozenset(name for path in _commands(main) for name in path)


#: Command names are identifiers (every command the program has, read from it); "cli" is
#: the program's name under click's test runner.
COMMANDS = frozenset({"cli"}) | _command_names()


def untranslated(text: str) -> list[str]:
    """Each line of ``text`` that holds an English word, with the words."""
    return [
        f"{line!r}: {words}"
        for line in text.splitlines()
        if (words := english_words(line, COMMANDS))
    ]


def _help_screens(cli: Any, env: dict[str, str]) -> dict[str, str]:
    runner = CliRunner()
    screens = {}
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"], env=env)
        assert result.exit_code == 0, (path, result.output)
        screens[" ".join(path) or "campaignflow"] = result.stdout
    return screens


def test_the_word_check_finds_a_planted_english_sentence() -> None:
    """The check reports English prose, and lets identifiers, options and file names pass."""
    assert english_words("This sentence was never translated") == [
        "This",
        "sentence",
        "was",
        "never",
        "translated",
    ]
    assert english_words("写到 report.html；--lang zh_CN；守卫 min_study_hours；FILE") == []
    # The mixed line: both its English words are found.
    assert english_words("Error: format 'dot' 需要 graphviz 包") == ["Error", "format"]
    assert english_words("store：存储已关闭；请传入 replace=True") == []
    assert english_words("注：no charts 不画图") == ["no", "charts"]


@pytest.mark.parametrize("env", ZH_ENVS, ids=["CAMPAIGNFLOW_LANG", "LANG"])
def test_every_help_screen_is_chinese(cli: Any, env: dict[str, str]) -> None:
    """Every command's --help under zh_CN: no English word outside identifiers and options."""
    screens = _help_screens(cli, env)
    assert len(screens) >= 10
    found = {name: bad for name, text in screens.items() if (bad := untranslated(text))}
    assert found == {}
    assert "用法：" in screens["simulate"]
    assert "选项" in screens["simulate"]
    assert "命令" in screens["campaignflow"]


def test_help_follows_lang_wherever_it_stands(cli: Any) -> None:
    """--help before --lang zh_CN is already Chinese; --lang en gives English under LANG=zh."""
    runner = CliRunner()
    zh = runner.invoke(
        cli, ["simulate", "--help", "--lang", "zh_CN"], env={"CAMPAIGNFLOW_LANG": "en"}
    )
    assert untranslated(zh.stdout) == []
    assert "覆盖场景中的随机种子" in zh.stdout
    en = runner.invoke(cli, ["simulate", "--lang", "en", "--help"], env=ZH_ENVS[1])
    assert "Overrides the scenario's seed." in en.stdout
    assert "Usage:" in en.stdout


def test_an_untranslated_help_text_is_caught(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A help text left in English (here planted in the catalogue) fails the check."""
    planted = dict(messages._templates["cli.opt.simulate.seed"])
    planted["zh_CN"] = "Overrides the scenario's seed."
    monkeypatch.setitem(messages._templates, "cli.opt.simulate.seed", planted)
    screens = _help_screens(cli, ZH_ENVS[0])
    assert untranslated(screens["simulate"]) != []
    assert untranslated(screens["validate"]) == []


def test_every_catalogue_message_is_chinese() -> None:
    """Every code's zh_CN template holds no English word outside identifiers and codes."""
    found = {
        code: words
        for code in sorted(messages.codes())
        if (words := english_words(messages._templates[code]["zh_CN"]))
    }
    assert found == {}
    assert len(messages.codes()) > 300


@pytest.mark.parametrize(
    "args",
    [
        ["simulate"],
        ["simulate", "missing.toml"],
        ["simulat"],
        ["simulate", str(SMALL), "--bogus"],
        ["simulate", str(SMALL), "--mode", "slow"],
        ["simulate", str(SMALL), "--seed", "x"],
        ["simulate", str(SMALL), "--shards", "0"],
        ["simulate", str(SMALL), "--seed"],
        ["simulate", str(SMALL), "--out", "x", "--no-report"],
        ["report", "--db", "nothing.db"],
        ["diagram"],
        ["audit", "verify"],
        ["preset", "show", "district2005"],
        ["adopt", str(SMALL), "--db", "x.db", "--map", "oops"],
        ["compare", str(SMALL), "--out", "x", "--no-report"],
        ["compare", str(SMALL), "--mode", "slow"],
        ["compare", str(SMALL), "--seed", "-1"],
        ["simulate", str(SMALL), "--runs", "0"],
        ["simulate", str(SMALL), "--runs", "2", "--db", "x.db"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_errors_are_one_chinese_message(cli: Any, args: list[str]) -> None:
    """click's own errors and ours: usage, hint and message all Chinese, exit code 2."""
    result = CliRunner().invoke(cli, [*args, "--lang", "zh_CN"], env=ZH_ENVS[0])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "错误：" in result.stderr
    assert untranslated(result.stderr) == []


def test_a_run_reads_chinese_throughout(cli: Any, tmp_path: Path) -> None:
    """simulate under zh_CN: progress lines, notes, tables and the files written, no English."""
    result = CliRunner().invoke(
        cli, ["simulate", str(SMALL), "--out", str(tmp_path / "out")], env=ZH_ENVS[1]
    )
    assert result.exit_code == 0, result.output
    assert "已完成" in result.stderr  # the progress lines
    assert "已写出" in result.stderr
    assert untranslated(result.stderr) == []
    assert untranslated(result.stdout) == []
    checked = CliRunner().invoke(cli, ["validate", str(SMALL)], env=ZH_ENVS[1])
    assert checked.stdout.startswith("通过：")
    assert untranslated(checked.stdout) == []


def test_diagram_labels_are_chinese(cli: Any) -> None:
    """The diagram names each stage by its Chinese title, in mermaid and in dot."""
    runner = CliRunner()
    mermaid = runner.invoke(cli, ["diagram", "--preset", "district_2005", "--lang", "zh_CN"])
    assert 'state "学习动员" as study_mobilization' in mermaid.stdout
    english = runner.invoke(cli, ["diagram", "--preset", "district_2005", "--lang", "en"])
    assert 'state "学习动员"' not in english.stdout
    pytest.importorskip("graphviz")
    dot = runner.invoke(
        cli, ["diagram", "--preset", "district_2005", "--format", "dot", "--lang", "zh_CN"]
    )
    assert 'study_mobilization [label="学习动员\\l"' in dot.stdout


def test_chinese_help_lines_up_and_fits_the_width(cli: Any) -> None:
    """Chinese characters take two columns: descriptions start in one column, no line overflows."""
    result = CliRunner().invoke(cli, ["simulate", "--help"], env=ZH_ENVS[0], terminal_width=80)
    starts = set()
    for line in result.stdout.splitlines():
        assert _columns(line) <= 80, line
        if line.startswith("  --") and "  " in line.strip():
            head, _, _ = _split_row(line)
            starts.add(_columns(head))
    assert len(starts) == 1, starts


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _split_row(line: str) -> tuple[str, str, str]:
    """An option row's option part (with its padding) and its description."""
    found = re.match(r"(\s+\S.*?\s{2,})(\S.*)", line)
    assert found, line
    return found.group(1), "", found.group(2)


PLUGIN = """
import attrs
import campaignflow as cf


@cf.fact_type("face_attendance")
@attrs.frozen
class Attendance:
    present: int
    members: int


@cf.guard(
    "face_attendance_at_least",
    messages={
        "face_attendance.ok": {"zh_CN": "出勤 {present}/{members}", "en": "{present}/{members} present"},
        "face_attendance.none": {"zh_CN": "没有出勤记录", "en": "no attendance recorded"},
    },
)
def face_attendance_at_least(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
    seen = ctx.latest(Attendance)
    if seen is None:
        return cf.Verdict("face_attendance_at_least", False, "face_attendance.none", {})
    params = {"present": seen.present, "members": seen.members}
    return cf.Verdict("face_attendance_at_least", True, "face_attendance.ok", params)
"""


def test_a_custom_guard_run_reads_chinese(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A custom guard without a bulk form or recipe runs fast (judged unit by unit, no
    fallback); the missing recipe is one Chinese note, with no English word."""
    import json

    import campaignflow as cf

    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "face_guards.py").write_text(PLUGIN, encoding="utf-8")
    data = cf.presets.district_2005().to_dict()
    data["name"] = "custom_2005"
    gate = next(t for t in data["transitions"] if t["source"] == "study_mobilization")
    gate["guards"].append({"guard": "face_attendance_at_least", "rate": 0.8})
    (tmp_path / "custom.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    text = SMALL.read_text(encoding="utf-8").replace(
        'workflow = "district_2005"', 'workflow = "custom.json"\nplugins = ["face_guards"]'
    )
    (tmp_path / "custom.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["simulate", "custom.toml", "--mode", "fast", "--no-report", "-q", "--lang", "zh_CN"],
        env={**ZH_ENVS[0], "COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    assert "快速模式无法运行" not in result.stderr
    assert "注：" in result.stderr
    assert "`face_attendance_at_least` 没有配方" in result.stderr
    assert untranslated(result.stderr) == []


@pytest.mark.parametrize("args", [[], ["audit"], ["preset"]], ids=["root", "audit", "preset"])
def test_a_group_without_its_command_shows_its_help(cli: Any, args: list[str]) -> None:
    """A group given no command prints its help (in Chinese), once, and exits 2."""
    result = CliRunner().invoke(cli, args, env=ZH_ENVS[0])
    assert result.exit_code == 2
    assert result.stderr.count("用法：") == 1
    assert "错误：" not in result.stderr
    assert "命令" in result.stderr
    assert untranslated(result.stderr) == []


@pytest.mark.slow
def test_what_if_runs_read_chinese(cli: Any, tmp_path: Path) -> None:
    """compare and simulate --runs under zh_CN: tables, notes and the files written, no English."""
    runner = CliRunner()
    compared = runner.invoke(
        cli,
        [
            "compare",
            str(SMALL),
            "--set",
            "workflow_overrides.satisfaction_rate_at_least.rate=0.9",
            "--out",
            str(tmp_path / "cmp"),
        ],
        env={**ZH_ENVS[1], "COLUMNS": "200"},
    )
    assert compared.exit_code == 0, compared.output
    assert "对比分析" in compared.stdout
    assert "精确模式" in compared.stdout  # the mode by its name, not "exact"
    assert "已写入" in compared.stderr
    assert untranslated(compared.stdout) == []
    assert untranslated(compared.stderr) == []
    runs = runner.invoke(
        cli,
        ["simulate", str(SMALL), "--runs", "3", "--no-report"],
        env={**ZH_ENVS[1], "COLUMNS": "200"},
    )
    assert runs.exit_code == 0, runs.output
    assert "完成日期 p50" in runs.stdout
    assert "模拟方式：" in runs.stdout
    assert "次运行已完成" in runs.stderr
    assert untranslated(runs.stdout) == []
    assert untranslated(runs.stderr) == []
