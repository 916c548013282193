"""``simulate``: play a scenario forward, show the results, write the report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import attrs
import click

from campaignflow.cli._common import (
    err_console,
    existing_file,
    lang_option,
    load_scenario_file,
    mode_option,
    note,
    notes_at_once,
    plugin_option,
    present,
    print_files,
    progress_bar,
)
from campaignflow.cli._db import db_url, save_run
from campaignflow.cli._local import (
    LocalCommand,
    int_range,
    path,
    say,
    usage_error,
)
from campaignflow.cli._outputs import (
    DB_FILES,
    REPORT_FILES,
    check_name,
    check_outputs,
    create_database,
    write_outputs,
)
from campaignflow.cli._pages import report_folder
from campaignflow.cli._runs import run_many
from campaignflow.simulation import FAST_THRESHOLD, SimulationResult
from campaignflow.simulation import simulate as run
from campaignflow.workflow import Workflow

__all__ = ["simulate"]


class _PlainProgress:
    """One line per simulated month on stderr: for logs and pipes, where a bar would garble."""

    def __init__(self, lang: str) -> None:
        self.month: tuple[int, int] | None = None
        self.lang = lang

    def __call__(self, day: date, done: int, total: int) -> None:
        if (day.year, day.month) != self.month:
            self.month = (day.year, day.month)
            line = say("cli.progress", self.lang, day=day.isoformat(), done=done, total=total)
            click.echo(line, err=True)


@click.command(cls=LocalCommand)
@click.argument("scenario", type=existing_file())
@click.option("--seed", type=int_range(0, 2**63 - 1), help="Overrides the scenario's seed.")
@click.option(
    "--db",
    help="Where exact mode keeps the campaign (SQLite path or URL); default "
    "<out or current folder>/campaign.db.",
)
@mode_option
@click.option(
    "--out",
    type=path(file_okay=False, path_type=Path),
    help="Write stages.png, gantt.png, report.html and summary.json here "
    "[default: ./<scenario name>-report].",
)
@click.option("--no-report", is_flag=True, help="Write no charts and no report files.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace output files this command wrote earlier for the same scenario (never "
    "another file: a database of another campaign, a file without campaignflow's mark).",
)
@click.option(
    "--shards",
    type=int_range(1, 1024),
    default=1,
    show_default=True,
    help="Fast mode: split the units into N shards of whole 65,536-unit blocks, run in "
    "worker processes; the result does not depend on N.",
)
@click.option(
    "--host",
    "host_target",
    metavar="MODULE:CALLABLE",
    help="Build the host data for guards that read it (reads_host=True) by calling "
    "CALLABLE from MODULE (importable, or beside the scenario file); "
    'overrides the scenario\'s host = "module:callable".',
)
@click.option(
    "--runs",
    type=int_range(1, 10_000),
    help="Play N seeds (the seed and the next N - 1; fast mode where it applies, --shards "
    "in parallel) and show completion-date percentiles and on-time chances; writes "
    "runs.html and bands.png.",
)
@plugin_option
@lang_option
def simulate(
    scenario: Path,
    seed: int | None,
    db: str | None,
    mode: str,
    out: Path | None,
    no_report: bool,
    as_json: bool,
    quiet: bool,
    overwrite: bool,
    shards: int,
    host_target: str | None,
    runs: int | None,
    lang: str,
) -> None:
    """Play the SCENARIO file forward and show how the campaign goes."""
    if runs is not None:
        if db is not None:
            raise usage_error("cli.runs_no_db")
        run_many(
            scenario,
            runs=runs,
            seed=seed,
            mode=mode,
            out=out,
            no_report=no_report,
            as_json=as_json,
            quiet=quiet,
            overwrite=overwrite,
            shards=shards,
            lang=lang,
        )
        return
    if out is not None and no_report:
        raise usage_error("cli.usage.out_and_no_report")
    if mode == "exact" and shards > 1:
        # Exact mode drives one campaign through one store: there is nothing to shard.
        raise usage_error("cli.usage.shards_exact", shards=shards)
    plan = load_scenario_file(scenario)
    name = check_name(plan.name)
    workflow = plan.load_workflow()
    if host_target is not None:
        plan = attrs.evolve(plan, host=host_target)  # --host replaces the scenario's
    # Built before any output exists: a host that cannot be built stops the run at once.
    # Several shards build their own in each worker process (host data need not pickle).
    host = plan.make_host()
    if shards > 1:
        host = None
    err = err_console()
    out = report_folder(out, no_report=no_report, default=Path(f"{name}-report"), lang=lang)
    likely_fast = mode == "fast" or (mode == "auto" and plan.unit_count() >= FAST_THRESHOLD)
    own_db = db is None and not likely_fast
    folder = out if out is not None else Path.cwd()
    names = (REPORT_FILES if out is not None else ()) + (DB_FILES if own_db else ())
    # Every refusal comes before any work, and before anything is created.
    replace = check_outputs(folder, names, overwrite=overwrite, campaign_id=name)
    store: str | None = None
    created: Path | None = None
    if db is not None:
        store = db_url(db)
    elif own_db:
        created = create_database(folder, replace)
        store = db_url(str(created))
    try:
        result = _run(plan, seed, mode, store, shards, host, quiet=quiet or as_json, lang=lang)
    except BaseException:
        if created is not None:  # this run's own, unfinished database
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{created}{suffix}").unlink(missing_ok=True)
        raise
    if db is not None and result.mode == "fast":
        note(err, "cli.note.fast_no_db")
    if shards > 1 and result.mode != "fast":
        note(err, "cli.note.exact_no_shards", shards=shards)
    if result.mode == "exact" and store is not None:
        save_run(store, plan.name, _run_record(result, workflow, scenario))
    files = (
        write_outputs(result, out, replace, lang=lang, workflow=workflow)
        if out is not None
        else None
    )
    present(result, as_json=as_json, lang=lang, workflow=workflow)
    if as_json:
        return
    if result.mode == "exact" and store is not None:
        err.print(say("cli.campaign_database", lang, store=store), markup=False)
    if files is not None:
        print_files(err, files)


def _run_record(result: SimulationResult, workflow: Workflow, scenario: Path) -> dict[str, Any]:
    """What ``report`` needs to rebuild this run's summary from its database alone."""
    return {
        "scenario": result.scenario,
        "seed": result.seed,
        "mode": result.mode,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "workflow": workflow.to_dict(),
        "scenario_file": str(scenario.absolute()),
        "scenario_text": scenario.read_text(encoding="utf-8"),
    }


def _run(
    plan: Any,
    seed: int | None,
    mode: str,
    store: str | None,
    shards: int,
    host: Any,
    *,
    quiet: bool,
    lang: str,
) -> SimulationResult:
    """The simulation, with its progress on stderr and its notes shown as they come."""
    err = err_console()
    with notes_at_once():
        if quiet:
            return run(plan, seed=seed, mode=mode, store=store, shards=shards, host=host)  # type: ignore[arg-type]
        if err.is_terminal:
            with progress_bar(err) as bar:
                task = bar.add_task(plan.name, total=plan.unit_count())

                def tick(day: date, done: int, units: int) -> None:
                    bar.update(task, completed=done, total=units, description=day.isoformat())

                return run(
                    plan,
                    seed=seed,
                    mode=mode,  # type: ignore[arg-type]
                    store=store,
                    progress=tick,
                    shards=shards,
                    host=host,
                )
        return run(
            plan,
            seed=seed,
            mode=mode,  # type: ignore[arg-type]
            store=store,
            progress=_PlainProgress(lang),
            shards=shards,
            host=host,
        )
