"""Ask the district campaign a planner's two questions with the Python API.

1. What if the satisfaction gate were 0.7 instead of 0.6? ``compare`` plays both with the same
   seed: how many units need make-up (补课), and does batch 2 still finish by December?
2. How likely is each batch to finish inside its window? ``simulate_runs`` plays 20 seeds
   (fast mode, two worker processes) and gives completion-date percentiles.

Both pages (``compare.html``, ``runs.html``) are written into the folder given as the first
argument, or a temporary one. Run: ``python examples/what_if_district.py [OUT_DIR]``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import campaignflow as cf
from campaignflow.report import (
    bands_chart,
    chart_style,
    compare_charts,
    render_compare_html,
    render_runs_html,
)
from campaignflow.simulation import compare, simulate_runs

SCENARIO = Path(__file__).parent / "district_2005.toml"
GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


def main(out: Path) -> None:
    """Print both answers and write both pages into ``out``."""
    what_if = compare(SCENARIO, settings={GATE: 0.7})
    print(
        f"seed {what_if.seed}: make-up units {what_if.a.remedial.units} -> "
        f"{what_if.b.remedial.units}"
    )
    for d in what_if.batches():
        print(
            f"  batch {d.batch} (window ends {d.window_end}): {d.completed_a} -> "
            f"{d.completed_b} ({d.days_later:+d} days)"
        )
    batch2 = next(d for d in what_if.batches() if d.batch == 2)
    assert what_if.b.remedial.units > what_if.a.remedial.units  # a stricter gate, more make-up
    assert batch2.completed_b is not None
    assert batch2.completed_b > batch2.window_end  # batch 2 misses December either way

    outlook = simulate_runs(SCENARIO, runs=20, shards=2)
    print(
        f"{outlook.runs} runs ({outlook.mode} mode), seeds {outlook.seeds[0]}..{outlook.seeds[-1]}"
    )
    for b in outlook.batches:
        print(
            f"  batch {b.batch}: p10 {b.completed_p10}, p50 {b.completed_p50}, "
            f"p90 {b.completed_p90}, on time in {b.on_time_probability:.0%} of runs"
        )
    for b in outlook.batches:
        assert b.completed_p10 is not None
        assert b.completed_p90 is not None
        assert b.completed_p10 <= b.completed_p90

    style = chart_style(cf.presets.district_2005(), "en")
    out.mkdir(parents=True, exist_ok=True)
    charts = compare_charts(what_if, lang="en", style=style)
    (out / "compare.html").write_text(
        render_compare_html(what_if, charts=charts, lang="en", style=style), encoding="utf-8"
    )
    bands = bands_chart(outlook, lang="en")
    (out / "runs.html").write_text(
        render_runs_html(outlook, charts={"bands": bands}, lang="en"), encoding="utf-8"
    )
    print(f"wrote {out / 'compare.html'} and {out / 'runs.html'}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder))
