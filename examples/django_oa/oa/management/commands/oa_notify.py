"""``python manage.py oa_notify CAMPAIGN``: send the due reminders, deliver new events as messages.

Run it from cron (or Celery beat) as often as messages should go out; running it twice,
or again after a crash, delivers nothing twice (oa/notifications.py).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from oa.campaigns import campaign, database
from oa.notifications import deliver


class Command(BaseCommand):
    help = "Send the campaign's due reminders and deliver its new events as notifications."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign_id")
        parser.add_argument("--no-reminders", action="store_true")

    def handle(self, *args: Any, campaign_id: str, no_reminders: bool, **options: Any) -> None:
        if not no_reminders:
            with transaction.atomic(using=database()):
                campaign(campaign_id).send_reminders()
        written = deliver(campaign_id)
        self.stdout.write(f"{campaign_id}: {written} notifications")
