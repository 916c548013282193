"""Charts under zh_CN are all Chinese: date axes, batch names; compare's Gantt pair shares a scale.

Each chart's figure is caught just before it becomes a PNG (``_png`` patched), drawn on the
Agg canvas, and its tick labels read back: what a reader of the picture would see.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from campaignflow.report import (
    _bands,
    _charts,
    bands_chart,
    chart_style,
    cjk_family,
    compare_charts,
    gantt_chart,
    stages_chart,
)
from campaignflow.report._text import batch_short
from campaignflow.simulation import SimulationResult, compare, load_scenario, simulate_runs
from tests.report.conftest import SMALL, need

#: matplotlib's English month names (its date labels under any locale).
MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


class Caught:
    """The figures the charts drew, with their x limits and tick labels as drawn."""

    def __init__(self) -> None:
        self.figures: list[Any] = []

    def __call__(self, figure: Any) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(figure).draw()
        self.figures.append(figure)
        return b""

    def x_labels(self) -> list[str]:
        return [
            t.get_text() for f in self.figures for ax in f.axes for t in ax.get_xticklabels()
        ] + [ax.xaxis.get_offset_text().get_text() for f in self.figures for ax in f.axes]

    def y_labels(self) -> list[str]:
        return [t.get_text() for f in self.figures for ax in f.axes for t in ax.get_yticklabels()]

    def legends(self) -> list[str]:
        return [
            t.get_text()
            for f in self.figures
            for ax in f.axes
            if ax.get_legend() is not None
            for t in ax.get_legend().get_texts()
        ]


@pytest.fixture
def caught(monkeypatch: pytest.MonkeyPatch) -> Caught:
    """Every chart's figure, instead of its PNG."""
    catch = Caught()
    monkeypatch.setattr(_charts, "_png", catch)
    monkeypatch.setattr(_bands, "_png", catch)
    return catch


@pytest.fixture
def chinese_font() -> None:
    need(cjk_family(), "a font with Chinese glyphs", "apt-get install fonts-wqy-microhei")


def _dated(labels: list[str]) -> list[str]:
    return [label for label in labels if label]


@pytest.mark.usefixtures("chinese_font")
@pytest.mark.parametrize("chart", [stages_chart, gantt_chart], ids=["stages", "gantt"])
def test_date_axes_read_chinese(caught: Caught, small_result: SimulationResult, chart: Any) -> None:
    """Under zh_CN no tick says Mar or May: months and years as 3月 / 2006年 / 2005年4月."""
    chart(small_result, lang="zh_CN")
    labels = _dated(caught.x_labels())
    assert labels
    assert [x for x in labels if MONTHS.search(x)] == []
    assert all(re.fullmatch(r"(\d{4}年)?(\d{1,2}月)?(\d{1,2}日)?", x) for x in labels), labels
    assert any("月" in x for x in labels)
    assert re.fullmatch(r"\d{4}年\d{1,2}月(\d{1,2}日)?", labels[0])  # the first tick has its year


def test_english_date_axes_keep_matplotlibs_labels(
    caught: Caught, small_result: SimulationResult
) -> None:
    """Under en the same axis reads Apr, Jul, ... (so the check above can fail)."""
    stages_chart(small_result, lang="en")
    assert any(MONTHS.search(x) for x in caught.x_labels())


@pytest.mark.usefixtures("chinese_font")
def test_gantt_rows_carry_the_scenarios_batch_titles(
    caught: Caught, small_result: SimulationResult
) -> None:
    """Each Gantt row names its batch by the scenario's title (第一批), not 第1批."""
    workflow = load_scenario(SMALL).load_workflow()
    gantt_chart(small_result, lang="zh_CN", style=chart_style(workflow, "zh_CN"))
    rows = caught.y_labels()
    assert rows
    assert all(re.match("第[一二三]批 · ", row) for row in rows), rows
    assert not any("第1批" in row for row in rows)


@pytest.mark.usefixtures("chinese_font")
def test_bands_chart_reads_chinese(caught: Caught) -> None:
    """The bands chart: Chinese dates and the batches' titles in its legend."""
    plan = load_scenario(SMALL)
    summary = simulate_runs(plan, runs=2, mode="fast")
    bands_chart(summary, lang="zh_CN", style=chart_style(plan.load_workflow(), "zh_CN"))
    labels = _dated(caught.x_labels())
    assert labels
    assert [x for x in labels if MONTHS.search(x)] == []
    assert caught.legends() == ["第一批", "第二批", "第三批"]


@pytest.mark.slow
@pytest.mark.usefixtures("chinese_font")
def test_compare_gantt_pair_shares_one_date_scale(caught: Caught) -> None:
    """compare.html's two Gantt charts span the same days, though the runs end apart."""
    comparison = compare(SMALL, settings={"seed": 8}, mode="exact")
    alone = [gantt_chart(r, lang="zh_CN") for r in (comparison.a, comparison.b)]
    assert alone
    apart = [f.axes[0].get_xlim() for f in caught.figures]
    assert apart[0] != apart[1]  # each alone fits its own run
    caught.figures.clear()
    compare_charts(comparison, lang="zh_CN")
    limits = [f.axes[0].get_xlim() for f in caught.figures]
    assert len(limits) == 4  # stages A, stages B, Gantt A, Gantt B
    assert limits[0] == limits[1]
    assert limits[2] == limits[3]
    assert [x for x in caught.x_labels() if MONTHS.search(x)] == []


def test_a_short_batch_name_is_the_titles_first_clause() -> None:
    """Where room is short: 第一批 of a long title, Batch 1 under en, at most 16 characters."""
    titles = {
        1: "第一批：党政机关、人大政协机关",
        2: "Party organs and the courts of the city",
        3: "",
    }
    assert batch_short(1, "zh_CN", titles) == "第一批"
    assert batch_short(1, "en", titles) == "Batch 1"
    assert batch_short(2, "en", titles) == "Batch 2: Party…"
    assert len(batch_short(2, "zh_CN", titles)) == 16
    assert batch_short(3, "zh_CN", titles) == "第3批"
    assert batch_short(4, "zh_CN") == "第4批"
