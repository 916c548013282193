"""The what-if page: two runs of the same seed side by side, with their charts in pairs.

``render_compare_html(comparison, charts=compare_charts(comparison))`` is one self-contained
page: what B changed, per batch both completion days, B's delay and both on-time shares,
make-up in both, the gates that held units in each, and each chart of A beside B's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import TYPE_CHECKING

from campaignflow.report._charts import (
    ChartStyle,
    chart_lang,
    chart_span,
    gantt_chart,
    stages_chart,
)
from campaignflow.report._html import _img, _page_end, _page_top, _table
from campaignflow.report._text import (
    batch_label,
    check_lang,
    finished_on,
    gate_label,
    mode_label,
    stage_label,
    words,
)

if TYPE_CHECKING:
    from campaignflow.simulation._compare import Comparison

__all__ = ["compare_charts", "render_compare_html"]

#: Two charts a row: A on the left, B on the right.
_PAIRS = """
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; align-items: start; }
.pair figure { margin: 0; } .pair figcaption { font-weight: 600; }
"""


def compare_charts(
    comparison: Comparison, *, lang: str = "en", style: ChartStyle | None = None
) -> dict[str, bytes]:
    """PNGs by name: ``stages_a``, ``stages_b``, ``gantt_a``, ``gantt_b``.

    Raises:
        ImportError: matplotlib is missing (``pip install 'campaignflow[plot]'``).
    """
    lang = chart_lang(lang)
    # Each pair spans the same days, so the eye compares like with like.
    a, b = comparison.a, comparison.b
    span = chart_span(a, b)
    return {
        "stages_a": stages_chart(a, lang=lang, style=style, span=span),
        "stages_b": stages_chart(b, lang=lang, style=style, span=span),
        "gantt_a": gantt_chart(comparison.a, lang=lang, style=style, span=span),
        "gantt_b": gantt_chart(comparison.b, lang=lang, style=style, span=span),
    }


def _signed(days: int | None) -> str:
    return "–" if days is None else f"{days:+d}"


def render_compare_html(
    comparison: Comparison,
    *,
    charts: Mapping[str, bytes],
    lang: str = "en",
    style: ChartStyle | None = None,
) -> str:
    """The comparison page in ``lang``, with ``charts`` (from :func:`compare_charts`) inline."""
    lang = check_lang(lang)
    style = style or ChartStyle()
    a, b = comparison.a, comparison.b
    t = words(lang)
    title = t("compare_title", a=comparison.label_a, b=comparison.label_b)
    changed = [
        (k, v.isoformat() if isinstance(v, date) else v) for k, v in comparison.settings.items()
    ]
    parts = [
        *_page_top(title, lang, css=_PAIRS),
        f"<h2>{escape(t('summary'))}</h2>",
        _table(
            [t("compare_item"), t("compare_base"), t("compare_whatif")],
            [
                (t("scenario"), comparison.label_a, comparison.label_b),
                (t("workflow"), a.workflow, b.workflow),
                (t("mode"), mode_label(a.mode, lang), mode_label(b.mode, lang)),
                (t("seed"), a.seed, b.seed),
                (t("units"), f"{a.units:,}", f"{b.units:,}"),
                (t("remedial_units"), f"{a.remedial.units:,}", f"{b.remedial.units:,}"),
                (t("remedial_rounds"), f"{a.remedial.rounds:,}", f"{b.remedial.rounds:,}"),
            ],
        ),
    ]
    if changed:
        parts += [
            f"<h2>{escape(t('compare_settings'))}</h2>",
            _table(None, [(k, v) for k, v in changed], numeric=2),
        ]
    parts += [
        f"<h2>{escape(t('batches'))}</h2>",
        _table(
            [
                t("batch"),
                t("window"),
                t("compare_completed_a"),
                t("compare_completed_b"),
                t("compare_days_later"),
                t("compare_on_time_a"),
                t("compare_on_time_b"),
            ],
            [
                (
                    batch_label(d.batch, lang, style.batches),
                    d.window_end.isoformat(),
                    finished_on(d.completed_a, lang),
                    finished_on(d.completed_b, lang),
                    _signed(d.days_later),
                    f"{d.on_time_a:.1%}",
                    f"{d.on_time_b:.1%}",
                )
                for d in comparison.batches()
            ],
            numeric=2,
        ),
        f"<h2>{escape(t('blocking'))}</h2>",
        _table(
            [t("gate"), t("stage"), t("compare_times_a"), t("compare_times_b")],
            [
                (
                    f"{gate_label(code, lang)} ({code})",
                    stage_label(stage, lang, style.labels),
                    f"{x:,}",
                    f"{y:,}",
                )
                for code, stage, x, y in comparison.blocking()
            ]
            or [(t("none"), "", 0, 0)],
            numeric=2,
        ),
    ]
    if charts:
        parts.append(f"<h2>{escape(t('compare_charts'))}</h2>")
        alts = {"stages": t("stages_chart"), "gantt": t("gantt_chart")}
        for kind in ("stages", "gantt"):
            pair = [(side, charts.get(f"{kind}_{side}")) for side in ("a", "b")]
            if not any(data for _, data in pair):
                continue
            parts.append('<div class="pair">')
            for side, data in pair:
                caption = t("compare_base") if side == "a" else t("compare_whatif")
                parts.append(f"<figure><figcaption>{escape(caption)}</figcaption>")
                if data:
                    parts.append(_img(f"{kind}_{side}", data, f"{alts[kind]} — {caption}"))
                parts.append("</figure>")
            parts.append("</div>")
    return _page_end(parts, lang)
