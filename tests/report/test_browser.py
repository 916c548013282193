"""report.html in a real headless Chromium: no console error, every chart decoded and shown.

Skipped locally when Chromium is absent; in CI (``CI=true``) its absence fails the test.
The screenshot is kept as ``build/report.png`` (a CI artifact; ``build/`` is gitignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from campaignflow.report import png_size, write_report
from campaignflow.simulation import SimulationResult
from tests.report.browser import chromium_path, inspect_page
from tests.report.conftest import need

BUILD = Path(__file__).parents[2] / "build"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable (Debian's ``chromium`` package)."""
    found = chromium_path()
    need(found, "chromium", "apt-get install chromium")
    assert found is not None
    return found


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_report_opens_cleanly_in_chromium(
    chromium: str, small_result: SimulationResult, tmp_path: Path, lang: str
) -> None:
    """The page loads with no console error and shows both charts at their PNG sizes."""
    files = write_report(small_result, tmp_path, lang=lang)
    seen = inspect_page(files.html, executable=chromium)
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"report-{lang}.png").write_bytes(seen.screenshot)
    if lang == "zh_CN":
        (BUILD / "report.png").write_bytes(seen.screenshot)
    assert seen.errors == ()
    assert (
        seen.title
        == ("活动推进报告：" if lang == "zh_CN" else "Campaign report: ") + "small_district"
    )
    assert [i["id"] for i in seen.images] == ["stages", "gantt"]
    for image in seen.images:
        assert image["complete"]
        written = (tmp_path / f"{image['id']}.png").read_bytes()
        assert (image["width"], image["height"]) == png_size(written)
    width, height = png_size(seen.screenshot)
    assert width >= 1000
    assert height > 1000


@pytest.mark.slow
def test_checker_catches_broken_pages(
    chromium: str, small_result: SimulationResult, tmp_path: Path
) -> None:
    """Control: a network image, a broken image and a script are all reported."""
    files = write_report(small_result, tmp_path, lang="en")
    page = files.html.read_text(encoding="utf-8").replace(
        "</body>",
        '<img id="remote" src="https://example.invalid/x.png">'
        '<img id="broken" src="data:image/png;base64,AAAA">'
        '<script>console.error("boom")</script></body>',
    )
    bad = tmp_path / "bad.html"
    bad.write_text(page, encoding="utf-8")
    seen = inspect_page(bad, executable=chromium)
    assert any("example.invalid" in e for e in seen.errors)
    assert any("inline script" in e.lower() or "boom" in e for e in seen.errors)
    widths = {i["id"]: i["width"] for i in seen.images}
    assert widths["remote"] == 0
    assert widths["broken"] == 0
    assert widths["stages"] > 0
    assert widths["gantt"] > 0
