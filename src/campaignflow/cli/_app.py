"""The ``campaignflow`` command: simulate, validate, diagram, audit verify, report.

Exit codes (docs/cli.md): 0 done and every check passed; 1 a check failed (an invalid file
given to ``validate``, a tampered audit trail); 2 bad usage or a file that cannot be used
(one line of explanation, never a traceback).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from campaignflow import __version__
from campaignflow.audit import AuditRecord, AuditVerification, Checkpoint, verify_chain
from campaignflow.campaign import Campaign
from campaignflow.errors import CampaignflowError, ValidationError
from campaignflow.i18n import messages
from campaignflow.presets import PRESETS, load
from campaignflow.report._text import LANGS
from campaignflow.workflow import Workflow

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_OK", "cli"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2

#: Environment variable choosing the default language of tables and reports.
LANG_ENV = "CAMPAIGNFLOW_LANG"


class BadInput(click.ClickException):
    """A file or database that cannot be used: one clear message, exit code 2."""

    exit_code = EXIT_BAD_INPUT


class _Group(click.Group):
    """A group that turns library errors into one message instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignflowError as exc:
            # In the command's --lang (or the default language): the catalog has both.
            raise BadInput(exc.message(error_lang())) from None
        except OSError as exc:
            raise BadInput(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
        except ImportError as exc:
            # A missing extra: the library's message names the pip command.
            raise BadInput(str(exc)) from None


def default_lang() -> str:
    """``CAMPAIGNFLOW_LANG`` if set to a language, else zh_CN under a Chinese locale, else en."""
    chosen = os.environ.get(LANG_ENV, "")
    if chosen in LANGS:
        return chosen
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
    return "zh_CN" if locale.startswith("zh") else "en"


_LANG_KEY = "campaignflow.lang"


def error_lang() -> str:
    """The language errors are shown in: the running command's --lang, else the default."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().meta.get(_LANG_KEY) if ctx is not None else None
    return chosen if chosen in LANGS else default_lang()


def _remember_lang(ctx: click.Context, _: click.Parameter, value: str) -> str:
    ctx.find_root().meta[_LANG_KEY] = value
    return value


def _lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--lang",
        type=click.Choice(LANGS),
        default=default_lang,
        callback=_remember_lang,
        # Parsed first, so an error in a later option is already shown in this language.
        is_eager=True,
        show_default="zh_CN under a Chinese locale, else en; or $CAMPAIGNFLOW_LANG",
        help="Language of tables, charts, the report and error messages.",
    )(func)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _out() -> Console:
    # Off a terminal (a pipe, a CI log) rich would assume 80 columns and clip the tables.
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=120)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="campaignflow")
def cli() -> None:
    """Run, check and show staged campaigns (campaignflow)."""


# --- files: workflow or scenario ---------------------------------------------------------


def _read_data(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            code="file.not_utf8", params={"path": path, "reason": exc.reason, "start": exc.start}
        ) from None
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ValidationError(
                code="file.unsupported_type", params={"path": path, "suffix": repr(suffix)}
            )
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            code="file.not_valid",
            params={"path": path, "format": suffix[1:].upper(), "exc": str(exc)},
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            code="validation.field",
            params={
                "field": path,
                "rule": "must hold a table (object) at the top",
                "value": type(data).__name__,
            },
        )
    return data


def file_kind(data: dict[str, Any]) -> str:
    """``workflow`` when the data defines stages, ``scenario`` when it plays one forward."""
    if "stages" in data:
        return "workflow"
    if isinstance(data.get("workflow"), str) or {"roster", "behaviour"} & set(data):
        return "scenario"
    raise ValidationError(code="cli.neither_workflow_nor_scenario")


def _load_scenario(path: Path, data: dict[str, Any] | None = None) -> Any:
    from campaignflow.simulation import Scenario, load_scenario

    if path.suffix.lower() == ".toml":
        return load_scenario(path)
    return Scenario.from_dict(data or _read_data(path), source=str(path), base_dir=path.parent)


def _existing_file() -> click.Path:
    return click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@cli.command()
@click.argument("file", type=_existing_file())
@_lang_option
def validate(file: Path, lang: str) -> None:
    """Check a workflow or scenario FILE (TOML or JSON); every problem is listed.

    Exit 0 when it is valid, 1 when it is not.
    """
    try:
        data = _read_data(file)
        kind = file_kind(data)
        if kind == "workflow":
            wf = Workflow.from_file(file)
            click.echo(
                messages.render(
                    "cli.valid_workflow",
                    {
                        "name": wf.name,
                        "version": wf.version,
                        "file": str(file),
                        "stages": len(wf.stages),
                        "transitions": len(wf.transitions),
                        "batches": len(wf.batches),
                    },
                    lang,
                )
            )
            return
        scenario = _load_scenario(file, data)
        wf = scenario.load_workflow()
        click.echo(
            messages.render(
                "cli.valid_scenario",
                {
                    "name": scenario.name,
                    "file": str(file),
                    "units": f"{scenario.unit_count():,}",
                    "batches": len(scenario.batches),
                    "workflow": f"{wf.name}@{wf.version}",
                },
                lang,
            )
        )
    except CampaignflowError as exc:
        click.echo(messages.render("cli.invalid", {"message": exc.message(lang)}, lang), err=True)
        sys.exit(EXIT_CHECK_FAILED)


@cli.command()
@click.argument("file", type=_existing_file(), required=False)
@click.option("--preset", type=click.Choice(PRESETS), help="A shipped workflow instead of FILE.")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@_lang_option
def diagram(file: Path | None, preset: str | None, fmt: str, lang: str) -> None:
    """Print the diagram of a workflow FILE (or a scenario's workflow, or --preset NAME)."""
    if (file is None) == (preset is None):
        raise click.UsageError("give either a workflow FILE or --preset NAME")
    if preset is not None:
        wf = load(preset)
    else:
        assert file is not None
        data = _read_data(file)
        if file_kind(data) == "workflow":
            wf = Workflow.from_file(file)
        else:
            wf = _load_scenario(file, data).load_workflow()
    click.echo(wf.diagram(fmt, locale=lang))  # type: ignore[arg-type]


# --- audit ---------------------------------------------------------------------------------


@cli.group()
def audit() -> None:
    """Check a campaign database's tamper-evident audit trail."""


def _checkpoint(value: str) -> Checkpoint:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or not digest:
        raise click.BadParameter(f"must be SEQ:HASH, got {value!r}")
    return Checkpoint(int(seq), digest)


def _records(source: Iterator[AuditRecord], seen: list[int]) -> Iterator[AuditRecord]:
    for record in source:
        seen[0] = record.seq
        yield record


def _verify(
    url: str, campaign_id: str, checkpoints: list[Checkpoint]
) -> tuple[AuditVerification, dict[str, Any] | None]:
    """The verification of one campaign's chain, and the first broken record's data."""
    from campaignflow.store import open_store

    store = open_store(url, campaign_id=campaign_id)
    try:
        with store.transaction(write=False) as tx:
            head = Checkpoint(*tx.audit_head())
            last = [0]
            try:
                result = verify_chain(
                    _records(tx.iter_audit(), last),
                    checkpoints=[*checkpoints, head] if head.seq else checkpoints,
                    anchor=tx.audit_anchor(),
                )
            except (ValueError, KeyError, TypeError, CampaignflowError) as exc:
                # A row that no longer parses is as much a tampering as a wrong hash.
                seq = last[0] + 1
                return AuditVerification(
                    False, last[0], None, seq, f"record {seq} cannot be read: {exc}"
                ), None
            broken: dict[str, Any] | None = None
            if not result.ok and result.broken_at is not None:
                for record in tx.iter_audit():
                    if record.seq == result.broken_at:
                        broken = record.to_data()
                        break
            return result, broken
    finally:
        store.close()


@audit.command("verify")
@click.option(
    "--db", required=True, help="SQLite file path, sqlite:///... or postgresql://... URL."
)
@click.option("--campaign", "campaign_id", help="The campaign to check (default: every one).")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    help="SEQ:HASH exported earlier (catches a truncated or rewritten tail); repeatable.",
)
@_lang_option
def audit_verify(db: str, campaign_id: str | None, checkpoints: tuple[str, ...], lang: str) -> None:
    """Recompute the audit hash chain of the campaign(s) in --db.

    Exit 0 when every chain holds; 1 when one is broken, printing its first broken record.
    """
    from campaignflow.cli._db import campaign_ids, choose_campaign, db_url

    url = db_url(db)
    points = [_checkpoint(c) for c in checkpoints]
    ids = [choose_campaign(url, campaign_id)] if campaign_id else campaign_ids(url)
    if not ids:
        raise BadInput(f"db: {db!r} holds no campaign")
    failed = False
    for cid in ids:
        result, broken = _verify(url, cid, points)
        if result.ok:
            head = result.head
            line = messages.render(
                "cli.audit_ok", {"campaign": cid, "checked": f"{result.checked:,}"}, lang
            )
            if head is not None:
                line += messages.render(
                    "cli.audit_head", {"seq": head.seq, "hash": head.hash}, lang
                )
            click.echo(line)
            continue
        failed = True
        reason = result.reason_text(lang)
        if result.broken_at is not None:
            params = {"campaign": cid, "seq": result.broken_at, "reason": reason}
            click.echo(messages.render("cli.audit_tampered_record", params, lang))
        else:
            params = {"campaign": cid, "reason": reason}
            click.echo(messages.render("cli.audit_tampered_tail", params, lang))
        if broken is not None:
            click.echo(messages.render("cli.first_broken_record", {}, lang))
            click.echo(json.dumps(broken, ensure_ascii=False, sort_keys=True, indent=2))
    if failed:
        sys.exit(EXIT_CHECK_FAILED)


# --- simulate and report -----------------------------------------------------------------


def _print_files(console: Console, files: Any) -> None:
    for note in files.notes:
        console.print(f"note: {note}")
    for path in (files.stages, files.gantt, files.html, files.summary):
        console.print(f"wrote {path}")


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


@cli.command()
@click.argument("scenario", type=_existing_file())
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
@_lang_option
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
    from campaignflow.cli._db import db_url
    from campaignflow.report._charts import require_matplotlib
    from campaignflow.simulation import FAST_THRESHOLD
    from campaignflow.simulation import simulate as run

    if out is not None and no_report:
        raise click.UsageError("--out and --no-report contradict each other")
    if mode == "exact" and shards > 1:
        # Exact mode drives one campaign through one store: there is nothing to shard.
        raise click.UsageError(
            f"--shards applies to fast mode; --mode exact runs in one process, got --shards {shards}"
        )
    plan = _load_scenario(scenario)
    workflow = plan.load_workflow()
    err = _err()
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
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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
    files = None
    if out is not None:
        from campaignflow.report import write_report

        files = write_report(result, out, lang=lang, workflow=workflow)
    if as_json:
        click.echo(result.to_json())
        return
    from campaignflow.cli._show import show_result
    from campaignflow.report import chart_style

    show_result(_out(), result, lang=lang, style=chart_style(workflow, lang))
    if result.mode == "exact" and store is not None:
        err.print(f"campaign database: {store}")
    if files is not None:
        _print_files(err, files)


def _workflow_for(
    url: str, campaign_id: str, workflow: Path | None, preset: str | None, scenario: Path | None
) -> Workflow:
    from campaignflow.cli._db import find_workflow, workflow_refs

    given = [x for x in (workflow, preset, scenario) if x is not None]
    if len(given) > 1:
        raise click.UsageError("give at most one of --workflow, --preset, --scenario")
    if workflow is not None:
        return Workflow.from_file(workflow)
    if preset is not None:
        return load(preset)
    if scenario is not None:
        loaded: Workflow = _load_scenario(scenario).load_workflow()
        return loaded
    refs = workflow_refs(url, campaign_id)
    found = find_workflow(refs)
    ref = f"{found.name}@{found.version}#{found.content_hash[:12]}"
    if ref not in refs:
        _err().print(
            f"note: the campaign ran {', '.join(refs)}; reporting with the shipped preset "
            f"{ref} (pass --workflow or --scenario for its exact batch windows)"
        )
    return found


@cli.command()
@click.option(
    "--db", required=True, help="SQLite file path, sqlite:///... or postgresql://... URL."
)
@click.option("--campaign", "campaign_id", help="The campaign (needed when the db holds several).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write stages.png, gantt.png, report.html and summary.json here.",
)
@click.option("--workflow", type=_existing_file(), help="The workflow file the campaign runs.")
@click.option("--preset", type=click.Choice(PRESETS), help="The shipped preset the campaign runs.")
@click.option("--scenario", type=_existing_file(), help="The scenario that simulated the campaign.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--under",
    help="An organisation id: show its roll-up (its units and the organisations below) "
    "and its stuck units instead of the whole campaign's tables.",
)
@click.option("--depth", type=click.IntRange(0), help="With --under: levels of the tree to list.")
@click.option(
    "--longer-than",
    type=click.IntRange(0, 36_500),
    help="With --under: only units stuck more than this many days in their stage.",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="With --under: stuck units to list (longest in their stage first).",
)
@_lang_option
def report(
    db: str,
    campaign_id: str | None,
    out: Path | None,
    workflow: Path | None,
    preset: str | None,
    scenario: Path | None,
    as_json: bool,
    under: str | None,
    depth: int | None,
    longer_than: int | None,
    limit: int,
    lang: str,
) -> None:
    """Report on a real (or simulated) campaign database: tables, charts and report.html.

    With --under ID: the roll-up of one organisation (a table, the tree as an indented list)
    and the units stuck under it, with the gates that hold them.
    """
    from campaignflow.cli._db import choose_campaign, db_url
    from campaignflow.simulation import summarise

    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    wf = _workflow_for(url, cid, workflow, preset, scenario)
    if under is None and (depth is not None or longer_than is not None):
        raise click.UsageError("--depth and --longer-than go with --under")
    if out is not None:
        from campaignflow.report._charts import require_matplotlib

        require_matplotlib()
    campaign = Campaign(wf, url, campaign_id=cid)
    try:
        if under is not None:
            _rollup(campaign, under, depth, longer_than, limit, as_json=as_json, lang=lang)
            if out is None:
                return
        result = summarise(campaign)
    finally:
        campaign.close()
    if under is not None:
        assert out is not None
        from campaignflow.report import write_report

        _print_files(_err(), write_report(result, out, lang=lang, workflow=wf))
        return
    files = None
    if out is not None:
        from campaignflow.report import write_report

        files = write_report(result, out, lang=lang, workflow=wf)
    if as_json:
        click.echo(result.to_json())
        return
    from campaignflow.cli._show import show_result
    from campaignflow.report import chart_style

    show_result(_out(), result, lang=lang, style=chart_style(wf, lang))
    if files is not None:
        _print_files(_err(), files)


def _rollup(
    campaign: Campaign,
    under: str,
    depth: int | None,
    longer_than: int | None,
    limit: int,
    *,
    as_json: bool,
    lang: str,
) -> None:
    """Print the roll-up under an organisation and its stuck units (tables or JSON)."""
    import attrs

    node = campaign.progress(under=under, depth=depth)
    stuck = campaign.stuck(under=under, longer_than=longer_than, limit=limit)
    if as_json:

        def unit_entry(entry: Any) -> dict[str, Any]:
            return {
                "unit": entry.unit.id,
                "name": entry.unit.name,
                "parent": entry.unit.parent,
                "batch": entry.state.batch,
                "stage": entry.state.stage,
                "days_in_stage": entry.days_in_stage,
                "refused_on": entry.refusal.on.isoformat(),
                "failures": [
                    {"code": v.code, "params": dict(v.params)} for v in entry.refusal.failures
                ],
            }

        data = {
            "rollup": attrs.asdict(node) | {"on_time_share": node.on_time_share},
            "stuck": {"total": stuck.total, "units": [unit_entry(e) for e in stuck.units]},
        }
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str))
        return
    from campaignflow.cli._show import show_rollup
    from campaignflow.report import chart_style

    show_rollup(_out(), node, stuck, lang=lang, style=chart_style(campaign.workflow, lang))


@cli.command()
@click.argument("new_workflow", metavar="NEW", type=_existing_file())
@click.option(
    "--db", required=True, help="SQLite file path, sqlite:///... or postgresql://... URL."
)
@click.option("--campaign", "campaign_id", help="The campaign (needed when the db holds several).")
@click.option(
    "--policy",
    type=click.Choice(["pin", "migrate", "from_batch"]),
    default="pin",
    show_default=True,
    help="pin: units in flight finish on their version; migrate: every unit moves to NEW; "
    "from_batch: as pin, from batch --from-batch on.",
)
@click.option("--from-batch", type=click.IntRange(1), help="With --policy from_batch.")
@click.option(
    "--map",
    "stage_map",
    multiple=True,
    metavar="OLD=NEW",
    help="With --policy migrate: a stage NEW renamed or removed, and where its units go.",
)
@click.option(
    "--dry-run", is_flag=True, help="List every unit that would change, and why; change nothing."
)
@click.option("--workflow", type=_existing_file(), help="The workflow file the campaign runs now.")
@click.option("--preset", type=click.Choice(PRESETS), help="The shipped preset it runs now.")
@click.option("--scenario", type=_existing_file(), help="The scenario that simulated it.")
@click.option(
    "--request-id", help="Makes the command idempotent: a repeat returns the first result."
)
@click.option("--json", "as_json", is_flag=True, help="Print the adoption as JSON on stdout.")
@_lang_option
def adopt(
    new_workflow: Path,
    db: str,
    campaign_id: str | None,
    policy: str,
    from_batch: int | None,
    stage_map: tuple[str, ...],
    dry_run: bool,
    workflow: Path | None,
    preset: str | None,
    scenario: Path | None,
    request_id: str | None,
    as_json: bool,
    lang: str,
) -> None:
    """Adopt a NEW version of the campaign's workflow (a TOML or JSON file), in one audited command.

    A plan with problems (a unit mapped to a stage NEW lacks, a unit left without a stage)
    is refused as a whole: nothing changes, every problem is listed, exit code 2.
    """
    import attrs

    from campaignflow.cli._db import choose_campaign, db_url

    mapping: dict[str, str] = {}
    for item in stage_map:
        old, sep, target = item.partition("=")
        if not sep or not old or not target:
            raise click.BadParameter(f"must be OLD=NEW, got {item!r}", param_hint="--map")
        mapping[old] = target
    new = Workflow.from_file(new_workflow)
    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    current = _workflow_for(url, cid, workflow, preset, scenario)
    campaign = Campaign(current, url, campaign_id=cid)
    try:
        adoption = campaign.adopt(
            new,
            policy=policy,  # type: ignore[arg-type]
            stage_map=mapping or None,
            from_batch=from_batch,
            dry_run=dry_run,
            request_id=request_id,
        )
    finally:
        campaign.close()
    if as_json:
        click.echo(
            json.dumps(attrs.asdict(adoption), ensure_ascii=False, sort_keys=True, default=str)
        )
        return
    click.echo(adoption.explain(lang))
