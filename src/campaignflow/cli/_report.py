"""``report``: the results of a real campaign database, or a rollup of its organisation tree."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import click

from campaignflow.campaign import Campaign
from campaignflow.cli._common import (
    WorkflowSource,
    db_option,
    err_console,
    lang_option,
    load_scenario_file,
    out_console,
    plugin_option,
    present,
    print_files,
    workflow_for,
    workflow_source_options,
)
from campaignflow.cli._db import choose_campaign, db_url, load_run
from campaignflow.cli._local import LocalCommand, int_range, path, usage_error
from campaignflow.cli._outputs import REPORT_FILES, check_outputs, write_outputs
from campaignflow.cli._show import show_rollup
from campaignflow.cli._xlsx import check_xlsx, write_xlsx
from campaignflow.errors import CampaignflowError
from campaignflow.i18n import messages
from campaignflow.report import chart_style
from campaignflow.report._charts import require_matplotlib
from campaignflow.simulation import summarise
from campaignflow.workflow import Workflow

__all__ = ["report"]


@click.command(cls=LocalCommand)
@db_option
@click.option("--campaign", "campaign_id", help="The campaign (needed when the db holds several).")
@click.option(
    "--out",
    type=path(file_okay=False, path_type=Path),
    help="Write stages.png, gantt.png, report.html and summary.json here.",
)
@workflow_source_options(
    workflow="The workflow file the campaign runs.",
    preset="The shipped preset the campaign runs.",
    scenario="The scenario that simulated the campaign.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--under",
    help="An organisation id: show its roll-up (its units and the organisations below) "
    "and its stuck units instead of the whole campaign's tables.",
)
@click.option("--depth", type=int_range(0), help="With --under: levels of the tree to list.")
@click.option(
    "--longer-than",
    type=int_range(0, 36_500),
    help="With --under: only units stuck more than this many days in their stage.",
)
@click.option(
    "--limit",
    type=int_range(1),
    default=50,
    show_default=True,
    help="With --under: stuck units to list (longest in their stage first).",
)
@click.option(
    "--xlsx",
    "xlsx",
    type=path(dir_okay=False, path_type=Path),
    help="Also write the spreadsheet (extra xlsx): batches, organisation roll-ups, stuck "
    "units and the timeline (of the units under --under, when given).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace report files this command wrote earlier for the same campaign.",
)
@plugin_option
@lang_option
def report(
    db: str,
    campaign_id: str | None,
    out: Path | None,
    source: WorkflowSource,
    as_json: bool,
    under: str | None,
    depth: int | None,
    longer_than: int | None,
    limit: int,
    xlsx: Path | None,
    overwrite: bool,
    lang: str,
) -> None:
    """Report on a real (or simulated) campaign database: tables, charts and report.html.

    With --under ID: the roll-up of one organisation (a table, the tree as an indented list)
    and the units stuck under it, with the gates that hold them.
    """
    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    run = load_run(url, cid)
    if run is not None and not source.given:
        wf = _simulated_workflow(run)
    else:
        wf = workflow_for(url, cid, source)
    if under is None and (depth is not None or longer_than is not None):
        raise usage_error("cli.usage.depth_needs_under")
    replace: list[Path] = []
    if out is not None:
        require_matplotlib()
        replace = check_outputs(out, REPORT_FILES, overwrite=overwrite, campaign_id=cid)
    replace_xlsx = xlsx is not None and check_xlsx(xlsx, overwrite=overwrite, campaign_id=cid)
    campaign = Campaign(wf, url, campaign_id=cid)
    try:
        if xlsx is not None:
            write_xlsx(campaign, xlsx, replace=replace_xlsx, lang=lang, under=under)
            err_console().print(
                messages.render("cli.wrote_xlsx", {"path": str(xlsx)}, lang), markup=False
            )
        if under is not None:
            _rollup(campaign, under, depth, longer_than, limit, as_json=as_json, lang=lang)
            if out is None:
                return
        result = summarise(campaign, **_as_simulated(run))
    finally:
        campaign.close()
    files = write_outputs(result, out, replace, lang=lang, workflow=wf) if out is not None else None
    if under is not None:
        assert files is not None
        print_files(err_console(), files)
        return
    present(result, as_json=as_json, lang=lang, workflow=wf)
    if as_json:
        return
    if files is not None:
        print_files(err_console(), files)


def _simulated_workflow(run: dict[str, Any]) -> Workflow:
    """The workflow a simulation ran, as ``simulate`` kept it in its database."""
    try:
        return Workflow.from_dict(run["workflow"])
    except (CampaignflowError, KeyError, TypeError):
        # A custom guard the scenario's plugins register: load the scenario itself.
        source = Path(str(run.get("scenario_file", "")))
        if not source.is_file():
            raise
        loaded: Workflow = load_scenario_file(source).load_workflow()
        return loaded


def _as_simulated(run: dict[str, Any] | None) -> dict[str, Any]:
    """``summarise``'s arguments that make a simulation's report its own summary again."""
    if run is None:
        return {}
    try:
        return {
            "scenario_name": str(run["scenario"]),
            "seed": int(run["seed"]),
            "mode": str(run["mode"]),
            "start": date.fromisoformat(run["start"]),
            "end": date.fromisoformat(run["end"]),
        }
    except (KeyError, TypeError, ValueError):
        return {}


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

    show_rollup(out_console(), node, stuck, lang=lang, style=chart_style(campaign.workflow, lang))
