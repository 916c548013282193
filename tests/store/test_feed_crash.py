"""The event feed is delivered exactly once though its writer and its consumer are SIGKILLed.

A writer process (the crash harness's ``crash_child.py``: random commands, repeated request
ids) and a consumer process (``feed_consumer_child.py``: keeps its cursor and the delivered
event ids in one transaction of its own SQLite database, and now and then calls
``send_reminders`` and ``inbox``, which write too) run side by side on one campaign; at seeded
random moments one or both are killed and started again, each where it left off. At the end a
consumer that is not killed drains the feed, and:

- every event of the committed audit trail was delivered exactly once: no duplicate, no gap,
  in cursor order;
- every request id the writer reported (a first send or a redelivery) has the events of one
  command: a redelivery added none.

Slow (``-m slow``). Kill cycles: ``CF_FEED_CRASH_KILLS`` (SQLite, default 20) and
``CF_FEED_CRASH_KILLS_PG`` (PostgreSQL, default 8); CI's sizes are in ``.ci/run``.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from tests.store.conftest import pg_dsn

HERE = Path(__file__).parent
WRITER = HERE / "crash_child.py"
CONSUMER = HERE / "feed_consumer_child.py"
ROOT = Path(__file__).resolve().parents[2]
SEED = 20050601
#: A kill lands up to this long (seeded, uniform) after both processes are running.
MAX_DELAY = {"sqlite": 0.25, "postgres": 0.4}
KILLS = {
    "sqlite": int(os.environ.get("CF_FEED_CRASH_KILLS", "20")),
    "postgres": int(os.environ.get("CF_FEED_CRASH_KILLS_PG", "8")),
}


class Child:
    """A child process whose stdout a thread reads as it comes (a full pipe would stall it)."""

    def __init__(self, script: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout
        first = self.stdout.readline().decode().strip()
        if first != "ready":
            self.proc.kill()
            rest = self.stdout.read().decode()
            raise AssertionError(f"{script.name} did not start: {first} {rest}")
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.stdout:
            self.lines.append(line.decode().rstrip("\n"))

    def kill(self) -> list[str]:
        """SIGKILL the process; its lines (each printed after its step returned)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join()
        self.stdout.close()
        crashed = [line for line in self.lines if line.startswith("crash")]
        assert not crashed, f"a child failed before it was killed: {crashed[0]}"
        return self.lines


def _expected_events(rid: str) -> int:
    """Events one command with this request id makes: add_units ``add-<unit>-<n>`` adds n."""
    if rid.startswith("add-"):
        return int(rid.rsplit("-", 1)[1])
    return 1


def run_feed_kills(kind: str, url: str, campaign_id: str, host_db: Path, kills: int) -> str:
    rng = random.Random(SEED)
    day = date(2005, 1, 1)
    writer: Child | None = None
    consumer: Child | None = None
    reported: dict[str, str] = {}  # request id -> outcome, as the writer reported it
    repeats = pages = 0
    started = time.perf_counter()
    try:
        for i in range(kills):
            if writer is None:
                writer = Child(WRITER, url, campaign_id, str(SEED + i), day.isoformat())
            if consumer is None:
                consumer = Child(
                    CONSUMER, url, campaign_id, str(host_db), str(SEED + i), day.isoformat()
                )
            time.sleep(rng.uniform(0, MAX_DELAY[kind]))  # the kill lands mid-command
            victim = rng.choice(("writer", "consumer", "both"))
            if victim in ("writer", "both"):
                for line in writer.kill():
                    _step, command, outcome, rid, on = line.split()
                    day = date.fromisoformat(on)
                    if rid != "-" and outcome in ("ok", "denied"):
                        assert reported.setdefault(rid, outcome) == outcome, line
                        repeats += command.startswith("repeat_")
                writer = None
            if victim in ("consumer", "both"):
                pages += sum(" page " in line for line in consumer.kill())
                consumer = None
    finally:
        for child in (writer, consumer):
            if child is not None and child.proc.poll() is None:
                child.kill()
    drained = subprocess.run(
        [sys.executable, str(CONSUMER), url, campaign_id, str(host_db), "0", str(day), "--drain"],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert drained.returncode == 0, drained.stdout.decode() + drained.stderr.decode()
    camp = cf.Campaign(cf.presets.district_2005(), store=url, campaign_id=campaign_id)
    try:
        committed: list[cf.Event] = []
        cursor = 0
        while True:
            page = camp.events(after=cursor, limit=10_000)
            committed.extend(page.events)
            cursor = page.cursor
            if not page.more:
                break
    finally:
        camp.close()
    host = sqlite3.connect(host_db)
    delivered = host.execute("SELECT seq, event_id, kind FROM delivered ORDER BY rowid").fetchall()
    host.close()
    twice = [i for i, n in Counter(d[1] for d in delivered).items() if n > 1]
    assert not twice, f"delivered more than once: {twice[:10]}"
    assert [d[0] for d in delivered] == sorted(d[0] for d in delivered)
    assert [(d[0], d[1], d[2]) for d in delivered] == [(e.cursor, e.id, e.kind) for e in committed]
    by_request = Counter((e.request_id or "").split("#")[0] for e in committed)
    wrong = {rid: by_request[rid] for rid in reported if by_request[rid] != _expected_events(rid)}
    assert not wrong, f"request ids with other than one command's events: {wrong}"
    assert reported, "the writer reported nothing: the test is not testing"
    kinds = Counter(e.kind for e in committed)
    return (
        f"\nfeed[{kind}]: {kills} kills in {time.perf_counter() - started:.1f} s; "
        f"{len(committed)} events delivered once each ({dict(sorted(kinds.items()))}); "
        f"{len(reported)} request ids, {repeats} redelivered; {pages} consumer pages seen"
    )


@pytest.mark.slow
def test_sqlite_feed_is_delivered_once_through_writer_and_consumer_kills(tmp_path: Path) -> None:
    """SIGKILLs of the writer and of the consumer lose no event and deliver none twice (SQLite)."""
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    print(run_feed_kills("sqlite", url, "feed", tmp_path / "host.db", KILLS["sqlite"]))


@pytest.mark.slow
def test_postgres_feed_is_delivered_once_through_writer_and_consumer_kills(tmp_path: Path) -> None:
    """The same on PostgreSQL, where the consumer's scheduled calls write beside the writer."""
    dsn = pg_dsn()
    campaign_id = f"feed-{uuid.uuid4().hex[:12]}"
    print(run_feed_kills("postgres", dsn, campaign_id, tmp_path / "host.db", KILLS["postgres"]))
