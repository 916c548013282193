"""``simulate --runs N``: many seeds, a table of completion percentiles, the outlook page."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from campaignflow.cli._common import (
    err_console,
    error_lang,
    load_scenario_file,
    notes_at_once,
    out_console,
    progress_bar,
)
from campaignflow.cli._local import say
from campaignflow.cli._outputs import check_name
from campaignflow.cli._pages import page_folder, write_pages
from campaignflow.i18n import messages
from campaignflow.report import bands_chart, chart_style, render_runs_html
from campaignflow.report._charts import ChartStyle, chart_lang
from campaignflow.report._text import batch_short, finished_on, mode_label, words
from campaignflow.simulation import RunsSummary, simulate_runs

__all__ = ["RUNS_FILES", "run_many", "show_runs"]

#: What ``simulate --runs`` writes into its output folder.
RUNS_FILES = ("runs.html", "bands.png")


def show_runs(
    console: Console, summary: RunsSummary, *, lang: str, style: ChartStyle | None = None
) -> None:
    """Print the per-batch percentiles and on-time chances, and the make-up spread (batches
    named by their titles when ``style`` has them)."""
    style = style or ChartStyle()
    t = words(lang)
    table = Table(title=t("runs_title", runs=summary.runs, scenario=summary.scenario))
    for key in ("batch", "runs_window_end", "runs_p10", "runs_p50", "runs_p90", "runs_on_time"):
        left = key in ("batch", "runs_window_end")
        # The batch column (a scenario's title can be long) folds first.
        table.add_column(t(key), justify="left" if left else "right", no_wrap=key != "batch")
    table.add_column(t("runs_unfinished"), justify="right")
    table.add_column(t("runs_on_time_share"), justify="right")
    for b in summary.batches:
        table.add_row(
            batch_short(b.batch, lang, style.batches),
            b.window_end.isoformat(),
            finished_on(b.completed_p10, lang),
            finished_on(b.completed_p50, lang),
            finished_on(b.completed_p90, lang),
            f"{b.on_time_probability:.0%}",
            str(b.unfinished_runs),
            f"{b.on_time_share_p50:.1%}",
        )
    console.print(table)
    seeds = summary.seeds
    facts = t(
        "runs_facts",
        mode=mode_label(summary.mode, lang),
        first=seeds[0],
        last=seeds[-1],
        p10=summary.remedial_units_p10,
        p50=summary.remedial_units_p50,
        p90=summary.remedial_units_p90,
    )
    console.print(facts, markup=False)
    console.print(t("runs_explained"), markup=False)


def _play(
    scenario: Path, runs: int, seed: int | None, mode: str, shards: int, *, quiet: bool
) -> RunsSummary:
    """The runs, with a fallback to exact mode said as one note before they start."""
    with notes_at_once():
        return _play_runs(scenario, runs, seed, mode, shards, quiet=quiet)


def _play_runs(
    scenario: Path, runs: int, seed: int | None, mode: str, shards: int, *, quiet: bool
) -> RunsSummary:
    plan = load_scenario_file(scenario)
    err = err_console()
    if quiet:
        return simulate_runs(plan, runs=runs, seed=seed, mode=mode, shards=shards)  # type: ignore[arg-type]
    if err.is_terminal:
        with progress_bar(err) as bar:
            task = bar.add_task(plan.name, total=runs)
            return simulate_runs(
                plan,
                runs=runs,
                seed=seed,
                mode=mode,  # type: ignore[arg-type]
                shards=shards,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    step = max(1, runs // 10)

    def tick(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            click.echo(
                messages.render("cli.runs_progress", {"done": done, "total": total}, error_lang()),
                err=True,
            )

    return simulate_runs(plan, runs=runs, seed=seed, mode=mode, shards=shards, progress=tick)  # type: ignore[arg-type]


def run_many(
    scenario: Path,
    *,
    runs: int,
    seed: int | None,
    mode: str,
    out: Path | None,
    no_report: bool,
    as_json: bool,
    quiet: bool,
    overwrite: bool,
    shards: int,
    lang: str,
) -> None:
    """Play ``runs`` seeds of the scenario; print the table (or JSON); write the outlook page."""
    plan = load_scenario_file(scenario)
    name = check_name(plan.name)
    style = chart_style(plan.load_workflow(), lang)
    err = err_console()
    out, replace = page_folder(
        out, RUNS_FILES, name, lang, no_report=no_report, overwrite=overwrite
    )
    summary = _play(scenario, runs, seed, mode, shards, quiet=quiet or as_json)
    written: list[Path] = []
    if out is not None:
        drawn = chart_lang(lang)  # English charts when no CJK font is installed
        chart = bands_chart(summary, lang=drawn, style=chart_style(plan.load_workflow(), drawn))
        page = render_runs_html(summary, charts={"bands": chart}, lang=lang, style=style)
        written = write_pages(out, {"runs.html": page.encode(), "bands.png": chart}, replace)
    if as_json:
        click.echo(summary.to_json())
        return
    show_runs(out_console(), summary, lang=lang, style=style)
    for path in written:
        err.print(say("cli.compare_wrote", lang, path=str(path)), markup=False)
