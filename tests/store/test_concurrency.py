"""Racing writers: exactly one wins a unit's version, the loser gets ConcurrencyConflict or the new data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import replay
from tests.store.conftest import StoreFactory
from tests.store.helpers import START, UNITS, clerk_of, satisfy

TIMEOUT = 30  # seconds a test thread may take before the test fails (it never should)


def run_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run each target in its own thread; return each one's result or the exception it raised."""
    results: list[Any] = [None] * len(targets)

    def runner(i: int, target: Callable[[], Any]) -> None:
        try:
            results[i] = target()
        except Exception as exc:  # the test inspects what each thread raised
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a racing writer hung"
    return results


def add_unit(factory: StoreFactory) -> None:
    with factory.open().transaction() as tx:
        unit = cf.Unit(id="u1", name="支部", kind="organ", batch=1)
        tx.insert_unit(unit, cf.UnitState(unit_id="u1", stage="pending", batch=1))


def test_two_writers_with_the_same_version_exactly_one_wins(store_factory: StoreFactory) -> None:
    """Two threads update one unit from the version both read: one commits, the other gets ConcurrencyConflict."""
    add_unit(store_factory)
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def writer(stage: str) -> Callable[[], str]:
        store = store_factory.open()  # its own store object, so its own connections

        def write() -> str:
            with store.transaction(write=False) as tx:
                seen = tx.get_state("u1")
            assert seen is not None
            barrier.wait()
            with store.transaction() as tx:
                tx.update_state(
                    cf.UnitState("u1", stage, 1, version=seen.version + 1),
                    expected_version=seen.version,
                )
            return stage

        return write

    results = run_threads(writer("a"), writer("b"))
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, cf.ConcurrencyConflict)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert (losers[0].unit_id, losers[0].expected_version) == ("u1", 0)
    with store_factory.open().transaction(write=False) as tx:
        assert tx.get_state("u1") == cf.UnitState("u1", winners[0], 1, version=1)


def test_a_writer_that_waits_reads_the_committed_data(store_factory: StoreFactory) -> None:
    """A second writer queued behind the first (BEGIN IMMEDIATE / chain-head lock) re-reads the committed version."""
    add_unit(store_factory)
    first_inside = threading.Event()
    second_starting = threading.Event()

    def first() -> int:
        with store_factory.open().transaction() as tx:
            tx.update_state(cf.UnitState("u1", "first", 1, version=1), expected_version=0)
            first_inside.set()
            assert second_starting.wait(TIMEOUT)
        return 1

    def second() -> int:
        store = store_factory.open()
        assert first_inside.wait(TIMEOUT)
        second_starting.set()
        # The first writer is inside its write transaction: this one begins after it commits.
        with store.transaction() as tx:
            seen = tx.get_state("u1")
            assert seen is not None
            tx.update_state(
                cf.UnitState("u1", "second", 1, version=seen.version + 1),
                expected_version=seen.version,
            )
        return seen.version

    assert run_threads(first, second) == [1, 1]
    with store_factory.open().transaction(write=False) as tx:
        assert tx.get_state("u1") == cf.UnitState("u1", "second", 1, version=2)


def test_racing_advances_of_one_unit_move_it_once(store_factory: StoreFactory) -> None:
    """Two clerks advance the same ready unit at once: one transition is recorded, the other is refused."""
    clock = cf.FixedClock(START)
    camp = store_factory.campaign(clock)
    camp.add_units(UNITS[:1])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    satisfy(camp, clock, "fin-01")
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def advance() -> cf.TransitionRecord:
        mine = store_factory.campaign(clock)
        barrier.wait()
        return mine.advance("fin-01", actor=clerk_of("fin-01"))

    results = run_threads(advance, advance)
    moved = [r for r in results if isinstance(r, cf.TransitionRecord)]
    refused = [r for r in results if isinstance(r, cf.TransitionRejected | cf.ConcurrencyConflict)]
    assert len(moved) == 1, results
    assert len(refused) == 1, results
    assert camp.state("fin-01").stage == "study_mobilization"
    assert camp.state("fin-01").version == 2
    assert {u.id: s for u, s in camp.units()} == replay(camp.workflow, camp.audit_trail())
    assert camp.verify_audit().ok


@pytest.mark.parametrize("threads", [6])
def test_concurrent_commands_keep_one_unbroken_chain(
    store_factory: StoreFactory, threads: int
) -> None:
    """Many threads recording facts at once: every command lands, seqs are contiguous, the chain verifies."""
    clock = cf.FixedClock(START)
    camp = store_factory.campaign(clock)
    units = [cf.Unit(id=f"u{i}", name=f"支部{i}", kind="organ", batch=1) for i in range(threads)]
    camp.add_units(units)
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    head = camp.audit_checkpoint().seq

    def worker(unit_id: str) -> int:
        mine = store_factory.campaign(clock)
        for n in range(8):
            mine.record(
                unit_id,
                cf.StudySession(hours=1),
                actor=clerk_of(unit_id),
                request_id=f"{unit_id}-{n}",
            )
        return 8

    results = run_threads(*(lambda u=u.id: worker(u) for u in units))
    assert results == [8] * threads
    trail = list(camp.audit_trail())
    assert [r.seq for r in trail] == list(range(1, head + 8 * threads + 1))
    assert camp.verify_audit().ok
    for unit in units:
        assert len(camp.facts(unit.id)) == 8


def test_a_writer_kept_waiting_too_long_gets_a_conflict(sql_factory: StoreFactory) -> None:
    """When another transaction holds the write lock past the timeout, a writer gets ConcurrencyConflict, not a driver error."""
    clock = cf.FixedClock(START)
    camp = sql_factory.campaign(clock)
    camp.add_units(UNITS[:1])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    conn = sql_factory.connect()
    host = sql_factory.campaign(clock, store=sql_factory.join(conn))
    host.record(
        "fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01")
    )  # holds the lock
    timeout = {"busy_timeout_ms": 50} if sql_factory.kind == "sqlite" else {"lock_timeout_ms": 50}
    impatient = sql_factory.campaign(clock, store=sql_factory.open(**timeout))
    with pytest.raises(cf.ConcurrencyConflict, match="retry"):
        impatient.record(
            "fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01")
        )
    conn.commit()
    impatient.record("fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01"))
    assert [f.fact.name for f in camp.facts("fin-01")] == [
        "implementation_plan",
        "leading_group_established",
    ]
    assert camp.verify_audit().ok
