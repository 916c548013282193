"""Writing the what-if pages (``compare.html``, ``runs.html`` and their charts) safely.

The same rules as ``simulate``'s outputs (:mod:`campaignflow.cli._outputs`): refused when
present unless ``--overwrite`` and marked as campaignflow's own, never through a link,
created new with ``O_EXCL | O_NOFOLLOW``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from campaignflow.cli._common import err_console, missing_extra, note
from campaignflow.cli._outputs import (
    _create,
    _mark_html,
    _mark_png,
    _remove,
    check_folder,
    check_outputs,
)
from campaignflow.report._charts import require_matplotlib

__all__ = ["page_folder", "report_folder", "write_pages"]


def report_folder(out: Path | None, *, no_report: bool, default: Path, lang: str) -> Path | None:
    """Where a command writes its charts and pages, or ``None`` for nowhere.

    ``--out`` needs matplotlib, so a missing extra stops the command before a long run, not
    after it. Without ``--out`` the pages go to ``default`` unless ``--no-report``; a missing
    matplotlib is then a note, and the command only prints.
    """
    if out is not None:
        require_matplotlib()
        return out
    if no_report:
        return None
    try:
        require_matplotlib()
    except ImportError as exc:
        note(err_console(), "cli.note.no_charts", reason=missing_extra(exc, lang))
        return None
    return default


def page_folder(
    out: Path | None,
    files: Sequence[str],
    name: str,
    lang: str,
    *,
    no_report: bool,
    overwrite: bool,
) -> tuple[Path | None, list[Path]]:
    """The folder of campaign ``name``'s what-if pages (:func:`report_folder`; by default
    ``<name>-<kind>`` after the first of ``files``, ``compare.html`` or ``runs.html``) and
    which of ``files`` in it ``--overwrite`` lets :func:`write_pages` replace; every refusal
    comes before the runs."""
    default = Path(f"{name}-{Path(files[0]).stem}")
    folder = report_folder(out, no_report=no_report, default=default, lang=lang)
    if folder is None:
        return None, []
    return folder, check_outputs(folder, files, overwrite=overwrite, campaign_id=name)


def write_pages(folder: Path, contents: Mapping[str, bytes], replace: list[Path]) -> list[Path]:
    """Create each file of ``contents`` (name -> bytes) in ``folder``, marked as ours.

    ``replace`` are the existing files ``check_outputs`` allowed ``--overwrite`` to replace.
    """
    marked = {
        name: _mark_png(data)
        if name.endswith(".png")
        else _mark_html(data.decode("utf-8")).encode()
        if name.endswith(".html")
        else data
        for name, data in contents.items()
    }
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _remove(p for p in replace if p.name in marked)
    for name, data in marked.items():
        _create(folder / name, data)
    return [folder / name for name in marked]
