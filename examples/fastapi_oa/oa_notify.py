"""The FastAPI OA's notification consumer: campaign events become rows of ``oa_api_notification``.

Exactly once: each page of events is turned into messages, and the feed's cursor
(``oa_api_feed_cursor``) moves past it, in ONE SQLAlchemy transaction of the OA's database.
A crash before the commit leaves neither the messages nor the new cursor, so the next run
reads the same page again; after the commit the cursor is past it, so no run reads it
twice. On PostgreSQL the cursor's row is locked (``FOR UPDATE``) so two consumers take
turns; on SQLite the unique (event, recipient) refuses the slower one's page.

Run it from the host's scheduler::

    OA_TODAY=2005-02-10 python oa_notify.py CAMPAIGN

(``send_reminders()`` first, so the day's reminders and work-item changes go out too.)
"""

from __future__ import annotations

import os
import sys
from datetime import date

import sqlalchemy as sa
from oa_api import WORKFLOW, FeedCursor, Notification, engine_from_env, init_db
from sqlalchemy.orm import Session

import campaignflow as cf
from campaignflow.contrib.sqlalchemy import SQLAlchemyStore


def recipients(event: cf.Event) -> list[str]:
    """Whom an event is for: the roles it notifies, else its unit, else the office."""
    notify = event.params.get("notify")
    if isinstance(notify, list) and notify:
        return [str(role) for role in notify]
    return [event.unit_id or "office"]


def _campaign(session: Session, campaign_id: str, clock: cf.Clock) -> cf.Campaign:
    store = SQLAlchemyStore(session, campaign_id=campaign_id)
    return cf.Campaign(WORKFLOW, store=store, clock=clock, campaign_id=campaign_id)


def deliver(engine: sa.Engine, campaign_id: str, *, clock: cf.Clock, page_size: int = 100) -> int:
    """Write the messages of every event not yet delivered; returns how many were written."""
    written = 0
    while True:
        with Session(engine) as session, session.begin():
            cursor = session.scalars(
                sa.select(FeedCursor).where(FeedCursor.campaign_id == campaign_id).with_for_update()
            ).one_or_none()
            if cursor is None:
                cursor = FeedCursor(campaign_id=campaign_id, seq=0)
                session.add(cursor)
            page = _campaign(session, campaign_id, clock).events(after=cursor.seq, limit=page_size)
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
            session.add_all(rows)
            cursor.seq = page.cursor
        written += len(rows)
        if not page.more:
            return written


def send_reminders_and_deliver(engine: sa.Engine, campaign_id: str, *, clock: cf.Clock) -> int:
    """The scheduled job: the reminders due today, then every new event as messages."""
    with Session(engine) as session, session.begin():
        _campaign(session, campaign_id, clock).send_reminders()
    return deliver(engine, campaign_id, clock=clock)


def main(argv: list[str]) -> int:
    """``python oa_notify.py CAMPAIGN``: prints how many notifications were written."""
    if len(argv) != 1:
        print("usage: python oa_notify.py CAMPAIGN", file=sys.stderr)
        return 2
    today = os.environ.get("OA_TODAY")
    clock = cf.FixedClock(date.fromisoformat(today)) if today else cf.SystemClock()
    engine = engine_from_env()
    init_db(engine)
    written = send_reminders_and_deliver(engine, argv[0], clock=clock)
    print(f"{argv[0]}: {written} notifications")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
