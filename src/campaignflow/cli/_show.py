"""Rich tables of a result for the terminal, in the report's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from campaignflow.report._charts import ChartStyle
from campaignflow.report._text import gate_label, stage_label, text

if TYPE_CHECKING:
    from campaignflow.simulation.results import SimulationResult

__all__ = ["show_result"]


def show_result(
    console: Console, result: SimulationResult, *, lang: str, style: ChartStyle
) -> None:
    """Print the summary, the batches, units per stage, time in stage and the blockers."""

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    def stage(s: str) -> str:
        return stage_label(s, lang, style.labels)

    summary = Table(title=t("title", scenario=result.scenario), show_header=False)
    summary.add_column(no_wrap=True)
    summary.add_column(overflow="fold")
    for key, value in (
        ("workflow", result.workflow),
        ("mode", result.mode),
        ("seed", str(result.seed)),
        ("units", f"{result.units:,}"),
        ("period", f"{result.start.isoformat()} – {result.end.isoformat()}"),
        ("remedial_units", f"{result.remedial.units:,}"),
        ("remedial_rounds", f"{result.remedial.rounds:,}"),
        ("audit_head", result.audit_head or t("none")),
    ):
        summary.add_row(t(key), value)
    console.print(summary)

    batches = Table(title=t("batches"))
    for key in ("batch", "window", "units", "completed_on", "on_time", "deferred_in"):
        batches.add_column(
            t(key),
            justify="left" if key in ("batch", "window") else "right",
            no_wrap=key != "window",
        )
    batches.add_column(t("deferred_out"), justify="right")
    for b in result.batches:
        batches.add_row(
            t("batch_n", n=b.batch),
            f"{b.window_start.isoformat()} – {b.window_end.isoformat()}",
            f"{b.units:,}",
            b.completed_on.isoformat() if b.completed_on else t("not_finished"),
            f"{b.on_time_share:.1%}",
            str(b.deferred_in),
            str(b.deferred_out),
        )
    console.print(batches)

    final = result.final_counts()
    stages = Table(title=t("final_counts"))
    stages.add_column(t("stage"))
    stages.add_column(t("units"), justify="right")
    stages.add_column(t("median"), justify="right")
    stages.add_column(t("p90"), justify="right")
    for s in result.stages:
        timing = result.time_in_stage.get(s)
        stages.add_row(
            stage(s),
            f"{final.get(s, 0):,}",
            f"{timing.median_days:g}" if timing else "",
            f"{timing.p90_days:g}" if timing else "",
        )
    console.print(stages)

    if result.blocking:
        blocking = Table(title=t("blocking"))
        blocking.add_column(t("gate"))
        blocking.add_column(t("stage"))
        blocking.add_column(t("count"), justify="right")
        for r in result.blocking:
            blocking.add_row(
                f"{gate_label(r.code, lang)} ({r.code})", stage(r.stage), f"{r.count:,}"
            )
        console.print(blocking)
