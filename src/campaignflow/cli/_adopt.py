"""``adopt``: move a campaign onto a new version of its workflow (a dry run by default)."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import click

from campaignflow.campaign import Campaign
from campaignflow.cli._common import (
    WorkflowSource,
    db_option,
    existing_file,
    lang_option,
    plugin_option,
    workflow_for,
    workflow_source_options,
)
from campaignflow.cli._db import choose_campaign, db_url
from campaignflow.cli._local import LocalCommand, choice, int_range, say
from campaignflow.workflow import Workflow

__all__ = ["adopt"]


@click.command(cls=LocalCommand)
@click.argument("new_workflow", metavar="NEW", type=existing_file())
@db_option
@click.option("--campaign", "campaign_id", help="The campaign (needed when the db holds several).")
@click.option(
    "--policy",
    type=choice(["pin", "migrate", "from_batch"]),
    default="pin",
    show_default=True,
    help="pin: units in flight finish on their version; migrate: every unit moves to NEW; "
    "from_batch: as pin, from batch --from-batch on.",
)
@click.option("--from-batch", type=int_range(1), help="With --policy from_batch.")
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
@workflow_source_options(
    workflow="The workflow file the campaign runs now.",
    preset="The shipped preset it runs now.",
    scenario="The scenario that simulated it.",
)
@click.option(
    "--request-id", help="Makes the command idempotent: a repeat returns the first result."
)
@click.option("--json", "as_json", is_flag=True, help="Print the adoption as JSON on stdout.")
@plugin_option
@lang_option
def adopt(
    new_workflow: Path,
    db: str,
    campaign_id: str | None,
    policy: str,
    from_batch: int | None,
    stage_map: tuple[str, ...],
    dry_run: bool,
    source: WorkflowSource,
    request_id: str | None,
    as_json: bool,
    lang: str,
) -> None:
    """Adopt a NEW version of the campaign's workflow (a TOML or JSON file), in one audited command.

    A plan with problems (a unit mapped to a stage NEW lacks, a unit left without a stage)
    is refused as a whole: nothing changes, every problem is listed, exit code 2.
    """
    mapping: dict[str, str] = {}
    for item in stage_map:
        old, sep, target = item.partition("=")
        if not sep or not old or not target:
            message = say("cli.usage.map_entry", lang, value=repr(item))
            raise click.BadParameter(message, param_hint="--map")
        mapping[old] = target
    new = Workflow.from_file(new_workflow)
    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    current = workflow_for(url, cid, source)
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
