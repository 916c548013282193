"""Dialects: what differs between databases that run the store's portable SQL.

The store writes plain SQL (``CREATE TABLE IF NOT EXISTS``, ``SAVEPOINT``, ``LIMIT``, composite
keys, ``UPDATE … WHERE version = ?``) with ``?`` placeholders. A :class:`Dialect` says how one
database family differs: placeholders, how a write transaction begins and serialises, the
column types, and which driver errors mean "someone else got there first". SQLite and
PostgreSQL ship; a MySQL-family or domestic database is one more ``Dialect`` value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import attrs

from campaignflow.errors import CampaignflowError

__all__ = [
    "ANY_FAILURE",
    "Connection",
    "Dialect",
    "ErrorKind",
    "Failure",
    "Params",
    "Reader",
]

#: A DB-API 2.0 connection (sqlite3, psycopg, PyMySQL, …); typed loosely because drivers'
#: signatures differ in detail.
Connection = Any

#: What a driver error means to the store: a unique key taken, a missing parent row, or a
#: lock or serialisation conflict (busy, deadlock, lock timeout). None: anything else.
ErrorKind = Literal["unique", "foreign_key", "conflict"]

#: A statement's params (None or empty: a statement without placeholders).
Params = Sequence[Any] | None

_T = TypeVar("_T")

#: What to make of a cursor once its statement ran (its rows, its row count).
Reader = Callable[[Any], _T]


def _plain_cursor(conn: Any) -> Any:
    return conn.cursor()


def _assume_in_transaction(conn: Any) -> bool:
    # DB-API 2.0 connections are transactional by default: a transaction is always open.
    return True


def _nothing_to_open(conn: Any) -> None:
    return None


@attrs.frozen
class Dialect:
    """How one family of databases speaks the store's portable SQL.

    Pass one to :class:`~campaignflow.store.SQLStore` to run a campaign on another DB-API 2.0
    driver. The shipped stores build their own (``SQLiteStore``, ``PostgresStore``); the
    fields say only what differs from plain SQL:

    Attributes:
        name: shown in messages and reprs (``"sqlite"``, ``"postgresql"``).
        errors: the driver's base error classes (its DB-API ``Error``); the store turns
            these into campaignflow errors and lets everything else through.
        classify: what a driver error means (:data:`ErrorKind`), or None for other errors.
        paramstyle: ``"qmark"`` (``?``) or ``"format"`` (``%s``).
        begin_write: the statement opening a write transaction. It must make writers of a
            campaign wait for each other: ``BEGIN IMMEDIATE`` on SQLite, or plain ``BEGIN``
            with ``lock_suffix`` set.
        begin_read: the statement opening a read transaction (one consistent snapshot).
        lock_suffix: appended to a ``SELECT`` of the campaign's chain-head row at the start
            of every write transaction (``" FOR UPDATE"``), so audit appends serialise;
            empty when ``begin_write`` already serialises writers.
        claim_suffix: appended to the ``SELECT`` that claims units for a sweep
            (``" FOR UPDATE SKIP LOCKED"``), so concurrent workers take different units;
            empty when ``begin_write`` already serialises.
        schema_lock: run first in a migration transaction, so two processes opening a new
            database do not both create it (an advisory lock); None when ``begin_write``
            already serialises.
        key_type, text_type, int_type: column types for keys, long text (JSON) and integers.
        cursor: makes a cursor on a connection that returns rows as tuples (hosts may have
            set a dict row factory on their own connection).
        in_transaction: whether a connection has a transaction open (to know whether a
            rollback is needed).
        open_joined: called before writing on a host's connection (``SQLStore.on_connection``):
            makes sure a transaction is open that the host will end, or raises
            ``ValidationError`` when that is impossible (an autocommit connection).
    """

    name: str
    errors: tuple[type[BaseException], ...]
    classify: Callable[[BaseException], ErrorKind | None]
    paramstyle: Literal["qmark", "format"] = "qmark"
    begin_write: str = "BEGIN"
    begin_read: str = "BEGIN"
    lock_suffix: str = ""
    claim_suffix: str = ""
    schema_lock: str | None = None
    key_type: str = "TEXT"
    text_type: str = "TEXT"
    int_type: str = "BIGINT"
    cursor: Callable[[Any], Any] = _plain_cursor
    in_transaction: Callable[[Any], bool] = _assume_in_transaction
    open_joined: Callable[[Any], None] = _nothing_to_open

    def __repr__(self) -> str:
        return f"<Dialect {self.name!r}>"

    def translate(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in this dialect's paramstyle."""
        if self.paramstyle == "qmark":
            return sql
        return sql.replace("%", "%%").replace("?", "%s")

    def types(self) -> dict[str, str]:
        """The column types by the names schema templates use: ``{key}``, ``{text}``, ``{int}``."""
        return {"key": self.key_type, "text": self.text_type, "int": self.int_type}


class Failure:
    """How a driver error maps to our errors for one statement."""

    __slots__ = ("duplicate", "expected_version", "unit_id")

    def __init__(
        self,
        unit_id: str | None = None,
        expected_version: int = 0,
        duplicate: Callable[[BaseException], CampaignflowError] | None = None,
    ) -> None:
        self.unit_id = unit_id
        self.expected_version = expected_version
        self.duplicate = duplicate


#: The failure of a statement that maps no error of its own.
ANY_FAILURE = Failure()
