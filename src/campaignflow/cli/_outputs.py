"""What ``simulate`` and ``report`` may write: their own files in their output folder, only.

The rules (docs/cli.md, "What the command may touch"):

* an output name (the scenario's ``name``) is an id, as unit ids are: never a path;
* an existing output file is refused unless ``--overwrite`` is given *and* the file carries
  campaignflow's mark: the simulation database holds only the simulation's campaign id, a
  report page has :data:`HTML_MARK`, a chart has the :data:`PNG_MARK` text chunk, a
  ``summary.json`` is a simulation result of the same scenario;
* nothing is written through a symbolic link: a link at an output path is refused, and files
  are created with ``O_EXCL | O_NOFOLLOW`` (a link or file that appears meanwhile fails).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import struct
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import attrs

from campaignflow.cli._common import BadInput, error_lang
from campaignflow.i18n import messages
from campaignflow.report import ReportFiles, write_report
from campaignflow.simulation import SimulationResult
from campaignflow.workflow import Workflow

__all__ = [
    "DB_FILES",
    "HTML_MARK",
    "PNG_MARK",
    "REPORT_FILES",
    "check_name",
    "check_outputs",
    "create_database",
    "write_outputs",
]

#: The database and the files SQLite keeps beside it.
DB_FILES = ("campaign.db", "campaign.db-wal", "campaign.db-shm", "campaign.db-journal")
REPORT_FILES = ("stages.png", "gantt.png", "report.html", "summary.json")
#: The comment on a report page's second line that marks it as campaignflow's own output.
HTML_MARK = "<!-- written by campaignflow: campaignflow simulate/report may replace this file -->"
#: The PNG ``tEXt`` chunk (keyword ``Software``) that marks a chart as campaignflow's own.
PNG_MARK = b"Software\x00campaignflow"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The same rule as unit ids (``campaignflow._words.checks.identifier``): no '/', no '..'.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: A marked file is small; reading more than this to look for the mark is not needed.
_MAX_MARKED = 64 * 1024 * 1024


def _say(text: str) -> BadInput:
    return BadInput(text)


def check_name(name: str) -> str:
    """``name`` when it is an id that can name a folder and a campaign, else exit 2."""
    if not _NAME.fullmatch(name):
        raise _say(messages.render("cli.bad_scenario_name", {"name": repr(name)}, error_lang()))
    return name


def check_folder(folder: Path) -> None:
    """Refuse an output folder that is a symbolic link or an existing non-folder."""
    if folder.is_symlink():
        raise _say(messages.render("cli.output_symlink", {"path": repr(str(folder))}, error_lang()))
    if folder.exists() and not folder.is_dir():
        raise _say(
            messages.render("cli.output_not_folder", {"path": repr(str(folder))}, error_lang())
        )


def _db_campaigns(path: Path) -> list[str] | None:
    """The campaign ids of a campaignflow SQLite database, opened read-only; None if not one."""
    try:
        # immutable: SQLite creates no -wal/-shm beside a file that is not ours to touch.
        uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = conn.execute("SELECT campaign_id FROM cf_campaigns").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return sorted(str(r[0]) for r in rows)


def _read_small(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_MARKED + 1)
    except OSError:
        return None
    return data if len(data) <= _MAX_MARKED else None


def _summary_of(data: bytes, scenario: str) -> bool:
    try:
        parsed = json.loads(data.decode("utf-8"))
        return bool(SimulationResult.from_dict(parsed).scenario == scenario)
    except Exception:  # anything that is not our result is simply not ours
        return False


def _is_ours(path: Path, campaign_id: str) -> bool:
    """Whether ``path`` carries campaignflow's mark for this campaign (see the module doc)."""
    name = path.name
    if name == "campaign.db":
        return _db_campaigns(path) == [campaign_id]
    if name in DB_FILES:  # SQLite's own files go with their database, never alone
        main = path.with_name("campaign.db")
        return main.is_file() and not main.is_symlink() and _is_ours(main, campaign_id)
    data = _read_small(path)
    if data is None:
        return False
    if name.endswith(".png"):
        return data.startswith(_PNG_SIGNATURE) and _chunk(b"tEXt", PNG_MARK) in data
    if name.endswith(".html"):
        return HTML_MARK.encode() in data[:4096]
    if name == "summary.json":
        return _summary_of(data, campaign_id)
    return False


def check_outputs(
    folder: Path, names: Iterable[str], *, overwrite: bool, campaign_id: str
) -> list[Path]:
    """Refuse before any work if an output exists and may not be replaced.

    Returns the existing files that ``--overwrite`` will replace (all carry the mark).
    """
    check_folder(folder)
    replace: list[Path] = []
    for name in names:
        path = folder / name
        if path.is_symlink():
            raise _say(
                messages.render("cli.output_symlink", {"path": repr(str(path))}, error_lang())
            )
        if not path.exists():
            continue
        if not overwrite:
            raise _say(
                messages.render("cli.output_exists", {"path": repr(str(path))}, error_lang())
            )
        if not path.is_file() or not _is_ours(path, campaign_id):
            if name == "campaign.db":
                found = _db_campaigns(path)
                if found is not None:
                    raise _say(
                        messages.render(
                            "cli.output_other_campaign",
                            {
                                "path": repr(str(path)),
                                "found": ", ".join(found) or "none",
                                "campaign": repr(campaign_id),
                            },
                            error_lang(),
                        )
                    )
            raise _say(
                messages.render("cli.output_not_ours", {"path": repr(str(path))}, error_lang())
            )
        replace.append(path)
    return replace


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _create(path: Path, data: bytes) -> None:
    """Write a new file: never through a link, never over a file that appeared meanwhile."""
    try:
        fd = os.open(path, _OPEN_NEW, 0o644)
    except FileExistsError:
        raise _say(
            messages.render("cli.output_exists", {"path": repr(str(path))}, error_lang())
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def create_database(folder: Path, replace: list[Path]) -> Path:
    """The empty ``campaign.db`` the simulation fills, after removing its own earlier one."""
    folder.mkdir(parents=True, exist_ok=True)
    _remove(p for p in replace if p.name in DB_FILES)
    path = folder / "campaign.db"
    _create(path, b"")  # an empty file is an empty SQLite database
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _mark_png(data: bytes) -> bytes:
    """The PNG with the :data:`PNG_MARK` text chunk after its header chunk (IHDR)."""
    end_of_ihdr = len(_PNG_SIGNATURE) + 8 + 13 + 4
    return data[:end_of_ihdr] + _chunk(b"tEXt", PNG_MARK) + data[end_of_ihdr:]


def _mark_html(text: str) -> str:
    first, newline, rest = text.partition("\n")
    return f"{first}\n{HTML_MARK}\n{rest}" if newline else f"{text}\n{HTML_MARK}\n"


def write_outputs(
    result: SimulationResult,
    folder: Path,
    replace: list[Path],
    *,
    lang: str,
    workflow: Workflow,
) -> ReportFiles:
    """The report files, marked, created in ``folder`` (replacing only ``replace``)."""
    with tempfile.TemporaryDirectory(prefix="campaignflow-") as scratch:
        drafted = write_report(result, scratch, lang=lang, workflow=workflow)
        contents = {
            "stages.png": _mark_png(drafted.stages.read_bytes()),
            "gantt.png": _mark_png(drafted.gantt.read_bytes()),
            "report.html": _mark_html(drafted.html.read_text(encoding="utf-8")).encode(),
            "summary.json": drafted.summary.read_bytes(),
        }
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _remove(p for p in replace if p.name in contents)
    for name, data in contents.items():
        _create(folder / name, data)
    return attrs.evolve(
        drafted,
        stages=folder / "stages.png",
        gantt=folder / "gantt.png",
        html=folder / "report.html",
        summary=folder / "summary.json",
    )
