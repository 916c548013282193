"""Audit retention: export as JSON Lines, purge only what is exported and older than 180 days."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest

import campaignflow as cf
from campaignflow.audit import AuditRecord, verify_chain
from tests.store.conftest import StoreFactory

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})


def _campaign(factory: StoreFactory, clock: cf.FixedClock) -> cf.Campaign:
    workflow = cf.Workflow(
        name="retention",
        stages=[cf.Stage(id="work"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(
                source="work", dest="done", guards=[cf.use("milestones_done", names=["ready"])]
            )
        ],
    )
    return cf.Campaign(workflow, store=factory.open(), clock=clock, campaign_id=factory.campaign_id)


def _history(camp: cf.Campaign, clock: cf.FixedClock) -> None:
    """Records on three dates: 2005-01-10, 2005-02-10 and 2005-09-01."""
    clock.set(date(2005, 1, 10))
    camp.add_units([cf.Unit(id=f"u{i}", name="支部", kind="organ", batch=1) for i in range(3)])
    clock.set(date(2005, 2, 10))
    camp.record("u0", cf.Milestone("ready"), actor=CLERK, request_id="old-1")
    camp.advance("u0", actor=CLERK)
    clock.set(date(2005, 9, 1))
    camp.record("u1", cf.Milestone("ready"), actor=CLERK)


def test_export_writes_json_lines_once_and_returns_the_head(store_factory: StoreFactory) -> None:
    """Each record is exported once, in order, as JSON that loads back and verifies."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _history(camp, clock)
    first = io.StringIO()
    head = camp.export_audit(first)
    lines = first.getvalue().splitlines()
    records = [AuditRecord.from_data(json.loads(line)) for line in lines]
    assert [r.seq for r in records] == list(range(1, head.seq + 1))
    assert verify_chain(records, checkpoints=[head]).ok
    camp.record("u2", cf.Milestone("ready"), actor=CLERK)
    second = io.StringIO()
    head2 = camp.export_audit(second)
    assert [json.loads(line)["seq"] for line in second.getvalue().splitlines()] == [head2.seq]
    again = io.StringIO()
    camp.export_audit(again, after_seq=0)
    assert len(again.getvalue().splitlines()) == head2.seq


def test_purge_refuses_records_inside_the_retention_period(store_factory: StoreFactory) -> None:
    """Nothing younger than 180 days is purged, whatever the caller asks."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _history(camp, clock)
    camp.export_audit(io.StringIO())
    before = [r.hash for r in camp.audit_trail()]
    with pytest.raises(cf.ValidationError, match="kept 180 days"):
        camp.purge_audit(older_than=date(2005, 9, 1))
    with pytest.raises(cf.ValidationError, match="retention_days"):
        camp.purge_audit(older_than=date(2005, 2, 1), retention_days=30)
    assert [r.hash for r in camp.audit_trail()] == before


def test_purge_refuses_records_not_yet_exported(store_factory: StoreFactory) -> None:
    """Records that were never exported cannot be purged."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _history(camp, clock)
    clock.set(date(2006, 6, 1))
    with pytest.raises(cf.ValidationError, match="not been exported"):
        camp.purge_audit(older_than=date(2005, 3, 1))


def test_purge_keeps_the_chain_verifiable_from_its_anchor(store_factory: StoreFactory) -> None:
    """After a purge the rest verifies from the anchor, new records chain on, old checkpoints pass."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _history(camp, clock)
    exported = io.StringIO()
    head = camp.export_audit(exported)
    clock.set(date(2006, 6, 1))
    removed = camp.purge_audit(older_than=date(2005, 3, 1))
    kept = list(camp.audit_trail())
    assert removed == 5  # three add_unit records on 01-10, a record and an advance on 02-10
    assert kept[0].on >= date(2005, 3, 1)
    # A purge is followed by a new checkpoint: it covers the purge record.
    after_purge = camp.audit_checkpoint()
    assert camp.verify_audit(checkpoints=[head, after_purge]).ok
    camp.record("u2", cf.Milestone("ready"), actor=CLERK)
    assert camp.verify_audit(checkpoints=[head, camp.audit_checkpoint()]).ok
    # The exported file plus what is left is the whole chain.
    old = [AuditRecord.from_data(json.loads(line)) for line in exported.getvalue().splitlines()]
    whole = [r for r in old if r.seq <= removed] + list(camp.audit_trail())
    assert verify_chain(whole).ok
    if store_factory.durable:
        reopened = _campaign(store_factory, clock)
        assert reopened.verify_audit(checkpoints=[head, after_purge]).ok


def test_purge_of_nothing_old_enough_removes_nothing(store_factory: StoreFactory) -> None:
    """A purge date before the first record removes nothing and leaves the chain as it was."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _history(camp, clock)
    camp.export_audit(io.StringIO())
    clock.set(date(2006, 6, 1))
    assert camp.purge_audit(older_than=date(2005, 1, 1)) == 0
    assert camp.verify_audit().ok
    assert date(2005, 1, 1) + timedelta(days=180) < date(2006, 6, 1)


# --- reading the trail in pages ---------------------------------------------------------------


@pytest.mark.slow
def test_audit_trail_pages_hold_no_transaction_between_records(store_factory: StoreFactory) -> None:
    """A reader paused inside a long trail blocks no writer, and still reads the whole chain.

    The trail spans several pages (2,500 records); after the first record another thread
    writes. With one transaction held across the iteration the memory store's lock would
    make that writer wait for the reader, forever here.
    """
    import threading

    clock = cf.FixedClock(date(2005, 2, 10))
    camp = _campaign(store_factory, clock)
    camp.add_units([cf.Unit(id=f"p{i}", name="支部", kind="organ", batch=1) for i in range(500)])
    for i in range(2000):
        camp.record(f"p{i % 500}", cf.Milestone(f"m{i}"), actor=CLERK)
    expected = [r.hash for r in camp.audit_trail()]
    assert len(expected) == 2500

    trail = camp.audit_trail()
    first = next(trail)
    writer = threading.Thread(
        target=camp.record, args=("p0", cf.Milestone("late")), kwargs={"actor": CLERK}
    )
    writer.start()
    writer.join(timeout=30)
    assert not writer.is_alive(), "a writer waited on a paused audit reader"
    rest = [r.hash for r in trail]
    # The record written meanwhile joins the end: every page continues from the last seq.
    assert [first.hash, *rest] == [*expected, rest[-1]]
    assert verify_chain(camp.audit_trail()).ok
    assert [r.seq for r in camp.audit_trail("p0")] == sorted(r.seq for r in camp.audit_trail("p0"))
    assert len(list(camp.audit_trail("p0"))) == 1 + 4 + 1  # added, its four milestones, late
