"""``write_report``: the charts, the HTML page and the JSON summary of a result, in one folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from campaignflow.errors import ValidationError
from campaignflow.i18n import messages
from campaignflow.report._charts import ChartStyle, chart_lang, require_matplotlib
from campaignflow.report._text import check_lang

if TYPE_CHECKING:
    from campaignflow.simulation.results import SimulationResult
    from campaignflow.workflow import Workflow

__all__ = ["ReportFiles", "chart_style", "write_report"]

#: The files ``write_report`` writes, by role.
FILE_NAMES = {
    "stages": "stages.png",
    "gantt": "gantt.png",
    "html": "report.html",
    "summary": "summary.json",
}


@attrs.frozen
class ReportFiles:
    """The paths ``write_report`` wrote, and notes for the reader (a missing CJK font).

    ``notes`` is empty when everything was drawn as asked.
    """

    stages: Path
    gantt: Path
    html: Path
    summary: Path
    notes: tuple[str, ...] = ()


def chart_style(workflow: Workflow | None, lang: str) -> ChartStyle:
    """Stage names in ``lang``, stage kinds and batch titles from ``workflow`` (glossary terms
    when None)."""
    lang = check_lang(lang)
    if workflow is None:
        return ChartStyle()
    return ChartStyle(
        labels={s.id: s.label(lang) for s in workflow.stages},
        kinds={s.id: s.kind for s in workflow.stages},
        batches={b.number: b.title for b in workflow.batches if b.title},
    )


def write_report(
    result: SimulationResult,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    workflow: Workflow | None = None,
) -> ReportFiles:
    """Write ``stages.png``, ``gantt.png``, ``report.html`` and ``summary.json`` into ``out_dir``.

    The folder is created when missing. ``workflow`` gives stage names and kinds (the
    glossary's names otherwise). Charts use ``lang`` when a font with Chinese glyphs is
    installed; without one, zh_CN charts are labelled in English and ``notes`` says so (the
    HTML page stays in Chinese: the browser picks its own fonts).

    Raises:
        ValidationError: a bad ``lang``, or ``out_dir`` is not a folder that can be written.
        ImportError: matplotlib is missing (``pip install 'campaignflow[plot]'``).
    """
    from campaignflow.report._charts import gantt_chart, stages_chart
    from campaignflow.report._html import render_html

    lang = check_lang(lang)
    require_matplotlib()
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(
            code="report.cannot_create_folder",
            params={"folder": repr(str(folder)), "exc": str(exc)},
        ) from None
    notes: list[str] = []
    drawn = chart_lang(lang)
    if drawn != lang:
        notes.append(messages.render("report.note.no_cjk_font", {}, lang))
    charts = {
        "stages": stages_chart(result, lang=drawn, style=chart_style(workflow, drawn)),
        "gantt": gantt_chart(result, lang=drawn, style=chart_style(workflow, drawn)),
    }
    files = ReportFiles(
        **{role: folder / name for role, name in FILE_NAMES.items()}, notes=tuple(notes)
    )
    page = render_html(result, charts=charts, lang=lang, style=chart_style(workflow, lang))
    try:
        files.stages.write_bytes(charts["stages"])
        files.gantt.write_bytes(charts["gantt"])
        files.html.write_text(page, encoding="utf-8")
        files.summary.write_text(result.to_json() + "\n", encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            code="report.cannot_write", params={"folder": repr(str(folder)), "exc": str(exc)}
        ) from None
    return files
