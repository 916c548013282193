"""The charts, the HTML page and the JSON summary written by ``campaignflow.report``."""

from __future__ import annotations

import base64
import io
import itertools
import re
import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.report import (
    ChartStyle,
    _fonts,
    cjk_family,
    daily_counts,
    gantt_chart,
    png_size,
    render_html,
    stages_chart,
    write_report,
)
from campaignflow.simulation import (
    BatchOutcome,
    BlockingReason,
    RemedialSummary,
    SimulationResult,
    StageTime,
    TimelinePoint,
)
from tests.report.conftest import need

STAGES = ("pending", "study", "review", "done")


def hand_result(name: str = "hand-made") -> SimulationResult:
    """A result built by hand: two batches, one finished late, one not finished."""
    d = date(2005, 1, 1)
    return SimulationResult(
        scenario=name,
        seed=3,
        mode="exact",
        workflow="toy@1",
        units=5,
        start=d,
        end=d + timedelta(days=40),
        stages=STAGES,
        timeline=(
            TimelinePoint(d, 1, {"pending": 3, "study": 0, "review": 0, "done": 0}),
            TimelinePoint(d, 2, {"pending": 2, "study": 0, "review": 0, "done": 0}),
            TimelinePoint(
                d + timedelta(days=2), 1, {"pending": 0, "study": 3, "review": 0, "done": 0}
            ),
            TimelinePoint(
                d + timedelta(days=12), 1, {"pending": 0, "study": 1, "review": 2, "done": 0}
            ),
            TimelinePoint(
                d + timedelta(days=20), 2, {"pending": 0, "study": 2, "review": 0, "done": 0}
            ),
            TimelinePoint(
                d + timedelta(days=30), 1, {"pending": 0, "study": 0, "review": 0, "done": 3}
            ),
        ),
        batches=(
            BatchOutcome(1, 3, d, d + timedelta(days=25), d + timedelta(days=30), 0.0, 0, 0),
            BatchOutcome(2, 2, d + timedelta(days=15), d + timedelta(days=60), None, 0.0, 0, 0),
        ),
        remedial=RemedialSummary(units=1, rounds=2, by_stage={"review": 2}),
        time_in_stage={"study": StageTime(10.0, 12.5, 3), "review": StageTime(18.0, 18.0, 2)},
        blocking=(BlockingReason("study_hours.insufficient", "study", 7),),
        audit_head="ab" * 32,
    )


def test_write_report_writes_four_nonempty_files_with_sane_pngs(tmp_path: Path) -> None:
    """stages.png, gantt.png, report.html and summary.json appear, PNGs of chart-like size."""
    result = hand_result()
    files = write_report(result, tmp_path / "out", lang="en")
    for path in (files.stages, files.gantt, files.html, files.summary):
        assert path.parent == tmp_path / "out"
        assert path.stat().st_size > 0
    for png in (files.stages, files.gantt):
        width, height = png_size(png.read_bytes())
        assert 600 <= width <= 3000
        assert 250 <= height <= 4000
    assert files.notes == ()


def test_summary_json_is_the_result(tmp_path: Path) -> None:
    """summary.json holds the result's canonical JSON and reads back into an equal result."""
    result = hand_result()
    files = write_report(result, tmp_path, lang="en")
    text = files.summary.read_text(encoding="utf-8")
    assert text == result.to_json() + "\n"
    import json

    assert SimulationResult.from_dict(json.loads(text)) == result


def test_gantt_grows_with_rows() -> None:
    """A result with more batch/stage rows gets a taller Gantt of the same width."""
    small = hand_result()
    d = small.start
    points = list(small.timeline)
    outcomes = list(small.batches)
    for batch in range(3, 9):
        points.append(TimelinePoint(d, batch, {"pending": 0, "study": 1, "review": 1, "done": 0}))
        outcomes.append(BatchOutcome(batch, 2, d, d + timedelta(days=30), None, 0.0, 0, 0))
    big = SimulationResult(
        **{
            **{
                f: getattr(small, f)
                for f in ("scenario", "seed", "mode", "workflow", "start", "end")
            },
            "units": 17,
            "stages": STAGES,
            "timeline": tuple(points),
            "batches": tuple(outcomes),
            "remedial": small.remedial,
            "time_in_stage": small.time_in_stage,
            "blocking": small.blocking,
        }
    )
    w1, h1 = png_size(gantt_chart(small))
    w2, h2 = png_size(gantt_chart(big))
    assert w1 == w2
    assert h2 > h1


def test_html_is_self_contained(tmp_path: Path) -> None:
    """The page references nothing outside itself and forbids it by Content-Security-Policy."""
    files = write_report(hand_result(), tmp_path, lang="en")
    page = files.html.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)
    assert "<script" not in page
    assert "@import" not in page
    assert "url(" not in page


def test_html_charts_are_the_written_pngs(tmp_path: Path) -> None:
    """Each inline image decodes to the PNG written next to it, with matching width/height."""
    files = write_report(hand_result(), tmp_path, lang="en")
    page = files.html.read_text(encoding="utf-8")
    images = re.findall(
        r'<img id="(\w+)" alt="[^"]*" width="(\d+)" height="(\d+)" src="data:image/png;base64,([^"]+)">',
        page,
    )
    assert [i[0] for i in images] == ["stages", "gantt"]
    for name, width, height, data in images:
        png = base64.b64decode(data)
        assert png == (tmp_path / f"{name}.png").read_bytes()
        assert png_size(png) == (int(width), int(height))


def test_html_tables_show_the_numbers(tmp_path: Path) -> None:
    """Batches, make-up, time in stage and blockers appear with their values."""
    result = hand_result()
    page = write_report(result, tmp_path, lang="en").html.read_text(encoding="utf-8")
    assert "<title>Campaign report: hand-made</title>" in page
    assert "2005-01-31" in page  # batch 1 completed on
    assert "not finished" in page  # batch 2
    assert "study hours insufficient (study_hours.insufficient)" in page
    assert "ab" * 32 in page
    assert ">12.5<" in page  # p90 of study


def test_html_in_chinese(tmp_path: Path) -> None:
    """lang=zh_CN: a zh-CN page with Chinese headings and the workflow's Chinese stage names."""
    wf = cf.presets.district_2005()
    result = hand_result()
    page = render_html(
        result,
        charts={},
        lang="zh_CN",
        style=ChartStyle(labels={"study": "学习动员", "review": "分析评议"}),
    )
    assert '<html lang="zh-CN">' in page
    assert "活动推进报告：hand-made" in page
    assert "学习动员" in page
    assert "学时不足" in page
    assert "未完成" in page
    assert wf.stage("study_mobilization").label("zh_CN") == "学习动员"


def test_html_escapes_names() -> None:
    """A scenario name with markup is shown as text, never run."""
    page = render_html(hand_result("<script>alert(1)</script>"), charts={}, lang="en")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bad_lang_is_refused(tmp_path: Path) -> None:
    """An unknown language is a ValidationError naming the choices; nothing is written."""
    with pytest.raises(cf.ValidationError, match="zh_CN, en"):
        write_report(hand_result(), tmp_path / "x", lang="fr")
    assert not (tmp_path / "x").exists()


def test_png_size_refuses_non_png() -> None:
    """The header reader refuses bytes that are not a PNG."""
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + b"\0" * 30)


def _glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chinese_charts_have_every_glyph(small_result: SimulationResult) -> None:
    """zh_CN charts of a real simulation draw every Chinese label: no missing-glyph warning."""
    need(cjk_family(), "a font with Chinese glyphs", "apt-get install fonts-wqy-microhei")
    style = ChartStyle(labels={s.id: s.label("zh_CN") for s in cf.presets.district_2005().stages})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stages_chart(small_result, lang="zh_CN", style=style)
        gantt_chart(small_result, lang="zh_CN", style=style)
    assert _glyph_warnings(caught) == []


def test_missing_glyph_check_can_fail() -> None:
    """Control: Chinese text in a font without CJK glyphs does raise the warning we look for."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with (
        rc_context({"font.family": ["DejaVu Sans"]}),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        figure = Figure()
        figure.add_subplot().set_title("学习动员")
        figure.savefig(io.BytesIO(), format="png")
    assert _glyph_warnings(caught)


def test_without_cjk_font_charts_fall_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CJK font: zh_CN charts are labelled in English with a note; the page stays Chinese."""
    monkeypatch.setattr(_fonts, "_family", lambda extra: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_report(hand_result(), tmp_path, lang="zh_CN")
    assert _glyph_warnings(caught) == []
    assert len(files.notes) == 1
    assert "fonts-wqy-microhei" in files.notes[0]
    assert "活动推进报告" in files.html.read_text(encoding="utf-8")


# --- the timeline filled forward ------------------------------------------------------------


@st.composite
def timelines(draw: st.DrawFn) -> SimulationResult:
    start = date(2005, 1, 1)
    length = draw(st.integers(0, 40))
    points = []
    for batch in draw(st.lists(st.integers(1, 4), unique=True, max_size=4)):
        days = draw(st.lists(st.integers(0, length), unique=True, min_size=1, max_size=6))
        for day in sorted(days):
            counts = {s: draw(st.integers(0, 50)) for s in STAGES}
            points.append(TimelinePoint(start + timedelta(days=day), batch, counts))
    result = hand_result()
    return SimulationResult(
        scenario="p",
        seed=0,
        mode="exact",
        workflow="toy@1",
        units=0,
        start=start,
        end=start + timedelta(days=length),
        stages=STAGES,
        timeline=tuple(draw(st.permutations(points))),
        batches=(),
        remedial=result.remedial,
        time_in_stage={},
        blocking=(),
    )


@settings(max_examples=150, deadline=None)
@given(timelines())
def test_daily_counts_are_the_latest_point(result: SimulationResult) -> None:
    """Each day's count of a batch is that of its latest point on or before the day (0 before)."""
    days, per_batch = daily_counts(result)
    assert days[0] == result.start
    assert days[-1] == result.end
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    for batch, series in per_batch.items():
        mine = [p for p in result.timeline if p.batch == batch]
        for i, day in enumerate(days):
            known = [p for p in mine if p.day <= day]
            latest = max(known, key=lambda p: p.day) if known else None
            for stage in STAGES:
                expected = latest.counts[stage] if latest else 0
                assert series[stage][i] == expected
    assert set(per_batch) == {p.batch for p in result.timeline}


def test_empty_campaign_still_reports(tmp_path: Path) -> None:
    """A campaign with no units yet (one day, no timeline, no batches) gives charts and a page."""
    d = date(2005, 1, 1)
    empty = SimulationResult(
        scenario="empty",
        seed=0,
        mode="recorded",
        workflow="toy@1",
        units=0,
        start=d,
        end=d,
        stages=STAGES,
        timeline=(),
        batches=(),
        remedial=RemedialSummary(0, 0, {}),
        time_in_stage={},
        blocking=(),
    )
    files = write_report(empty, tmp_path, lang="en")
    for png in (files.stages, files.gantt):
        width, height = png_size(png.read_bytes())
        assert width > 0
        assert height > 0
    assert "<td>none</td>" in files.html.read_text(encoding="utf-8")
