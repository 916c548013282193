"""Draw the pictures of the report's summary and the spreadsheet (run from the repository root).

    python docs/_static/make_face_pictures.py

Needs Chromium on PATH (Debian's ``chromium``, as ``tests/report/browser.py`` uses) and the
``plot``, ``sim`` and ``xlsx`` extras. For each language (``zh`` and ``en``) it writes:

* ``report-summary-<lang>.png``: the top of ``report.html`` of the district campaign (the
  summary table and the glossary box that explains its terms), as a browser shows it;
* ``xlsx-<lang>.png``: the workbook ``report --xlsx`` writes for the same campaign, its
  "by batch" sheet as a spreadsheet program shows it (column letters, row numbers, dates
  as dates, the sheet tabs underneath; its first eight columns, the units per stage cut).

Both come from the functions the command uses (``write_report``, ``Campaign.export_xlsx``);
only the spreadsheet's frame is drawn here.
"""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

import matplotlib.image
import numpy as np
import openpyxl
from openpyxl.utils import get_column_letter

import campaignflow as cf
from campaignflow.report import write_report
from campaignflow.simulation import load_scenario, simulate

HERE = Path(__file__).parent
DISTRICT = HERE.parents[1] / "examples" / "district_2005.toml"
LANGS = {"zh": "zh_CN", "en": "en"}
FONTS = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'


def _shoot(html: str, out: Path, *, width: int) -> None:
    """Screenshot ``html`` in headless Chromium, trimmed to what it draws (plus a margin)."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if chromium is None:
        raise SystemExit("chromium is not on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        page, shot = Path(folder) / "page.html", Path(folder) / "shot.png"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={folder}/profile",
                f"--window-size={width},2400",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        image = matplotlib.image.imread(shot)
    ink = (image[:, :, :3] < 0.97).any(axis=2)
    rows, columns = np.where(ink.any(axis=1))[0], np.where(ink.any(axis=0))[0]
    image = image[: rows[-1] + 24, : columns[-1] + 24]
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, image, format="png", metadata={"Software": None})
    out.write_bytes(buffer.getvalue())


def summary_picture(result: cf.simulation.SimulationResult, lang: str, out: Path) -> None:
    """The summary and the glossary box of ``report.html``, cut before the charts."""
    workflow = load_scenario(DISTRICT).load_workflow()
    with tempfile.TemporaryDirectory() as folder:
        files = write_report(result, folder, lang=lang, workflow=workflow)
        page = files.html.read_text(encoding="utf-8")
    end = page.index("</aside>") + len("</aside>")
    _shoot(page[:end] + "</body></html>", out, width=900)


def _cell(cell: object) -> tuple[str, bool]:
    """A cell's text as a spreadsheet shows it, and whether it is a number (right-aligned)."""
    value = getattr(cell, "value", None)
    fmt = str(getattr(cell, "number_format", "General"))
    if value is None:
        return "", False
    if isinstance(value, datetime.datetime):
        return value.date().isoformat(), True
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "%" in fmt:
            return f"{value:.1%}", True
        return f"{value:,}", True
    return str(value), False


#: Columns of the sheet shown (the units per stage that follow are cut, marked "…").
SHOWN_COLUMNS = 8


def _sheet_html(book: openpyxl.Workbook, shown: str) -> str:
    sheet = book[shown]
    rows = list(sheet.iter_rows(max_col=SHOWN_COLUMNS))
    columns = max(len(r) for r in rows)
    head = "".join(f"<th>{get_column_letter(c + 1)}</th>" for c in range(columns))
    head += f"<th>{get_column_letter(columns + 1)} …</th>"
    body = []
    for k, row in enumerate(rows, start=1):
        cells = []
        for cell in row:
            text, number = _cell(cell)
            style = ' class="n"' if number else (' class="h"' if k == 1 else "")
            cells.append(f"<td{style}>{escape(text)}</td>")
        body.append(f'<tr><th>{k}</th>{"".join(cells)}<td class="more">…</td></tr>')
    tabs = "".join(
        f'<span class="{"on" if name == shown else ""}">{escape(name)}</span>'
        for name in book.sheetnames
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body {{ font-family: {FONTS}; font-size: 13px; margin: 12px; background: #fff; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #d4d4d4; padding: 3px 8px; white-space: nowrap; }}
th {{ background: #f0f0f0; color: #555; font-weight: normal; text-align: center; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.h {{ font-weight: bold; background: #e8f0e8; }}
td.more {{ color: #999; border-right: none; }}
.tabs {{ margin-top: 6px; }}
.tabs span {{ display: inline-block; padding: 3px 12px; border: 1px solid #ccc;
  border-top: none; background: #f0f0f0; color: #444; }}
.tabs span.on {{ background: #fff; color: #1a6b1a; font-weight: bold; }}
</style></head><body><table><tr><th></th>{head}</tr>{"".join(body)}</table>
<div class="tabs">{tabs}</div></body></html>"""


def xlsx_picture(campaign: cf.Campaign, lang: str, out: Path) -> None:
    """The workbook's by-batch sheet, framed as a spreadsheet program shows it."""
    data = io.BytesIO()
    campaign.export_xlsx(data, locale=lang)
    book = openpyxl.load_workbook(data)
    _shoot(_sheet_html(book, book.sheetnames[1]), out, width=1600)


def main() -> None:
    plan = load_scenario(DISTRICT)
    with tempfile.TemporaryDirectory() as folder:
        store = f"sqlite:///{folder}/campaign.db"
        result = simulate(plan, mode="exact", store=store)
        campaign = cf.Campaign(plan.load_workflow(), store, campaign_id=plan.name)
        try:
            for suffix, lang in LANGS.items():
                summary_picture(result, lang, HERE / f"report-summary-{suffix}.png")
                xlsx_picture(campaign, lang, HERE / f"xlsx-{suffix}.png")
        finally:
            campaign.close()


if __name__ == "__main__":
    main()
