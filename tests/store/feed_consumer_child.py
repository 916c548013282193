"""The event-feed crash test's consumer: delivers events into its own SQLite database until killed.

Run by path with ``sys.executable`` (it imports nothing from the test tree):

    python tests/store/feed_consumer_child.py STORE_URL CAMPAIGN_ID HOST_DB SEED DAY [--drain]

It is the host of docs/events.md, "keep the cursor in your own transaction": in one
transaction of ``HOST_DB`` it reads its cursor, writes one ``delivered`` row per event of the
page ``Campaign.events(after=cursor)`` returns and moves the cursor on. The ``delivered``
table has no unique key, so a redelivery would show as a second row, not as an error. Now and
then, as a host's scheduled job would, it also calls ``send_reminders()`` and reads an inbox
(both write to the campaign's store: work-item and reminder records), on a ``FixedClock`` at
``DAY`` moving on a few hours a step. It prints ``ready``, then one line per step::

    <step> page <cursor> <events delivered>   |   <step> remind <sent>   |   <step> inbox <items>

and a line only after the step returned (so after its host transaction committed). With
``--drain`` it only consumes, until a page says no more, prints ``drained <cursor>`` and exits 0.
Anything the campaign raises ends it with a ``crash`` line and exit status 3.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import traceback
from datetime import date, timedelta

import campaignflow as cf

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})


def emit(text: str) -> None:
    """One whole line on stdout in one write (atomic on a pipe; no buffer survives a kill)."""
    os.write(1, (text.replace("\n", " | ") + "\n").encode())


def open_host(path: str) -> sqlite3.Connection:
    """The host's database: the delivered events and the cursor (autocommit; explicit BEGIN)."""
    host = sqlite3.connect(path, isolation_level=None, timeout=60)
    host.execute(
        "CREATE TABLE IF NOT EXISTS delivered (seq INTEGER, event_id TEXT, kind TEXT, body TEXT)"
    )
    host.execute("CREATE TABLE IF NOT EXISTS feed_cursor (name TEXT PRIMARY KEY, seq INTEGER)")
    host.execute("INSERT OR IGNORE INTO feed_cursor VALUES ('campaign', 0)")
    return host


def consume(camp: cf.Campaign, host: sqlite3.Connection, limit: int) -> tuple[int, int, bool]:
    """Deliver one page in one host transaction; returns (cursor, delivered, more)."""
    host.execute("BEGIN IMMEDIATE")
    try:
        (after,) = host.execute("SELECT seq FROM feed_cursor WHERE name = 'campaign'").fetchone()
        page = camp.events(after=after, limit=limit)
        for event in page.events:  # one message at a time: a kill may land between any two
            body = event.explain("zh_CN")
            host.execute(
                "INSERT INTO delivered VALUES (?, ?, ?, ?)",
                (event.cursor, event.id, event.kind, body),
            )
        host.execute("UPDATE feed_cursor SET seq = ? WHERE name = 'campaign'", (page.cursor,))
    except BaseException:
        host.execute("ROLLBACK")
        raise
    host.execute("COMMIT")
    return page.cursor, len(page.events), page.more


def run(url: str, campaign_id: str, host_db: str, seed: int, day: date, drain: bool) -> None:
    rng = random.Random(seed)
    clock = cf.FixedClock(day)
    camp = cf.Campaign(cf.presets.district_2005(), store=url, clock=clock, campaign_id=campaign_id)
    host = open_host(host_db)
    emit("ready")
    step = 0
    while True:
        step += 1
        if drain:
            cursor, count, more = consume(camp, host, 500)
            if not more:
                emit(f"drained {cursor}")
                return
            continue
        clock.set(clock.now() + timedelta(hours=rng.randrange(0, 12)))
        roll = rng.random()
        if roll < 0.08:
            emit(f"{step} remind {len(camp.send_reminders())}")
        elif roll < 0.12:
            emit(f"{step} inbox {len(camp.inbox(INSPECTOR, limit=20).items)}")
        else:
            cursor, count, _ = consume(camp, host, rng.choice((1, 2, 5, 20, 100)))
            emit(f"{step} page {cursor} {count}")


def main(argv: list[str]) -> None:
    drain = "--drain" in argv
    args = [a for a in argv if a != "--drain"]
    if len(args) != 5:
        emit(
            f"crash usage: feed_consumer_child.py URL CAMPAIGN HOST_DB SEED DAY [--drain], got {argv}"
        )
        sys.exit(2)
    try:
        run(args[0], args[1], args[2], int(args[3]), date.fromisoformat(args[4]), drain)
    except BaseException:
        emit("crash " + traceback.format_exc())
        os._exit(3)


if __name__ == "__main__":
    main(sys.argv[1:])
