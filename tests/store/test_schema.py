"""The schema: created on first use, migrated forward in one transaction, newer ones refused, v1 files keep loading."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import Checkpoint, verify_chain
from campaignflow.store import PostgresStore, SQLiteStore, SQLStore, _schema
from campaignflow.store._schema import MIGRATIONS, Migration, latest_version
from tests.store.conftest import pg_dsn

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "schema_v1.db"
V1_HEAD = Checkpoint(9, "2d894cedc748b8acae9cd1f982c503373da7e341295bb3bd22598f8025ef7db8")


class Database:
    """An empty database of one kind, with raw SQL access next to the store."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.path = tmp_path / "schema.db"
        self.dsn = ""
        self._stores: list[SQLStore] = []

    def open(self, campaign_id: str = "default") -> SQLStore:
        store: SQLStore
        if self.kind == "sqlite":
            store = SQLiteStore(self.path, campaign_id=campaign_id)
        else:
            store = PostgresStore(self.dsn, campaign_id=campaign_id)
        self._stores.append(store)
        return store

    def query(self, sql: str) -> list[Any]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                rows = conn.execute(sql).fetchall()
            conn.close()
            return rows
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database: a new SQLite file, or a new PostgreSQL schema on the test server."""
    db = Database(request.param, tmp_path)
    if db.kind == "sqlite":
        yield db
        db.close()
        return
    import psycopg

    dsn = pg_dsn()
    schema = f"cf_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    db.dsn = f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"
    try:
        yield db
    finally:
        db.close()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def version_of(db: Database) -> int:
    return int(
        db.query("SELECT version FROM cf_schema_version WHERE component = 'campaignflow'")[0][0]
    )


def columns_of_units(db: Database) -> set[str]:
    if db.kind == "sqlite":
        return {row[1] for row in db.query("PRAGMA table_info(cf_units)")}
    return {
        row[0]
        for row in db.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'cf_units' AND table_schema = current_schema()"
        )
    }


#: A step a later release might add after the shipped ones.
NEXT = Migration(
    len(MIGRATIONS) + 1, "a note per unit", ("ALTER TABLE cf_units ADD COLUMN note {text}",)
)


def test_migrations_are_numbered_one_by_one() -> None:
    """Migration n is the n-th step: versions run 1, 2, … without gaps."""
    assert [m.version for m in MIGRATIONS] == list(range(1, latest_version() + 1))


def test_a_new_database_gets_the_latest_schema(database: Database) -> None:
    """Opening an empty database creates every table and records the latest version."""
    store = database.open()
    assert version_of(database) == latest_version()
    with store.transaction(write=False) as tx:
        assert list(tx.iter_units()) == []
    database.open()  # a second opener finds it current
    assert version_of(database) == latest_version()


def test_a_newer_database_is_refused_naming_both_versions(database: Database) -> None:
    """A database written by a later release raises ValidationError naming its version and ours."""
    database.open()
    later = latest_version() + 1
    if database.kind == "sqlite":
        with sqlite3.connect(database.path) as conn:
            conn.execute("UPDATE cf_schema_version SET version = ?", (later,))
        conn.close()
    else:
        import psycopg

        with psycopg.connect(database.dsn, autocommit=True) as conn:
            conn.execute("UPDATE cf_schema_version SET version = %s", (later,))
    message = (
        f"schema version {later}, newer than this campaignflow's schema version {latest_version()}"
    )
    with pytest.raises(cf.ValidationError, match=message):
        database.open()


def test_an_older_database_migrates_forward(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release with one more step upgrades an existing database and keeps its data."""
    store = database.open()
    with store.transaction() as tx:
        tx.insert_unit(
            cf.Unit(id="u1", name="支部", kind="organ", batch=1),
            cf.UnitState(unit_id="u1", stage="pending", batch=1),
        )
    monkeypatch.setattr(_schema, "MIGRATIONS", (*MIGRATIONS, NEXT))
    upgraded = database.open()
    assert version_of(database) == latest_version() == len(MIGRATIONS) + 1
    assert "note" in columns_of_units(database)
    with upgraded.transaction(write=False) as tx:
        assert tx.get_unit("u1") == cf.Unit(id="u1", name="支部", kind="organ", batch=1)


def test_a_failing_migration_changes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a step fails half-way, the whole migration rolls back: version and tables stay as they were."""
    database.open()
    broken = Migration(
        len(MIGRATIONS) + 1,
        "broken",
        ("ALTER TABLE cf_units ADD COLUMN note {text}", "NOT SQL AT ALL"),
    )
    monkeypatch.setattr(_schema, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(cf.CampaignflowError, match="store"):
        database.open()
    assert version_of(database) == len(MIGRATIONS)
    assert "note" not in columns_of_units(database)


def test_schema_v1_fixture_keeps_loading(tmp_path: Path) -> None:
    """The committed version-1 database opens, reads back exactly, verifies, and takes new commands."""
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURE_V1, path)
    store = SQLiteStore(path, campaign_id="fixture-v1")
    try:
        with store.transaction(write=False) as tx:
            units = list(tx.iter_units())
            assert [u.id for u, _ in units] == ["fin-01", "edu-02"]
            assert units[0][1] == cf.UnitState(
                unit_id="fin-01",
                stage="study_mobilization",
                batch=1,
                version=2,
                entered_on=date(2005, 1, 10),
                stage_since=date(2005, 1, 10),
                started_on=date(2005, 1, 10),
            )
            assert units[1][0] == cf.Unit(
                id="edu-02", name="区教育局机关党支部", kind="organ", batch=1, members=20
            )
            [study] = tx.get_facts("fin-01", "study_mobilization")
            assert study.fact == cf.StudySession(hours=6.5, guided=True)
            assert study.at == datetime(2005, 1, 17, 15, 5, 42, 7, tzinfo=UTC)
            assert (study.seq, study.request_id, study.version) == (8, "s-1", 2)
            assert [f.fact.name for f in tx.get_facts("fin-01", "preparation")] == [
                "implementation_plan",
                "leading_group_established",
            ]
            trail = list(tx.iter_audit())
            assert verify_chain(trail, checkpoints=[V1_HEAD]).ok
            assert tx.audit_head() == (V1_HEAD.seq, V1_HEAD.hash)
            assert [r.outcome for r in trail].count("denied") == 1
            found = tx.find_request("adv-1")
            assert found is not None
            assert (found.command, found.dest) == ("advance", "study_mobilization")
        clock = cf.FixedClock(date(2005, 2, 1))
        camp = cf.Campaign(
            cf.presets.district_2005(), store=store, clock=clock, campaign_id="fixture-v1"
        )
        clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
        camp.record("fin-01", cf.StudySession(hours=2), actor=clerk)
        assert camp.verify_audit(checkpoints=[V1_HEAD]).ok
    finally:
        store.close()


def test_joining_an_empty_connection_creates_the_schema() -> None:
    """A store joined to a fresh in-memory SQLite connection creates its tables there and works."""
    conn = sqlite3.connect(":memory:")
    try:
        camp = cf.Campaign(
            cf.presets.district_2005(),
            store=SQLiteStore.join(conn),
            clock=cf.FixedClock(date(2005, 1, 10)),
        )
        camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)])
        conn.commit()
        assert conn.execute("SELECT version FROM cf_schema_version").fetchone() == (
            latest_version(),
        )
        assert camp.state("u1").stage == "pending"
    finally:
        conn.close()
