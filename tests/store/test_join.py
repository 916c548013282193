"""Joining the host's transaction: the host's own write and the campaign's commit or roll back together."""

from __future__ import annotations

from typing import Any

import pytest

import campaignflow as cf
from tests.store.conftest import StoreFactory
from tests.store.helpers import START, UNITS, FailingStore, clerk_of, snapshot

HOST_TABLE = "cf_test_host_log"


def host_setup(factory: StoreFactory) -> tuple[cf.Campaign, Any, cf.Campaign]:
    """A started campaign (committed by the store itself), a host connection, and a campaign joined to it."""
    clock = cf.FixedClock(START)
    camp = factory.campaign(clock)
    camp.add_units(UNITS[:1])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    conn = factory.connect()
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE IF NOT EXISTS {HOST_TABLE} (campaign_id TEXT, note TEXT)")
    conn.commit()
    joined = factory.campaign(clock, store=factory.join(conn))
    return camp, conn, joined


def host_notes(factory: StoreFactory) -> list[str]:
    """The host table's rows for this test, read on a separate connection (committed data only)."""
    conn = factory.connect()
    cur = conn.cursor()
    mark = "?" if factory.kind == "sqlite" else "%s"
    cur.execute(f"SELECT note FROM {HOST_TABLE} WHERE campaign_id = {mark}", (factory.campaign_id,))
    notes = [row[0] for row in cur.fetchall()]
    conn.rollback()
    conn.close()
    return notes


def host_write(factory: StoreFactory, conn: Any, note: str) -> None:
    mark = "?" if factory.kind == "sqlite" else "%s"
    conn.cursor().execute(
        f"INSERT INTO {HOST_TABLE} (campaign_id, note) VALUES ({mark}, {mark})",
        (factory.campaign_id, note),
    )


def test_host_rollback_takes_the_campaign_write_with_it(sql_factory: StoreFactory) -> None:
    """The host writes its table, records a fact through the joined store, rolls back: both are gone."""
    camp, conn, joined = host_setup(sql_factory)
    before = snapshot(camp)
    host_write(sql_factory, conn, "study logged")
    joined.record("fin-01", cf.StudySession(hours=4), actor=clerk_of("fin-01"), request_id="h-1")
    assert len(joined.facts("fin-01")) == 1  # visible inside the host's transaction
    assert snapshot(camp) == before  # not committed: others do not see it
    conn.rollback()
    assert host_notes(sql_factory) == []
    assert snapshot(camp) == before
    assert joined.facts("fin-01") == ()


def test_host_commit_keeps_both(sql_factory: StoreFactory) -> None:
    """The host writes its table, records a fact through the joined store, commits: both are there."""
    camp, conn, joined = host_setup(sql_factory)
    host_write(sql_factory, conn, "study logged")
    record = joined.record(
        "fin-01", cf.StudySession(hours=4), actor=clerk_of("fin-01"), request_id="h-1"
    )
    conn.commit()
    assert host_notes(sql_factory) == ["study logged"]
    assert camp.facts("fin-01") == (record,)
    assert camp.history("fin-01")[-1].request_id == "h-1"
    assert camp.verify_audit().ok


def test_first_command_before_any_host_write_still_joins(sql_factory: StoreFactory) -> None:
    """A command issued before the host has written anything is still undone by the host's rollback."""
    camp, conn, joined = host_setup(sql_factory)
    before = snapshot(camp)
    joined.record("fin-01", cf.StudySession(hours=4), actor=clerk_of("fin-01"))
    host_write(sql_factory, conn, "after")
    conn.rollback()
    assert snapshot(camp) == before
    assert host_notes(sql_factory) == []


def test_a_failed_command_undoes_only_itself_in_the_host_transaction(
    sql_factory: StoreFactory,
) -> None:
    """A command failing mid-way leaves none of its writes, and the host's own write can still commit."""
    camp, conn, joined = host_setup(sql_factory)
    before = snapshot(camp)
    host_write(sql_factory, conn, "kept")
    failing = cf.Campaign(
        camp.workflow,
        store=FailingStore(joined.store, "insert_fact"),
        clock=camp.clock,
        campaign_id=camp.campaign_id,
    )
    with pytest.raises(RuntimeError, match="injected"):
        failing.record("fin-01", cf.StudySession(hours=4), actor=clerk_of("fin-01"))
    joined.record("fin-01", cf.StudySession(hours=1), actor=clerk_of("fin-01"))
    conn.commit()
    assert host_notes(sql_factory) == ["kept"]
    assert [f.fact.hours for f in camp.facts("fin-01")] == [1]
    assert len(list(camp.audit_trail())) == len(before[2]) + 1
    assert camp.verify_audit().ok


def test_closing_a_joined_store_leaves_the_host_connection_open(sql_factory: StoreFactory) -> None:
    """close() on a joined store does not close the host's connection."""
    _, conn, joined = host_setup(sql_factory)
    joined.close()
    host_write(sql_factory, conn, "still open")
    conn.commit()
    assert host_notes(sql_factory) == ["still open"]
    with pytest.raises(cf.ValidationError, match="closed"):
        joined.state("fin-01")


def test_a_joined_postgres_connection_must_not_autocommit(pg_factory: StoreFactory) -> None:
    """An autocommit psycopg connection is refused on joining, or on the first write without migration."""
    camp, conn, _ = host_setup(pg_factory)
    conn.rollback()
    conn.autocommit = True
    with pytest.raises(cf.ValidationError, match="autocommit"):
        pg_factory.join(conn)
    joined = pg_factory.campaign(camp.clock, store=pg_factory.join(conn, migrate=False))  # type: ignore[arg-type]
    before = snapshot(camp)
    with pytest.raises(cf.ValidationError, match="autocommit"):
        joined.record("fin-01", cf.StudySession(hours=4), actor=clerk_of("fin-01"))
    assert snapshot(camp) == before


def test_join_refuses_a_foreign_connection(sql_factory: StoreFactory) -> None:
    """SQLiteStore.join and PostgresStore.join check the connection's type."""
    from campaignflow.store import PostgresStore, SQLiteStore

    store_class = SQLiteStore if sql_factory.kind == "postgres" else PostgresStore
    conn = sql_factory.connect()
    with pytest.raises(cf.ValidationError, match="join needs"):
        store_class.join(conn)
