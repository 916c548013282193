"""``simulate``: play a scenario forward, show the results, write the report."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from campaignflow.cli._common import (
    err_console,
    existing_file,
    lang_option,
    load_scenario_file,
    present,
    print_files,
)
from campaignflow.cli._db import db_url
from campaignflow.report._charts import require_matplotlib
from campaignflow.simulation import FAST_THRESHOLD
from campaignflow.simulation import simulate as run

__all__ = ["simulate"]


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class _PlainProgress:
    """One line per simulated month on stderr: for logs and pipes, where a bar would garble."""

    def __init__(self) -> None:
        self.month: tuple[int, int] | None = None

    def __call__(self, day: date, done: int, total: int) -> None:
        if (day.year, day.month) != self.month:
            self.month = (day.year, day.month)
            click.echo(f"{day.isoformat()}  {done:,}/{total:,} units finished", err=True)


@click.command()
@click.argument("scenario", type=existing_file())
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Overrides the scenario's seed.")
@click.option(
    "--db",
    help="Where exact mode keeps the campaign (SQLite path or URL); default "
    "<out or current folder>/campaign.db, replaced on each run.",
)
@click.option(
    "--mode", type=click.Choice(["exact", "fast", "auto"]), default="auto", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write stages.png, gantt.png, report.html and summary.json here "
    "[default: ./<scenario name>-report].",
)
@click.option("--no-report", is_flag=True, help="Write no charts and no report files.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--shards",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="Fast mode: split the units into N shards of whole 65,536-unit blocks, run in "
    "worker processes; the result does not depend on N.",
)
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
    shards: int,
    lang: str,
) -> None:
    """Play the SCENARIO file forward and show how the campaign goes."""
    if out is not None and no_report:
        raise click.UsageError("--out and --no-report contradict each other")
    if mode == "exact" and shards > 1:
        # Exact mode drives one campaign through one store: there is nothing to shard.
        raise click.UsageError(
            f"--shards applies to fast mode; --mode exact runs in one process, got --shards {shards}"
        )
    plan = load_scenario_file(scenario)
    workflow = plan.load_workflow()
    err = err_console()
    if out is not None:
        require_matplotlib()  # fail before a long run, not after it
    elif not no_report:
        try:
            require_matplotlib()
            out = Path(f"{plan.name}-report")
        except ImportError as exc:
            err.print(f"note: no charts or report.html: {exc}")
    likely_fast = mode == "fast" or (mode == "auto" and plan.unit_count() >= FAST_THRESHOLD)
    store: str | None = None
    if db is not None:
        store = db_url(db)
    elif not likely_fast:
        folder = out if out is not None else Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(folder / "campaign.db")  # this command's own output, like the charts
        store = db_url(str(folder / "campaign.db"))
    total = plan.unit_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if quiet or as_json:
            result = run(plan, seed=seed, mode=mode, store=store, shards=shards)  # type: ignore[arg-type]
        elif err.is_terminal:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(plan.name, total=total)

                def tick(day: date, done: int, units: int) -> None:
                    bar.update(task, completed=done, total=units, description=day.isoformat())

                result = run(plan, seed=seed, mode=mode, store=store, progress=tick, shards=shards)  # type: ignore[arg-type]
        else:
            result = run(
                plan,
                seed=seed,
                mode=mode,  # type: ignore[arg-type]
                store=store,
                progress=_PlainProgress(),
                shards=shards,
            )
    for warning in caught:
        err.print(f"note: {warning.message}")
    if db is not None and result.mode == "fast":
        err.print("note: fast mode keeps no campaign database; --db was not used")
    if shards > 1 and result.mode != "fast":
        err.print(
            f"note: the run was in exact mode, which runs in one process; --shards {shards} was not used"
        )
    files = present(result, out, as_json=as_json, lang=lang, workflow=workflow)
    if as_json:
        return
    if result.mode == "exact" and store is not None:
        err.print(f"campaign database: {store}")
    if files is not None:
        print_files(err, files)
