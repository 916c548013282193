"""The command never destroys what it did not create (issue 17), as subprocesses.

Every refusal case runs ``python -m campaignflow`` in a fresh folder and checks three things:
exit code 2, exactly one line of output (no traceback), and every file that was there before
byte-identical afterwards (links included: where they point, and what they point at). The
terminal summary prints the count (tests/cli/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from tests.cli.conftest import SMALL

# Each case starts the command in a fresh process: slow (tests/README.md), run by CI's -m slow.
pytestmark = pytest.mark.slow

SRC = Path(cf.__file__).parents[1]
COUNTS = "[roster.counts]\norgan = 5\ncommunity = 4\nvillage = 3\n"

#: A line that must never appear in an error: it stands for /etc/passwd's first line.
SECRET = "root:x:0:0:SECRET-FIRST-LINE:/root:/bin/bash"


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(SRC), CAMPAIGNFLOW_LANG="en", OPENBLAS_NUM_THREADS="1")


def cli(
    cwd: Path,
    *args: str,
    before: str = "",
    preexec: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``campaignflow ARGS`` in ``cwd``; ``before`` is Python run first (e.g. hiding numpy)."""
    code = f"{before}\nfrom campaignflow.cli import main\nmain({list(args)!r}, prog_name='campaignflow')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=preexec,
        check=False,
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: a link's target, a file's SHA-256."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = f"link -> {os.readlink(path)}"
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_refused(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit 2, one message (no traceback); returns it as one line.

    A scenario's own errors keep their documented form, a head line and one line per
    problem ("scenario plan.toml: 1 problem" / "  - roster.csv: ..."): that is one message.
    """
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    if len(lines) == 2 and lines[0].endswith(": 1 problem") and lines[1].startswith("  - "):
        return " ".join(lines)
    assert len(lines) == 1, lines
    return lines[0]


def quickstart_db(folder: Path) -> None:
    """The quickstart's own ``campaign.db`` (campaign id ``default``) with one unit in it."""
    campaign = cf.Campaign(cf.presets.district_2005(), store=f"sqlite:///{folder / 'campaign.db'}")
    try:
        campaign.add_units(
            [cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32)]
        )
    finally:
        campaign.close()


def scenario(folder: Path, name: str = "small_district", roster: str | None = None) -> Path:
    text = SMALL.read_text(encoding="utf-8").replace(
        'name = "small_district"', f"name = {json.dumps(name)}"
    )
    if roster is not None:
        text = text.replace(COUNTS, f"[roster]\ncsv = {json.dumps(roster)}\n")
    path = folder / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the refusal cases: (setup, command) -----------------------------------------------------


def case_quickstart_db(tmp: Path) -> Sequence[str]:
    quickstart_db(tmp)
    return ["simulate", str(SMALL), "--no-report", "-q"]


def case_quickstart_db_overwrite(tmp: Path) -> Sequence[str]:
    quickstart_db(tmp)
    return ["simulate", str(SMALL), "--no-report", "-q", "--overwrite"]


def case_out_dir_foreign_db(tmp: Path) -> Sequence[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "campaign.db").write_bytes(b"a user's file that happens to be named so")
    return ["simulate", str(SMALL), "--out", "out", "-q"]


def case_out_dir_foreign_db_overwrite(tmp: Path) -> Sequence[str]:
    (tmp / "out").mkdir()
    quickstart_db(tmp / "out")
    return ["simulate", str(SMALL), "--out", "out", "-q", "--overwrite"]


def case_out_dir_foreign_wal(tmp: Path) -> Sequence[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "campaign.db-wal").write_bytes(b"someone's write-ahead log")
    return ["simulate", str(SMALL), "--out", "out", "-q", "--overwrite"]


def case_out_dir_foreign_report(tmp: Path) -> Sequence[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "report.html").write_text("<p>my own page</p>", encoding="utf-8")
    return ["simulate", str(SMALL), "--out", "out", "-q", "--overwrite"]


def case_name_traversal(tmp: Path) -> Sequence[str]:
    (tmp / "a" / "b").mkdir(parents=True)
    quickstart_db(tmp)  # what ../../x would have reached
    return ["simulate", str(scenario(tmp / "a" / "b", "../../x")), "-q"]


def case_name_absolute(tmp: Path) -> Sequence[str]:
    return ["simulate", str(scenario(tmp, str(tmp / "abs"))), "-q"]


def case_name_traversal_with_out(tmp: Path) -> Sequence[str]:
    return ["simulate", str(scenario(tmp, "../x")), "--out", "out", "-q"]


def case_symlinked_report(tmp: Path) -> Sequence[str]:
    (tmp / "victim.html").write_text("<p>not yours</p>", encoding="utf-8")
    (tmp / "out").mkdir()
    (tmp / "out" / "report.html").symlink_to(tmp / "victim.html")
    return ["simulate", str(SMALL), "--out", "out", "-q", "--overwrite"]


def case_symlinked_db(tmp: Path) -> Sequence[str]:
    (tmp / "elsewhere").mkdir()
    quickstart_db(tmp / "elsewhere")
    (tmp / "campaign.db").symlink_to(tmp / "elsewhere" / "campaign.db")
    return ["simulate", str(SMALL), "--no-report", "-q"]


def case_dangling_symlink(tmp: Path) -> Sequence[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "summary.json").symlink_to(tmp / "created-through-the-link.json")
    return ["simulate", str(SMALL), "--out", "out", "-q"]


def case_symlinked_default_folder(tmp: Path) -> Sequence[str]:
    (tmp / "real").mkdir()
    (tmp / "small_district-report").symlink_to(tmp / "real")
    return ["simulate", str(SMALL), "-q"]


def case_deep_json(tmp: Path) -> Sequence[str]:
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return ["validate", "deep.json"]


def case_deep_toml(tmp: Path) -> Sequence[str]:
    (tmp / "deep.toml").write_text("a = " + "[" * 50_000 + "]" * 50_000, encoding="utf-8")
    return ["validate", "deep.toml"]


def case_roster_not_csv(tmp: Path) -> Sequence[str]:
    (tmp / "secrets").write_text(SECRET + "\nsecond line\n", encoding="utf-8")
    return ["simulate", str(scenario(tmp, roster="secrets")), "--no-report", "-q"]


def case_roster_system_file(tmp: Path) -> Sequence[str]:
    return ["simulate", str(scenario(tmp, roster="/etc/passwd")), "--no-report", "-q"]


def case_plugin_missing(tmp: Path) -> Sequence[str]:
    return ["validate", str(SMALL), "--plugin", "no_such_plugin_module"]


def case_plugin_raises(tmp: Path) -> Sequence[str]:
    (tmp / "broken_plugin.py").write_text("raise RuntimeError('half-written')\n", encoding="utf-8")
    return ["simulate", str(SMALL), "--plugin", "broken_plugin", "-q"]


def case_unknown_preset(tmp: Path) -> Sequence[str]:
    return ["preset", "show", "district_2006"]


CASES: dict[str, Callable[[Path], Sequence[str]]] = {
    name.removeprefix("case_"): func
    for name, func in sorted(globals().items())
    if name.startswith("case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_with_one_line_and_exit_2_nothing_changed(
    case: str, tmp_path: Path, safety_figures: dict[str, Any]
) -> None:
    """Exit 2, one line, every pre-existing file (and link) byte-identical, nothing outside."""
    work = tmp_path / "work"
    work.mkdir()
    args = CASES[case](work)
    before = snapshot(tmp_path)
    line = assert_refused(cli(work, *args))
    assert snapshot(tmp_path) == before
    assert "SECRET" not in line
    assert "root:" not in line
    safety_figures["refused"].append(case)


def test_messages_name_the_file_and_the_flag(tmp_path: Path) -> None:
    """The refusal names the file and --overwrite; a foreign campaign is named as such."""
    quickstart_db(tmp_path)
    line = assert_refused(cli(tmp_path, "simulate", str(SMALL), "--no-report", "-q"))
    assert "campaign.db" in line
    assert "--overwrite" in line
    line = assert_refused(cli(tmp_path, "simulate", str(SMALL), "--no-report", "-q", "--overwrite"))
    assert "default" in line
    assert "never replaced" in line
    line = assert_refused(cli(tmp_path, "simulate", str(scenario(tmp_path, "../../x")), "-q"))
    assert "'../../x'" in line


def test_memory_limit_is_one_line(tmp_path: Path, safety_figures: dict[str, Any]) -> None:
    """A 10^7-unit fast run under a 700 MB address-space limit: one line, exit 2."""
    pytest.importorskip("numpy")
    big = tmp_path / "big.toml"
    big.write_text(
        SMALL.read_text(encoding="utf-8").replace("organ = 5", "organ = 9999993"),
        encoding="utf-8",
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (700 * 2**20, 700 * 2**20))

    before = snapshot(tmp_path)
    proc = cli(
        tmp_path, "simulate", "big.toml", "--mode", "fast", "--no-report", "-q", preexec=limit
    )
    assert "out of memory" in assert_refused(proc)
    assert snapshot(tmp_path) == before
    safety_figures["refused"].append("memory_limit")


HIDE_NUMPY = "import sys\nsys.modules['numpy'] = None"


def test_fast_mode_without_numpy_stops_before_it_starts(
    tmp_path: Path, safety_figures: dict[str, Any]
) -> None:
    """--mode fast without numpy: one line naming the extra, exit 2, no database, at once."""
    started = time.monotonic()
    proc = cli(tmp_path, "simulate", str(SMALL), "--mode", "fast", "--no-report", before=HIDE_NUMPY)
    assert "pip install 'campaignflow[sim]'" in assert_refused(proc)
    assert time.monotonic() - started < 60
    assert list(tmp_path.iterdir()) == []
    safety_figures["refused"].append("fast_without_numpy")


def test_auto_on_a_big_scenario_without_numpy_says_so(
    tmp_path: Path, safety_figures: dict[str, Any]
) -> None:
    """auto, 200,012 units, no numpy: it does not start a run of hours; it says how long and why."""
    big = tmp_path / "big.toml"
    big.write_text(
        SMALL.read_text(encoding="utf-8").replace("organ = 5", "organ = 200000"),
        encoding="utf-8",
    )
    proc = cli(tmp_path, "simulate", "big.toml", "--no-report", before=HIDE_NUMPY)
    line = assert_refused(proc)
    assert "200,007 units" in line
    assert "minutes" in line
    assert "pip install 'campaignflow[sim]'" in line
    assert "--mode exact" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.toml"]
    safety_figures["refused"].append("auto_without_numpy")


def test_small_auto_without_numpy_runs_exact(tmp_path: Path) -> None:
    """Below the threshold, auto is exact anyway: numpy is not needed."""
    proc = cli(tmp_path, "simulate", str(SMALL), "--no-report", "-q", "--json", before=HIDE_NUMPY)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mode"] == "exact"


# --- what is allowed -----------------------------------------------------------------------


def test_overwrite_replaces_only_the_simulations_own_outputs(tmp_path: Path) -> None:
    """A second run with --overwrite replaces its own six files, and leaves the rest alone."""
    first = cli(tmp_path, "simulate", str(SMALL), "--out", "out", "-q")
    assert first.returncode == 0, first.stderr
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    old = snapshot(tmp_path / "out")
    assert {"campaign.db", "stages.png", "gantt.png", "report.html", "summary.json"} <= set(old)
    again = cli(
        tmp_path, "simulate", str(SMALL), "--out", "out", "-q", "--seed", "8", "--overwrite"
    )
    assert again.returncode == 0, again.stderr
    new = snapshot(tmp_path / "out")
    assert new["notes.txt"] == old["notes.txt"]
    assert new["summary.json"] != old["summary.json"]  # another seed: the run is the new one
    assert new["campaign.db"] != old["campaign.db"]
    for name in ("stages.png", "gantt.png"):
        assert b"Software\x00campaignflow" in (tmp_path / "out" / name).read_bytes()
    # The report command keeps the same rule for its own --out.
    report = cli(tmp_path, "report", "--db", "out/campaign.db", "--out", "out")
    assert report.returncode == 2
    assert "--overwrite" in (report.stdout + report.stderr)


def test_an_edited_own_report_is_no_longer_ours(tmp_path: Path) -> None:
    """The mark is what counts: a page whose mark the user removed is never replaced."""
    assert cli(tmp_path, "simulate", str(SMALL), "--out", "out", "-q").returncode == 0
    page = tmp_path / "out" / "report.html"
    page.write_text("<!DOCTYPE html>\n<p>my notes</p>", encoding="utf-8")
    before = snapshot(tmp_path)
    line = assert_refused(
        cli(tmp_path, "simulate", str(SMALL), "--out", "out", "-q", "--overwrite")
    )
    assert "report.html" in line
    assert snapshot(tmp_path) == before


PLUGIN = """
import attrs
import campaignflow as cf


@cf.fact_type("plugin_attendance")
@attrs.frozen
class Attendance:
    present: int
    members: int


@cf.guard(
    "plugin_attendance_at_least",
    messages={
        "plugin_attendance.ok": {"zh_CN": "出勤 {present}/{members}", "en": "{present}/{members} present"},
        "plugin_attendance.low": {"zh_CN": "出勤不足 {present}/{members}", "en": "only {present}/{members} present"},
        "plugin_attendance.none": {"zh_CN": "没有出勤记录", "en": "no attendance recorded"},
    },
)
def plugin_attendance_at_least(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
    seen = ctx.latest(Attendance)
    if seen is None:
        return cf.Verdict("plugin_attendance_at_least", False, "plugin_attendance.none", {})
    params = {"present": seen.present, "members": seen.members}
    passed = seen.present >= rate * seen.members
    code = "plugin_attendance.ok" if passed else "plugin_attendance.low"
    return cf.Verdict("plugin_attendance_at_least", passed, code, params)
"""


def test_plugin_registers_a_custom_guard_before_the_workflow_loads(tmp_path: Path) -> None:
    """Without --plugin the guard is unknown (and the error says how to register one)."""
    data = cf.presets.district_2005().to_dict()
    data["transitions"][0]["guards"].append({"guard": "plugin_attendance_at_least", "rate": 0.8})
    (tmp_path / "custom.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "oa_guards.py").write_text(PLUGIN, encoding="utf-8")
    without = cli(tmp_path, "validate", "custom.json")
    assert without.returncode == 1
    assert "plugin_attendance_at_least" in without.stderr
    assert "--plugin" in without.stderr
    with_plugin = cli(tmp_path, "validate", "custom.json", "--plugin", "oa_guards")
    assert with_plugin.returncode == 0, with_plugin.stderr
    assert with_plugin.stdout.startswith("ok: workflow")
    drawn = cli(tmp_path, "diagram", "custom.json", "--plugin", "oa_guards")
    assert drawn.returncode == 0, drawn.stderr
    assert "plugin_attendance_at_least" in drawn.stdout


def test_preset_show_prints_the_source_unchanged(tmp_path: Path) -> None:
    """The text is ``cf.presets.source(name)`` byte for byte; a near miss says "did you mean"."""
    for name in cf.presets.PRESETS:
        shown = subprocess.run(
            [sys.executable, "-m", "campaignflow", "preset", "show", name],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            check=False,
        )
        assert shown.returncode == 0
        assert shown.stdout.decode("utf-8") == cf.presets.source(name)
    line = assert_refused(cli(tmp_path, "preset", "show", "district_2006"))
    assert "district_2005" in line
    zh = assert_refused(cli(tmp_path, "preset", "show", "district_2006", "--lang", "zh_CN"))
    assert "是不是" in zh


def test_scenario_files_resolve_from_the_scenario_folder(tmp_path: Path) -> None:
    """``csv = "units.csv"`` is read beside the scenario, not in the current folder."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "units.csv").write_text(
        "id,name,kind,batch,members,parent\n"
        "org-1,机关一支部,organ,1,20,\n"
        "com-1,社区一支部,community,2,25,\n"
        "vil-1,村一支部,village,3,30,\n",
        encoding="utf-8",
    )
    (tmp_path / "units.csv").write_text(SECRET + "\n", encoding="utf-8")  # a decoy in the cwd
    plan = scenario(tmp_path / "sub", roster="units.csv")
    proc = cli(tmp_path, "validate", str(plan))
    assert proc.returncode == 0, proc.stderr
    assert "3 units" in proc.stdout
