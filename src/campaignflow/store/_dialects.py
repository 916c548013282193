"""The dialects that ship: SQLite (the standard library's sqlite3) and PostgreSQL (psycopg 3).

Apart from the stores that use them, so :class:`SQLStore` resolves a dialect by name without
importing its own subclasses. psycopg is imported when the PostgreSQL dialect is made, never
when campaignflow is imported.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from campaignflow._words.checks import field_error
from campaignflow.errors import ValidationError
from campaignflow.store._dialect import Dialect, ErrorKind

if TYPE_CHECKING:
    import psycopg

__all__ = ["SQLITE", "import_psycopg", "postgres_dialect", "resolve_dialect"]


def resolve_dialect(dialect: Dialect | str) -> Dialect:
    """``dialect``, or the shipped dialect it names (``"sqlite"``, ``"postgresql"``)."""
    if isinstance(dialect, Dialect):
        return dialect
    if dialect == "sqlite":
        return SQLITE
    if dialect in ("postgresql", "postgres"):
        return postgres_dialect()
    raise field_error(
        "store", dialect, "dialect must be a Dialect or one of 'sqlite', 'postgresql'"
    )


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_classify(exc: BaseException) -> ErrorKind | None:
    name = str(getattr(exc, "sqlite_errorname", ""))
    text = str(exc)
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY") or (
        "UNIQUE constraint failed" in text
    ):
        return "unique"
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY" or "FOREIGN KEY constraint failed" in text:
        return "foreign_key"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return "conflict"
    return None


def _cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cur = conn.cursor()
    cur.row_factory = None  # tuples, whatever the host set on its connection
    return cur


def _in_transaction(conn: sqlite3.Connection) -> bool:
    return conn.in_transaction


def _open_joined(conn: sqlite3.Connection) -> None:
    # The host has not written yet (sqlite3 opens its implicit transaction only before its
    # first INSERT/UPDATE/DELETE): open one, or our savepoint would be the outermost and
    # releasing it would commit. The host's commit() or rollback() ends it.
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")


#: The SQLite dialect: ``?`` placeholders, ``BEGIN IMMEDIATE`` to serialise writers.
SQLITE = Dialect(
    name="sqlite",
    errors=(sqlite3.Error,),
    classify=_sqlite_classify,
    paramstyle="qmark",
    begin_write="BEGIN IMMEDIATE",
    begin_read="BEGIN",
    cursor=_cursor,
    in_transaction=_in_transaction,
    open_joined=_open_joined,
)


# --- PostgreSQL ---------------------------------------------------------------------------------


#: SQLSTATEs that mean "another transaction got there first": serialization failure,
#: deadlock, lock timeout.
# serialization failure, deadlock, lock not available, and 57014 "canceling statement":
# what a lock_timeout firing as the lock is granted (or pg_cancel_backend) reports.
_CONFLICTS = frozenset({"40001", "40P01", "55P03", "57014"})
_UNIQUE = "23505"
_FOREIGN_KEY = "23503"

# Any constant: the key of the transaction-scoped advisory lock migrations take.
_SCHEMA_LOCK_KEY = 0x6366_7363_6865_6D61  # "cfschema"


def import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ValidationError(code="store.needs_psycopg") from None
    return psycopg


def _postgres_classify(exc: BaseException) -> ErrorKind | None:
    state = getattr(exc, "sqlstate", None)
    if state == _UNIQUE:
        return "unique"
    if state == _FOREIGN_KEY:
        return "foreign_key"
    if state in _CONFLICTS:
        return "conflict"
    return None


def postgres_dialect() -> Dialect:
    """The PostgreSQL dialect (imports psycopg).

    Raises:
        ValidationError: psycopg is not installed.
    """
    pg = import_psycopg()
    from psycopg import pq
    from psycopg.rows import tuple_row

    def cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
        return conn.cursor(row_factory=tuple_row)

    def in_transaction(conn: psycopg.Connection[Any]) -> bool:
        return conn.info.transaction_status != pq.TransactionStatus.IDLE

    def open_joined(conn: psycopg.Connection[Any]) -> None:
        if conn.autocommit:
            raise ValidationError(code="store.autocommit")

    return Dialect(
        name="postgresql",
        errors=(pg.Error,),
        classify=_postgres_classify,
        paramstyle="format",
        begin_write="BEGIN",
        begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        lock_suffix=" FOR UPDATE",
        claim_suffix=" FOR UPDATE OF s SKIP LOCKED",
        schema_lock=f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})",
        cursor=cursor,
        in_transaction=in_transaction,
        open_joined=open_joined,
    )
