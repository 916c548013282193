"""The two charts: units per stage over time (stacked area) and a per-batch Gantt.

Charts are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas, never
through ``pyplot``: no shared figure state, no GUI backend, safe in a server process.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from campaignflow.report._fonts import cjk_family, rc_params
from campaignflow.report._text import batch_short, check_lang, stage_label, text

if TYPE_CHECKING:
    from campaignflow.simulation.results import SimulationResult

__all__ = [
    "ChartStyle",
    "chart_lang",
    "chart_span",
    "daily_counts",
    "date_axis",
    "drawable_titles",
    "gantt_chart",
    "require_matplotlib",
    "stages_chart",
]

_DPI = 100
_EPOCH = date(1970, 1, 1)


def _num(day: date) -> float:
    """Matplotlib's number for ``day`` (days since the epoch set in ``rc_params``)."""
    return float((day - _EPOCH).days)


def _dates() -> Any:
    # matplotlib.dates is untyped in places; keep its dynamism behind one Any.
    return importlib.import_module("matplotlib.dates")


def _zh_date(value: float, pos: int | None = None) -> str:
    """A date tick in Chinese: ``2005年3月`` on the first tick, then ``4月``, ``2006年`` on a
    new year, ``3月15日`` between months (no English month names, no padding zeros)."""
    day = _EPOCH + timedelta(days=round(value))
    if pos == 0:
        head = f"{day.year}年{day.month}月"
    elif day.month == 1 and day.day == 1:
        return f"{day.year}年"
    else:
        head = f"{day.month}月"
    return head if day.day == 1 else f"{head}{day.day}日"


def date_axis(ax: Any, lang: str) -> None:
    """Label ``ax``'s x axis as dates in ``lang``: matplotlib's concise labels in English, the
    Chinese ``年``/``月``/``日`` under zh_CN (its own labels would read ``Mar``, ``May``)."""
    from matplotlib.ticker import FuncFormatter

    mdates = _dates()
    ax.xaxis_date()
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    if lang == "zh_CN":
        ax.xaxis.set_major_formatter(FuncFormatter(_zh_date))
    else:
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


@attrs.frozen
class ChartStyle:
    """What the charts need to know about the workflow: stage names and kinds, batch titles.

    ``labels`` maps stage id to its name in the chart's language; ``kinds`` maps stage id to
    ``waiting`` / ``stage`` / ``remedial`` / ``final``. Without kinds, the first stage is
    taken as the waiting one and the last as the final one (as in every preset).
    """

    labels: Mapping[str, str] = attrs.field(factory=dict)
    kinds: Mapping[str, str] = attrs.field(factory=dict)
    #: Batch number to its title from the workflow or scenario (``第一批：党政机关…``).
    batches: Mapping[int, str] = attrs.field(factory=dict)

    def kind(self, stages: Sequence[str], stage: str) -> str:
        """The kind of ``stage`` among ``stages``."""
        if stage in self.kinds:
            return self.kinds[stage]
        if stages and stage == stages[0]:
            return "waiting"
        if stages and stage == stages[-1]:
            return "final"
        return "stage"


def drawable_titles(style: ChartStyle) -> Mapping[int, str]:
    """The batch titles a chart can draw: all of them with a CJK font installed, else only
    those in plain ASCII (a Chinese title would be drawn as empty boxes)."""
    if cjk_family() is not None:
        return style.batches
    return {n: title for n, title in style.batches.items() if title.isascii()}


def require_matplotlib() -> None:
    """Raise a clear error when the ``plot`` extra is not installed.

    Raises:
        ImportError: matplotlib is missing; the message names ``pip install 'campaignflow[plot]'``.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            "charts and the HTML report need matplotlib: pip install 'campaignflow[plot]'"
        ) from None


def chart_lang(lang: str) -> str:
    """The language charts can be drawn in: ``lang``, or ``en`` when no CJK font is installed."""
    check_lang(lang)
    require_matplotlib()
    return "en" if lang == "zh_CN" and cjk_family() is None else lang


def daily_counts(result: SimulationResult) -> tuple[list[date], dict[int, dict[str, list[int]]]]:
    """Every day of the run and, per batch, units per stage on each day (timeline filled forward).

    A batch counts zero units before its first timeline point.
    """
    first = min([result.start, *(p.day for p in result.timeline)])
    last = max([result.end, first, *(p.day for p in result.timeline)])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    per_batch: dict[int, dict[str, list[int]]] = {}
    ordered = sorted(result.timeline, key=lambda p: (p.batch, p.day))
    for point in ordered:
        series = per_batch.setdefault(
            point.batch, {stage: [0] * len(days) for stage in result.stages}
        )
        offset = (point.day - first).days
        for stage, n in point.counts.items():
            column = series.setdefault(stage, [0] * len(days))
            column[offset:] = [n] * (len(days) - offset)
    return days, per_batch


def _colours(stages: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return {stage: cmap(i % 20) for i, stage in enumerate(stages)}


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def stages_chart(
    result: SimulationResult,
    *,
    lang: str = "en",
    style: ChartStyle | None = None,
    span: tuple[date, date] | None = None,
) -> bytes:
    """A PNG: stacked areas of units per stage (all batches together), one band per stage.

    Stages no unit ever reached are left out of the legend. ``span`` fixes the date axis
    (first day, day after the last), so two charts side by side share one scale.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    lang = chart_lang(lang)
    style = style or ChartStyle()
    days, per_batch = daily_counts(result)
    totals = {
        stage: [
            sum(b[stage][i] for b in per_batch.values() if stage in b) for i in range(len(days))
        ]
        for stage in result.stages
    }
    shown = [s for s in result.stages if any(totals[s])]
    colours = _colours(result.stages)
    with rc_context(rc_params()):
        figure = Figure(figsize=(11, 5.5), layout="constrained")
        ax = figure.add_subplot()
        if shown:
            ax.stackplot(
                [_num(d) for d in days],
                *[totals[s] for s in shown],
                labels=[stage_label(s, lang, style.labels) for s in shown],
                colors=[colours[s] for s in shown],
                step="post",
            )
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
        ax.set_title(f"{text('stages_chart', lang)} — {result.scenario}")
        ax.set_xlabel(text("date", lang))
        ax.set_ylabel(text("units", lang))
        lo, hi = span if span is not None else (days[0], days[-1] + timedelta(days=1))
        ax.set_xlim(_num(lo), _num(hi))
        date_axis(ax, lang)
        ax.set_ylim(0, max(1, result.units, *(sum(c) for c in zip(*totals.values(), strict=True))))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(axis="y", alpha=0.3)
        return _png(figure)


def _spans(series: Sequence[int], days: Sequence[date]) -> tuple[date, date] | None:
    occupied = [i for i, n in enumerate(series) if n > 0]
    if not occupied:
        return None
    return days[occupied[0]], days[occupied[-1]] + timedelta(days=1)


def gantt_chart(
    result: SimulationResult,
    *,
    lang: str = "en",
    style: ChartStyle | None = None,
    span: tuple[date, date] | None = None,
) -> bytes:
    """A PNG: for each batch (named by its title, when ``style`` has one), its window shaded
    and a bar per working stage.

    A stage's bar runs from the first to the last day any unit of the batch was in it; a
    diamond marks the day the batch completed, with its on-time share. ``span`` fixes the
    date axis (first day, day after the last), so two charts side by side share one scale.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    lang = chart_lang(lang)
    style = style or ChartStyle()
    titles = drawable_titles(style)
    days, per_batch = daily_counts(result)
    colours = _colours(result.stages)
    working = [s for s in result.stages if style.kind(result.stages, s) not in ("waiting", "final")]
    outcomes = {b.batch: b for b in result.batches}
    rows: list[tuple[int, str, tuple[date, date]]] = []
    for batch in sorted(set(per_batch) | set(outcomes)):
        series = per_batch.get(batch, {})
        for stage in working:
            occupied = _spans(series.get(stage, ()), days)
            if occupied is not None:
                rows.append((batch, stage, occupied))
    height = min(40.0, 1.8 + 0.3 * max(len(rows), 3))
    with rc_context(rc_params()):
        figure = Figure(figsize=(11, height), layout="constrained")
        ax = figure.add_subplot()
        labels: list[str] = []
        for batch in sorted(set(per_batch) | set(outcomes)):
            mine = [r for r in rows if r[0] == batch]
            top = len(labels)
            for _, stage, (begin, end) in mine:
                y = len(labels)
                ax.barh(
                    y,
                    _num(end) - _num(begin),
                    left=_num(begin),
                    height=0.7,
                    color=colours[stage],
                )
                name = batch_short(batch, lang, titles)
                labels.append(f"{name} · {stage_label(stage, lang, style.labels)}")
            if not mine:
                labels.append(batch_short(batch, lang, titles))
            outcome = outcomes.get(batch)
            if outcome is None:
                continue
            ax.fill_between(
                [_num(outcome.window_start), _num(outcome.window_end) + 1],
                top - 0.5,
                len(labels) - 0.5,
                color="0.85",
                zorder=0,
                linewidth=0,
            )
            if outcome.completed_on is not None:
                ax.plot(
                    [_num(outcome.completed_on)],
                    [len(labels) - 1],
                    marker="D",
                    color="black",
                    markersize=6,
                )
                ax.annotate(
                    f"{text('on_time', lang)} {outcome.on_time_share:.0%}",
                    (_num(outcome.completed_on), len(labels) - 1),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        # Room on the right for the last batch's on-time note.
        lo, hi = (_num(span[0]), _num(span[1])) if span is not None else ax.get_xlim()
        ax.set_xlim(lo, hi + 0.1 * (hi - lo))
        ax.set_ylim(max(len(labels), 1) - 0.5, -0.5)
        ax.set_title(f"{text('gantt_chart', lang)} — {result.scenario}")
        ax.set_xlabel(text("date", lang))
        date_axis(ax, lang)
        ax.grid(axis="x", alpha=0.3)
        return _png(figure)


def chart_span(*results: SimulationResult) -> tuple[date, date]:
    """The days every one of ``results``' charts covers: the first day of any run or batch
    window, and the day after the last (for :func:`gantt_chart`'s ``span``)."""
    starts = [r.start for r in results] + [b.window_start for r in results for b in r.batches]
    ends = [r.end for r in results] + [b.window_end for r in results for b in r.batches]
    ends += [p.day for r in results for p in r.timeline]
    starts += [p.day for r in results for p in r.timeline]
    return min(starts), max(ends) + timedelta(days=1)
