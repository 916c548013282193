"""Draw the what-if pictures of docs/cli.md and docs/report.md (run from the repository root).

    python docs/_static/make_whatif_pictures.py

writes ``docs/_static/compare-gantt.png`` (the district campaign with the satisfaction gate
at 0.6 and at 0.7, same seed: A's Gantt beside B's on one date scale, as compare.html pairs
them) and ``docs/_static/bands.png`` (50 seeds of the district campaign: the share of each
batch's units finished, median and p10-p90 band), from the same functions the command uses;
and both again in Chinese for the zh_CN pages (``compare-gantt-zh.png``, ``bands-zh.png``),
with the batches named by the scenario's titles and the dates in 年/月.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image
from matplotlib import rc_context
from matplotlib.figure import Figure

from campaignflow.report import bands_chart, chart_style, compare_charts
from campaignflow.report._fonts import rc_params
from campaignflow.simulation import compare, load_scenario, simulate_runs

HERE = Path(__file__).parent
DISTRICT = HERE.parents[1] / "examples" / "district_2005.toml"
GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


def _side_by_side(left: bytes, right: bytes, titles: tuple[str, str]) -> bytes:
    images = [matplotlib.image.imread(io.BytesIO(data), format="png") for data in (left, right)]
    height = max(i.shape[0] for i in images) / 100
    with rc_context(rc_params()):  # the charts' fonts, Chinese glyphs included
        figure = Figure(figsize=(22, height + 0.4), layout="constrained")
        for ax, image, title in zip(figure.subplots(1, 2), images, titles, strict=True):
            ax.imshow(image)
            ax.set_title(title, fontsize=14)
            ax.axis("off")
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=60, metadata={"Software": None})
    return out.getvalue()


#: Each picture's language: the suffix of its file name, the language, the pair's titles.
LANGS = (
    ("", "en", ("A: gate 0.6 (base)", "B: gate 0.7 (what-if)")),
    ("-zh", "zh_CN", ("A：门槛 0.6（基准）", "B：门槛 0.7（假设）")),
)


def main() -> None:
    workflow = load_scenario(DISTRICT).load_workflow()
    what_if = compare(DISTRICT, settings={GATE: 0.7}, mode="exact")
    runs = simulate_runs(DISTRICT, runs=50)
    for suffix, lang, titles in LANGS:
        style = chart_style(workflow, lang)
        charts = compare_charts(what_if, lang=lang, style=style)
        pair = _side_by_side(charts["gantt_a"], charts["gantt_b"], titles)
        (HERE / f"compare-gantt{suffix}.png").write_bytes(pair)
        (HERE / f"bands{suffix}.png").write_bytes(bands_chart(runs, lang=lang, style=style))


if __name__ == "__main__":
    main()
