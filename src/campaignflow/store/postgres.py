"""``PostgresStore``: a campaign in PostgreSQL through psycopg 3 (the ``pg`` extra).

psycopg is imported when a PostgreSQL store is made, never when campaignflow is imported;
without it, the error says ``pip install 'campaignflow[pg]'``.

Writers of one campaign serialise on the campaign's chain-head row: every write transaction
begins by locking it (``SELECT … FOR UPDATE``), so audit appends never race and each command
reads, under ``READ COMMITTED``, everything committed before it. Writers of different
campaigns in the same database do not wait for each other. Reads run in a ``REPEATABLE READ
READ ONLY`` snapshot and wait for no one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from campaignflow._public import publish
from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.store._dialects import import_psycopg, postgres_dialect
from campaignflow.store._sql import SQLStore, closed_on_failure

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore", "postgres_dialect"]


def _redacted(dsn: str) -> str:
    """The DSN without its password, for reprs and messages."""
    dsn = re.sub(r"(://[^:/@]*):[^@]*@", r"\1@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


class PostgresStore(SQLStore):
    """A campaign in a PostgreSQL database (``store="postgresql://user@host:5432/db"``).

    Needs the ``pg`` extra (psycopg 3). Tables are created or migrated on first use; one
    database holds many campaigns. Each transaction takes a pooled connection of its own.

    Args:
        dsn: a libpq connection string or URL.
        campaign_id: the campaign this store holds.
        lock_timeout_ms: how long a writer waits for another writer of the campaign, then
            :class:`~campaignflow.ConcurrencyConflict` (retryable); 0 waits forever.
        fact_types: the registry that loads stored facts (the default one unless given).

    Raises:
        ValidationError: psycopg is missing, or the database is newer than this release.
        CampaignflowError: the server cannot be reached.
    """

    def __init__(
        self,
        dsn: str,
        *,
        campaign_id: str = "default",
        lock_timeout_ms: int = 10_000,
        fact_types: FactTypes | None = None,
    ) -> None:
        if not isinstance(dsn, str) or not dsn:
            refuse("store", dsn, "dsn must be a PostgreSQL connection string")
        if (
            not isinstance(lock_timeout_ms, int)
            or isinstance(lock_timeout_ms, bool)
            or lock_timeout_ms < 0
        ):
            refuse("store", lock_timeout_ms, "lock_timeout_ms must be a whole number >= 0")
        dialect = postgres_dialect()
        pg = import_psycopg()
        self.dsn = _redacted(dsn)
        self.lock_timeout_ms = lock_timeout_ms

        def connect() -> psycopg.Connection[Any]:
            # Autocommit: the store issues BEGIN/COMMIT itself, as on SQLite.
            conn: psycopg.Connection[Any] = pg.connect(dsn, autocommit=True)
            with closed_on_failure(conn):
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, false)", (f"{lock_timeout_ms}ms",)
                )
            return conn

        super().__init__(connect, dialect, campaign_id=campaign_id, fact_types=fact_types)

    def _where(self) -> str:
        dsn = getattr(self, "dsn", None)
        return f"at {dsn!r}" if dsn is not None else "on postgresql"

    @classmethod
    def join(
        cls,
        conn: psycopg.Connection[Any],
        *,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
        migrate: bool = True,
    ) -> PostgresStore:
        """A store inside the host's open psycopg connection: its commit or rollback is ours.

        The store never commits or rolls back; see :meth:`SQLStore.on_connection`. The
        connection must not be in autocommit mode. Write commands lock the campaign's
        chain-head row until the host's transaction ends.

        Raises:
            ValidationError: psycopg is missing, ``conn`` is not a psycopg connection, or the
                database is newer than this release.
        """
        pg = import_psycopg()
        if not isinstance(conn, pg.Connection):
            refuse("store", conn, "join needs a psycopg.Connection")
        return cls.on_connection(
            conn,
            dialect=postgres_dialect(),
            campaign_id=campaign_id,
            fact_types=fact_types,
            migrate=migrate,
        )


publish(__name__, globals(), [n for n in __all__ if n in globals()])
