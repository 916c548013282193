"""Fault injection in SQLite's manner: a DB-API connection whose N-th call raises the driver's error.

An :class:`Injector` wraps the connections a store's factory makes. While armed it counts
every ``execute`` (on the connection or a cursor, ``BEGIN`` and ``COMMIT`` included: the store
issues them as statements) and every ``commit()``; the ``at``-th raises the driver's
``OperationalError``:

* ``persistent=False`` (transient): only that call fails;
* ``persistent=True``: the connection is dead from then on: every use of it or its cursors
  raises (reading ``in_transaction`` too, as on a closed sqlite3 connection) until the store
  replaces it; ``close()`` still works;
* ``after=False``: the call never reaches the database; ``after=True``: it runs, then the error
  is raised (a ``COMMIT`` that committed but whose answer was lost);
* ``strike``: instead of raising, do something real to the connection (PostgreSQL: cut its
  socket) and let the call go on, so the driver raises its own error.

Stores are built through the public ``SQLStore(connect, dialect)`` with a factory that opens
connections exactly as ``SQLiteStore`` / ``PostgresStore`` do (those classes take no factory).
A :class:`Database` keeps one saved state of a campaign and restores it before every case:
SQLite by copying the file, PostgreSQL by rewriting the campaign's rows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from campaignflow.store import Dialect, SQLStore
from campaignflow.store.sqlite import SQLITE

T = TypeVar("T")

#: Each table's rows for one campaign, in key order: everything a campaign keeps.
TABLES = {
    "cf_campaigns": "campaign_id",
    "cf_units": "unit_id",
    "cf_states": "unit_id",
    "cf_facts": "unit_id, stage, n",
    "cf_audit": "seq",
}
#: Tables the writes keep beside those (counters, work items): saved and restored with them,
#: not compared row for row — a sweep changes them page by page, so test_faults checks them
#: against a recount instead.
KEPT = {
    "cf_counts": "org, batch, stage",
    "cf_stuck_counts": "org, batch, stage, codes",
    "cf_batch_closes": "batch",
    "cf_work_items": "unit_id, kind, role",
}
Row = dict[str, Any]
Dump = dict[str, list[Row]]


class Injector:
    """Counts the driver calls of armed connections and makes the ``at``-th one fail."""

    def __init__(
        self,
        error: Callable[[str], BaseException],
        message: str,
        at: int | None = None,
        *,
        persistent: bool = False,
        after: bool = False,
        strike: Callable[[Any], None] | None = None,
    ) -> None:
        self.error = error
        self.message = message
        self.at = at
        self.persistent = persistent
        self.after = after
        self.strike = strike
        self.armed = False
        self.fired = False
        #: The statement (or ``commit()``) of every counted call, in order.
        self.calls: list[str] = []

    def __repr__(self) -> str:
        how = "persistent" if self.persistent else "transient"
        return f"Injector(at={self.at}, {how}, {'after' if self.after else 'before'} the call)"

    def wrap(self, connect: Callable[[], Any]) -> Callable[[], FaultyConnection]:
        """A connection factory whose connections this injector watches."""
        return lambda: FaultyConnection(connect(), self)

    @contextlib.contextmanager
    def armed_for(self) -> Iterator[Injector]:
        """Count (and fail) calls only inside the block: the command, not opening the store."""
        self.armed = True
        try:
            yield self
        finally:
            self.armed = False

    def call(self, conn: FaultyConnection, what: str, run: Callable[[], T]) -> T:
        """Run one driver call of ``conn``, or fail it."""
        conn._check()
        if not self.armed:
            return run()
        self.calls.append(" ".join(what.split())[:60])
        if len(self.calls) != self.at:
            return run()
        self.fired = True
        if self.strike is not None:
            self.strike(conn._inner)
            return run()
        if self.persistent:
            conn._dead = True
        if self.after:
            run()
        raise self.error(self.message)


class FaultyConnection:
    """A DB-API connection that reports its ``execute`` and ``commit`` calls to an injector."""

    def __init__(self, inner: Any, injector: Injector) -> None:
        self._inner = inner
        self._injector = injector
        self._dead = False

    def _check(self) -> None:
        if self._dead:
            raise self._injector.error(f"{self._injector.message} (connection is broken)")

    def cursor(self, *args: Any, **kwargs: Any) -> FaultyCursor:
        """A watched cursor."""
        self._check()
        return FaultyCursor(self._inner.cursor(*args, **kwargs), self)

    def execute(self, sql: str, *params: Any) -> Any:
        """A watched ``execute`` on the connection."""
        return self._injector.call(self, sql, lambda: self._inner.execute(sql, *params))

    def commit(self) -> None:
        """A watched ``commit()``."""
        self._injector.call(self, "commit()", self._inner.commit)

    def rollback(self) -> None:
        """``rollback()`` (not counted: a fault there would be a second fault)."""
        self._check()
        self._inner.rollback()

    def close(self) -> None:
        """Close the real connection (works on a broken one too)."""
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        # in_transaction (sqlite3), info and autocommit (psycopg)...: a dead connection answers
        # nothing, as a closed sqlite3 connection does.
        self._check()
        return getattr(self._inner, name)


class FaultyCursor:
    """A cursor whose ``execute`` and ``executemany`` go through the injector."""

    __slots__ = ("_conn", "_inner")

    def __init__(self, inner: Any, conn: FaultyConnection) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_conn", conn)

    def execute(self, sql: str, *params: Any) -> FaultyCursor:
        """A watched ``execute``."""
        self._conn._injector.call(self._conn, sql, lambda: self._inner.execute(sql, *params))
        return self

    def executemany(self, sql: str, rows: Any) -> FaultyCursor:
        """A watched ``executemany``."""
        self._conn._injector.call(self._conn, sql, lambda: self._inner.executemany(sql, rows))
        return self

    def close(self) -> None:
        """Close the real cursor."""
        with contextlib.suppress(Exception):
            self._inner.close()

    def __getattr__(self, name: str) -> Any:
        self._conn._check()
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)  # row_factory, set by the SQLite dialect


# --- databases ---------------------------------------------------------------------------------


class Database:
    """One engine's database for one campaign, with a saved state to go back to."""

    kind: str
    #: The driver's error for a failed call, and messages for a plain failure and a conflict.
    error: Callable[[str], BaseException]
    conflict_error: Callable[[str], BaseException]
    driver_errors: tuple[type[BaseException], ...]

    def __init__(self, campaign_id: str) -> None:
        self.campaign_id = campaign_id
        self._stores: list[SQLStore] = []

    def connect(self) -> Any:
        """A new connection, opened as the engine's store opens its own."""
        raise NotImplementedError

    def dialect(self) -> Dialect:
        """The engine's dialect."""
        raise NotImplementedError

    def store(self, injector: Injector | None = None) -> SQLStore:
        """A new store object on the database (its connections watched by ``injector``)."""
        connect = self.connect if injector is None else injector.wrap(self.connect)
        store = SQLStore(connect, self.dialect(), campaign_id=self.campaign_id)
        self._stores.append(store)
        return store

    def close_stores(self) -> None:
        """Close every store this database made."""
        for store in self._stores:
            store.close()
        self._stores.clear()

    def rows(self, queries: list[str], params: tuple[Any, ...]) -> list[list[Row]]:
        """Rows (column -> value) of queries with ``?`` placeholders, on a connection of the test's."""
        raise NotImplementedError

    def dump(self) -> Dump:
        """Every row the campaign has in every table, in key order."""
        queries = [
            f"SELECT * FROM {table} WHERE campaign_id = ? ORDER BY {keys}"
            for table, keys in TABLES.items()
        ]
        return dict(zip(TABLES, self.rows(queries, (self.campaign_id,)), strict=True))

    def close(self) -> None:
        """Close every store and the test's own connection."""
        self.close_stores()

    def save(self) -> None:
        """Remember the current state (close stores first)."""
        raise NotImplementedError

    def restore(self) -> None:
        """Go back to the saved state (closes every store)."""
        raise NotImplementedError


class SQLiteDatabase(Database):
    """A SQLite file; saved and restored by copying the file."""

    kind = "sqlite"
    error = sqlite3.OperationalError
    conflict_error = sqlite3.OperationalError
    driver_errors = (sqlite3.Error,)

    def __init__(self, directory: Path, campaign_id: str) -> None:
        super().__init__(campaign_id)
        self.path = directory / "campaign.db"
        self.saved = directory / "saved.db"

    def connect(self) -> sqlite3.Connection:
        # As SQLiteStore opens its connections (synchronous=FULL, its default).
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def dialect(self) -> Dialect:
        return SQLITE

    def rows(self, queries: list[str], params: tuple[Any, ...]) -> list[list[Row]]:
        found = []
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            for sql in queries:
                cur = conn.execute(sql, params)
                names = [c[0] for c in cur.description]
                found.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        return found

    def integrity(self) -> list[tuple[Any, ...]]:
        """``PRAGMA integrity_check`` and ``foreign_key_check`` rows, from sqlite3 itself."""
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            return (
                conn.execute("PRAGMA integrity_check").fetchall()
                + conn.execute("PRAGMA foreign_key_check").fetchall()
            )

    def _files(self, base: Path) -> list[Path]:
        return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]

    def save(self) -> None:
        self.close_stores()
        # The last connection closed checkpoints the WAL into the file; copy what is there.
        for source, target in zip(self._files(self.path), self._files(self.saved), strict=True):
            if source.exists():
                shutil.copyfile(source, target)
            else:
                target.unlink(missing_ok=True)

    def restore(self) -> None:
        self.close_stores()
        for source, target in zip(self._files(self.saved), self._files(self.path), strict=True):
            if source.exists():
                shutil.copyfile(source, target)
            else:
                target.unlink(missing_ok=True)


class PostgresDatabase(Database):
    """A campaign in a shared PostgreSQL database; saved as its rows and restored by rewriting them."""

    kind = "postgres"

    def __init__(self, dsn: str, campaign_id: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        super().__init__(campaign_id)
        self.dsn = dsn
        self.error = psycopg.OperationalError
        self.conflict_error = psycopg.errors.LockNotAvailable
        self.driver_errors = (psycopg.Error,)
        self._saved: dict[str, list[Row]] = {}
        #: The server process of every connection made for a store, oldest first.
        self.backends: list[int] = []
        # The test's own connection, for dumps and restores (a connection costs ~8 ms). A
        # lock a store failed to release makes it fail fast instead of waiting.
        self._admin = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)
        self._admin.execute("SET lock_timeout = '2s'")

    def drop_connection(self, conn: Any) -> None:
        """Cut ``conn``'s socket, as a network failure would: its next call fails in the driver."""
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    def end_backend(self, pid: int) -> None:
        """Have the server end a connection's process (as an administrator or a restart would)."""
        ended = self._admin.execute("SELECT pg_terminate_backend(%s, 10000) AS ended", (pid,))
        assert ended.fetchone() == {"ended": True}

    def connect(self) -> Any:
        import psycopg

        # As PostgresStore opens its connections, with a short lock timeout: a connection
        # left holding the campaign's lock shows up as a conflict, not a long wait.
        conn = psycopg.connect(self.dsn, autocommit=True)
        conn.execute("SELECT set_config('lock_timeout', %s, false)", ("2000ms",))
        self.backends.append(conn.info.backend_pid)
        return conn

    def dialect(self) -> Dialect:
        from campaignflow.store.postgres import postgres_dialect

        return postgres_dialect()

    def rows(self, queries: list[str], params: tuple[Any, ...]) -> list[list[Row]]:
        return [self._admin.execute(sql.replace("?", "%s"), params).fetchall() for sql in queries]

    def save(self) -> None:
        self.close_stores()
        kept = [
            f"SELECT * FROM {table} WHERE campaign_id = ? ORDER BY {keys}"
            for table, keys in KEPT.items()
        ]
        self._saved = {
            **self.dump(),
            **dict(zip(KEPT, self.rows(kept, (self.campaign_id,)), strict=True)),
        }

    def restore(self) -> None:
        self.close_stores()
        conn = self._admin
        with conn.transaction():
            for table in [*reversed(TABLES), *KEPT]:
                conn.execute(f"DELETE FROM {table} WHERE campaign_id = %s", (self.campaign_id,))
            for table, rows in self._saved.items():
                if rows:
                    columns = list(rows[0])
                    marks = ", ".join(["%s"] * len(columns))
                    with conn.cursor() as cur:
                        cur.executemany(
                            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                            [tuple(row[c] for c in columns) for row in rows],
                        )

    def close(self) -> None:
        super().close()
        self._admin.close()
