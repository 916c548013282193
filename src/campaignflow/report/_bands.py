"""Many runs on one page: the bands chart and the completion-outlook page of a RunsSummary.

The chart shows, per batch, the median share of its units finished week by week (a line)
inside the band from the 10th to the 90th percentile over the runs, with the day its window
closes dashed. The page carries the chart inline, as ``report.html`` does, and loads nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from campaignflow.report._charts import (
    ChartStyle,
    _num,
    _png,
    chart_lang,
    date_axis,
    drawable_titles,
)
from campaignflow.report._fonts import rc_params
from campaignflow.report._html import _img, _page_end, _page_top, _table, _what_ran
from campaignflow.report._text import (
    batch_label,
    batch_short,
    check_lang,
    finished_on,
    text,
    words,
)

if TYPE_CHECKING:
    from campaignflow.simulation._runs import RunsSummary

__all__ = ["bands_chart", "render_runs_html"]


def bands_chart(
    summary: RunsSummary, *, lang: str = "en", style: ChartStyle | None = None
) -> bytes:
    """A PNG: per batch, the median share of units finished (line) in its p10–p90 band.

    Each batch's window end is a dashed line of the batch's colour; a batch is named by its
    title when ``style`` (:func:`~campaignflow.report.chart_style`) has one.
    """
    from matplotlib import colormaps, rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    lang = chart_lang(lang)
    titles = drawable_titles(style or ChartStyle())
    cmap = colormaps["tab10"]
    colours = {str(b.batch): cmap(i % 10) for i, b in enumerate(summary.batches)}
    with rc_context(rc_params()):
        figure = Figure(figsize=(11, 5), layout="constrained")
        ax = figure.add_subplot()
        for spread in summary.batches:
            points = [p for p in summary.bands if p.batch == spread.batch]
            if not points:
                continue
            xs = [_num(p.day) for p in points]
            colour = colours[str(spread.batch)]
            ax.fill_between(
                xs,
                [p.p10 for p in points],
                [p.p90 for p in points],
                color=colour,
                alpha=0.3,
                linewidth=0,
            )
            ax.plot(
                xs,
                [p.p50 for p in points],
                color=colour,
                linewidth=2,
                label=batch_short(spread.batch, lang, titles),
            )
            ax.axvline(_num(spread.window_end), color=colour, linestyle="--", linewidth=1)
            ax.annotate(
                text("window_closes", lang),
                (_num(spread.window_end), 0.02),
                xytext=(-3, 0),
                textcoords="offset points",
                rotation=90,
                ha="right",
                va="bottom",
                fontsize=8,
                color=colour,
            )
        comma = "，" if lang == "zh_CN" else ", "
        ax.set_title(
            f"{text('bands_chart', lang)} — {summary.scenario}{comma}"
            f"{text('runs_count', lang)} {summary.runs}"
        )
        ax.set_xlabel(text("date", lang))
        ax.set_ylabel(text("share_finished", lang))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        date_axis(ax, lang)
        ax.grid(alpha=0.3)
        if summary.batches:
            ax.legend(loc="upper left", fontsize=9, frameon=False)
        return _png(figure)


def _seeds(summary: RunsSummary) -> str:
    seeds = summary.seeds
    if len(seeds) > 2 and seeds == tuple(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]} – {seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def render_runs_html(
    summary: RunsSummary,
    *,
    charts: Mapping[str, bytes],
    lang: str = "en",
    style: ChartStyle | None = None,
) -> str:
    """The completion-outlook page of ``summary`` in ``lang``, ``charts`` (name → PNG) inline;
    batches named by their titles when ``style`` has them."""
    lang = check_lang(lang)
    style = style or ChartStyle()
    t = words(lang)
    title = t("runs_title", runs=summary.runs, scenario=summary.scenario)
    parts = [
        *_page_top(title, lang),
        f"<h2>{escape(t('summary'))}</h2>",
        _table(
            None,
            [
                *_what_ran(summary.scenario, summary.workflow, summary.mode, lang),
                (t("runs_count"), summary.runs),
                (t("runs_seeds"), _seeds(summary)),
                (
                    t("runs_remedial"),
                    f"{summary.remedial_units_p10} / {summary.remedial_units_p50} / "
                    f"{summary.remedial_units_p90}",
                ),
            ],
            numeric=2,
        ),
        f"<p>{escape(t('runs_explained'))}</p>",
        f"<h2>{escape(t('batches'))}</h2>",
        _table(
            [
                t("batch"),
                t("window"),
                t("runs_p10"),
                t("runs_p50"),
                t("runs_p90"),
                t("runs_on_time"),
                t("runs_unfinished"),
                t("runs_on_time_share"),
            ],
            [
                (
                    batch_label(b.batch, lang, style.batches),
                    f"{b.window_start.isoformat()} – {b.window_end.isoformat()}",
                    finished_on(b.completed_p10, lang),
                    finished_on(b.completed_p50, lang),
                    finished_on(b.completed_p90, lang),
                    f"{b.on_time_probability:.0%}",
                    b.unfinished_runs,
                    f"{b.on_time_share_p50:.1%}",
                )
                for b in summary.batches
            ],
            numeric=2,
        ),
    ]
    if charts:
        parts.append(f"<h2>{escape(t('charts'))}</h2>")
        parts += [_img(name, data, t("bands_chart")) for name, data in charts.items()]
    return _page_end(parts, lang)
