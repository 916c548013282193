"""``SQLStore``: the Store protocol over any DB-API 2.0 connection, with a small dialect shim.

One class serves SQLite, PostgreSQL and any database a :class:`Dialect` describes. Each
transaction runs on one connection: the store's own (pooled, in autocommit mode, so the store
issues BEGIN / COMMIT / ROLLBACK itself), or the host's (:meth:`SQLStore.on_connection`), where
the host ends the transaction and the store only brackets its own work in a savepoint.

How the guarantees are kept:

* all-or-nothing: a command's state change, facts and audit record are statements of one
  transaction (or savepoint); any exception rolls them back;
* serial writers per campaign: a write transaction begins with ``BEGIN IMMEDIATE`` (SQLite) or
  locks the campaign's chain-head row ``FOR UPDATE`` (PostgreSQL), so audit appends never race
  and a command re-reads the data it commits against;
* optimistic checks as a second line: ``UPDATE … WHERE version = ?`` with its row count, the
  chain head moved only from the seq it was read at, ``UNIQUE(campaign_id, request_id)`` and
  ``UNIQUE(campaign_id, unit_id, transition_version)``; whichever fires becomes a
  :class:`ConcurrencyConflict`, never a raw driver error.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes, fact_types
from campaignflow.audit import GENESIS_HASH
from campaignflow.errors import (
    CampaignflowError,
    ConcurrencyConflict,
    UnknownUnit,
    ValidationError,
)
from campaignflow.store._dialect import (
    ANY_FAILURE,
    Connection,
    Dialect,
    Failure,
    Params,
    Reader,
)
from campaignflow.store._dialects import resolve_dialect
from campaignflow.store._rows import DayMemo
from campaignflow.store._schema import COMPONENT, latest_version, too_new
from campaignflow.store._schema import migrate as migrate_schema
from campaignflow.store._session import HeadCache, Session, rowcount, rows_of

__all__ = ["SQLStore", "closed_on_failure"]

S = TypeVar("S", bound="SQLStore")
_T = TypeVar("_T")

_IDLE_MAX = 8  # idle pooled connections kept; more are closed on release


@attrs.define(eq=False)
class _Frame:
    """One open transaction or savepoint of this store on this thread."""

    conn: Connection
    write: bool
    session: Session


# --- the store ----------------------------------------------------------------------------------


class SQLStore:
    """A campaign kept in a SQL database through any DB-API 2.0 driver and a :class:`Dialect`.

    Most callers use :class:`SQLiteStore` or :class:`PostgresStore` (or a URL); build one
    directly for another driver: ``SQLStore(lambda: driver.connect(...), dialect)``. The
    factory must return a connection in autocommit mode: the store issues BEGIN, COMMIT
    and ROLLBACK itself. The store creates and migrates its tables (prefix ``cf_``) on first
    use; one database can hold many campaigns, each store holds one.

    Transactions: each runs on its own pooled connection, so threads do not share one.
    A transaction opened inside a write transaction of the same store on the same thread
    joins it as a savepoint (an exception undoes only the inner block), as the in-memory
    store's nested transactions do.

    Args:
        connect: makes a new connection (called when the pool has no idle one).
        dialect: how the database differs from plain SQL.
        campaign_id: the campaign this store holds.
        fact_types: the registry that loads stored facts (the default one unless given);
            pass the campaign's own when it registers fact types elsewhere.
    """

    def __init__(
        self,
        connect: Callable[[], Connection],
        dialect: Dialect,
        *,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
    ) -> None:
        self._setup(dialect, campaign_id, fact_types, connect=connect, joined=None)
        try:
            self._prepare()
        except BaseException:
            self.close()  # the caller never gets the store: release its connections now
            raise

    @classmethod
    def on_connection(
        cls: type[S],
        conn: Connection,
        *,
        dialect: Dialect | str,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
        migrate: bool = True,
    ) -> S:
        """A store that works inside the host's open connection and transaction.

        The host's own writes and the campaign's commit or roll back together, because the
        host ends the transaction: the store never begins, commits or rolls it back. Each
        write command runs in a savepoint, so a failed command leaves nothing behind and
        the host's transaction stays usable; the error is raised for the host to handle.
        If the connection has no transaction open when a command writes, one is opened
        (SQLite: ``BEGIN IMMEDIATE``) and left for the host to commit or roll back.
        PostgreSQL connections must not be in autocommit mode.

        ``migrate``: create or upgrade the tables now, inside the host's transaction (which
        the host must then commit); pass False when the schema is managed separately.
        ``close()`` leaves the host's connection open.

        Raises:
            ValidationError: an unknown dialect name, a database newer than this release, or
                a connection that cannot hold a transaction.
        """
        store = cls.__new__(cls)
        SQLStore._setup(
            store, resolve_dialect(dialect), campaign_id, fact_types, connect=None, joined=conn
        )
        if migrate:
            # Probe first: most joins find the schema current, and then take no lock and
            # run no DDL inside the host's transaction.
            current = store._probe_joined(conn)
            if current > latest_version():
                raise too_new(current)
            if current != latest_version():
                with store._frame(True, migrating=True) as conn_:
                    migrate_schema(store._runner(conn_), store.dialect)
        return store

    def _setup(
        self,
        dialect: Dialect,
        campaign_id: str,
        fact_types_: FactTypes | None,
        *,
        connect: Callable[[], Connection] | None,
        joined: Connection | None,
    ) -> None:
        if not isinstance(dialect, Dialect):
            refuse("store", dialect, "dialect must be a Dialect")
        if not isinstance(campaign_id, str) or not campaign_id:
            refuse("campaign_id", campaign_id, "must be non-empty text")
        self.dialect = dialect
        self.campaign_id = campaign_id
        # Stored days decoded by this store's sessions (see DayMemo).
        self._days = DayMemo()
        self.fact_types: FactTypes = fact_types_ or fact_types
        self._connect = connect
        self._joined = joined
        self._joined_lock = threading.RLock()
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        self._busy: list[Connection] = []
        self._local = threading.local()
        self._savepoints = itertools.count(1)
        self._sql_cache: dict[str, str] = {}
        self._closed = False

    def __repr__(self) -> str:
        how = "joined to the host's connection" if self._joined is not None else self._where()
        return f"<{type(self).__name__} campaign {self.campaign_id!r} {how}>"

    def _where(self) -> str:
        return f"on {self.dialect.name}"

    # --- the Store protocol -----------------------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session that commits on normal exit and rolls back on an exception.

        ``write=False`` opens a read-only snapshot (writes raise ``ValidationError``).

        Raises:
            ValidationError: the store is closed.
            ConcurrencyConflict: the database stayed locked by another writer for longer
                than the store's timeout (retryable).
        """
        with self._frame(write) as conn:
            frames = self._frames()
            # Sessions nested on one connection share one view of the chain head, so an
            # outer session sees what an inner one appended; the outermost writes it back.
            outer = next((f for f in reversed(frames) if f.conn is conn), None)
            if outer is not None:
                outer.session._flush_writes()  # the inner session must read what it wrote
            head = outer.session._head if outer is not None else HeadCache()
            saved = head.snapshot()
            session = Session(self, conn, write, head)
            frame = _Frame(conn, write, session)
            frames.append(frame)
            try:
                try:
                    yield session
                    if write:
                        session._flush_writes()
                        if outer is None:
                            session._flush_head()
                except BaseException:
                    head.restore(saved)
                    raise
            finally:
                session._open = False
                frames.remove(frame)

    def close(self) -> None:
        """Close the store's connections (not a host's); the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)

    # --- connections and transactions -------------------------------------------------------

    def _frames(self) -> list[_Frame]:
        frames: list[_Frame] | None = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    @contextmanager
    def _frame(self, write: bool, *, migrating: bool = False) -> Iterator[Connection]:
        """The connection a transaction runs on, with BEGIN/COMMIT or a savepoint around it."""
        if self._closed:
            raise ValidationError(code="store.closed")
        outer = next((f for f in reversed(self._frames()) if f.write), None)
        if self._joined is not None:
            with self._joined_lock:
                if not write:
                    yield self._joined
                    return
                if outer is None:
                    self._call(self.dialect.open_joined, self._joined)
                with self._savepoint(self._joined, lock=outer is None and not migrating):
                    yield self._joined
            return
        if outer is not None:
            # Nested in this thread's write transaction: share its connection, so the inner
            # block sees the outer's writes, and undo only the inner block on an exception.
            if not write:
                yield outer.conn
                return
            with self._savepoint(outer.conn, lock=False):
                yield outer.conn
            return
        conn = self._begin(write)
        reusable = True
        try:
            try:
                if write and not migrating:
                    self._lock_head(conn)
                yield conn
                self._execute(conn, "COMMIT")
            except BaseException:
                reusable = self._rollback(conn, "ROLLBACK")
                raise
        finally:
            self._release(conn, reusable)

    def _begin(self, write: bool) -> Connection:
        """A pooled connection with a transaction begun on it (the caller releases it).

        A connection that sat idle in the pool may have been closed by the server (a
        restart, an idle timeout). That is not the command's failure: BEGIN is retried once
        on a new connection, before anything was sent that could have taken effect.
        """
        statement = self.dialect.begin_write if write else self.dialect.begin_read
        conn = self._acquire()
        try:
            self._execute(conn, statement)
            return conn
        except ConcurrencyConflict:
            self._release(conn, self._rollback(conn, "ROLLBACK"))
            raise
        except CampaignflowError:
            self._release(conn, False)
        conn = self._acquire(fresh=True)
        try:
            self._execute(conn, statement)
        except BaseException:
            self._release(conn, self._rollback(conn, "ROLLBACK"))
            raise
        return conn

    @contextmanager
    def _savepoint(self, conn: Connection, *, lock: bool) -> Iterator[None]:
        name = f"cf_sp_{next(self._savepoints)}"
        self._execute(conn, f"SAVEPOINT {name}")
        try:
            if lock:
                self._lock_head(conn)
            yield
        except BaseException:
            # Undo our part only; the transaction stays usable for the host (on PostgreSQL
            # this also clears the "transaction aborted" state a failed statement leaves).
            self._rollback(conn, f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
            raise
        self._execute(conn, f"RELEASE SAVEPOINT {name}")

    def _lock_head(self, conn: Connection) -> None:
        """Serialise this campaign's writers on its chain-head row (dialects that lock rows)."""
        suffix = self.dialect.lock_suffix
        if not suffix:
            return
        rows = self._fetch(
            conn,
            f"SELECT head_seq FROM cf_campaigns WHERE campaign_id = ?{suffix}",
            (self.campaign_id,),
        )
        if not rows:
            # A first writer creates the row; a racing one waits on its key, then conflicts.
            self._execute(
                conn,
                "INSERT INTO cf_campaigns (campaign_id, head_seq, head_hash) VALUES (?, 0, ?)",
                (self.campaign_id, GENESIS_HASH),
            )

    def _rollback(self, conn: Connection, *statements: str) -> bool:
        """Run the rollback statements; False when the connection is no longer fit for use."""
        try:
            if self.dialect.in_transaction(conn):
                for statement in statements:
                    cur = self.dialect.cursor(conn)
                    try:
                        cur.execute(statement)
                    finally:
                        cur.close()
        except Exception:  # the driver's errors, and whatever a broken connection raises
            return False
        return True

    def _acquire(self, *, fresh: bool = False) -> Connection:
        with self._lock:
            if self._closed:
                raise ValidationError(code="store.closed")
            if self._idle and not fresh:
                conn = self._idle.pop()
                self._busy.append(conn)
                return conn
        assert self._connect is not None
        conn = self._call(self._connect)
        with self._lock:
            self._busy.append(conn)
        return conn

    def _release(self, conn: Connection, reusable: bool) -> None:
        with self._lock:
            self._busy.remove(conn)
            keep = reusable and not self._closed and len(self._idle) < _IDLE_MAX
            if keep:
                self._idle.append(conn)
        if not keep:
            _close_quietly(conn)

    def _prepare(self) -> None:
        """Create or upgrade the schema and the campaign's chain-head row (own connections).

        Cheap when both exist: one or two reads. Our connections are in autocommit mode, so
        the probes and the head-row insert are statements of their own.
        """
        conn = self._acquire()
        reusable = True
        try:
            current = self._probe_version(conn)
            reusable = not self.dialect.in_transaction(conn) or self._rollback(conn, "ROLLBACK")
        finally:
            self._release(conn, reusable)
        if current > latest_version():
            raise too_new(current)
        if current != latest_version():
            with self._frame(True, migrating=True) as conn:
                migrate_schema(self._runner(conn), self.dialect)
        conn = self._acquire()
        try:
            found = self._fetch(
                conn, "SELECT head_seq FROM cf_campaigns WHERE campaign_id = ?", (self.campaign_id,)
            )
            if not found:
                # Created here rather than by the first writer, so first writers of a new
                # campaign do not race to create it; a racing opener's duplicate is harmless.
                with contextlib.suppress(ConcurrencyConflict):
                    self._execute(
                        conn,
                        "INSERT INTO cf_campaigns (campaign_id, head_seq, head_hash) "
                        "VALUES (?, 0, ?)",
                        (self.campaign_id, GENESIS_HASH),
                    )
        finally:
            self._release(conn, True)

    def _probe_joined(self, conn: Connection) -> int:
        """The schema version seen through a host's connection, -1 when unknown or missing.

        Inside a savepoint, so a failed probe leaves the host's transaction usable.
        """
        name = f"cf_sp_{next(self._savepoints)}"
        cur = self.dialect.cursor(conn)
        try:
            try:
                cur.execute(f"SAVEPOINT {name}")
            except self.dialect.errors:
                return -1  # e.g. an autocommit connection; the migration path says why
            version = self._probe_version(conn)
            if version < 0:
                cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            cur.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            cur.close()
        return version

    def _probe_version(self, conn: Connection) -> int:
        """The schema version, -1 when the database has no version table yet.

        Runs outside a transaction on our own autocommit connection, so a failed statement
        leaves nothing to undo.
        """
        cur = self.dialect.cursor(conn)
        try:
            cur.execute(
                self._sql("SELECT version FROM cf_schema_version WHERE component = ?"),
                (COMPONENT,),
            )
            rows = cur.fetchall()
        except self.dialect.errors:
            return -1
        finally:
            cur.close()
        return next((int(version) for (version,) in rows), 0)

    # --- statements -------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        text = self._sql_cache.get(sql)
        if text is None:
            text = self._sql_cache[sql] = self.dialect.translate(sql)
        return text

    def _runner(self, conn: Connection) -> Callable[[str, Sequence[Any]], list[Any]]:
        def run(sql: str, params: Sequence[Any]) -> list[Any]:
            return self._fetch(conn, sql, params)

        return run

    def _fetch(
        self,
        conn: Connection,
        sql: str,
        params: Sequence[Any] | None = None,
        failure: Failure = ANY_FAILURE,
    ) -> list[Any]:
        """Run ``sql``: the rows it returns (none for a statement that returns none)."""
        return self._statement(conn, sql, params, failure, rows_of)

    def _execute(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one of the store's own statements (transaction control, the campaign row)."""
        self._statement(conn, sql, params, ANY_FAILURE, rowcount)

    def _statement(
        self, conn: Connection, sql: str, params: Params, failure: Failure, read: Reader[_T]
    ) -> _T:
        """Run ``sql`` on a fresh cursor: what ``read`` makes of the cursor after it.

        Every statement a command sends comes through here, so it is written out flat
        (no closure per statement); a driver error becomes ours (see _fail).
        """
        try:
            cur = self.dialect.cursor(conn)
            try:
                self._run_on(cur, sql, params)
                return read(cur)
            finally:
                cur.close()
        except self.dialect.errors as exc:
            self._fail(exc, failure)

    def _execute_many(
        self,
        conn: Connection,
        sql: str,
        rows: Sequence[Sequence[Any]],
        failure: Failure = ANY_FAILURE,
    ) -> int:
        """Run ``sql`` once per row of params in one call (batched by the driver)."""

        def run(cur: Any) -> int:
            cur.executemany(self._sql(sql), rows)
            return rowcount(cur)

        return self._with_cursor(conn, failure, run)

    def _run_on(self, cur: Any, sql: str, params: Sequence[Any] | None) -> None:
        # A statement without params goes untranslated: it has no placeholders to rewrite.
        if params:
            cur.execute(self._sql(sql), tuple(params))
        else:
            cur.execute(sql)

    def _with_cursor(self, conn: Connection, failure: Failure, work: Callable[[Any], _T]) -> _T:
        """``work`` on a fresh cursor, closed after; a driver error becomes ours (see _fail)."""
        try:
            cur = self.dialect.cursor(conn)
            try:
                return work(cur)
            finally:
                cur.close()
        except self.dialect.errors as exc:
            self._fail(exc, failure)

    def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args)
        except self.dialect.errors as exc:
            self._fail(exc, ANY_FAILURE)

    def _fail(self, exc: BaseException, failure: Failure) -> NoReturn:
        """Raise the campaignflow error a driver error stands for."""
        kind = self.dialect.classify(exc)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if kind == "unique" and failure.duplicate is not None:
            raise failure.duplicate(exc) from exc
        if kind in ("unique", "conflict"):
            detail = (
                "a concurrent writer stored the same key first"
                if kind == "unique"
                else "the database reported a lock or serialisation conflict"
            )
            raise ConcurrencyConflict(
                failure.unit_id,
                expected_version=failure.expected_version,
                detail=f"{detail} ({self.dialect.name}: {first_line})",
            ) from exc
        if kind == "foreign_key" and failure.unit_id is not None:
            raise UnknownUnit(failure.unit_id) from exc
        raise CampaignflowError(
            f"store ({self.dialect.name}): {first_line}",
            code="store.driver_error",
            params={"dialect": self.dialect.name, "detail": first_line},
        ) from exc


@contextmanager
def closed_on_failure(conn: Connection) -> Iterator[None]:
    """Close a new ``conn`` when setting it up fails, so no half-set-up connection leaks."""
    try:
        yield
    except BaseException:
        conn.close()
        raise


def _close_quietly(conn: Connection) -> None:
    # Closing a broken connection must not mask the error being handled.
    with contextlib.suppress(Exception):
        conn.close()
