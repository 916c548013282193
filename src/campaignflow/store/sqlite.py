"""``SQLiteStore``: the embedded default store, on the standard library's sqlite3.

The database runs in WAL mode (readers never block the writer), write transactions begin with
``BEGIN IMMEDIATE`` (writers queue for the lock up to ``busy_timeout_ms`` instead of failing
half-way through a command), and ``synchronous=FULL`` makes every committed command survive a
power loss. ``synchronous="NORMAL"`` is faster (no fsync per commit): a commit still survives
an application crash, but the last commits before a power loss or OS crash may be lost; the
database stays consistent either way.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.errors import ValidationError
from campaignflow.store._dialects import SQLITE
from campaignflow.store._sql import SQLStore, closed_on_failure

__all__ = ["SQLITE", "SQLiteStore"]

_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


class SQLiteStore(SQLStore):
    """A campaign in a SQLite file: the embedded default (``store="sqlite:///campaign.db"``).

    Many threads and processes may share the file: writers queue for the lock (up to
    ``busy_timeout_ms``, then :class:`~campaignflow.ConcurrencyConflict`, which is
    retryable), readers read a consistent snapshot without waiting.

    Args:
        path: the database file; created with its tables if missing. In-memory databases
            are refused (each connection would see its own): use ``MemoryStore``, or
            :meth:`join` an in-memory connection.
        campaign_id: the campaign this store holds (a file can hold several).
        synchronous: ``"FULL"`` (default: every commit survives a power loss), ``"NORMAL"``
            (faster; the last commits may be lost on power loss or OS crash) or ``"EXTRA"``.
        busy_timeout_ms: how long a writer waits for another writer's lock.
        fact_types: the registry that loads stored facts (the default one unless given).

    Raises:
        ValidationError: a bad path or option, or a database newer than this release.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        campaign_id: str = "default",
        synchronous: str = "FULL",
        busy_timeout_ms: int = 10_000,
        fact_types: FactTypes | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike) or str(path) in ("", ":memory:"):
            refuse(
                "store",
                path,
                "SQLite path must be a file path (use MemoryStore for a store in memory)",
            )
        file = Path(path)
        if str(file).startswith("file:"):
            refuse("store", path, "SQLite path must be a plain file path")
        if not file.parent.is_dir():
            raise ValidationError(
                code="store.sqlite_no_directory",
                params={"file": repr(str(file)), "parent": repr(str(file.parent))},
            )
        level = synchronous.upper() if isinstance(synchronous, str) else synchronous
        if level not in _SYNCHRONOUS:
            raise ValidationError(
                code="store.sqlite_synchronous",
                params={"choices": list(_SYNCHRONOUS), "synchronous": repr(synchronous)},
            )
        if (
            not isinstance(busy_timeout_ms, int)
            or isinstance(busy_timeout_ms, bool)
            or busy_timeout_ms < 0
        ):
            refuse("store", busy_timeout_ms, "busy_timeout_ms must be a whole number >= 0")
        # Absolute once, so connections opened later do not follow a change of directory.
        file = file.absolute()
        self.path = file
        self.synchronous = level
        self.busy_timeout_ms = busy_timeout_ms

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(
                file,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,  # autocommit: the store issues BEGIN/COMMIT itself
                check_same_thread=False,  # a pooled connection serves one thread at a time
            )
            with closed_on_failure(conn):
                conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {level}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA cache_size = -65536")
            return conn

        super().__init__(connect, SQLITE, campaign_id=campaign_id, fact_types=fact_types)

    def _where(self) -> str:
        path = getattr(self, "path", None)
        return f"in {str(path)!r}" if path is not None else "on sqlite"

    @classmethod
    def join(
        cls,
        conn: sqlite3.Connection,
        *,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
        migrate: bool = True,
    ) -> SQLiteStore:
        """A store inside the host's open sqlite3 connection: its commit or rollback is ours.

        The store never commits or rolls back; see :meth:`SQLStore.on_connection`. The
        host's connection settings (foreign keys, timeouts) are left as they are.

        Raises:
            ValidationError: ``conn`` is not a sqlite3 connection, or its database is newer
                than this release.
        """
        if not isinstance(conn, sqlite3.Connection):
            refuse("store", conn, "join needs a sqlite3.Connection")
        return cls.on_connection(
            conn, dialect=SQLITE, campaign_id=campaign_id, fact_types=fact_types, migrate=migrate
        )
