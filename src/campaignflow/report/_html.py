"""The self-contained ``report.html``: summary tables and the charts inline as base64 PNG.

The page loads nothing: no script, no stylesheet, no font, no image from anywhere but
itself, and its Content-Security-Policy forbids any other source, so it can be mailed,
archived with the campaign's files, or opened on a machine without a network.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING

from campaignflow.report._charts import ChartStyle
from campaignflow.report._text import (
    GLOSSARY_BOX,
    batch_label,
    check_lang,
    finished_on,
    gate_label,
    mode_label,
    stage_label,
    text,
    words,
)

if TYPE_CHECKING:
    from campaignflow.simulation.results import SimulationResult

__all__ = ["png_size", "render_html"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
       sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
code { font-size: 0.9em; }
footer { margin-top: 3rem; color: #777; font-size: 0.85rem; }
aside.glossary { background: #f7f7f2; border: 1px solid #ddd; padding: 0.5rem 1rem; }
aside.glossary dt { font-weight: bold; margin-top: 0.4rem; }
aside.glossary dd { margin-left: 1rem; }
"""


def png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` of a PNG from its header.

    Raises:
        ValueError: ``data`` is not a PNG.
    """
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _table(
    head: Sequence[str] | None, rows: Sequence[Sequence[object]], *, numeric: int = 1
) -> str:
    """An HTML table; columns from ``numeric`` on are right-aligned numbers."""
    out = ["<table>"]
    if head is not None:
        out += ["<thead><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = ' class="n"' if i >= numeric else ""
            out.append(f"<td{cls}>{escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _img(name: str, data: bytes, alt: str) -> str:
    width, height = png_size(data)
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<img id="{escape(name)}" alt="{escape(alt)}" width="{width}" height="{height}" '
        f'src="data:image/png;base64,{encoded}">'
    )


def _what_ran(scenario: str, workflow: str, mode: str, lang: str) -> list[tuple[str, object]]:
    """The first rows of a page's summary table: the scenario, its workflow and the mode."""
    return [
        (text("scenario", lang), scenario),
        (text("workflow", lang), workflow),
        (text("mode", lang), mode_label(mode, lang)),
    ]


def _page_top(title: str, lang: str, *, css: str = "") -> list[str]:
    """A page's lines up to its ``<h1>``: the charset, the Content-Security-Policy that lets
    it load nothing, the style (with ``css`` added) and the title."""
    return [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh_CN" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}{css}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
    ]


def _page_end(parts: list[str], lang: str) -> str:
    """The page of ``parts`` (from :func:`_page_top` on), closed by its footer."""
    footer = [f"<footer>{escape(text('generated_by', lang))}</footer>", "</body>", "</html>"]
    return "\n".join([*parts, *footer]) + "\n"


def _glossary(lang: str) -> str:
    """The glossary box: the summary's terms (补课 / make-up, on time, held back) explained once."""
    rows = "".join(
        f"<dt>{escape(text(term, lang))}</dt><dd>{escape(text('explain.' + why, lang))}</dd>"
        for term, why in GLOSSARY_BOX
    )
    return (
        f'<aside class="glossary" id="glossary"><h2>{escape(text("glossary", lang))}</h2>'
        f"<dl>{rows}</dl></aside>"
    )


def render_html(
    result: SimulationResult,
    *,
    charts: Mapping[str, bytes],
    lang: str = "en",
    style: ChartStyle | None = None,
) -> str:
    """The report page for ``result`` in ``lang``, with ``charts`` (name → PNG bytes) inline."""
    lang = check_lang(lang)
    style = style or ChartStyle()
    t = words(lang)

    def stage(s: str) -> str:
        return stage_label(s, lang, style.labels)

    title = t("title", scenario=result.scenario)
    parts = [
        *_page_top(title, lang),
        f"<h2>{escape(t('summary'))}</h2>",
        _table(
            None,
            [
                *_what_ran(result.scenario, result.workflow, result.mode, lang),
                (t("seed"), result.seed),
                (t("units"), f"{result.units:,}"),
                (t("period"), f"{result.start.isoformat()} – {result.end.isoformat()}"),
                (t("remedial_units"), f"{result.remedial.units:,}"),
                (t("remedial_rounds"), f"{result.remedial.rounds:,}"),
                (t("audit_head"), result.audit_head or t("none")),
            ],
            numeric=2,
        ),
    ]
    parts.append(_glossary(lang))
    if charts:
        parts.append(f"<h2>{escape(t('charts'))}</h2>")
        alts = {"stages": t("stages_chart"), "gantt": t("gantt_chart")}
        parts += [_img(name, data, alts.get(name, name)) for name, data in charts.items()]
    final = result.final_counts()
    order = {s: i for i, s in enumerate(result.stages)}  # tables follow the workflow's order
    parts += [
        f"<h2>{escape(t('final_counts'))}</h2>",
        _table(
            [t("stage"), t("units")],
            [(stage(s), f"{final.get(s, 0):,}") for s in result.stages],
        ),
        f"<h2>{escape(t('batches'))}</h2>",
        _table(
            [
                t("batch"),
                t("window"),
                t("units"),
                t("completed_on"),
                t("on_time"),
                t("deferred_in"),
                t("deferred_out"),
            ],
            [
                (
                    batch_label(b.batch, lang, style.batches),
                    f"{b.window_start.isoformat()} – {b.window_end.isoformat()}",
                    f"{b.units:,}",
                    finished_on(b.completed_on, lang),
                    f"{b.on_time_share:.1%}",
                    b.deferred_in,
                    b.deferred_out,
                )
                for b in result.batches
            ],
            numeric=2,
        ),
        f"<h2>{escape(t('remedial'))}</h2>",
        _table(
            [t("stage"), t("rounds")],
            [
                (stage(s), n)
                for s, n in sorted(
                    result.remedial.by_stage.items(),
                    key=lambda kv: (order.get(kv[0], len(order)), kv[0]),
                )
            ]
            or [(t("none"), 0)],
        ),
        f"<h2>{escape(t('time_in_stage'))}</h2>",
        _table(
            [t("stage"), t("median"), t("p90"), t("stays")],
            [
                (stage(s), f"{st.median_days:g}", f"{st.p90_days:g}", f"{st.units:,}")
                for s in result.stages
                if (st := result.time_in_stage.get(s)) is not None
            ],
        ),
        f"<h2>{escape(t('blocking'))}</h2>",
        _table(
            [t("gate"), t("stage"), t("count")],
            [
                (f"{gate_label(r.code, lang)} ({r.code})", stage(r.stage), f"{r.count:,}")
                for r in result.blocking
            ]
            or [(t("none"), "", 0)],
            numeric=2,
        ),
    ]
    return _page_end(parts, lang)
