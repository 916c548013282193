"""Rich tables of a result for the terminal, in the report's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from campaignflow.report._charts import ChartStyle
from campaignflow.report._text import batch_label, gate_label, mode_label, stage_label, words

if TYPE_CHECKING:
    from campaignflow._words.overview import OrgProgress, StuckPage
    from campaignflow.simulation.results import SimulationResult

__all__ = ["show_result", "show_rollup"]


def show_result(
    console: Console, result: SimulationResult, *, lang: str, style: ChartStyle
) -> None:
    """Print the summary, the batches, units per stage, time in stage and the blockers."""
    t = words(lang)

    def stage(s: str) -> str:
        return stage_label(s, lang, style.labels)

    def gloss(term: str, why: str) -> str:
        return t(term) + ("：" if lang == "zh_CN" else ": ") + t("explain." + why)

    # Each table explains its own terms once, as the report's glossary box does.
    summary = Table(
        title=t("title", scenario=result.scenario),
        show_header=False,
        caption=gloss("remedial", "remedial"),
        caption_justify="left",
    )
    summary.add_column(no_wrap=True)
    summary.add_column(overflow="fold")
    for key, value in (
        ("workflow", result.workflow),
        ("mode", mode_label(result.mode, lang)),
        ("seed", str(result.seed)),
        ("units", f"{result.units:,}"),
        ("period", f"{result.start.isoformat()} – {result.end.isoformat()}"),
        ("remedial_units", f"{result.remedial.units:,}"),
        ("remedial_rounds", f"{result.remedial.rounds:,}"),
        ("audit_head", result.audit_head or t("none")),
    ):
        summary.add_row(t(key), value)
    console.print(summary)

    batches = Table(title=t("batches"), caption=gloss("on_time", "on_time"), caption_justify="left")
    for key in ("batch", "window", "units", "completed_on", "on_time", "deferred_in"):
        batches.add_column(
            t(key),
            justify="left" if key in ("batch", "window") else "right",
            no_wrap=key not in ("batch", "window"),
            max_width=30 if key == "batch" else None,
            overflow="fold",
        )
    batches.add_column(t("deferred_out"), justify="right")
    for b in result.batches:
        batches.add_row(
            batch_label(b.batch, lang, style.batches),
            f"{b.window_start.isoformat()} – {b.window_end.isoformat()}",
            f"{b.units:,}",
            b.completed_on.isoformat() if b.completed_on else t("not_finished"),
            f"{b.on_time_share:.1%}",
            str(b.deferred_in),
            str(b.deferred_out),
        )
    console.print(batches)

    final = result.final_counts()
    stages = Table(
        title=t("final_counts"), caption=gloss("time_in_stage", "days"), caption_justify="left"
    )
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
        blocking = Table(
            title=t("blocking"), caption=gloss("count", "blocking"), caption_justify="left"
        )
        blocking.add_column(t("gate"))
        blocking.add_column(t("stage"))
        blocking.add_column(t("count"), justify="right")
        for r in result.blocking:
            blocking.add_row(
                f"{gate_label(r.code, lang)} ({r.code})", stage(r.stage), f"{r.count:,}"
            )
        console.print(blocking)


def show_rollup(
    console: Console, node: OrgProgress, stuck: StuckPage, *, lang: str, style: ChartStyle
) -> None:
    """Print a roll-up: a table of the organisation and its children, the tree, the stuck list."""
    t = words(lang)
    named = f"{node.name}（{node.id}）" if lang == "zh_CN" else f"{node.name} ({node.id})"
    table = Table(title=t("rollup", org=named))
    table.add_column(t("org"))
    table.add_column(t("level"))
    for key in ("units", "finished", "on_time", "remedial_units", "stuck"):
        table.add_column(t(key), justify="right")
    table.add_column(t("top_gates"))
    for item in node.walk():
        share = item.on_time_share
        table.add_row(
            "  " * (item.depth - node.depth) + item.name,
            item.level,
            f"{item.total:,}",
            f"{item.finished:,}",
            "" if share is None else f"{share:.1%}",
            f"{item.remedial:,}",
            f"{item.stuck:,}",
            ("、" if lang == "zh_CN" else ", ").join(
                f"{gate_label(code, lang)} {n}" for code, n in item.blocking[:3]
            ),
        )
    console.print(table)

    console.print(t("tree"))
    for item in node.walk():
        line = t(
            "tree_line",
            name=item.name,
            id=item.id,
            level=item.level,
            total=f"{item.total:,}",
            finished=f"{item.finished:,}",
            stuck=f"{item.stuck:,}",
        )
        console.print("  " * (item.depth - node.depth + 1) + "- " + line, markup=False)

    listed = Table(title=t("stuck_list", shown=len(stuck.units), total=stuck.total))
    for key in ("unit", "stage", "days_in_stage", "refused_on", "why"):
        listed.add_column(t(key), justify="right" if key == "days_in_stage" else "left")
    for entry in stuck.units:
        listed.add_row(
            f"{entry.unit.id} {entry.unit.name}",
            stage_label(entry.state.stage, lang, style.labels),
            str(entry.days_in_stage),
            entry.refusal.on.isoformat(),
            "\n".join(v.message(lang) for v in entry.refusal.failures),
        )
    console.print(listed)
