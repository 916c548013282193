"""The store suite's backends: every test taking ``store_factory`` runs on memory, SQLite and PostgreSQL.

PostgreSQL comes from ``CAMPAIGNFLOW_PG_DSN`` (``eval "$(bash .ci/postgres.sh)"`` starts one).
Without it the PostgreSQL cases skip locally and fail in CI (``CI=true``): no PostgreSQL test
may be skipped there. Each test gets a fresh campaign id, so tests share one database safely.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.store import MemoryStore, PostgresStore, SQLiteStore, Store

PG_DSN_ENV = "CAMPAIGNFLOW_PG_DSN"
BACKENDS = ("memory", "sqlite", "postgres")
SQL_BACKENDS = ("sqlite", "postgres")


def pg_dsn() -> str:
    """The test server's DSN; skips locally and fails in CI when it is not set."""
    dsn = os.environ.get(PG_DSN_ENV, "")
    if not dsn:
        message = f'{PG_DSN_ENV} is not set; start a server with: eval "$(bash .ci/postgres.sh)"'
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"PostgreSQL store tests must run in CI: {message}")
        pytest.skip(message)
    return dsn


class StoreFactory:
    """Opens stores of one backend on one database and one fresh campaign; closes them all after.

    ``open()`` makes a new store object on the same database (for memory, the same store: it
    cannot be reopened); ``connect()`` gives a host connection in its driver's default
    transactional mode; ``join(conn)`` a store on it.
    """

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.campaign_id = f"t-{uuid.uuid4().hex[:12]}"
        self.path = tmp_path / "campaign.db"
        self.durable = kind != "memory"
        self.dsn = pg_dsn() if kind == "postgres" else ""
        self._memory: MemoryStore | None = None
        self._closers: list[Callable[[], object]] = []

    def __repr__(self) -> str:
        return f"StoreFactory({self.kind!r})"

    def open(self, campaign_id: str | None = None, **options: Any) -> Store:
        """A new store object on this factory's database, for ``campaign_id`` (the test's)."""
        cid = campaign_id or self.campaign_id
        store: Store
        if self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryStore()
            return self._memory
        if self.kind == "sqlite":
            store = SQLiteStore(self.path, campaign_id=cid, **options)
        else:
            store = PostgresStore(self.dsn, campaign_id=cid, **options)
        self._closers.append(store.close)
        return store

    def campaign(self, clock: cf.FixedClock, store: Store | None = None) -> cf.Campaign:
        """A district-2005 campaign on a new store (or ``store``) with this factory's campaign id."""
        return cf.Campaign(
            cf.presets.district_2005(),
            store=store if store is not None else self.open(),
            clock=clock,
            campaign_id=self.campaign_id,
        )

    def connect(self) -> Any:
        """A host's own connection to the database, in its driver's default (transactional) mode."""
        conn: Any
        if self.kind == "sqlite":
            self.open().close()  # make sure the file and its tables exist
            conn = sqlite3.connect(self.path, timeout=10)
        elif self.kind == "postgres":
            import psycopg

            conn = psycopg.connect(self.dsn)
        else:
            raise AssertionError("memory stores have no connection")
        self._closers.append(conn.close)
        return conn

    def join(self, conn: Any, **options: Any) -> Store:
        """A store joined to the host's connection ``conn``."""
        store: Store
        if self.kind == "sqlite":
            store = SQLiteStore.join(conn, campaign_id=self.campaign_id, **options)
        else:
            store = PostgresStore.join(conn, campaign_id=self.campaign_id, **options)
        self._closers.append(store.close)
        return store

    def close(self) -> None:
        """Close every store and connection this factory opened."""
        for close in reversed(self._closers):
            close()
        self._closers.clear()


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """One backend of the three (memory, sqlite, postgres), with a fresh campaign id."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.close()


@pytest.fixture(params=SQL_BACKENDS)
def sql_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """One of the SQL backends (sqlite, postgres), for what only a database has."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    """The SQLite backend alone, for what only SQLite has (files, pragmas)."""
    factory = StoreFactory("sqlite", tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def pg_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    """The PostgreSQL backend alone, for what only PostgreSQL has (autocommit, schemas)."""
    factory = StoreFactory("postgres", tmp_path)
    yield factory
    factory.close()
