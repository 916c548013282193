"""Charts and a self-contained HTML report of a campaign's results (extra ``plot``: matplotlib).

``write_report(result, "out/", lang="zh_CN")`` writes ``stages.png`` (units per stage over
time), ``gantt.png`` (each batch's window and stages), ``report.html`` (the tables with both
charts inline; it loads nothing from the network) and ``summary.json`` (the result's
canonical JSON). ``render_compare_html`` (with ``compare_charts``) is the what-if page of a
``Comparison``; ``render_runs_html`` (with ``bands_chart``) the completion outlook of a
``RunsSummary``. ``result`` is a :class:`~campaignflow.simulation.SimulationResult` from a
simulation or from ``summarise`` of a real campaign.
"""

from campaignflow._public import publish
from campaignflow.report._bands import bands_chart, render_runs_html
from campaignflow.report._charts import ChartStyle, daily_counts, gantt_chart, stages_chart
from campaignflow.report._compare import compare_charts, render_compare_html
from campaignflow.report._fonts import CJK_FAMILIES, cjk_family
from campaignflow.report._html import png_size, render_html
from campaignflow.report._text import LANGS
from campaignflow.report._write import ReportFiles, chart_style, write_report

__all__ = [
    "CJK_FAMILIES",
    "LANGS",
    "ChartStyle",
    "ReportFiles",
    "bands_chart",
    "chart_style",
    "cjk_family",
    "compare_charts",
    "daily_counts",
    "gantt_chart",
    "png_size",
    "render_compare_html",
    "render_html",
    "render_runs_html",
    "stages_chart",
    "write_report",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
