"""SQLAlchemy 2 integration: a campaign store that shares the caller's ``Connection`` or ``Session``.

The campaign's statements run on the DB-API connection under the caller's SQLAlchemy
connection (``connection.connection.driver_connection``), in the caller's transaction, each
command in a savepoint. The caller's ``commit()`` or ``rollback()`` ends both its own writes
and the campaign's::

    with Session(engine) as session, session.begin():
        session.add(StudyLog(unit_id="fin-01", hours=4))
        camp = cf.Campaign(workflow, store=SQLAlchemyStore(session, campaign_id="oa"),
                           campaign_id="oa")
        camp.record("fin-01", cf.StudySession(hours=4), actor=clerk)
    # committed together, or (on an exception) rolled back together

Needs the ``sqlalchemy`` extra (``pip install 'campaignflow[sqlalchemy]'``). SQLite through
the standard ``sqlite3`` driver (``sqlite:///``) and PostgreSQL through psycopg 3
(``postgresql+psycopg://``) are understood; pass ``dialect`` for another database a
:class:`~campaignflow.store.Dialect` describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.contrib._joined import HostStore, dialect_of, missing_extra
from campaignflow.errors import ValidationError
from campaignflow.store import Dialect, SQLStore, StoreSession, _schema

try:
    import sqlalchemy
    from sqlalchemy.orm import Session
except ImportError:  # pragma: no cover - exercised where SQLAlchemy is absent
    raise missing_extra("SQLAlchemy", "sqlalchemy") from None

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["SQLAlchemyStore", "upgrade_schema"]


def _connection_of(bind: Connection | Session) -> Connection:
    """The caller's Connection, with a transaction begun that the caller will end."""
    if isinstance(bind, Session):
        # Begins the session's transaction if it has none; the session's commit ends it.
        return bind.connection()
    if bind.closed:
        raise ValidationError(code="store.sqlalchemy_closed")
    if not bind.in_transaction():
        # The caller's commit() / rollback() ends it, as with SQLAlchemy's own autobegin.
        bind.begin()
    return bind


@contextmanager
def _command_connection(
    bind: Connection | Session, *, write: bool, migrate: bool
) -> Iterator[Connection]:
    """The connection a command runs on; a read leaves the caller's bind as it found it.

    A write, and any command while the caller's transaction is open, runs in the caller's
    transaction (a write with none open begins one for the caller to end). A read with no
    transaction open begins none on the caller's bind (:func:`_own_read`), so building a
    ``Campaign`` (which reads) before ``session.begin()`` leaves the session free to begin.
    Except with ``migrate``, when the tables are missing or old: the read then begins the
    caller's transaction, where they are made, as ``migrate`` promises.
    """
    if write or _transaction_open(bind):
        yield _connection_of(bind)
        return
    with _own_read(bind) as conn:
        current = not migrate or _read_version(conn) >= _schema.latest_version()
        if current:
            yield conn
    if not current:
        yield _connection_of(bind)


def _transaction_open(bind: Connection | Session) -> bool:
    """Whether the caller has a transaction open on ``bind`` (a closed Connection: use it, fail)."""
    if isinstance(bind, Session):
        return bind.in_transaction()
    return bind.closed or bind.in_transaction()


@contextmanager
def _own_read(bind: Connection | Session) -> Iterator[Connection]:
    """A connection for a read while the caller has no transaction open, in a transaction ended with it.

    The Core ``Connection`` itself, or for a ``Session`` a connection of its engine (the
    session is not touched: beginning it would stop the caller's ``session.begin()``).
    """
    if isinstance(bind, Session):
        found = bind.get_bind()
        if isinstance(found, sqlalchemy.Engine):
            with found.connect() as own, own.begin():
                yield own
            return
        bind = found  # the Connection the session is bound to
    if _transaction_open(bind):
        yield _connection_of(bind)
        return
    with bind.begin():  # a read: nothing to keep, and no transaction left open after it
        yield bind


def _driver_connection(conn: Connection) -> Any:
    raw = conn.connection.driver_connection
    if raw is None:
        raise ValidationError(code="store.sqlalchemy_no_dbapi")
    return raw


def upgrade_schema(
    bind: Connection | Session, *, dialect: Dialect | None = None
) -> tuple[int, int]:
    """Create or upgrade campaignflow's tables in the caller's transaction (which must commit).

    Call it once at deployment, from an Alembic migration (``upgrade_schema(op.get_bind())``)
    or next to ``metadata.create_all(engine)``. The DDL is the library's own, the same the
    other stores run; calling it again on a current schema changes nothing.

    Returns:
        ``(found, now)``: the schema version the database had (0: none) and has now.

    Raises:
        ValidationError: a driver campaignflow does not speak, or a database written by a
            later campaignflow release.
    """
    conn = _connection_of(_check_bind(bind))
    raw = _driver_connection(conn)
    found = _read_version(conn)
    SQLStore.on_connection(
        raw, dialect=dialect or dialect_of(raw, where="the SQLAlchemy connection"), migrate=True
    )
    return found, _schema.latest_version()


def _read_version(conn: Connection) -> int:
    """The schema version in the database, 0 when campaignflow's tables are missing."""
    if not sqlalchemy.inspect(conn).has_table("cf_schema_version"):
        return 0
    row = conn.execute(
        sqlalchemy.text("SELECT version FROM cf_schema_version WHERE component = :c"),
        {"c": _schema.COMPONENT},
    ).first()
    return int(row[0]) if row else 0


def _check_bind(bind: object) -> Connection | Session:
    if not isinstance(bind, sqlalchemy.Connection | Session):
        refuse("store", bind, "needs a SQLAlchemy Connection or ORM Session")
    return bind


class SQLAlchemyStore(HostStore):
    """A campaign kept in the caller's SQLAlchemy transaction.

    Built on a ``Connection`` (Core) or an ORM ``Session``, usually one per request. Every
    command runs in a savepoint of the caller's transaction, on the same DB-API connection:
    the caller's ``commit()`` keeps the campaign's writes with its own, ``rollback()``
    discards both. A command that fails undoes only itself; the error is raised for the
    caller to handle. The store never commits, rolls back or closes the caller's connection.

    When the connection has no transaction yet, the first write command begins one
    (SQLAlchemy's ``begin()``) for the caller to end: with ``engine.connect()``, call
    ``commit()``, or the campaign's writes vanish with the connection. A read (building the
    ``Campaign`` is one) begins none on the caller's bind: it runs in a short transaction of
    its own, so ``with session.begin():`` may follow it.

    Args:
        bind: the caller's ``sqlalchemy.Connection`` or ``sqlalchemy.orm.Session``.
        campaign_id: the campaign this store holds; give the ``Campaign`` the same id.
        fact_types: the registry that loads stored facts (the default one unless given).
        dialect: how to speak to the database; chosen from the driver when None.
        migrate: create or upgrade the tables on first use, inside the caller's
            transaction (which even a read then begins, when the tables are missing or
            old); by default they are created once by :func:`upgrade_schema`.

    Raises:
        ImportError: SQLAlchemy is not installed (``pip install 'campaignflow[sqlalchemy]'``).
        ValidationError: a bad argument; on first use, a driver campaignflow does not speak
            (psycopg 2, say) or a database written by a later release.
    """

    def __init__(
        self,
        bind: Connection | Session,
        *,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
        dialect: Dialect | None = None,
        migrate: bool = False,
    ) -> None:
        self.bind = _check_bind(bind)
        super().__init__(
            campaign_id=campaign_id, fact_types=fact_types, dialect=dialect, migrate=migrate
        )

    def __repr__(self) -> str:
        kind = "Session" if isinstance(self.bind, Session) else "Connection"
        return f"<SQLAlchemyStore campaign {self.campaign_id!r} on a SQLAlchemy {kind}>"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreSession]:
        """A session in a savepoint of the caller's transaction (a read with none open: its own).

        Raises:
            ValidationError: the store or the caller's connection is closed.
        """
        if self._closed:
            raise ValidationError(code="store.closed")
        with _command_connection(self.bind, write=write, migrate=self.migrate) as conn:
            raw = _driver_connection(conn)
            dialect = self.dialect or dialect_of(raw, where="the SQLAlchemy connection")
            store, _ = self._stores.get(raw, dialect, migrate=self.migrate)
            with store.transaction(write=write) as session:
                yield session
