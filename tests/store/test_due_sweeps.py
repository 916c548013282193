"""Sweeps over due units only (issue 18, point 2) move exactly what judging every unit moves.

Two copies of a random campaign take the same commands: one sweeps ``advance`` over its due
units (``advance_all``, or ``advance_due`` claiming every due unit; on memory, SQLite and
PostgreSQL), the other judges every unit (``judge_all``, on memory). After each sweep both
moved the same units, and ``due_units`` finds the same ones.
The gates are random trees of time gates (dates), fact gates (needs), an undeclared gate
(always re-judged) and a candidate reserved for a role only one of the two sweepers has.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.campaign import _sweeps
from campaignflow.store import MemoryStore, SQLiteStore
from campaignflow.store._schema import MIGRATIONS
from tests.store.conftest import StoreFactory
from tests.test_earliest import REG as EARLIEST_REG
from tests.test_earliest import START, RollCall, specs

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
LEADER = cf.Actor(id="leader", roles={"leading_group", "branch_committee"})
FULL_SIZE = int(os.environ.get("CF_DUE_EXAMPLES", "60"))
PG_FULL_SIZE = int(os.environ.get("CF_DUE_PG_EXAMPLES", "20"))

#: The earliest tests' gates: time gates with dates, a fact gate, an undeclared one.
REG = EARLIEST_REG
gate = st.one_of(specs, st.just({"guard": "earliest_moody"}))


def _workflow(gates: list[dict[str, Any]], window: tuple[int, int], reserved: bool) -> cf.Workflow:
    opens, closes = (START + timedelta(days=d) for d in window)
    review_done: dict[str, Any] = {"source": "review", "dest": "done"}
    if reserved:
        review_done["by"] = ["leading_group"]
    data: dict[str, Any] = {
        "name": "due",
        "version": "1",
        "initial": "pending",
        "batches": [
            {"number": 1, "opens": opens, "closes": closes},
            {"number": 2, "opens": opens, "closes": closes},
        ],
        "stages": [
            {"id": "pending", "kind": "waiting"},
            {"id": "study"},
            {"id": "review"},
            {"id": "done", "kind": "final"},
        ],
        "transitions": [
            {"trigger": "start", "source": "pending", "dest": "study"},
            review_done,
            *(
                {"source": "study", "dest": dest, "guards": [spec]}
                for dest, spec in zip(("done", "review"), gates, strict=False)
            ),
        ],
    }
    return cf.Workflow.from_dict(data, registry=REG)


commands = st.lists(
    st.one_of(
        st.tuples(st.just("days"), st.integers(1, 40)),
        st.tuples(st.just("hours"), st.integers(0, 9), st.sampled_from([2.0, 4.0, 8.0])),
        st.tuples(st.just("roll"), st.integers(0, 9), st.sampled_from([4, 6, 12])),
        st.tuples(st.just("start"), st.integers(1, 2)),
        st.tuples(st.just("sweep"), st.booleans(), st.sampled_from([None, 1, 2]), st.booleans()),
        st.tuples(st.just("add"), st.integers(1, 2)),
    ),
    max_size=25,
)


def _moved(outcomes: cf.campaign.Outcomes) -> set[str]:
    return {o.unit_id for o in outcomes if o.advanced}


def _due_property(
    factory: StoreFactory,
    gates: list[dict[str, Any]],
    window: tuple[int, int],
    reserved: bool,
    units: int,
    script: list[tuple[Any, ...]],
) -> None:
    workflow = _workflow(gates, window, reserved)
    clock = cf.FixedClock(START)
    store = MemoryStore() if factory.kind == "memory" else factory.open(uuid.uuid4().hex[:12])
    due = cf.Campaign(workflow, store=store, clock=clock)
    every = cf.Campaign(workflow, store=MemoryStore(), clock=clock)
    both = (due, every)
    count = sweeps = 0

    def add(batch: int, n: int) -> None:
        nonlocal count
        new = [
            cf.Unit(id=f"u{count + i}", name="unit", kind="organ", batch=batch, members=10)
            for i in range(n)
        ]
        count += n
        for camp in both:
            camp.add_units(new)

    add(1, units)
    for camp in both:
        camp.start_batch(1, actor=LEADER)
    # The script, then sweeps 30 days apart, by turns of the two actors, till every date
    # a gate names has passed.
    ending = [step for day in range(8) for step in (("days", 30), ("sweep", day % 2, None, False))]
    for step in (*script, *ending):
        kind = step[0]
        if kind == "days":
            clock.set(clock.now().date() + timedelta(days=step[1]))
        elif kind == "add":
            add(step[1], 1)
        elif kind == "start":
            for camp in both:
                camp.start_batch(step[1], actor=LEADER)
        elif kind in ("hours", "roll"):
            unit_id = f"u{step[1] % count}"
            fact = cf.StudySession(hours=step[2]) if kind == "hours" else RollCall(present=step[2])
            for camp in both:
                with contextlib.suppress(cf.CampaignflowError):
                    camp.record(unit_id, fact, actor=CLERK)
        else:
            actor = LEADER if step[1] else CLERK
            assert set(due.due_units(batch=step[2], limit=1000)) == set(
                every.due_units(batch=step[2], limit=1000)
            )
            if step[3]:  # a worker's claim of every due unit, under a new sweep name
                sweeps += 1
                swept = due.advance_due(sweep=f"s{sweeps}", batch=step[2], limit=1000, actor=actor)
            else:
                swept = due.advance_all(actor=actor, batch=step[2])
            moved = _moved(swept)
            expected = _moved(
                _sweeps.advance_all(
                    every._core,
                    batch=step[2],
                    actor=actor,
                    trigger="advance",
                    judge_all=True,
                )
            )
            assert moved == expected, (step, clock.now().date())
    assert {u.id: s.stage for u, s in due.units()} == {u.id: s.stage for u, s in every.units()}


@pytest.mark.sized(default=5)
@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_a_due_only_sweep_moves_what_judging_every_unit_moves(
    backend: str, tmp_path: Path, size: int | None
) -> None:
    """Random campaigns and commands: due-only sweeps move the judge-all sweeps' units."""
    factory = StoreFactory(backend, tmp_path)
    property_ = given(
        gates=st.lists(gate, min_size=2, max_size=2),
        window=st.tuples(st.integers(0, 60), st.integers(60, 200)),
        reserved=st.booleans(),
        units=st.integers(1, 6),
        script=commands,
    )(lambda **kw: _due_property(factory, **kw))
    try:
        settings(
            max_examples=size or (PG_FULL_SIZE if backend == "postgres" else FULL_SIZE),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )(property_)()
    finally:
        factory.close()


#: Gates that open on day 30 (to done; to review once the batch window has closed, day 201).
DAY_30 = [{"guard": "earliest_not_before", "day": 30}, {"not": {"guard": "within_batch_window"}}]


def test_a_sweep_reads_only_the_due_units(tmp_path: Path) -> None:
    """After a sweep holds units till a date, the next sweep that day reads none of them."""
    workflow = _workflow(DAY_30, (0, 200), False)
    clock = cf.FixedClock(START)
    camp = cf.Campaign(workflow, store=SQLiteStore(tmp_path / "d.db"), clock=clock)
    camp.add_units(cf.Unit(id=f"u{i}", name="u", kind="organ", batch=1) for i in range(20))
    camp.start_batch(1, actor=LEADER)
    assert len(camp.advance_all(actor=CLERK)) == 20  # every unit dirty: each judged once
    assert len(camp.advance_all(actor=CLERK)) == 0  # none due before day 30
    camp.record("u3", cf.StudySession(hours=1), actor=CLERK)  # a fact: u3 is judged again
    again = camp.advance_all(actor=CLERK)
    assert [(o.unit_id, o.advanced) for o in again] == [("u3", False)]
    clock.set(START + timedelta(days=30))
    assert camp.due_units(limit=5) == ["u0", "u1", "u2", "u3", "u4"]
    assert len(_moved(camp.advance_all(actor=CLERK))) == 20
    camp.store.close()


def test_a_migrated_database_judges_every_unit_once(tmp_path: Path) -> None:
    """Schema 7 fills due_on as dirty: the first sweep after the upgrade judges everything."""
    path = tmp_path / "m.db"
    workflow = _workflow(DAY_30, (0, 200), False)
    camp = cf.Campaign(workflow, store=SQLiteStore(path), clock=cf.FixedClock(START))
    camp.add_units(cf.Unit(id=f"u{i}", name="u", kind="organ", batch=1) for i in range(3))
    camp.start_batch(1, actor=LEADER)
    camp.advance_all(actor=CLERK)
    camp.store.close()
    with sqlite3.connect(path) as conn:  # as a version-6 database would have them
        conn.execute("UPDATE cf_states SET due_on = NULL")
    reopened = cf.Campaign(workflow, store=SQLiteStore(path), clock=cf.FixedClock(START))
    assert len(reopened.advance_all(actor=CLERK)) == 0  # NULL: not due
    reopened.store.close()
    (fill,) = [s for s in MIGRATIONS[6].statements if s.startswith("UPDATE")]
    with sqlite3.connect(path) as conn:
        conn.execute(fill)
    reopened = cf.Campaign(workflow, store=SQLiteStore(path), clock=cf.FixedClock(START))
    assert len(reopened.advance_all(actor=CLERK)) == 3
    reopened.store.close()


def _held_campaign(factory: StoreFactory) -> tuple[cf.Campaign, Any]:
    """Three started units held till day 30, judged once: none is due now."""
    store = MemoryStore() if factory.kind == "memory" else factory.open()
    camp = cf.Campaign(_workflow(DAY_30, (0, 200), False), store=store, clock=cf.FixedClock(START))
    camp.add_units(cf.Unit(id=f"u{i}", name="u", kind="organ", batch=1) for i in range(3))
    camp.start_batch(1, actor=LEADER)
    camp.advance_all(actor=CLERK)
    with store.transaction(write=False) as tx:
        assert tx.page_due(None, START, None, 10) == ([], None)
    return camp, store


def test_a_rolled_back_write_leaves_the_due_dates_as_they_were(
    store_factory: StoreFactory,
) -> None:
    """Marks are kept in the write's transaction: a fact that rolls back marks nothing."""
    camp, store = _held_campaign(store_factory)
    fact = camp.record("u1", cf.StudySession(hours=1), actor=CLERK)
    camp.advance_all(actor=CLERK)  # judged again: held till day 30 once more

    def record_then_fail() -> None:
        with store.transaction() as tx:
            tx.insert_fact(fact)
            assert [u.id for u, _ in tx.page_due(None, START, None, 10)[0]] == ["u1"]
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        record_then_fail()
    with store.transaction(write=False) as tx:
        assert tx.page_due(None, START, None, 10) == ([], None)
        assert [u.id for u, _ in tx.page_due(None, START + timedelta(30), None, 10)[0]] == [
            "u0",
            "u1",
            "u2",
        ]


def test_an_adoption_makes_every_unit_due(store_factory: StoreFactory) -> None:
    """Another workflow version may judge any unit: after an adoption every one is dirty."""
    camp, store = _held_campaign(store_factory)
    data = _workflow(DAY_30, (0, 200), False).to_dict()
    data["version"] = "2"
    data["transitions"][2]["guards"] = [{"guard": "earliest_not_before", "day": 0}]
    later = cf.Workflow.from_dict(data, registry=REG)
    camp.adopt(later, policy="migrate", actor=LEADER)
    with store.transaction(write=False) as tx:
        page, _ = tx.page_due(None, START, None, 10)
    assert sorted(u.id for u, _ in page) == ["u0", "u1", "u2"]
    assert len(_moved(camp.advance_all(actor=CLERK))) == 3
