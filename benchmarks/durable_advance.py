"""Durable ``advance`` on SQLite and PostgreSQL: latency, sweep throughput, and the SQL floors.

Rows, for each engine:

* ``advance (single)``   one ``camp.advance`` per unit, each its own transaction: p50 / p99
                         latency in milliseconds (issue target: p50 <= 2 ms on SQLite).
* ``advance_all``        ``camp.advance_all()`` over every unit: units per second.
* ``floor``              the issue's floor, "a bare INSERT + UPDATE of the same rows in one
                         transaction": the very rows ``advance_all`` wrote (each unit's
                         ``cf_states`` row and its ``cf_audit`` record, copied from a sweep
                         already run), written again into a twin campaign by bare driver
                         calls — one UPDATE and one INSERT per unit, in one transaction, no
                         Python work between them. Rows per second.
* ``toy floor``          the same statement pair on two minimal tables (3 and 5 columns, no
                         secondary indexes): what the rows would cost if campaignflow's schema
                         kept nothing else. Shown so the schema's own cost is visible too.

``ratio`` = ``advance_all`` / ``floor`` (issue target: >= 40 %) is the share of the
database's speed for these rows that campaignflow keeps while it also reads each unit, its
state and its facts, judges the guards into a Decision and seals each record into the
SHA-256 chain. ``toy ratio`` = ``advance_all`` / ``toy floor`` adds the schema's cost (its
indexes for idempotency, per-unit history and roll-ups) to what is priced.

Run: ``python benchmarks/durable_advance.py [--units N] [--repeats R] [--pg DSN] [--json]``;
PostgreSQL rows need a DSN (``eval "$(bash .ci/postgres.sh)"`` starts a throwaway server and
sets ``CAMPAIGNFLOW_PG_DSN``, which is the default).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import campaignflow as cf
from campaignflow.store import PostgresStore, SQLiteStore, Store

DAY = date(2005, 3, 1)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})


def workflow() -> cf.Workflow:
    """One working stage with an open gate, so every advance passes and is written."""
    return cf.Workflow(
        name="durable_bench",
        stages=[cf.Stage(id="work"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(source="work", dest="done", guards=[cf.use("min_days_in_stage", days=0)])
        ],
    )


def _campaign(store: Store, n: int = 0) -> cf.Campaign:
    """The benchmark's campaign on ``store``, with ``n`` units added (none: already there)."""
    camp = cf.Campaign(
        workflow(), store=store, clock=cf.FixedClock(DAY), campaign_id=store_campaign(store)
    )
    if n:
        camp.add_units(
            cf.Unit(id=f"u{i:06d}", name="支部", kind="village", batch=1) for i in range(n)
        )
    return camp


def store_campaign(store: Store) -> str:
    return str(getattr(store, "campaign_id", "default"))


def single_latencies(make_store: Callable[[], Store], n: int) -> list[float]:
    """Seconds per single advance, one per unit."""
    store = make_store()
    camp = _campaign(store, n)
    gc.collect()
    times = []
    for i in range(n):
        start = time.perf_counter()
        camp.advance(f"u{i:06d}", actor=CLERK, request_id=f"r-{i}")
        times.append(time.perf_counter() - start)
    assert camp.verify_audit().ok
    store.close()
    return times


def timed_sweep(
    make_store: Callable[[], Store], reopen: Callable[[Store], Store], n: int
) -> tuple[float, Store]:
    """Seconds for advance_all over n units, and the (closed) store it wrote.

    The store is closed after the units are added and opened again, as the floor's twin is
    before the floor runs, so both start from the same settled database. (On SQLite, a sweep
    right after the set-up would also pay to checkpoint the set-up's own 3.9 MB of WAL: about
    4 µs a unit, which the floor never pays.)
    """
    store = make_store()
    _campaign(store, n)
    store = reopen(store)
    camp = _campaign(store)
    gc.collect()
    start = time.perf_counter()
    outcomes = camp.advance_all(actor=CLERK)
    elapsed = time.perf_counter() - start
    # The summary, not the outcomes: each outcome is rebuilt from the store when read (a
    # query per unit), which is no part of the sweep.
    assert outcomes.summary.advanced == n
    store.close()
    return elapsed, store


# What an advance writes: the state row's columns (as the store's UPDATE sets them) and the
# whole audit row.
_STATE_SET = (
    "stage, batch, version, entered_on, stage_since, started_on, remedial, remedial_round, "
    "resume_since, workflow"
)
_AUDIT_ROW = (
    "campaign_id, seq, at_time, on_date, campaign, command, actor_id, actor_roles, outcome, "
    "unit_id, source, dest, version, request_id, workflow, payload, decision, reason, "
    "prev_hash, hash, transition_version"
)


def sweep_and_floor_seconds(
    make_store: Callable[[], Store],
    reopen: Callable[[Store], Store],
    connect_to: Callable[[Store], Any],
    n: int,
    placeholder: str,
) -> tuple[float, float]:
    """Seconds of one advance_all, and to write its own rows again with bare SQL.

    The sweep is timed, then its rows are read back: each unit's new state row and its
    audit record. A twin campaign with the same units then gets exactly those rows by one
    UPDATE and one INSERT per unit, in one transaction: the database's share of the sweep,
    with nothing of campaignflow's in between. Timed back to back, so a noisy machine
    slows both of a pair alike and their ratio holds.
    """
    swept, done = timed_sweep(make_store, reopen, n)
    conn = connect_to(done)
    cur = conn.cursor()
    p = placeholder
    cid = store_campaign(done)
    cur.execute(
        f"SELECT unit_id, {_STATE_SET} FROM cf_states WHERE campaign_id = {p} ORDER BY unit_id",
        (cid,),
    )
    states = cur.fetchall()
    cur.execute(
        f"SELECT {_AUDIT_ROW} FROM cf_audit WHERE campaign_id = {p} AND command = 'advance' "
        "ORDER BY seq",
        (cid,),
    )
    audit = cur.fetchall()
    conn.rollback()
    conn.close()
    assert len(states) == len(audit) == n
    twin = make_store()
    _campaign(twin, n)
    twin.close()
    twin_cid = store_campaign(twin)
    update = (
        f"UPDATE cf_states SET {', '.join(f'{c} = {p}' for c in _STATE_SET.split(', '))} "
        f"WHERE campaign_id = {p} AND unit_id = {p} AND version = {p}"
    )
    insert = f"INSERT INTO cf_audit ({_AUDIT_ROW}) VALUES ({', '.join([p] * 21)})"
    updates = [(*row[1:], twin_cid, row[0], row[3] - 1) for row in states]
    inserts = [(twin_cid, *row[1:4], twin_cid, *row[5:]) for row in audit]
    conn = connect_to(twin)
    cur = conn.cursor()
    gc.collect()
    start = time.perf_counter()
    for state_row, audit_row in zip(updates, inserts, strict=True):
        cur.execute(update, state_row)
        cur.execute(insert, audit_row)
    conn.commit()
    elapsed = time.perf_counter() - start
    cur.execute(
        f"SELECT COUNT(*) FROM cf_states WHERE campaign_id = {p} AND stage = 'done'", (twin_cid,)
    )
    assert cur.fetchone()[0] == n
    conn.close()
    return swept, elapsed


def toy_floor_seconds(connect: Callable[[], Any], n: int, placeholder: str) -> float:
    """Seconds for n UPDATE + INSERT pairs on two minimal tables, in one transaction."""
    conn = connect()
    cur = conn.cursor()
    suffix = uuid.uuid4().hex[:8]
    states, history = f"floor_states_{suffix}", f"floor_history_{suffix}"
    cur.execute(f"CREATE TABLE {states} (unit_id TEXT PRIMARY KEY, stage TEXT, version BIGINT)")
    cur.execute(
        f"CREATE TABLE {history} (seq BIGINT PRIMARY KEY, unit_id TEXT, source TEXT, "
        "dest TEXT, payload TEXT)"
    )
    p = placeholder
    cur.executemany(
        f"INSERT INTO {states} VALUES ({p}, {p}, {p})", [(f"u{i:06d}", "work", 0) for i in range(n)]
    )
    conn.commit()
    gc.collect()
    start = time.perf_counter()
    for i in range(n):
        unit = f"u{i:06d}"
        cur.execute(
            f"UPDATE {states} SET stage = {p}, version = version + 1 "
            f"WHERE unit_id = {p} AND version = {p}",
            ("done", unit, 0),
        )
        cur.execute(
            f"INSERT INTO {history} VALUES ({p}, {p}, {p}, {p}, {p})",
            (i + 1, unit, "work", "done", '{"trigger":"advance"}'),
        )
    conn.commit()
    elapsed = time.perf_counter() - start
    cur.execute(f"DROP TABLE {states}")
    cur.execute(f"DROP TABLE {history}")
    conn.commit()
    conn.close()
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_engine(
    name: str,
    make_store: Callable[[], Store],
    reopen: Callable[[Store], Store],
    connect_to: Callable[[Store], Any],
    connect: Callable[[], Any],
    placeholder: str,
    units: int,
    repeats: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    for _ in range(repeats):
        latencies.extend(single_latencies(make_store, min(units, 2000)))
    pairs = [
        sweep_and_floor_seconds(make_store, reopen, connect_to, units, placeholder)
        for _ in range(repeats)
    ]
    sweeps = [sweep_s for sweep_s, _ in pairs]
    floors = [floor_s for _, floor_s in pairs]
    toys = [toy_floor_seconds(connect, units, placeholder) for _ in range(repeats)]
    sweep, floor, toy = (
        statistics.median(sweeps),
        statistics.median(floors),
        statistics.median(toys),
    )
    return {
        "engine": name,
        "units": units,
        "single_p50_ms": percentile(latencies, 0.50) * 1000,
        "single_p99_ms": percentile(latencies, 0.99) * 1000,
        "advance_all_units_per_s": units / sweep,
        "floor_rows_per_s": units / floor,
        # The median of each pair's ratio: a sweep and its floor ran back to back.
        "ratio_to_floor": statistics.median(floor_s / sweep_s for sweep_s, floor_s in pairs),
        "toy_floor_rows_per_s": units / toy,
        "ratio_to_toy_floor": toy / sweep,
        "sweeps_s": sweeps,
        "floors_s": floors,
        "toy_floors_s": toys,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000, help="units per sweep (default 5000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row (default 3)")
    parser.add_argument("--pg", default=os.environ.get("CAMPAIGNFLOW_PG_DSN", ""), help="DSN")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**9))

        def sqlite_store(synchronous: str) -> Callable[[], Store]:
            def make() -> Store:
                path = Path(tmp) / f"bench-{next(counter)}.db"
                return SQLiteStore(path, campaign_id="bench", synchronous=synchronous)

            return make

        def sqlite_reopen(store: Store) -> Store:
            assert isinstance(store, SQLiteStore)
            store.close()
            return SQLiteStore(
                store.path, campaign_id=store.campaign_id, synchronous=store.synchronous
            )

        def sqlite_connect(synchronous: str) -> Callable[[], Any]:
            def connect() -> Any:
                import sqlite3

                conn = sqlite3.connect(Path(tmp) / f"floor-{next(counter)}.db")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={synchronous}")
                return conn

            return connect

        def sqlite_connect_to(synchronous: str) -> Callable[[Store], Any]:
            def connect_to(store: Store) -> Any:
                import sqlite3

                assert isinstance(store, SQLiteStore)
                # The store's own settings, so the floor and the sweep run one database alike.
                conn = sqlite3.connect(store.path)
                conn.execute(f"PRAGMA synchronous={synchronous}")
                conn.execute("PRAGMA cache_size = -65536")
                return conn

            return connect_to

        for synchronous in ("FULL", "NORMAL"):
            results.append(
                run_engine(
                    f"sqlite synchronous={synchronous}",
                    sqlite_store(synchronous),
                    sqlite_reopen,
                    sqlite_connect_to(synchronous),
                    sqlite_connect(synchronous),
                    "?",
                    args.units,
                    args.repeats,
                )
            )
        if args.pg:
            import psycopg

            def pg_store() -> Store:
                return PostgresStore(args.pg, campaign_id=f"bench-{uuid.uuid4().hex[:8]}")

            def pg_reopen(store: Store) -> Store:
                store.close()
                return PostgresStore(args.pg, campaign_id=store_campaign(store))

            results.append(
                run_engine(
                    "postgresql",
                    pg_store,
                    pg_reopen,
                    lambda _store: psycopg.connect(args.pg),
                    lambda: psycopg.connect(args.pg),
                    "%s",
                    args.units,
                    args.repeats,
                )
            )
        else:
            print("(no PostgreSQL DSN: skipping the postgresql rows)", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"durable advance, {args.units} units per sweep, median of {args.repeats} runs")
    header = (
        f"{'engine':<26}{'single p50 ms':>14}{'p99 ms':>9}{'advance_all/s':>15}"
        f"{'floor rows/s':>14}{'ratio':>8}{'toy floor/s':>13}{'toy ratio':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['engine']:<26}{r['single_p50_ms']:>14.2f}{r['single_p99_ms']:>9.2f}"
            f"{r['advance_all_units_per_s']:>15,.0f}{r['floor_rows_per_s']:>14,.0f}"
            f"{r['ratio_to_floor']:>7.0%}{r['toy_floor_rows_per_s']:>13,.0f}"
            f"{r['ratio_to_toy_floor']:>10.0%}"
        )
    print(
        "\nratio = advance_all units/s / the floor's rows/s: the same rows written by bare SQL "
        "(target >= 40 %);\ntoy ratio = against two minimal tables; single = one advance per "
        "transaction (target p50 <= 2 ms on SQLite)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
