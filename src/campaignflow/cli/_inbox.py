"""``inbox``: the work items (待办) awaiting a role, as ``Campaign.inbox`` pages them."""

from __future__ import annotations

import json
from datetime import date

import attrs
import click

from campaignflow._words.records import Actor
from campaignflow._words.work import WORK_KINDS
from campaignflow.campaign import Campaign
from campaignflow.cli._common import (
    WorkflowSource,
    db_option,
    lang_option,
    plugin_option,
    workflow_for,
    workflow_source_options,
)
from campaignflow.cli._db import choose_campaign, db_url
from campaignflow.cli._local import LocalCommand, choice, int_range, say

__all__ = ["inbox"]


@click.command(cls=LocalCommand)
@db_option
@click.option(
    "--as",
    "who",
    required=True,
    metavar="ROLE[@ORG]",
    help="The role whose work items to list, and the organisation whose sub-tree it covers.",
)
@click.option("--unit", help="Also the items the unit owes itself (an actor of that unit).")
@click.option("--kind", type=choice(WORK_KINDS), help="Only items of this kind.")
@click.option(
    "--due-before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only items due before this day.",
)
@click.option(
    "--limit", type=int_range(1, 1000), default=50, show_default=True, help="Items per page."
)
@click.option("--after", help="The cursor a previous page printed: show the next page.")
@click.option("--campaign", "campaign_id", help="The campaign (needed when the db holds several).")
@workflow_source_options(
    workflow="The workflow file the campaign runs.",
    preset="The shipped preset it runs.",
    scenario="The scenario that simulated it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON on stdout.")
@plugin_option
@lang_option
def inbox(
    db: str,
    who: str,
    unit: str | None,
    kind: str | None,
    due_before: object,
    limit: int,
    after: str | None,
    campaign_id: str | None,
    source: WorkflowSource,
    as_json: bool,
    lang: str,
) -> None:
    """List the work items awaiting ROLE in ORG's sub-tree (待办), a page at a time."""
    role, _, org = who.partition("@")
    actor = Actor(id=f"cli-{role or 'unit'}", roles=frozenset({role} if role else ()), unit=unit)
    due = due_before.date() if hasattr(due_before, "date") else None
    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    campaign = Campaign(workflow_for(url, cid, source), url, campaign_id=cid)
    try:
        page = campaign.inbox(
            actor, under=org or None, kind=kind, due_before=due, limit=limit, after=after
        )
    finally:
        campaign.close()
    if as_json:
        data = {
            "items": [
                {
                    **attrs.asdict(item, recurse=False, filter=lambda a, _: a.name != "verdicts"),
                    "codes": list(item.codes),
                    "text": item.explain(lang),
                }
                for item in page.items
            ],
            "cursor": page.cursor,
            "more": page.more,
        }
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, default=_day))
        return
    if not page.items:
        click.echo(say("cli.inbox.empty", lang))
        return
    for item in page.items:
        click.echo(
            say(
                "cli.inbox.item",
                lang,
                unit=item.unit_id,
                kind=item.kind,
                stage=item.stage,
                since=_day(item.since),
                deadline=_day(item.deadline),
            )
        )
        for line in item.explain(lang).splitlines():
            click.echo(f"    {line}")
    if page.more:
        click.echo(say("cli.inbox.more", lang, cursor=page.cursor))


def _day(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else "-"
