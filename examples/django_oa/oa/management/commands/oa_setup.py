"""``python manage.py oa_setup CAMPAIGN``: register the demo units and start batch 1.

A deployment imports its roster from the personnel system instead; this is the smallest
roster that lets the three endpoints be tried by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

import campaignflow as cf
from oa.campaigns import campaign, database

UNITS = [
    cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32),
    cf.Unit(id="edu-03", name="区第三中学党支部", kind="school", batch=1, members=21),
]


class Command(BaseCommand):
    help = "Register the demo units of a campaign and start its first batch."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign_id")

    def handle(self, *args: Any, campaign_id: str, **options: Any) -> None:
        camp = campaign(campaign_id)
        with transaction.atomic(using=database()):
            added = camp.add_units(u for u in UNITS if not _known(camp, u.id))
            started = [
                o.unit_id
                for o in camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
                if o.advanced
            ]
        self.stdout.write(f"{campaign_id}: {added} units added, started: {', '.join(started)}")


def _known(camp: cf.Campaign, unit_id: str) -> bool:
    try:
        camp.state(unit_id)
    except cf.UnknownUnit:
        return False
    return True
