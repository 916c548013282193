"""The notification consumer: the campaign's events become rows of the OA's ``Notification`` table.

Exactly once: each page of events is turned into messages, and the feed's cursor moves
past it, in ONE ``transaction.atomic()`` of the OA's database. A crash before the commit
leaves neither the messages nor the new cursor, so the next run reads the same page again;
after the commit the cursor is past it, so no run reads it twice. The cursor's row is
locked (``select_for_update``) so two consumers running at once take turns.

Run it from the host's scheduler: ``python manage.py oa_notify CAMPAIGN`` (it calls
``send_reminders()`` first, so the day's reminders and work-item changes are delivered too).
"""

from __future__ import annotations

from django.db import transaction

import campaignflow as cf
from oa.campaigns import campaign, database
from oa.models import FeedCursor, Notification


def recipients(event: cf.Event) -> list[str]:
    """Whom an event is for: the roles it notifies, else its unit, else the office."""
    notify = event.params.get("notify")
    if isinstance(notify, list) and notify:
        return [str(role) for role in notify]
    return [event.unit_id or "office"]


def deliver(campaign_id: str, *, page_size: int = 100) -> int:
    """Write the messages of every event not yet delivered; returns how many were written."""
    camp = campaign(campaign_id)
    using = database()
    written = 0
    while True:
        with transaction.atomic(using=using):
            cursor, _ = (
                FeedCursor.objects.using(using)
                .select_for_update()
                .get_or_create(campaign_id=campaign_id)
            )
            page = camp.events(after=cursor.seq, limit=page_size)
            rows = [
                Notification(
                    campaign_id=campaign_id,
                    event_id=event.id,
                    cursor=event.cursor,
                    kind=event.kind,
                    recipient=recipient,
                    unit_id=event.unit_id or "",
                    text=event.explain("zh_CN"),
                )
                for event in page.events
                for recipient in recipients(event)
            ]
            Notification.objects.using(using).bulk_create(rows)
            cursor.seq = page.cursor
            cursor.save(using=using, update_fields=["seq"])
        written += len(rows)
        if not page.more:
            return written
