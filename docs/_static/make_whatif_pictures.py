"""Draw the what-if pictures of docs/cli.md and docs/report.md (run from the repository root).

    python docs/_static/make_whatif_pictures.py

writes ``docs/_static/compare-gantt.png`` (the district campaign with the satisfaction gate
at 0.6 and at 0.7, same seed: A's Gantt beside B's, as compare.html pairs them) and
``docs/_static/bands.png`` (50 seeds of the district campaign: the share of each batch's
units finished, median and p10-p90 band), from the same functions the command uses.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image
from matplotlib.figure import Figure

import campaignflow as cf
from campaignflow.report import bands_chart, chart_style, compare_charts
from campaignflow.simulation import compare, simulate_runs

HERE = Path(__file__).parent
DISTRICT = HERE.parents[1] / "examples" / "district_2005.toml"
GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


def _side_by_side(left: bytes, right: bytes, titles: tuple[str, str]) -> bytes:
    images = [matplotlib.image.imread(io.BytesIO(data), format="png") for data in (left, right)]
    height = max(i.shape[0] for i in images) / 100
    figure = Figure(figsize=(22, height + 0.4), layout="constrained")
    for ax, image, title in zip(figure.subplots(1, 2), images, titles, strict=True):
        ax.imshow(image)
        ax.set_title(title, fontsize=14)
        ax.axis("off")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=60, metadata={"Software": None})
    return out.getvalue()


def main() -> None:
    style = chart_style(cf.presets.district_2005(), "en")
    what_if = compare(DISTRICT, settings={GATE: 0.7}, mode="exact")
    charts = compare_charts(what_if, lang="en", style=style)
    pair = _side_by_side(
        charts["gantt_a"], charts["gantt_b"], ("A: gate 0.6 (base)", "B: gate 0.7 (what-if)")
    )
    (HERE / "compare-gantt.png").write_bytes(pair)
    (HERE / "bands.png").write_bytes(bands_chart(simulate_runs(DISTRICT, runs=50), lang="en"))


if __name__ == "__main__":
    main()
