"""The Campaign API on every store: the same script leaves the same states, facts and audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import replay
from campaignflow.campaign import _sweeps as campaign_module
from campaignflow.store import MemoryStore, Store
from tests.store.conftest import StoreFactory
from tests.store.helpers import (
    INSPECTOR,
    START,
    UNITS,
    FailingStore,
    clerk_of,
    run_district,
    satisfy,
    snapshot,
)


def test_district_campaign_runs_to_accepted_like_the_memory_store(
    store_factory: StoreFactory,
) -> None:
    """A scripted district run ends accepted; states, facts and audit equal the memory store's, byte for byte."""
    camp = store_factory.campaign(cf.FixedClock(START))
    run_district(camp, camp.clock)  # type: ignore[arg-type]
    reference = store_factory.campaign(cf.FixedClock(START), store=MemoryStore())
    run_district(reference, reference.clock)  # type: ignore[arg-type]

    assert {u.id: s.stage for u, s in camp.units()} == {
        "fin-01": "accepted",
        "edu-02": "accepted",
        "vil-03": "pending",
    }
    assert [u.id for u, _ in camp.units(batch=3)] == ["vil-03"]
    assert snapshot(camp) == snapshot(reference)
    trail = list(camp.audit_trail())
    assert {u.id: s for u, s in camp.units()} == replay(camp.workflow, trail)
    assert camp.verify_audit().ok
    assert camp.audit_checkpoint() == reference.audit_checkpoint()


def test_a_reopened_database_sees_identical_states_facts_and_audit(
    sql_factory: StoreFactory,
) -> None:
    """A new store object on the same database sees exactly what the first one wrote, and carries on."""
    clock = cf.FixedClock(START)
    camp = sql_factory.campaign(clock)
    run_district(camp, clock)
    before = snapshot(camp)
    checkpoint = camp.audit_checkpoint()
    camp.close()

    again = sql_factory.campaign(clock)
    assert snapshot(again) == before
    assert again.verify_audit(checkpoints=[checkpoint]).ok
    again.defer(
        "vil-03", actor=cf.Actor(id="wang", roles={"leading_group"}), request_id="defer-vil"
    )
    assert snapshot(again) == before  # a replayed request writes nothing, after reopening too
    clock.set(clock.now().date().replace(year=2006, month=1, day=2))
    again.start_batch(3, actor=cf.Actor(id="leader", roles={"leading_group"}))
    assert again.state("vil-03").stage == "preparation"
    assert again.verify_audit(checkpoints=[checkpoint]).ok


def test_campaigns_in_one_database_are_separate(sql_factory: StoreFactory) -> None:
    """Two campaign ids in one database keep their own units, request ids and audit chains."""
    clock = cf.FixedClock(START)
    first = sql_factory.campaign(clock)
    first.add_units(UNITS[:1], request_id="same")
    other_id = sql_factory.campaign_id + "-b"
    second = cf.Campaign(
        cf.presets.district_2005(),
        store=sql_factory.open(other_id),
        clock=clock,
        campaign_id=other_id,
    )
    second.add_units(UNITS[1:], request_id="same")
    assert [u.id for u, _ in first.units()] == ["fin-01"]
    assert [u.id for u, _ in second.units()] == ["edu-02", "vil-03"]
    assert first.audit_checkpoint().seq == 1
    assert second.audit_checkpoint().seq == 2
    assert first.verify_audit().ok
    assert second.verify_audit().ok


COMMANDS: dict[str, Callable[[cf.Campaign], Any]] = {
    "record": lambda c: c.record("fin-01", cf.StudySession(hours=3), actor=clerk_of("fin-01")),
    "approve": lambda c: c.approve("fin-01", actor=INSPECTOR),
    "advance": lambda c: c.advance("fin-01", actor=clerk_of("fin-01")),
    "add_units": lambda c: c.add_units([cf.Unit(id="new-09", name="新", kind="organ", batch=1)]),
}


@pytest.mark.parametrize(
    ("command", "fail_on"),
    [
        ("record", "append_audit"),
        ("record", "insert_fact"),
        ("approve", "insert_fact"),
        ("advance", "apply_transitions"),
        ("add_units", "insert_unit"),
        ("add_units", "append_audit"),
    ],
)
def test_a_command_failing_midway_changes_nothing(
    store_factory: StoreFactory, command: str, fail_on: str
) -> None:
    """A command whose store write fails after earlier writes leaves states, facts and audit as they were."""
    clock = cf.FixedClock(START)
    camp = store_factory.campaign(clock)
    camp.add_units(UNITS)
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    satisfy(camp, clock, "fin-01")
    camp.advance("fin-01", actor=clerk_of("fin-01"))
    satisfy(camp, clock, "fin-01")  # fin-01 may now leave study_mobilization
    before = snapshot(camp)

    failing = cf.Campaign(
        camp.workflow,
        store=FailingStore(camp.store, fail_on),
        clock=clock,
        campaign_id=camp.campaign_id,
    )
    with pytest.raises(RuntimeError, match=f"injected failure after {fail_on}"):
        COMMANDS[command](failing)
    assert snapshot(camp) == before
    COMMANDS[command](camp)  # the same command then goes through
    assert snapshot(camp) != before
    assert camp.verify_audit().ok


def test_a_repeated_request_returns_the_first_result(store_factory: StoreFactory) -> None:
    """Commands repeated with their request id return the first result and write nothing."""
    clock = cf.FixedClock(START)
    camp = store_factory.campaign(clock)
    camp.add_units(UNITS)
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    first = camp.record(
        "fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"), request_id="m-1"
    )
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01"))
    moved = camp.advance("fin-01", actor=clerk_of("fin-01"), request_id="a-1")
    before = snapshot(camp)
    clock.set(START.replace(day=20))
    again = store_factory.campaign(clock, store=store_factory.open())
    assert (
        again.record(
            "fin-01",
            cf.Milestone("implementation_plan"),
            actor=clerk_of("fin-01"),
            request_id="m-1",
        )
        == first
    )
    assert again.advance("fin-01", actor=clerk_of("fin-01"), request_id="a-1") == moved
    assert snapshot(again) == before
    with pytest.raises(cf.ValidationError, match="already used for another command"):
        again.advance("edu-02", actor=clerk_of("edu-02"), request_id="m-1")


def _one_step_campaign(store: Store, campaign_id: str) -> cf.Campaign:
    workflow = cf.Workflow(
        name="one_step",
        stages=[cf.Stage(id="work"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(source="work", dest="done", guards=[cf.use("min_days_in_stage", days=0)])
        ],
    )
    return cf.Campaign(workflow, store=store, clock=cf.FixedClock(START), campaign_id=campaign_id)


def test_a_sweep_pages_through_the_campaign_moving_each_ready_unit_once_in_order(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 3 units, each its own transaction: every unit of the batch moves once, in order."""
    monkeypatch.setattr(campaign_module, "_SWEEP_CHUNK", 3)
    camp = _one_step_campaign(store_factory.open(), store_factory.campaign_id)
    ids = [f"u{i:02d}" for i in range(11, 0, -1)]
    camp.add_units(
        cf.Unit(id=uid, name="支部", kind="village", batch=1 + i % 3 // 2)
        for i, uid in enumerate(ids)
    )
    first = [u.id for u, s in camp.units() if s.batch == 1]
    assert 3 < len(first) < len(ids)
    outcomes = camp.advance_all(batch=1)
    assert [(o.unit_id, o.advanced) for o in outcomes] == [(uid, True) for uid in first]
    assert camp.advance_all(batch=1) == []  # finished units are not tried again
    assert {u.id: (s.stage, s.version) for u, s in camp.units()} == {
        uid: ("done", 1) if uid in first else ("work", 0) for uid in ids
    }
    moves = [r.unit_id for r in camp.audit_trail() if r.command == "advance"]
    assert moves == first
    assert camp.verify_audit().ok


def test_a_sweep_that_cannot_lock_its_page_raises_a_conflict_and_writes_nothing(
    sql_factory: StoreFactory,
) -> None:
    """Another writer holds the campaign past the timeout: a retryable conflict, nothing moved."""
    timeout = {"busy_timeout_ms": 100} if sql_factory.kind == "sqlite" else {"lock_timeout_ms": 100}
    camp = _one_step_campaign(sql_factory.open(**timeout), sql_factory.campaign_id)
    camp.add_units(cf.Unit(id=f"u{i}", name="支部", kind="village", batch=1) for i in range(3))
    holder = sql_factory.open()
    with holder.transaction() as tx:
        tx.audit_head()
        with pytest.raises(cf.ConcurrencyConflict):
            camp.advance_all()
    assert {s.stage for _, s in camp.units()} == {"work"}
    assert [o.advanced for o in camp.advance_all()] == [True, True, True]
