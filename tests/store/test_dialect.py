"""A dialect is one value: SQLStore runs a campaign on any DB-API driver a Dialect describes."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.store import Dialect, SQLStore
from campaignflow.store.sqlite import SQLITE


def test_placeholders_follow_the_paramstyle() -> None:
    """'?' stays for qmark drivers and becomes '%s' for format drivers, with literal '%' escaped."""
    sql = "SELECT a FROM t WHERE b = ? AND c LIKE 'x%'"
    assert SQLITE.translate(sql) == sql
    fmt = Dialect(name="fmt", errors=(Exception,), classify=lambda exc: None, paramstyle="format")
    assert fmt.translate(sql) == "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%'"
    assert repr(fmt) == "<Dialect 'fmt'>"
    assert fmt.types() == {"key": "TEXT", "text": "TEXT", "int": "BIGINT"}


def test_a_hand_made_dialect_runs_a_campaign(tmp_path: Path) -> None:
    """SQLStore with a minimal hand-written dialect (only the required fields) keeps a campaign."""

    def classify(exc: BaseException) -> str | None:
        text = str(exc)
        if "UNIQUE" in text:
            return "unique"
        return "conflict" if "locked" in text else None

    dialect = Dialect(
        name="minimal-sqlite",
        errors=(sqlite3.Error,),
        classify=classify,  # type: ignore[arg-type]
        begin_write="BEGIN IMMEDIATE",
        key_type="VARCHAR(255)",
    )
    path = tmp_path / "minimal.db"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    store = SQLStore(connect, dialect, campaign_id="m")
    try:
        camp = cf.Campaign(
            cf.presets.district_2005(),
            store=store,
            clock=cf.FixedClock(date(2005, 1, 10)),
            campaign_id="m",
        )
        camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)], request_id="add")
        [outcome] = camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        assert outcome.advanced
        with pytest.raises(cf.ConcurrencyConflict), store.transaction() as tx:
            tx.update_state(camp.state("u1"), expected_version=0)
        assert camp.state("u1").stage == "preparation"
        assert camp.verify_audit().ok
        assert "minimal-sqlite" in repr(store)
    finally:
        store.close()
