"""compare.html and runs.html in a real headless Chromium, and their charts free of tofu.

Like test_browser.py: skipped locally when Chromium (or a CJK font) is absent, a failure in
CI. The screenshots are kept as ``build/compare.png`` and ``build/runs.png``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.report import (
    bands_chart,
    chart_style,
    cjk_family,
    compare_charts,
    png_size,
    render_compare_html,
    render_runs_html,
)
from campaignflow.simulation import Comparison, RunsSummary, compare, simulate_runs
from tests.report.browser import chromium_path, inspect_page
from tests.report.conftest import SMALL, need

BUILD = Path(__file__).parents[2] / "build"
GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable (Debian's ``chromium`` package)."""
    found = chromium_path()
    need(found, "chromium", "apt-get install chromium")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    """The small scenario against itself with a stricter satisfaction gate."""
    return compare(SMALL, settings={GATE: 0.9}, mode="exact")


@pytest.fixture(scope="module")
def outlook() -> RunsSummary:
    """Five seeds of the small scenario."""
    return simulate_runs(SMALL, runs=5)


def _glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


@pytest.mark.slow
def test_chinese_what_if_charts_have_every_glyph(
    comparison: Comparison, outlook: RunsSummary
) -> None:
    """zh_CN paired charts and the bands chart draw every label: no missing-glyph warning."""
    need(cjk_family(), "a font with Chinese glyphs", "apt-get install fonts-wqy-microhei")
    style = chart_style(cf.presets.district_2005(), "zh_CN")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts = compare_charts(comparison, lang="zh_CN", style=style)
        bands = bands_chart(outlook, lang="zh_CN")
    assert _glyph_warnings(caught) == []
    assert sorted(charts) == ["gantt_a", "gantt_b", "stages_a", "stages_b"]
    assert png_size(bands)[0] >= 1000


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_compare_page_opens_cleanly_with_paired_charts(
    chromium: str, comparison: Comparison, tmp_path: Path, lang: str
) -> None:
    """No console error; the four charts decode at their PNG sizes, A beside B."""
    style = chart_style(cf.presets.district_2005(), lang)
    charts = compare_charts(comparison, lang=lang, style=style)
    page = tmp_path / "compare.html"
    page.write_text(
        render_compare_html(comparison, charts=charts, lang=lang, style=style), encoding="utf-8"
    )
    seen = inspect_page(page, executable=chromium)
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"compare-{lang}.png").write_bytes(seen.screenshot)
    assert seen.errors == ()
    assert seen.title.startswith("对比分析：" if lang == "zh_CN" else "What-if comparison: ")
    assert [i["id"] for i in seen.images] == ["stages_a", "stages_b", "gantt_a", "gantt_b"]
    for image in seen.images:
        assert image["complete"]
        assert (image["width"], image["height"]) == png_size(charts[image["id"]])


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_runs_page_opens_cleanly_with_the_bands(
    chromium: str, outlook: RunsSummary, tmp_path: Path, lang: str
) -> None:
    """No console error; the bands chart decodes at its PNG size."""
    chart = bands_chart(outlook, lang=lang)
    page = tmp_path / "runs.html"
    page.write_text(render_runs_html(outlook, charts={"bands": chart}, lang=lang), encoding="utf-8")
    seen = inspect_page(page, executable=chromium)
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"runs-{lang}.png").write_bytes(seen.screenshot)
    assert seen.errors == ()
    assert "small_district" in seen.title
    assert [(i["id"], i["width"], i["height"]) for i in seen.images] == [
        ("bands", *png_size(chart))
    ]
    assert all(i["complete"] for i in seen.images)
