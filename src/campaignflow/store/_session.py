"""A SQL store's session: the StoreSession protocol as SQL statements in one transaction.

Dates are ISO text, instants ISO text with their UTC offset, structured fields canonical JSON
(as the audit hash encodes them), so a record read back equals the record written and its
hash verifies. The statements are in ``_queries``, the row codecs in ``_rows``, the
overview's queries in ``_overview_sql``.

One write path: a state change and an audit row written by any command (a sweep's many
transitions included) go through :meth:`Session.update_state` and :meth:`Session._append_row`,
which batch what they can and send the rest at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol, TypeVar

from campaignflow._words.facts import FactTypes
from campaignflow._words.records import FactRecord, Unit, UnitState
from campaignflow.audit import (
    GENESIS_HASH,
    AuditRecord,
    AuditRow,
    canonical_json,
)
from campaignflow.errors import CampaignflowError, ConcurrencyConflict, ValidationError
from campaignflow.store._audit_sql import AuditQueries
from campaignflow.store._counts_sql import CountMemo, CountQueries
from campaignflow.store._dialect import ANY_FAILURE, Connection, Dialect, Failure, Params, Reader
from campaignflow.store._due_sql import DueQueries
from campaignflow.store._overview_sql import OverviewQueries
from campaignflow.store._protocol import apply_one_by_one
from campaignflow.store._queries import (
    FACT_COLUMNS,
    INSERT_AUDIT,
    INSERT_FACT,
    INSERT_STATE,
    INSERT_UNIT,
    STATE_COLUMNS,
    UNIT_COLUMNS,
    UNIT_STATE_FROM,
    UPDATE_STATE,
)
from campaignflow.store._rows import (
    DayMemo,
    FactRow,
    UnitAndState,
    fact_of,
    state_values,
    unit_and_state,
)
from campaignflow.store._verify_reads import VerifyQueries
from campaignflow.store._work_sql import WorkQueries

__all__ = ["HeadCache", "Session", "StatementRunner", "rowcount", "rows_of"]

_T = TypeVar("_T")


class StatementRunner(Protocol):
    """What a session needs of its store (:class:`~campaignflow.store.SQLStore` is one)."""

    dialect: Dialect
    campaign_id: str
    fact_types: FactTypes
    _days: DayMemo

    def _fetch(
        self, conn: Connection, sql: str, params: Sequence[Any] | None = ..., failure: Failure = ...
    ) -> list[Any]: ...

    def _statement(
        self, conn: Connection, sql: str, params: Params, failure: Failure, read: Reader[_T]
    ) -> _T: ...

    def _execute_many(
        self, conn: Connection, sql: str, rows: Sequence[Sequence[Any]], failure: Failure = ...
    ) -> int: ...


class HeadCache:
    """The chain head as a transaction sees it: read once, moved by each append, written once.

    Writers of a campaign are serialised (BEGIN IMMEDIATE; the campaign row locked FOR UPDATE),
    so inside a write transaction nobody else moves the head: reading it once and writing it
    back once before commit saves two round trips per audit record.
    """

    __slots__ = ("hash", "loaded", "seq", "stored_seq")

    def __init__(self) -> None:
        self.loaded = False
        self.seq = 0
        self.hash = GENESIS_HASH
        self.stored_seq = 0  # the head as the database has it, to write back against

    def snapshot(self) -> tuple[bool, int, str, int]:
        return (self.loaded, self.seq, self.hash, self.stored_seq)

    def restore(self, saved: tuple[bool, int, str, int]) -> None:
        self.loaded, self.seq, self.hash, self.stored_seq = saved


class _PendingState(NamedTuple):
    """A prefetched unit's state change, waiting to go out with its page's batch."""

    state: UnitState
    expected_version: int


class Session(AuditQueries, CountQueries, OverviewQueries, VerifyQueries, WorkQueries, DueQueries):
    """One transaction's view of a SQL store (the StoreSession protocol)."""

    #: Rows per query when iterating units or audit records.
    _page_size = 1000

    __slots__ = (
        "_cid",
        "_conn",
        "_count_memo",
        "_fact_stage",
        "_facts",
        "_head",
        "_open",
        "_pending_audit",
        "_pending_states",
        "_registered",
        "_states",
        "_store",
        "_write",
    )

    def __init__(
        self, store: StatementRunner, conn: Connection, write: bool, head: HeadCache | None = None
    ) -> None:
        self._store = store
        self._conn = conn
        self._write = write
        self._cid = store.campaign_id
        self._head = head if head is not None else HeadCache()
        # Filled by prefetch() for a sweep's chunk; kept current by this session's writes.
        self._states: dict[str, UnitAndState] = {}
        # Prefetched fact records of a unit's stage (the one in _fact_stage), by unit: tuples,
        # handed out as they are; a recorded fact replaces its unit's tuple. Two flat dicts,
        # so a page of a sweep allocates no key per unit.
        self._facts: dict[str, tuple[FactRecord, ...]] = {}
        self._fact_stage: dict[str, str] = {}
        # Writes to prefetched units wait here and go out in one executemany per table
        # before the next statement or the commit: a sweep pays two batched calls per chunk
        # instead of two round trips per unit. They wait as the caller's own objects (a
        # state and its expected version, an audit row); their parameters are made as they
        # go out, so a page of a sweep keeps no second copy of its writes alive meanwhile.
        self._pending_states: list[_PendingState] = []
        self._pending_audit: list[AuditRow] = []
        self._open = True
        self._registered: dict[str, bool] = {}
        self._count_memo = CountMemo()  # what counter upkeep read (see CountQueries)

    def __repr__(self) -> str:
        mode = "write" if self._write else "read"
        return f"<SQLStore session ({mode}{'' if self._open else ', ended'}) of {self._store!r}>"

    def _day_memo(self) -> DayMemo:
        return self._store._days

    def _rows(self, sql: str, params: Sequence[Any], failure: Failure = ANY_FAILURE) -> list[Any]:
        if not self._open:
            raise ValidationError(code="store.transaction_ended")
        self._flush_writes()
        return self._store._fetch(self._conn, sql, params, failure)

    def _flush_writes(self) -> None:
        """Send the batched writes (states first: the audit rows refer to their versions)."""
        store, cid, days = self._store, self._cid, self._store._days
        if self._pending_states:
            writes, self._pending_states = self._pending_states, []
            first = writes[0]
            recount = self._counts_before((w.state.unit_id for w in writes), batched=True)
            changed = store._execute_many(
                self._conn,
                UPDATE_STATE,
                [
                    (*state_values(w.state, days), cid, w.state.unit_id, w.expected_version)
                    for w in writes
                ],
                Failure(first.state.unit_id, first.expected_version),
            )
            if changed != len(writes):
                raise ConcurrencyConflict(
                    first.state.unit_id,
                    expected_version=first.expected_version,
                    detail=f"{len(writes) - changed} of {len(writes)} batched units changed concurrently",
                )
            self._counts_after(recount)
        if self._pending_audit:
            rows, self._pending_audit = self._pending_audit, []
            store._execute_many(
                self._conn,
                INSERT_AUDIT,
                [(cid, *row, _transition_version(row)) for row in rows],
                Failure(None, self._head.stored_seq, duplicate=_taken_batch),
            )

    def _writable(self) -> None:
        if not self._write:
            raise ValidationError(code="store.read_only")

    def _run(self, sql: str, params: Sequence[Any], failure: Failure = ANY_FAILURE) -> int:
        self._writable()
        if not self._open:
            raise ValidationError(code="store.transaction_ended")
        self._flush_writes()
        return self._store._statement(self._conn, sql, params, failure, rowcount)

    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        self._writable()
        if not self._open:
            raise ValidationError(code="store.transaction_ended")
        self._flush_writes()
        return self._store._execute_many(self._conn, sql, rows)

    # The counters' reads and writes run while the session flushes its queued state writes,
    # so unlike _rows and _run_many they do not flush first.
    def _count_rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._store._fetch(self._conn, sql, params, ANY_FAILURE)

    def _count_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._writable()
            self._store._execute_many(self._conn, sql, rows)

    def _next_ordinal(self, table: str) -> int:
        """One more than the largest ordinal of the campaign's rows in ``table``."""
        rows = self._rows(f"SELECT MAX(ordinal) FROM {table} WHERE campaign_id = ?", (self._cid,))
        return int(next((top for (top,) in rows), None) or 0) + 1

    # --- units and facts: reads --------------------------------------------------------------

    def get_unit(self, unit_id: str) -> Unit | None:
        found = self._read(unit_id)
        return None if found is None else found.unit

    def prefetch(self, unit_ids: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(unit_ids))
        ids = [u for u in wanted if u not in self._states]
        day = self._store._days
        # 400 ids: the facts query binds them twice, inside the 999 parameters that SQLite
        # builds before 3.32 allow.
        for start in range(0, len(ids), 400):
            part = ids[start : start + 400]
            rows = self._rows(
                f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS} FROM {UNIT_STATE_FROM} "
                f"WHERE u.campaign_id = ? AND u.unit_id IN ({', '.join('?' * len(part))})",
                (self._cid, *part),
            )
            for row in rows:
                read = unit_and_state(row, day)
                self._states[read.unit.id] = read
        states, facts, fact_stage = self._states, self._facts, self._fact_stage
        ids = [
            u for u in wanted if (found := states.get(u)) and fact_stage.get(u) != found.state.stage
        ]
        for start in range(0, len(ids), 400):
            part = ids[start : start + 400]
            marks = ", ".join("?" * len(part))
            # The id list bounds both sides of the join: without it on cf_states, PostgreSQL
            # hash-joins every state row of the campaign (221 ms instead of 31 ms for 500 ids
            # on 200,000 units with 10 facts each), once per chunk of a sweep.
            rows = self._rows(
                f"SELECT {FACT_COLUMNS} FROM cf_facts f JOIN cf_states s "
                "ON s.campaign_id = f.campaign_id AND s.unit_id = f.unit_id AND s.stage = f.stage "
                f"WHERE f.campaign_id = ? AND f.unit_id IN ({marks}) AND s.unit_id IN ({marks}) "
                "ORDER BY f.unit_id, f.n",
                (self._cid, *part, *part),
            )
            found_facts: dict[str, list[FactRecord]] = {}
            for row in rows:
                record = self._fact(row)
                found_facts.setdefault(record.unit_id, []).append(record)
            # A unit without facts shares the empty tuple: nothing to allocate (or for the
            # garbage collector to walk) for most units of a sweep.
            fact_stage.update((unit_id, states[unit_id].state.stage) for unit_id in part)
            facts.update(dict.fromkeys(part, ()))
            facts.update((unit_id, tuple(records)) for unit_id, records in found_facts.items())

    def page_units(
        self, batch: int | None, after: int, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], int]:
        page, after = self._page(batch, after, limit)
        self._states.update((read.unit.id, read) for read in page)
        return list(page), after

    def get_unit_state(self, unit_id: str) -> tuple[Unit, UnitState] | None:
        cached = self._states.get(unit_id)
        return cached if cached is not None else self._read(unit_id)

    def _read(self, unit_id: str) -> UnitAndState | None:
        """The unit and its state as the database has them (none: no such unit)."""
        rows = self._rows(
            f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS} FROM {UNIT_STATE_FROM} "
            "WHERE u.campaign_id = ? AND u.unit_id = ?",
            (self._cid, unit_id),
        )
        return next((unit_and_state(row, self._store._days) for row in rows), None)

    def get_state(self, unit_id: str) -> UnitState | None:
        found = self._read(unit_id)
        return None if found is None else found.state

    def iter_units(self, batch: int | None = None) -> Iterator[tuple[Unit, UnitState]]:
        # Keyset pages, so callers may write between pages.
        after = 0
        while True:
            page, after = self._page(batch, after, self._page_size)
            yield from page
            if len(page) < self._page_size:
                return

    def _page(self, batch: int | None, after: int, limit: int) -> tuple[list[UnitAndState], int]:
        """Up to ``limit`` units after ordinal ``after``, and the last one's ordinal.

        In insertion order (of ``batch``, when given), by cf_units' ordinal index.
        """
        where, params = "", [self._cid, after]
        if batch is not None:
            where = " AND s.batch = ?"
            params.append(batch)
        rows = self._rows(
            f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS}, u.ordinal FROM {UNIT_STATE_FROM} "
            f"WHERE u.campaign_id = ? AND u.ordinal > ?{where} ORDER BY u.ordinal LIMIT ?",
            (*params, limit),
        )
        day = self._store._days
        page = [unit_and_state(row, day) for row in rows]  # the ordinal, last, is left out
        for *_, ordinal in rows[-1:]:
            after = ordinal
        return page, after

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        if self._fact_stage.get(unit_id) == stage:
            return self._facts[unit_id]
        rows = self._rows(
            f"SELECT {FACT_COLUMNS} FROM cf_facts f "
            "WHERE f.campaign_id = ? AND f.unit_id = ? AND f.stage = ? ORDER BY f.n",
            (self._cid, unit_id, stage),
        )
        return tuple(self._fact(row) for row in rows)

    def _fact(self, row: Sequence[Any]) -> FactRecord:
        return fact_of(FactRow._make(row), self._store.fact_types)

    def audit_head(self) -> tuple[int, str]:
        head = self._head
        if not head.loaded:
            rows = self._rows(
                "SELECT head_seq, head_hash FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
            )
            head.seq, head.hash = 0, GENESIS_HASH
            for seq, hash_ in rows:
                head.seq, head.hash = int(seq), str(hash_)
            head.stored_seq = head.seq
            head.loaded = True
        return head.seq, head.hash

    def _flush_head(self) -> None:
        """Write batched rows and the moved chain head back, once, before the commit."""
        self._flush_writes()
        head = self._head
        if not head.loaded or head.seq == head.stored_seq:
            return
        failure = Failure(None, head.stored_seq)
        moved = self._run(
            "UPDATE cf_campaigns SET head_seq = ?, head_hash = ? "
            "WHERE campaign_id = ? AND head_seq = ?",
            (head.seq, head.hash, self._cid, head.stored_seq),
            failure,
        )
        if moved == 0:
            if head.stored_seq != 0:
                raise ConcurrencyConflict(
                    None, expected_version=head.stored_seq, detail="the audit chain moved on"
                )
            self._run(
                "INSERT INTO cf_campaigns (campaign_id, head_seq, head_hash) VALUES (?, ?, ?)",
                (self._cid, head.seq, head.hash),
                failure,
            )
        head.stored_seq = head.seq

    # --- writes -----------------------------------------------------------------------------

    def claim_units(
        self,
        *,
        sweep: str,
        stages: Collection[str],
        limit: int,
        batch: int | None = None,
        due_by: date | None = None,
    ) -> list[tuple[Unit, UnitState]]:
        self._writable()
        wanted = sorted(stages)
        if not wanted or limit < 1:
            return []
        marks = ", ".join("?" for _ in wanted)
        where = "" if batch is None else " AND s.batch = ?"
        extra: tuple[Any, ...] = () if batch is None else (batch,)
        order = "u.ordinal"
        if due_by is not None:  # by the due index, in its order
            where += " AND s.due_on <= ?"
            extra += (self._store._days.iso(due_by),)
            order = "s.due_on, s.ordinal"
        rows = self._rows(
            f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS} FROM cf_states s "
            "JOIN cf_units u ON u.campaign_id = s.campaign_id AND u.unit_id = s.unit_id "
            f"WHERE s.campaign_id = ? AND s.stage IN ({marks}) "
            f"AND (s.swept IS NULL OR s.swept <> ?){where} "
            f"ORDER BY {order} LIMIT {int(limit)}{self._store.dialect.claim_suffix}",
            (self._cid, *wanted, sweep, *extra),
        )
        day = self._store._days
        claimed = [unit_and_state(row, day) for row in rows]
        # Read (and locked) in this transaction: later reads of these units come from here,
        # so the sweep's prefetch fetches only their facts.
        self._states.update((read.unit.id, read) for read in claimed)
        for unit, _ in claimed:
            self._run(
                "UPDATE cf_states SET swept = ? WHERE campaign_id = ? AND unit_id = ?",
                (sweep, self._cid, unit.id),
            )
        return list(claimed)

    def insert_unit(self, unit: Unit, state: UnitState) -> None:
        def exists(_: BaseException) -> CampaignflowError:
            return ValidationError(code="store.unit_exists", params={"unit": repr(unit.id)})

        self._writable()
        if self.get_unit(unit.id) is not None:
            raise exists(KeyError(unit.id))
        ordinal = self._next_ordinal("cf_units")
        failure = Failure(unit.id, duplicate=exists)
        self._run(
            INSERT_UNIT,
            (
                self._cid,
                unit.id,
                ordinal,
                unit.name,
                unit.kind,
                unit.batch,
                unit.members,
                unit.parent,
            ),
            failure,
        )
        recount = self._counts_before([unit.id])
        self._run(
            INSERT_STATE,
            (self._cid, unit.id, *state_values(state, self._store._days), unit.parent, ordinal),
            failure,
        )
        self._counts_after(recount)

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        cached = self._states.get(state.unit_id)
        if cached is not None:
            # Read in this session: checked against what was read, sent with its batch.
            if cached.state.version != expected_version:
                raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
            self._writable()
            self._pending_states.append(_PendingState(state, expected_version))
            self._states[state.unit_id] = UnitAndState(unit=cached.unit, state=state)
            return
        params = (
            *state_values(state, self._store._days),
            self._cid,
            state.unit_id,
            expected_version,
        )
        recount = self._counts_before([state.unit_id])
        changed = self._run(UPDATE_STATE, params, Failure(state.unit_id, expected_version))
        if changed != 1:
            raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
        self._counts_after(recount)

    def insert_fact(self, record: FactRecord) -> None:
        data = self._store.fact_types.dump(record.fact)
        self._run(
            INSERT_FACT,
            (
                self._cid,
                record.unit_id,
                record.stage,
                record.version,
                record.seq,
                data["kind"],
                canonical_json(data),
                record.on.isoformat(),
                record.at.isoformat(),
                record.actor_id,
                record.request_id,
                self._cid,
                record.unit_id,
                record.stage,
            ),
            Failure(record.unit_id, record.version),
        )
        self._dirty(record.unit_id)
        if self._fact_stage.get(record.unit_id) == record.stage:
            self._facts[record.unit_id] = (*self._facts[record.unit_id], record)

    def append_audit(self, record: AuditRecord, row: AuditRow | None = None) -> None:
        self._append_row(record.row() if row is None else row)

    def apply_transitions(self, moves: Sequence[tuple[UnitState, int, AuditRow]]) -> None:
        apply_one_by_one(self, moves)

    def _append_row(self, row: AuditRow) -> None:
        """Append a record's row onto the chain head: the one way an audit row is written."""
        self._writable()
        head, head_hash = self.audit_head()
        unit_id, request_id = row.unit_id, row.request_id
        unit = unit_id
        if row.seq != head + 1 or row.prev_hash != head_hash:
            raise ConcurrencyConflict(
                unit, expected_version=head, detail="the audit chain moved on"
            )
        if request_id is None and unit_id in self._states:
            # A record of a unit read in this session, with no request id to collide on
            # (a sweep's): batched with the others.
            self._pending_audit.append(row)
        else:
            version = row.version

            def taken(exc: BaseException) -> CampaignflowError:
                text = str(exc)
                if "request" in text and request_id is not None:
                    detail = f"request_id {request_id!r} was used concurrently"
                elif "transition" in text:
                    detail = f"version {version} of the unit was recorded concurrently"
                else:
                    detail = "the audit chain moved on"
                return ConcurrencyConflict(unit, expected_version=head, detail=detail)

            params = (self._cid, *row, _transition_version(row))
            self._run(INSERT_AUDIT, params, Failure(unit_id, head, duplicate=taken))
        self._head.seq, self._head.hash = row.seq, row.hash


def _transition_version(row: AuditRow) -> int | None:
    """The ``transition_version`` column of an audit row: the version a transition made.

    Set for applied transitions only (outcome ok, a unit and a dest), so UNIQUE on it admits
    one transition per unit version while denials and errors repeat freely (NULLs differ).
    """
    if row.outcome == "ok" and row.dest is not None and row.unit_id is not None:
        return row.version
    return None


def _taken_batch(exc: BaseException) -> CampaignflowError:
    return ConcurrencyConflict(
        None, expected_version=0, detail=f"a batched audit record was taken concurrently ({exc})"
    )


def rows_of(cur: Any) -> list[Any]:
    """The rows a cursor's statement returned (none for a statement that returns none)."""
    return list(cur.fetchall()) if cur.description is not None else []


def rowcount(cur: Any) -> int:
    """How many rows a cursor's statement changed."""
    return int(cur.rowcount)
