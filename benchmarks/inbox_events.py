"""The work list and the event feed at scale: an inbox page at 1 M units, the feed against a sweep.

* ``inbox first page`` / ``inbox next page``: ``Campaign.inbox(actor, under=..., limit=50)``
  on SQLite with ``--units`` units (1,000,000 by default) each holding one work item (half
  of them approvals awaiting the supervision group, half facts they owe), spread over 100
  districts (the odd-numbered ones hold the approvals). The items are written in bulk with the driver (as ``rollup.py`` does), marked
  current (the items' seq is the audit head, their day today), so the timing is the page
  itself: median ms over ``--repeats`` calls, for a district and for the whole campaign,
  for the first page, the next one, and one 90 % of the way through the list.
* ``sweep`` / ``feed``: ``advance_all`` moves ``--sweep-units`` units (20,000 by default)
  on SQLite, units per second; then the event feed is read to its end in pages of 1,000,
  events per second: the feed keeps up when its rate is above the sweep's. Twice: on a
  store whose inbox was never read (the sweep keeps no work items, one event per unit), and
  on one whose inbox was read first (``items kept``: the sweep keeps each moved unit's
  items in its transaction, and the feed carries their ``work_item`` events too).

Run: ``python benchmarks/inbox_events.py [--units N] [--sweep-units M] [--repeats R] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import campaignflow as cf
from campaignflow.audit import canonical_json
from campaignflow.store import SQLiteStore

TODAY = date(2005, 2, 1)
LEADER = cf.Actor(id="leader", roles={"leading_group"})


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _median_ms(call: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def inbox_rows(units: int, repeats: int, folder: Path) -> dict[str, float]:
    path = folder / "inbox.db"
    camp = cf.Campaign(
        cf.presets.district_2005(),
        store=SQLiteStore(path, campaign_id="b"),
        clock=cf.FixedClock(TODAY),
        campaign_id="b",
    )
    camp.add_organisations(
        [cf.Organisation("prov", "省", "province")]
        + [cf.Organisation(f"d{i:03}", f"区{i}", "district", "prov") for i in range(100)]
    )
    camp.add_units([cf.Unit(id="seed", name="seed", kind="organ", batch=1, members=1)])
    head = camp.audit_checkpoint().seq
    camp.close()
    _say(f"writing {units:,} work items")
    approval = canonical_json(
        [
            {
                "guard": "approved_by",
                "passed": False,
                "code": "approval.missing",
                "params": {"role": "supervision_group"},
            }
        ]
    )
    owed = canonical_json(
        [
            {
                "guard": "min_study_hours",
                "passed": False,
                "code": "study_hours.insufficient",
                "params": {"actual": 8, "required": 40},
            }
        ]
    )
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO cf_work_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    "b",
                    f"u{n:07}",
                    "approval" if n % 2 else "facts",
                    "supervision_group" if n % 2 else "",
                    f"d{n % 100:03}",
                    "study_mobilization",
                    "2005-01-10",
                    "2005-06-30",
                    approval if n % 2 else owed,
                )
                for n in range(units)
            ),
        )
        conn.execute(
            "UPDATE cf_campaigns SET items_seq = ?, items_on = ? WHERE campaign_id = 'b'",
            (head, TODAY.isoformat()),
        )
    conn.execute("ANALYZE")
    conn.close()
    camp = cf.Campaign(
        cf.presets.district_2005(),
        store=SQLiteStore(path, campaign_id="b"),
        clock=cf.FixedClock(TODAY),
        campaign_id="b",
    )
    inspector = cf.Actor(id="zhang", roles={"supervision_group"})
    rows: dict[str, float] = {}
    for label, under in (("district", "d041"), ("province", "prov"), ("whole campaign", None)):
        first = camp.inbox(inspector, under=under)
        assert len(first.items) == 50, label
        assert first.more, label
        rows[f"inbox first page ({label})"] = _median_ms(
            lambda u=under: camp.inbox(inspector, under=u), repeats
        )
        rows[f"inbox next page ({label})"] = _median_ms(
            lambda u=under, c=first.cursor: camp.inbox(inspector, under=u, after=c), repeats
        )
        # A page deep in the list: its cursor 90 % of the way through the units.
        deep = json.dumps([f"u{units * 9 // 10:07}", "approval", "supervision_group"])
        assert camp.inbox(inspector, under=under, after=deep).items, label
        rows[f"inbox page at 90 % ({label})"] = _median_ms(
            lambda u=under, c=deep: camp.inbox(inspector, under=u, after=c), repeats
        )
    camp.close()
    return rows


def feed_rows(units: int, folder: Path, *, kept: bool = False) -> dict[str, float]:
    flow = cf.Workflow.from_dict(
        {
            "name": "bench",
            "initial": "pending",
            "stages": [
                {"id": "pending", "kind": "waiting"},
                {"id": "a"},
                {"id": "done", "kind": "final"},
            ],
            "transitions": [
                {"trigger": "start", "source": "pending", "dest": "a"},
                {"source": "a", "dest": "done"},
            ],
        }
    )
    name = "feed-kept.db" if kept else "feed.db"
    camp = cf.Campaign(flow, store=SQLiteStore(folder / name), clock=cf.FixedClock(TODAY))
    if kept:
        camp.inbox(LEADER)  # from here on, every command keeps the work items it changes
    camp.add_units(
        [cf.Unit(id=f"u{n:06}", name="u", kind="organ", batch=1, members=1) for n in range(units)]
    )
    camp.start_batch(1, actor=LEADER)
    cursor = camp.audit_checkpoint().seq
    start = time.perf_counter()
    moved = sum(o.advanced for o in camp.advance_all())
    sweep = time.perf_counter() - start
    assert moved == units
    start = time.perf_counter()
    events = 0
    while True:
        page = camp.events(after=cursor, limit=1000)
        events += len(page.events)
        cursor = page.cursor
        if not page.more:
            break
    feed = time.perf_counter() - start
    assert events == units if not kept else events > units
    camp.close()
    label = " (items kept)" if kept else ""
    return {
        f"sweep units/s{label}": units / sweep,
        f"feed events/s{label}": events / feed,
        f"feed events per unit moved{label}": events / units,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--sweep-units", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as tmp:
        rows = inbox_rows(args.units, args.repeats, Path(tmp))
        _say("sweeping")
        rows.update(feed_rows(args.sweep_units, Path(tmp)))
        rows.update(feed_rows(args.sweep_units, Path(tmp), kept=True))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for name, value in rows.items():
        unit = "" if "/s" in name or "per unit" in name else " ms"
        print(f"{name:40} {value:12,.1f}{unit}")


if __name__ == "__main__":
    main()
