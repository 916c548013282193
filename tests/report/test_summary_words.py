"""The report reads for a newcomer: batch titles, units on every column, the terms explained
once in a glossary box, refusals called attempts held back (issue 19, point 2)."""

from __future__ import annotations

import re
from html import escape

import pytest

import campaignflow as cf
from campaignflow.report import ChartStyle, chart_style, render_html
from campaignflow.report._text import GLOSSARY_BOX, batch_label, mode_label, text
from tests.report.test_report import hand_result


def _glossary(page: str) -> str:
    found = re.search(r'<aside class="glossary" id="glossary">(.*?)</aside>', page, re.S)
    assert found, "the page has a glossary box"
    return found.group(1)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_glossary_box_explains_each_term_once(lang: str) -> None:
    """Make-up, on time, deferred, days and held-back attempts are each explained once."""
    page = render_html(hand_result(), charts={}, lang=lang)
    box = _glossary(page)
    assert box.count("<dt>") == len(GLOSSARY_BOX)
    for term, why in GLOSSARY_BOX:
        assert f"<dt>{escape(text(term, lang))}</dt>" in box
        assert page.count(escape(text("explain." + why, lang))) == 1
    assert ("补课" if lang == "zh_CN" else "make-up") in box


def test_columns_name_their_unit_and_refusals_read_as_held_back() -> None:
    """Time columns say days; the blockers' table speaks of attempts held back, not failures."""
    en = render_html(hand_result(), charts={}, lang="en")
    assert "Median (days)" in en
    assert "90th percentile (days)" in en
    assert "Attempts held back (gates not yet met)" in en
    assert "blocking" not in en.lower().replace("class=", "")
    zh = render_html(hand_result(), charts={}, lang="zh_CN")
    assert "中位数（天）" in zh
    assert "暂缓转段的申请（关卡尚未满足）" in zh
    assert "阻滞" not in zh


def test_batch_titles_come_from_the_scenario() -> None:
    """A batch's title from the workflow or scenario names it in the tables."""
    style = ChartStyle(batches={1: "第一批：党政机关", 2: "街道社区"})
    zh = render_html(hand_result(), charts={}, lang="zh_CN", style=style)
    assert "<td>第一批：党政机关</td>" in zh
    assert "<td>第2批：街道社区</td>" in zh
    en = render_html(hand_result(), charts={}, lang="en", style=style)
    assert "<td>Batch 2: 街道社区</td>" in en
    assert batch_label(3, "en", style.batches) == "Batch 3"


def test_chart_style_takes_the_batch_titles_of_a_scenario_workflow() -> None:
    """chart_style reads each batch's title from the workflow a scenario builds."""
    wf = cf.presets.district_2005()
    titled = {b.number: b.title for b in wf.batches if b.title}
    assert chart_style(wf, "zh_CN").batches == titled


@pytest.mark.parametrize(
    ("mode", "zh", "en"),
    [
        ("exact", "精确模式", "exact ("),
        ("fast", "快速模式", "fast ("),
        ("recorded", "实际记录", "recorded ("),
    ],
)
def test_mode_names_are_words(mode: str, zh: str, en: str) -> None:
    """The run's mode reads as a word in each language, in the page and the tables."""
    assert mode_label(mode, "zh_CN").startswith(zh)
    assert mode_label(mode, "en").startswith(en)
    assert mode_label("other", "en") == "other"
