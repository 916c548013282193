"""Crash harness: a child writing random commands is SIGKILLed at seeded moments; the database stays whole.

One database per test, reused across every kill, so it accumulates history and each child
continues where the last one died. After each kill the parent checks, on a new store object:
SQLite's ``integrity_check`` (opened with sqlite3 itself), the audit chain, state == replay of
the audit trail for every unit, each unit's version == its applied transitions, one fact row
per ok ``record``/``approve`` record, and that every command the child reported as done is in
the trail (a reported commit is never lost).

The kill tests are slow (``-m slow``). Sizes: ``--crash-kills-sqlite`` (default 25) and
``--crash-kills-pg`` (default 10); CI runs them with ``python -m pytest -m slow
--crash-kills-sqlite=300 --crash-kills-pg=100`` (with ``=``: pytest reads a bare ``300`` before
the option is registered as a path, when no test path is given).
Children are forked from a zygote (``crash_child.py --zygote``) that has imported campaignflow
once, so a kill cycle costs milliseconds instead of a Python start-up; one small test starts
each child as a new Python process instead.
"""

from __future__ import annotations

import contextlib
import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import attrs
import pytest

import campaignflow as cf
from campaignflow.audit import replay
from campaignflow.store import PostgresStore, SQLiteStore, Store
from tests.store.conftest import pg_dsn
from tests.store.crash_child import FIRST_DAY, WORKFLOW
from tests.store.helpers import START, run_district

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
SEED = 20050110
#: The kill lands up to this long (seeded, uniform) after the child's first command. A child
#: commits a command every ~1 ms on SQLite and ~5 ms on PostgreSQL, so a kill falls anywhere
#: inside one; longer waits only grow the history every later check reads.
MAX_DELAY = {"sqlite": 0.03, "postgres": 0.1}
#: Seconds a child or the zygote may stay silent before the test fails (they never should).
STALL = 60.0
#: Applied transitions: the commands whose ok records move a unit (start and advance_all
#: record as advance).
MOVES = ("advance", "defer")
FACTS = ("record", "approve")


class Lines:
    """Whole lines from a pipe, waiting at most ``STALL`` seconds for each."""

    def __init__(self, stream: Any) -> None:
        self._fd = stream.fileno()
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)

    def next(self) -> str | None:
        """The next line without its newline; None at end of file."""
        while b"\n" not in self._buffer:
            if not self._selector.select(STALL):
                raise AssertionError(f"no output for {STALL:.0f} s: the child hung")
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        """Stop watching the pipe."""
        self._selector.close()


@attrs.define
class Cycle:
    """What one child did before it was killed, from its own lines."""

    commands: Counter[str] = attrs.field(factory=Counter)
    committed: set[str] = attrs.field(factory=set)
    #: The child's clock at its last command: where the next child starts.
    day: date | None = None

    def take(self, line: str) -> bool:
        """Note one child line; True for a command's line. Fails on a crash report."""
        if line.startswith("crash"):
            raise AssertionError(f"the child failed before it was killed: {line}")
        if line == "ready":
            return False
        _, command, outcome, rid, day = line.split(" ")
        self.day = date.fromisoformat(day)
        self.commands[f"{command} {outcome}"] += 1
        if outcome in ("ok", "denied") and rid != "-":
            # add_units numbers the records of one call: the first unit's is rid#0.
            add = command.removeprefix("repeat_") == "add_units"
            self.committed.add(f"{rid}#0" if add else rid)
        return True


class Zygote:
    """A fork server for children: one Python start-up for the whole test."""

    def __init__(self, stderr: IO[bytes]) -> None:
        # stderr to a file, so nothing a child writes there can fill a pipe and stall it; a
        # session of its own, so its process group holds the zygote and every child it forked.
        self.stderr = stderr
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=ROOT,
            bufsize=0,
            start_new_session=True,
        )
        self.lines = Lines(self.proc.stdout)
        self.child: int | None = None
        assert self._line() == "zygote"

    def _line(self) -> str:
        line = self.lines.next()
        if line is None:
            raise AssertionError(f"the zygote died: {read_all(self.stderr)}")
        return line

    def kill_one(self, url: str, campaign_id: str, seed: int, day: date, delay: float) -> Cycle:
        """Fork a child, wait for its first command, wait ``delay``, SIGKILL it; what it reported."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {url} {campaign_id} {seed} {day.isoformat()}\n".encode())
        cycle = Cycle()
        running = False
        # The zygote's "pid" line and the child's first lines may come in either order.
        while self.child is None or not running:
            line = self._line()
            if line.startswith("pid "):
                self.child = int(line.split()[1])
            elif line.startswith("exit "):
                raise AssertionError(f"the child exited before it was killed: {line}")
            else:
                running = cycle.take(line) or running
        time.sleep(delay)
        os.kill(self.child, signal.SIGKILL)
        while not (line := self._line()).startswith("exit "):
            cycle.take(line)
        _, pid, status = line.split()
        assert (int(pid), int(status)) == (self.child, -signal.SIGKILL), line
        self.child = None
        return cycle

    def close(self) -> None:
        """Kill a child still running, end the zygote, and wait for both."""
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=STALL)
        finally:
            # Whatever is left of the zygote's process group (a child forked just before a
            # failure, whose pid never reached us) goes with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.lines.close()
            assert self.proc.stdout is not None
            self.proc.stdout.close()


@pytest.fixture
def zygote() -> Iterator[Zygote]:
    """A running fork server, ended (with any child) after the test."""
    with tempfile.TemporaryFile() as stderr:
        server = Zygote(stderr)
        try:
            yield server
        finally:
            server.close()


def cold_kill(url: str, campaign_id: str, seed: int, day: date, delay: float) -> Cycle:
    """Start a child as a new Python process, wait for its first command and ``delay``, SIGKILL it."""
    with tempfile.TemporaryFile() as stderr:
        return _cold_kill(stderr, url, campaign_id, seed, day, delay)


def _cold_kill(
    stderr: IO[bytes], url: str, campaign_id: str, seed: int, day: date, delay: float
) -> Cycle:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), url, campaign_id, str(seed), day.isoformat()],
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=ROOT,
        bufsize=0,
    )
    lines = Lines(proc.stdout)
    cycle = Cycle()
    try:
        running = False
        while not running:
            line = lines.next()
            if line is None:
                raise AssertionError(f"the child died: {read_all(stderr)}")
            running = cycle.take(line)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=STALL) == -signal.SIGKILL
        while (line := lines.next()) is not None:
            cycle.take(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        lines.close()
        assert proc.stdout is not None
        proc.stdout.close()
    return cycle


def read_all(stream: IO[bytes]) -> str:
    """What a process wrote to its stderr file."""
    stream.seek(0)
    return str(stream.read().decode(errors="replace"))


# --- what must hold after every kill -----------------------------------------------------------


def fact_rows(kind: str, where: str, campaign_id: str) -> list[tuple[int, str, str, int]]:
    """(seq, unit, stage, version) of every stored fact, read with the driver itself."""
    sql = "SELECT seq, unit_id, stage, version FROM cf_facts WHERE campaign_id = {} ORDER BY seq"
    if kind == "sqlite":
        with contextlib.closing(sqlite3.connect(where)) as conn:
            rows = conn.execute(sql.format("?"), (campaign_id,)).fetchall()
    else:
        import psycopg

        with psycopg.connect(where) as conn:
            rows = conn.execute(sql.format("%s"), (campaign_id,)).fetchall()
    return [(int(s), u, st, int(v)) for s, u, st, v in rows]


def check_sqlite_file(path: Path) -> None:
    """The file opens with sqlite3 itself and its integrity and foreign-key checks pass."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def check_campaign(
    kind: str, where: str, campaign_id: str, committed: set[str]
) -> list[cf.AuditRecord]:
    """Every invariant a kill must not break, on a new store object; returns the audit trail."""
    store: Store
    if kind == "sqlite":
        check_sqlite_file(Path(where))
        store = SQLiteStore(where, campaign_id=campaign_id)
    else:
        store = PostgresStore(where, campaign_id=campaign_id)
    camp = cf.Campaign(
        WORKFLOW, store=store, clock=cf.FixedClock(date(2005, 1, 1)), campaign_id=campaign_id
    )
    try:
        trail = list(camp.audit_trail())
        verification = camp.verify_audit()
        assert verification.ok, verification.reason
        assert verification.checked == len(trail)
        head = camp.audit_checkpoint()
        assert (head.seq, head.hash) == (
            (trail[-1].seq, trail[-1].hash) if trail else (0, head.hash)
        )

        states = {unit.id: state for unit, state in camp.units()}
        assert replay(WORKFLOW, trail) == states
        moves = Counter(r.unit_id for r in trail if r.outcome == "ok" and r.command in MOVES)
        assert {uid: s.version for uid, s in states.items()} == {uid: moves[uid] for uid in states}

        facts = [
            (r.seq, r.unit_id, r.source, r.version)
            for r in trail
            if r.outcome == "ok" and r.command in FACTS
        ]
        assert fact_rows(kind, where, campaign_id) == facts

        missing = committed - {r.request_id for r in trail}
        assert not missing, (
            f"commands the child reported done are not in the trail: {sorted(missing)}"
        )
    finally:
        camp.close()
    return trail


def run_kills(kind: str, where: str, url: str, kills: int, kill: Any) -> None:
    """``kills`` cycles of child, seeded delay, SIGKILL and the checks, on one database."""
    assert kills >= 1
    campaign_id = f"crash-{uuid.uuid4().hex[:12]}"
    rng = random.Random(f"{SEED}-{kind}")
    commands: Counter[str] = Counter()
    committed: set[str] = set()
    started = time.perf_counter()
    trail: list[cf.AuditRecord] = []
    day = FIRST_DAY
    for i in range(kills):
        cycle = kill(url, campaign_id, SEED + i, day, rng.uniform(0, MAX_DELAY[kind]))
        # The next child goes on from the day this one stopped at.
        day = cycle.day or day
        commands.update(cycle.commands)
        committed |= cycle.committed
        try:
            trail = check_campaign(kind, where, campaign_id, committed)
        except AssertionError as exc:
            raise AssertionError(f"after kill {i + 1} (child seed {SEED + i}): {exc}") from exc
    elapsed = time.perf_counter() - started
    records = len(trail)
    assert records > kills, "the children committed almost nothing: the harness is not testing"
    print(
        f"\n{kind}: {kills} kills in {elapsed:.1f} s ({elapsed / kills * 1000:.0f} ms a cycle); "
        f"{sum(commands.values())} commands reported, {records} audit records; "
        f"{dict(sorted(commands.items()))}"
    )


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.slow
def test_sqlite_file_survives_sigkill_at_random_moments(
    request: pytest.FixtureRequest, zygote: Zygote, tmp_path: Path
) -> None:
    """After every SIGKILL the SQLite file is intact and state, versions and facts match the verified trail."""
    path = tmp_path / "crash.db"
    kills = request.config.getoption("--crash-kills-sqlite")
    run_kills("sqlite", str(path), f"sqlite:///{path}", kills, zygote.kill_one)


@pytest.mark.slow
def test_postgres_survives_sigkill_at_random_moments(
    request: pytest.FixtureRequest, zygote: Zygote
) -> None:
    """After every SIGKILL of a PostgreSQL client, state, versions and facts match the verified trail."""
    dsn = pg_dsn()
    kills = request.config.getoption("--crash-kills-pg")
    run_kills("postgres", dsn, dsn, kills, zygote.kill_one)


@pytest.mark.slow
def test_children_started_as_new_processes_survive_sigkill(tmp_path: Path) -> None:
    """The same checks hold when each child is a fresh Python process rather than a fork."""
    path = tmp_path / "crash.db"
    run_kills("sqlite", str(path), f"sqlite:///{path}", 3, cold_kill)


DAMAGE = {
    "a fact row lost": "DELETE FROM cf_facts WHERE rowid = (SELECT MIN(rowid) FROM cf_facts)",
    "a state moved": "UPDATE cf_states SET stage = 'closing' WHERE unit_id = 'vil-03'",
    "a version bumped": "UPDATE cf_states SET version = version + 1 WHERE unit_id = 'fin-01'",
    "a record altered": "UPDATE cf_audit SET actor_id = 'mallory' WHERE seq = 3",
    "a reported commit lost": "",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_checks_catch_a_damaged_database(tmp_path: Path, damage: str) -> None:
    """The after-kill checks fail on a database that lost a fact, moved a state, altered a record or lost a reported commit."""
    path = tmp_path / "damaged.db"
    clock = cf.FixedClock(START)
    camp = cf.Campaign(WORKFLOW, store=f"sqlite:///{path}", clock=clock, campaign_id="c")
    run_district(camp, clock)
    camp.close()
    committed = {"add-all#0", "defer-vil", "too-early"}
    assert check_campaign("sqlite", str(path), "c", committed)
    if DAMAGE[damage]:
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute(DAMAGE[damage])
    else:
        committed.add("sent-but-lost")
    with pytest.raises(AssertionError):
        check_campaign("sqlite", str(path), "c", committed)
