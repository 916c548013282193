"""Charts and a self-contained HTML report of a campaign's results (extra ``plot``: matplotlib).

``write_report(result, "out/", lang="zh_CN")`` writes ``stages.png`` (units per stage over
time), ``gantt.png`` (each batch's window and stages), ``report.html`` (the tables with both
charts inline; it loads nothing from the network) and ``summary.json`` (the result's
canonical JSON). ``result`` is a :class:`~campaignflow.simulation.SimulationResult` from a
simulation or from ``summarise`` of a real campaign.
"""

from campaignflow._public import publish
from campaignflow.report._charts import ChartStyle, daily_counts, gantt_chart, stages_chart
from campaignflow.report._fonts import CJK_FAMILIES, cjk_family
from campaignflow.report._html import png_size, render_html
from campaignflow.report._text import LANGS
from campaignflow.report._write import ReportFiles, chart_style, write_report

__all__ = [
    "CJK_FAMILIES",
    "LANGS",
    "ChartStyle",
    "ReportFiles",
    "chart_style",
    "cjk_family",
    "daily_counts",
    "gantt_chart",
    "png_size",
    "render_html",
    "stages_chart",
    "write_report",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
