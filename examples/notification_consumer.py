"""A host's notification consumer: campaign events become rows of its own message table.

The host keeps the feed's cursor in the same transaction as the messages it writes, so a
crash between the two can neither lose a message nor write one twice (docs/events.md).
Reminders come from the workflow's ``[[reminders]]`` (examples/reminders.toml) when the
host's scheduler calls ``send_reminders()``; the work list comes from ``inbox``.

Run: python examples/notification_consumer.py
"""

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import campaignflow as cf

HERE = Path(__file__).parent


def open_host_db() -> sqlite3.Connection:
    """The host's own database: a message table and the feed's cursor."""
    host = sqlite3.connect(":memory:")
    with host:
        host.execute("CREATE TABLE messages (event_id TEXT PRIMARY KEY, recipient TEXT, body TEXT)")
        host.execute("CREATE TABLE feed_cursor (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
        host.execute("INSERT INTO feed_cursor VALUES ('campaign', 0)")
    return host


def consume(camp: cf.Campaign, host: sqlite3.Connection) -> int:
    """Turn every new event into messages; returns how many were written."""
    written = 0
    while True:
        (after,) = host.execute("SELECT seq FROM feed_cursor WHERE name = 'campaign'").fetchone()
        page = camp.events(after=after, limit=100)
        with host:  # one transaction: the messages and the cursor commit together
            for event in page.events:
                recipients = event.params.get("notify") or [event.unit_id or "office"]
                for recipient in recipients:
                    host.execute(
                        "INSERT INTO messages VALUES (?, ?, ?)",
                        (f"{event.id}/{recipient}", recipient, event.explain("zh_CN")),
                    )
                    written += 1
            host.execute("UPDATE feed_cursor SET seq = ? WHERE name = 'campaign'", (page.cursor,))
        if not page.more:
            return written


def main() -> None:
    """A unit waits for the supervision group; the reminder and escalation reach the host."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = cf.Campaign(cf.Workflow.from_file(HERE / "reminders.toml"), clock=clock)
    camp.add_organisations([cf.Organisation("east", "东区", "district")])
    camp.add_units(
        [
            cf.Unit(
                id="fin-01",
                name="区财政局机关党支部",
                kind="organ",
                batch=1,
                members=32,
                parent="east",
            )
        ]
    )
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    host = open_host_db()
    assert consume(camp, host) == 2  # the unit joined, the unit started

    inspector = cf.Actor(id="zhang", roles={"supervision_group"})
    (item,) = camp.inbox(inspector, under="east").items
    print(f"待办 for {inspector.id}: {item.unit_id} {item.kind}, due {item.deadline}")

    for day in range(1, 12):  # the host's daily job
        clock.set(date(2005, 1, 10) + timedelta(days=day))
        camp.send_reminders()
        consume(camp, host)
    assert consume(camp, host) == 0  # nothing new, nothing twice
    for recipient, body in host.execute(
        "SELECT recipient, body FROM messages WHERE recipient LIKE '%group' ORDER BY rowid"
    ):
        print(f"{recipient}: {body}")
    recipients = [r for (r,) in host.execute("SELECT recipient FROM messages ORDER BY rowid")]
    assert recipients[-2:] == ["supervision_group", "leading_group"], recipients

    camp.approve("fin-01", actor=inspector)
    assert camp.inbox(inspector, under="east").items == ()


if __name__ == "__main__":
    main()
