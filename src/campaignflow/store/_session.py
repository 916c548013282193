"""A SQL store's session: the StoreSession protocol as SQL statements, and rows <-> records.

Dates are ISO text, instants ISO text with their UTC offset, structured fields canonical JSON
(as the audit hash encodes them), so a record read back equals the record written and its
hash verifies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from campaignflow._memo import remember
from campaignflow.audit import (
    GENESIS_HASH,
    AuditRecord,
    AuditRow,
    Checkpoint,
    canonical_json,
    iso_date,
    iso_instant,
    verdict_from_data,
    verdict_to_data,
)
from campaignflow.errors import CampaignflowError, ConcurrencyConflict, ValidationError
from campaignflow.model import (
    FactRecord,
    Organisation,
    Refusal,
    Unit,
    UnitState,
    WorkflowVersion,
    trusted_unit,
)
from campaignflow.orgtree import GroupCounts, StuckOrder

if TYPE_CHECKING:
    from campaignflow.store._sql import Connection, SQLStore

__all__ = ["ANY_FAILURE", "Failure", "HeadCache", "Session"]

_PAGE = 1000  # rows per query when iterating units or audit records

_UNIT_COLUMNS = "u.unit_id, u.name, u.kind, u.batch, u.members, u.parent"
_STATE_COLUMNS = (
    "s.unit_id, s.stage, s.batch, s.version, s.entered_on, s.stage_since, s.started_on, "
    "s.remedial, s.remedial_round, s.resume_since, s.workflow"
)
_FACT_COLUMNS = (
    "f.unit_id, f.stage, f.version, f.data, f.on_date, f.at_time, f.actor_id, f.seq, f.request_id"
)
_ORG_COLUMNS = "o.org_id, o.name, o.level, o.parent"
_REFUSAL_COLUMNS = (
    "r.unit_id, r.stage, r.version, r.trigger_name, r.target, r.on_date, r.seq, r.failures"
)
_STUCK_ORDER = {
    "days_in_stage": "s.stage_since, s.ordinal",
    "refused": "s.refused_seq DESC, s.ordinal",
    "added": "s.ordinal",
}
_AUDIT_COLUMNS = (
    "seq, at_time, on_date, campaign, command, actor_id, actor_roles, outcome, unit_id, "
    "source, dest, version, request_id, workflow, payload, decision, reason, prev_hash, hash"
)


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


ANY_FAILURE = Failure()


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


class Session:
    """One transaction's view of a SQL store (the StoreSession protocol)."""

    __slots__ = (
        "_cid",
        "_conn",
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
        self, store: SQLStore, conn: Connection, write: bool, head: HeadCache | None = None
    ) -> None:
        self._store = store
        self._conn = conn
        self._write = write
        self._cid = store.campaign_id
        self._head = head if head is not None else HeadCache()
        # Filled by prefetch() for a sweep's chunk; kept current by this session's writes.
        self._states: dict[str, tuple[Unit, UnitState]] = {}
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
        self._pending_states: list[tuple[UnitState, int] | tuple[UnitState, int, AuditRow]] = []
        self._pending_audit: list[AuditRow] = []
        self._open = True
        # Whether an organisation id is registered, as this session's queries asked it.
        self._registered: dict[str, bool] = {}

    def __repr__(self) -> str:
        mode = "write" if self._write else "read"
        return f"<SQLStore session ({mode}{'' if self._open else ', ended'}) of {self._store!r}>"

    def _rows(self, sql: str, params: Sequence[Any], failure: Failure = ANY_FAILURE) -> list[Any]:
        if not self._open:
            raise ValidationError(code="store.transaction_ended")
        self._flush_writes()
        return self._store._fetch(self._conn, sql, params, failure)

    def _flush_writes(self) -> None:
        """Send the batched writes (states first: the audit rows refer to their versions)."""
        store, cid = self._store, self._cid
        if self._pending_states:
            writes, self._pending_states = self._pending_states, []
            first, expected = writes[0][0], writes[0][1]
            changed = store._execute_many(
                self._conn,
                _UPDATE_STATE,
                [(*_state_values(w[0]), cid, w[0].unit_id, w[1]) for w in writes],
                Failure(first.unit_id, expected),
            )
            if changed != len(writes):
                raise ConcurrencyConflict(
                    first.unit_id,
                    expected_version=expected,
                    detail=f"{len(writes) - changed} of {len(writes)} batched units changed concurrently",
                )
        if self._pending_audit:
            rows, self._pending_audit = self._pending_audit, []
            store._execute_many(
                self._conn,
                _INSERT_AUDIT,
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
        return self._store._execute(self._conn, sql, params, failure)

    # --- reads ------------------------------------------------------------------------------

    def get_unit(self, unit_id: str) -> Unit | None:
        rows = self._rows(
            f"SELECT {_UNIT_COLUMNS} FROM cf_units u WHERE u.campaign_id = ? AND u.unit_id = ?",
            (self._cid, unit_id),
        )
        return _unit(rows[0]) if rows else None

    def prefetch(self, unit_ids: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(unit_ids))
        ids = [u for u in wanted if u not in self._states]
        # 400 ids: the facts query binds them twice, inside the 999 parameters that SQLite
        # builds before 3.32 allow.
        for start in range(0, len(ids), 400):
            part = ids[start : start + 400]
            rows = self._rows(
                f"SELECT {_UNIT_COLUMNS}, {_STATE_COLUMNS} FROM cf_units u "
                "JOIN cf_states s ON s.campaign_id = u.campaign_id AND s.unit_id = u.unit_id "
                f"WHERE u.campaign_id = ? AND u.unit_id IN ({', '.join('?' * len(part))})",
                (self._cid, *part),
            )
            self._states.update((row[0], (_unit(row), _state(row, 6))) for row in rows)
        states, facts, fact_stage = self._states, self._facts, self._fact_stage
        ids = [
            u for u in wanted if (found := states.get(u)) and fact_stage.get(u) != found[1].stage
        ]
        for start in range(0, len(ids), 400):
            part = ids[start : start + 400]
            marks = ", ".join("?" * len(part))
            # The id list bounds both sides of the join: without it on cf_states, PostgreSQL
            # hash-joins every state row of the campaign (221 ms instead of 31 ms for 500 ids
            # on 200,000 units with 10 facts each), once per chunk of a sweep.
            rows = self._rows(
                f"SELECT {_FACT_COLUMNS} FROM cf_facts f JOIN cf_states s "
                "ON s.campaign_id = f.campaign_id AND s.unit_id = f.unit_id AND s.stage = f.stage "
                f"WHERE f.campaign_id = ? AND f.unit_id IN ({marks}) AND s.unit_id IN ({marks}) "
                "ORDER BY f.unit_id, f.n",
                (self._cid, *part, *part),
            )
            found_facts: dict[str, list[FactRecord]] = {}
            for row in rows:
                found_facts.setdefault(row[0], []).append(self._fact(row))
            # A unit without facts shares the empty tuple: nothing to allocate (or for the
            # garbage collector to walk) for most units of a sweep.
            fact_stage.update((unit_id, states[unit_id][1].stage) for unit_id in part)
            facts.update(dict.fromkeys(part, ()))
            facts.update((unit_id, tuple(records)) for unit_id, records in found_facts.items())

    def page_units(
        self, batch: int | None, after: int, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], int]:
        rows = self._page_rows(batch, after, limit)
        page = [(_unit(row, 1), _state(row, 7)) for row in rows]
        self._states.update(zip([row[1] for row in rows], page, strict=True))
        return page, (rows[-1][0] if rows else after)

    def get_unit_state(self, unit_id: str) -> tuple[Unit, UnitState] | None:
        cached = self._states.get(unit_id)
        if cached is not None:
            return cached
        rows = self._rows(
            f"SELECT {_UNIT_COLUMNS}, {_STATE_COLUMNS} FROM cf_units u "
            "JOIN cf_states s ON s.campaign_id = u.campaign_id AND s.unit_id = u.unit_id "
            "WHERE u.campaign_id = ? AND u.unit_id = ?",
            (self._cid, unit_id),
        )
        return (_unit(rows[0]), _state(rows[0], 6)) if rows else None

    def get_state(self, unit_id: str) -> UnitState | None:
        rows = self._rows(
            f"SELECT {_STATE_COLUMNS} FROM cf_states s WHERE s.campaign_id = ? AND s.unit_id = ?",
            (self._cid, unit_id),
        )
        return _state(rows[0]) if rows else None

    def iter_units(self, batch: int | None = None) -> Iterator[tuple[Unit, UnitState]]:
        # Keyset pages, so callers may write between pages.
        after = 0
        while True:
            rows = self._page_rows(batch, after, _PAGE)
            for row in rows:
                yield _unit(row, 1), _state(row, 7)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def _page_rows(self, batch: int | None, after: int, limit: int) -> list[Any]:
        """Rows ``(ordinal, *unit, *state)`` of up to ``limit`` units after ordinal ``after``.

        In insertion order (of ``batch``, when given), by cf_units' ordinal index.
        """
        where, params = "", [self._cid, after]
        if batch is not None:
            where = " AND s.batch = ?"
            params.append(batch)
        return self._rows(
            f"SELECT u.ordinal, {_UNIT_COLUMNS}, {_STATE_COLUMNS} FROM cf_units u "
            "JOIN cf_states s ON s.campaign_id = u.campaign_id AND s.unit_id = u.unit_id "
            f"WHERE u.campaign_id = ? AND u.ordinal > ?{where} ORDER BY u.ordinal LIMIT ?",
            (*params, limit),
        )

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        if self._fact_stage.get(unit_id) == stage:
            return self._facts[unit_id]
        rows = self._rows(
            f"SELECT {_FACT_COLUMNS} FROM cf_facts f "
            "WHERE f.campaign_id = ? AND f.unit_id = ? AND f.stage = ? ORDER BY f.n",
            (self._cid, unit_id, stage),
        )
        return tuple(self._fact(row) for row in rows)

    def _fact(self, row: Sequence[Any]) -> FactRecord:
        return FactRecord(
            unit_id=row[0],
            stage=row[1],
            version=int(row[2]),
            fact=self._store.fact_types.load_text(row[3]),
            on=date.fromisoformat(row[4]),
            at=datetime.fromisoformat(row[5]),
            actor_id=row[6],
            seq=int(row[7]),
            request_id=row[8],
        )

    def find_request(self, request_id: str) -> AuditRecord | None:
        rows = self._rows(
            f"SELECT {_AUDIT_COLUMNS} FROM cf_audit WHERE campaign_id = ? AND request_id = ?",
            (self._cid, request_id),
        )
        return AuditRecord.from_row(rows[0]) if rows else None

    def audit_head(self) -> tuple[int, str]:
        head = self._head
        if not head.loaded:
            rows = self._rows(
                "SELECT head_seq, head_hash FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
            )
            head.seq, head.hash = (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS_HASH)
            head.stored_seq = head.seq
            head.loaded = True
        return head.seq, head.hash

    def _flush_head(self) -> None:
        """Write batched rows and the moved chain head back, once, before the commit."""
        self._flush_writes()
        head = self._head
        if not head.loaded or head.seq == head.stored_seq:
            return
        unit = "-"
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
                    unit, expected_version=head.stored_seq, detail="the audit chain moved on"
                )
            self._run(
                "INSERT INTO cf_campaigns (campaign_id, head_seq, head_hash) VALUES (?, ?, ?)",
                (self._cid, head.seq, head.hash),
                failure,
            )
        head.stored_seq = head.seq

    def iter_audit(
        self, unit_id: str | None = None, *, after_seq: int = 0
    ) -> Iterator[AuditRecord]:
        where = "" if unit_id is None else " AND unit_id = ?"
        sql = (
            f"SELECT {_AUDIT_COLUMNS} FROM cf_audit WHERE campaign_id = ? AND seq > ?{where} "
            f"ORDER BY seq LIMIT {_PAGE}"
        )
        extra: tuple[Any, ...] = () if unit_id is None else (unit_id,)
        after = after_seq
        while True:
            params = (self._cid, after, *extra)
            rows = self._rows(sql, params)
            for row in rows:
                yield AuditRecord.from_row(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def audit_anchor(self) -> Checkpoint | None:
        rows = self._rows(
            "SELECT anchor_seq, anchor_hash FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
        )
        if not rows or not rows[0][0]:
            return None
        return Checkpoint(int(rows[0][0]), str(rows[0][1]))

    def exported_through(self) -> int:
        rows = self._rows(
            "SELECT exported_seq FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
        )
        return int(rows[0][0]) if rows else 0

    # --- writes -----------------------------------------------------------------------------

    def claim_units(
        self, *, sweep: str, stages: Collection[str], limit: int, batch: int | None = None
    ) -> list[tuple[Unit, UnitState]]:
        self._writable()
        wanted = sorted(stages)
        if not wanted or limit < 1:
            return []
        marks = ", ".join("?" for _ in wanted)
        where = "" if batch is None else " AND s.batch = ?"
        extra: tuple[Any, ...] = () if batch is None else (batch,)
        rows = self._rows(
            f"SELECT {_UNIT_COLUMNS}, {_STATE_COLUMNS} FROM cf_states s "
            "JOIN cf_units u ON u.campaign_id = s.campaign_id AND u.unit_id = s.unit_id "
            f"WHERE s.campaign_id = ? AND s.stage IN ({marks}) "
            f"AND (s.swept IS NULL OR s.swept <> ?){where} "
            f"ORDER BY u.ordinal LIMIT {int(limit)}{self._store.dialect.claim_suffix}",
            (self._cid, *wanted, sweep, *extra),
        )
        claimed = [(_unit(row), _state(row, 6)) for row in rows]
        # Read (and locked) in this transaction: later reads of these units come from here,
        # so the sweep's prefetch fetches only their facts.
        self._states.update((found[0].id, found) for found in claimed)
        for unit, _ in claimed:
            self._run(
                "UPDATE cf_states SET swept = ? WHERE campaign_id = ? AND unit_id = ?",
                (sweep, self._cid, unit.id),
            )
        return claimed

    def mark_exported(self, seq: int) -> None:
        self._run(
            "UPDATE cf_campaigns SET exported_seq = ? WHERE campaign_id = ? AND exported_seq < ?",
            (seq, self._cid, seq),
        )

    def purge_audit(self, through_seq: int) -> int:
        rows = self._rows(
            "SELECT seq, hash FROM cf_audit WHERE campaign_id = ? AND seq <= ? "
            "ORDER BY seq DESC LIMIT 1",
            (self._cid, through_seq),
        )
        if not rows:
            return 0
        last_seq, last_hash = int(rows[0][0]), str(rows[0][1])
        gone = self._run(
            "DELETE FROM cf_audit WHERE campaign_id = ? AND seq <= ?", (self._cid, last_seq)
        )
        self._run(
            "UPDATE cf_campaigns SET anchor_seq = ?, anchor_hash = ? WHERE campaign_id = ?",
            (last_seq, last_hash, self._cid),
        )
        return gone

    def insert_unit(self, unit: Unit, state: UnitState) -> None:
        def exists(_: BaseException) -> CampaignflowError:
            return ValidationError(code="store.unit_exists", params={"unit": repr(unit.id)})

        self._writable()
        if self.get_unit(unit.id) is not None:
            raise exists(KeyError(unit.id))
        rows = self._rows("SELECT MAX(ordinal) FROM cf_units WHERE campaign_id = ?", (self._cid,))
        ordinal = int(rows[0][0] or 0) + 1 if rows else 1
        failure = Failure(unit.id, duplicate=exists)
        self._run(
            "INSERT INTO cf_units (campaign_id, unit_id, ordinal, name, kind, batch, members, "
            "parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        self._run(
            "INSERT INTO cf_states (campaign_id, unit_id, stage, batch, version, entered_on, "
            "stage_since, started_on, remedial, remedial_round, resume_since, workflow, "
            "parent, ordinal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._cid, unit.id, *_state_values(state), unit.parent, ordinal),
            failure,
        )

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        cached = self._states.get(state.unit_id)
        if cached is not None:
            if cached[1].version != expected_version:
                raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
            self._writable()
            self._pending_states.append((state, expected_version))
            self._states[state.unit_id] = (cached[0], state)
            return
        params = (*_state_values(state), self._cid, state.unit_id, expected_version)
        changed = self._run(_UPDATE_STATE, params, Failure(state.unit_id, expected_version))
        if changed != 1:
            raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)

    def insert_fact(self, record: FactRecord) -> None:
        store = self._store
        data = store.fact_types.dump(record.fact)
        # n is the next number in the unit's stage; writers are serial, and a racing
        # writer on a host's connection hits the primary key instead (a conflict).
        self._run(
            "INSERT INTO cf_facts (campaign_id, unit_id, stage, n, version, seq, kind, data, "
            "on_date, at_time, actor_id, request_id) "
            "SELECT ?, ?, ?, COALESCE(MAX(n), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM cf_facts "
            "WHERE campaign_id = ? AND unit_id = ? AND stage = ?",
            (
                self._cid,
                record.unit_id,
                record.stage,
                record.version,
                record.seq,
                data["kind"],
                canonical_json(data),
                iso_date(record.on),
                iso_instant(record.at),
                record.actor_id,
                record.request_id,
                self._cid,
                record.unit_id,
                record.stage,
            ),
            Failure(record.unit_id, record.version),
        )
        if self._fact_stage.get(record.unit_id) == record.stage:
            self._facts[record.unit_id] = (*self._facts[record.unit_id], record)

    def append_audit(self, record: AuditRecord) -> None:
        self._append_row(record.row())

    def apply_transitions(self, moves: Sequence[tuple[UnitState, int, AuditRow]]) -> None:
        self._writable()
        states, head = self._states, self._head
        pending_states, pending_audit = self._pending_states, self._pending_audit
        seq, prev = self.audit_head()
        for move in moves:
            state, expected_version, row = move
            unit_id = state.unit_id
            cached = states.get(unit_id)
            if cached is None or row[12] is not None or row[8] != unit_id or row[7] != "ok":
                # Not a sweep's move of a unit read in this session: the general path.
                self.update_state(state, expected_version=expected_version)
                self._append_row(row)
                seq, prev = head.seq, head.hash
                continue
            # What update_state and _append_row do for a prefetched unit's sweep record,
            # inline: a sweep applies a thousand of them per page.
            if cached[1].version != expected_version:
                raise ConcurrencyConflict(unit_id, expected_version=expected_version)
            if row[0] != seq + 1 or row[17] != prev:
                raise ConcurrencyConflict(
                    unit_id, expected_version=seq, detail="the audit chain moved on"
                )
            pending_states.append(move)
            pending_audit.append(row)
            states[unit_id] = (cached[0], state)
            seq, prev = row[0], row[18]
            head.seq, head.hash = seq, prev

    def _append_row(self, row: AuditRow) -> None:
        """Append a record's row (see AuditRecord.row) onto the chain head."""
        self._writable()
        head, head_hash = self.audit_head()
        seq, unit_id, version, request_id = row[0], row[8], row[11], row[12]
        unit = unit_id or "-"
        if seq != head + 1 or row[17] != head_hash:
            raise ConcurrencyConflict(
                unit, expected_version=head, detail="the audit chain moved on"
            )
        if request_id is None and unit_id in self._states:
            # A sweep's record (no request id to collide on): batch it with the others.
            self._pending_audit.append(row)
        else:

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
            self._run(_INSERT_AUDIT, params, Failure(unit_id, head, duplicate=taken))
        self._head.seq, self._head.hash = seq, row[18]

    # --- organisation tree, refusals, assessments, workflow versions -----------------------

    def insert_organisation(self, org: Organisation) -> None:
        def exists(_: BaseException) -> CampaignflowError:
            return ValidationError(code="store.organisation_exists", params={"org": repr(org.id)})

        self._writable()
        self._registered.pop(org.id, None)
        if self.get_organisation(org.id) is not None:
            raise exists(KeyError(org.id))
        rows = self._rows("SELECT MAX(ordinal) FROM cf_orgs WHERE campaign_id = ?", (self._cid,))
        ordinal = int(rows[0][0] or 0) + 1 if rows else 1
        failure = Failure(None, duplicate=exists)
        self._run(
            "INSERT INTO cf_orgs (campaign_id, org_id, ordinal, name, level, parent) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self._cid, org.id, ordinal, org.name, org.level, org.parent),
            failure,
        )
        # The new organisation's closure rows: itself, and its parent's ancestors one deeper.
        self._run(
            "INSERT INTO cf_org_tree (campaign_id, ancestor, descendant, depth) "
            "VALUES (?, ?, ?, 0)",
            (self._cid, org.id, org.id),
            failure,
        )
        if org.parent is not None:
            self._run(
                "INSERT INTO cf_org_tree (campaign_id, ancestor, descendant, depth) "
                "SELECT campaign_id, ancestor, ?, depth + 1 FROM cf_org_tree "
                "WHERE campaign_id = ? AND descendant = ?",
                (org.id, self._cid, org.parent),
                failure,
            )

    def get_organisation(self, org_id: str) -> Organisation | None:
        rows = self._rows(
            f"SELECT {_ORG_COLUMNS} FROM cf_orgs o WHERE o.campaign_id = ? AND o.org_id = ?",
            (self._cid, org_id),
        )
        return _org(rows[0]) if rows else None

    def iter_organisations(self, under: str | None = None) -> Iterator[Organisation]:
        if under is None:
            rows = self._rows(
                f"SELECT {_ORG_COLUMNS} FROM cf_orgs o WHERE o.campaign_id = ? ORDER BY o.ordinal",
                (self._cid,),
            )
        else:
            rows = self._rows(
                f"SELECT {_ORG_COLUMNS} FROM cf_orgs o JOIN cf_org_tree t "
                "ON t.campaign_id = o.campaign_id AND t.descendant = o.org_id "
                "WHERE o.campaign_id = ? AND t.ancestor = ? ORDER BY o.ordinal",
                (self._cid, under),
            )
        for row in rows:
            yield _org(row)

    def set_refusal(self, refusal: Refusal) -> None:
        self._writable()
        key = (self._cid, refusal.unit_id)
        self._run(
            "UPDATE cf_states SET refused_version = ?, refused_seq = ?, refused_codes = ? "
            "WHERE campaign_id = ? AND unit_id = ?",
            (refusal.version, refusal.seq, " ".join(sorted(set(refusal.codes))), *key),
        )
        self._run("DELETE FROM cf_refusals WHERE campaign_id = ? AND unit_id = ?", key)
        self._run(
            "INSERT INTO cf_refusals (campaign_id, unit_id, version, stage, trigger_name, "
            "target, on_date, seq, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                refusal.version,
                refusal.stage,
                refusal.trigger,
                refusal.target,
                refusal.on.isoformat(),
                refusal.seq,
                canonical_json([verdict_to_data(v) for v in refusal.failures]),
            ),
        )

    def get_refusal(self, unit_id: str) -> Refusal | None:
        rows = self._rows(
            f"SELECT {_REFUSAL_COLUMNS} FROM cf_refusals r "
            "WHERE r.campaign_id = ? AND r.unit_id = ?",
            (self._cid, unit_id),
        )
        return _refusal(rows[0]) if rows else None

    def set_assessment(
        self, unit_id: str, seq: int, counts: tuple[int, int | None, int, int]
    ) -> None:
        self._writable()
        self._run(
            "UPDATE cf_states SET a_satisfied = ?, a_fairly = ?, a_basically = ?, "
            "a_dissatisfied = ? WHERE campaign_id = ? AND unit_id = ?",
            (*counts, self._cid, unit_id),
        )

    def _under(self, under: str | None) -> tuple[str, tuple[Any, ...]]:
        """The WHERE clause (on the states ``s``) and params selecting the units under ``under``."""
        if under is None:
            return "s.campaign_id = ?", (self._cid,)
        registered = self._registered.get(under)
        if registered is None:
            registered = self._registered[under] = self.get_organisation(under) is not None
        if not registered:
            # Not registered: only the units that name it as their parent.
            return "s.campaign_id = ? AND s.parent = ?", (self._cid, under)
        return (
            "s.campaign_id = ? AND s.parent IN (SELECT t.descendant FROM cf_org_tree t "
            "WHERE t.campaign_id = ? AND t.ancestor = ?)",
            (self._cid, self._cid, under),
        )

    def rollup_counts(
        self, under: str, *, batch: int | None = None, closes: Mapping[int, date]
    ) -> list[GroupCounts]:
        where, params = self._under(under)
        if batch is not None:
            where += " AND s.batch = ?"
            params = (*params, batch)
        if closes:
            whens = " ".join("WHEN ? THEN ?" for _ in closes)
            close = f"CASE s.batch {whens} END"
            close_params: tuple[Any, ...] = tuple(
                x for b, day in sorted(closes.items()) for x in (b, day.isoformat())
            )
        else:
            close, close_params = "NULL", ()
        ballots = "s.a_satisfied + COALESCE(s.a_fairly, 0) + s.a_basically + s.a_dissatisfied"
        # One table, one index: everything a roll-up counts lives on the state row.
        rows = self._rows(
            "SELECT s.parent, s.batch, s.stage, COUNT(*), "
            f"SUM(CASE WHEN s.entered_on <= {close} THEN 1 ELSE 0 END), "
            "SUM(s.remedial), SUM(s.remedial_round), COUNT(s.a_satisfied), SUM(s.a_satisfied), "
            "SUM(COALESCE(s.a_fairly, 0)), SUM(s.a_basically), SUM(s.a_dissatisfied), "
            f"SUM(CASE WHEN 2 * s.a_dissatisfied > {ballots} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.refused_version = s.version THEN 1 ELSE 0 END) "
            f"FROM cf_states s WHERE {where} GROUP BY s.parent, s.batch, s.stage",
            (*close_params, *params),
        )
        return [
            GroupCounts(row[0], int(row[1]), row[2], *(int(x or 0) for x in row[3:]))
            for row in rows
        ]

    def _stuck_where(self, under: str | None, batch: int | None) -> tuple[str, tuple[Any, ...]]:
        where, params = self._under(under)
        if batch is not None:
            where += " AND s.batch = ?"
            params = (*params, batch)
        return f"{where} AND s.refused_version = s.version", params

    def blocking_counts(
        self, under: str | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        where, params = self._stuck_where(under, batch)
        rows = self._rows(
            "SELECT s.parent, s.refused_codes, COUNT(*) FROM cf_states s "
            f"WHERE {where} GROUP BY s.parent, s.refused_codes",
            params,
        )
        counts: dict[tuple[str | None, str], int] = {}
        for parent, codes, n in rows:
            for code in str(codes or "").split():
                counts[(parent, code)] = counts.get((parent, code), 0) + int(n)
        return [(parent, code, n) for (parent, code), n in counts.items()]

    def stuck_units(
        self,
        under: str | None,
        *,
        batch: int | None = None,
        stage_before: date | None = None,
        order_by: StuckOrder = "days_in_stage",
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[tuple[Unit, UnitState, Refusal]]]:
        where, params = self._stuck_where(under, batch)
        if stage_before is not None:
            where += " AND s.stage_since < ?"
            params = (*params, stage_before.isoformat())
        total = int(self._rows(f"SELECT COUNT(*) FROM cf_states s WHERE {where}", params)[0][0])
        order = _STUCK_ORDER[order_by]
        # Every supported database takes LIMIT n OFFSET m; "no limit" is the largest n.
        page = f" LIMIT {int(limit) if limit is not None else 2**63 - 1} OFFSET {int(offset)}"
        # The page's ids from the state rows alone; then the page's units and refusals.
        ids = [
            row[0]
            for row in self._rows(
                f"SELECT s.unit_id FROM cf_states s WHERE {where} ORDER BY {order}{page}",
                params,
            )
        ]
        found: dict[str, tuple[Unit, UnitState, Refusal]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            for row in self._rows(
                f"SELECT {_UNIT_COLUMNS}, {_STATE_COLUMNS}, {_REFUSAL_COLUMNS} FROM cf_states s "
                "JOIN cf_units u ON u.campaign_id = s.campaign_id AND u.unit_id = s.unit_id "
                "JOIN cf_refusals r ON r.campaign_id = s.campaign_id AND r.unit_id = s.unit_id "
                f"WHERE s.campaign_id = ? AND s.unit_id IN ({marks})",
                (self._cid, *part),
            ):
                found[row[0]] = (_unit(row), _state(row, 6), _refusal(row[17:]))
        return total, [found[unit_id] for unit_id in ids]

    def workflow_versions(self) -> list[WorkflowVersion]:
        rows = self._rows(
            "SELECT n, ref, definition, policy, from_batch, seq FROM cf_workflows "
            "WHERE campaign_id = ? ORDER BY n",
            (self._cid,),
        )
        return [
            WorkflowVersion(
                number=int(row[0]),
                ref=row[1],
                definition=json.loads(row[2]),
                policy=row[3],
                from_batch=int(row[4]),
                seq=int(row[5]),
            )
            for row in rows
        ]

    def add_workflow_version(self, version: WorkflowVersion) -> None:
        def taken(_: BaseException) -> CampaignflowError:
            return ConcurrencyConflict(
                "-", expected_version=version.number - 1, detail="another adoption came first"
            )

        self._writable()
        self._run(
            "INSERT INTO cf_workflows (campaign_id, n, ref, definition, policy, from_batch, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._cid,
                version.number,
                version.ref,
                canonical_json(version.definition),
                version.policy,
                version.from_batch,
                version.seq,
            ),
            Failure(None, duplicate=taken),
        )


_UPDATE_STATE = (
    "UPDATE cf_states SET stage = ?, batch = ?, version = ?, entered_on = ?, "
    "stage_since = ?, started_on = ?, remedial = ?, remedial_round = ?, "
    "resume_since = ?, workflow = ? WHERE campaign_id = ? AND unit_id = ? AND version = ?"
)
_INSERT_AUDIT = (
    f"INSERT INTO cf_audit (campaign_id, {_AUDIT_COLUMNS}, transition_version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _transition_version(row: AuditRow) -> int | None:
    """The ``transition_version`` column of an audit row: the version a transition made.

    Set for applied transitions only (outcome ok, a unit and a dest), so UNIQUE on it admits
    one transition per unit version while denials and errors repeat freely (NULLs differ).
    """
    if row[7] == "ok" and row[10] is not None and row[8] is not None:
        return cast(int | None, row[11])
    return None


def _taken_batch(exc: BaseException) -> CampaignflowError:
    return ConcurrencyConflict(
        "-", expected_version=0, detail=f"a batched audit record was taken concurrently ({exc})"
    )


# --- rows <-> records ---------------------------------------------------------------------------


# Stored days decoded lately: a campaign's states share a few hundred distinct days, and a
# date is immutable, so one object may serve every state that holds it.
_DAY_OF: dict[str, date] = {}


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    day = _DAY_OF.get(text)
    return remember(_DAY_OF, text, date.fromisoformat(text)) if day is None else day


def _iso(day: date | None) -> str | None:
    return None if day is None else iso_date(day)


def _unit(row: Sequence[Any], at: int = 0) -> Unit:
    """The unit in ``row``'s _UNIT_COLUMNS, which start at column ``at``."""
    # Rows were validated on the way in (insert_unit takes a validated Unit).
    return trusted_unit(
        row[at], row[at + 1], row[at + 2], int(row[at + 3]), int(row[at + 4]), row[at + 5]
    )


def _state(row: Sequence[Any], at: int = 0) -> UnitState:
    """The state in ``row``'s _STATE_COLUMNS (UnitState's fields in order) from column ``at``."""
    return UnitState(
        row[at], row[at + 1], int(row[at + 2]), int(row[at + 3]), _day(row[at + 4]),
        _day(row[at + 5]), _day(row[at + 6]), bool(row[at + 7]), int(row[at + 8]),
        _day(row[at + 9]), row[at + 10] or "",
    )  # fmt: skip


def _state_values(state: UnitState) -> tuple[Any, ...]:
    return (
        state.stage,
        state.batch,
        state.version,
        _iso(state.entered_on),
        _iso(state.stage_since),
        _iso(state.started_on),
        int(state.remedial),
        state.remedial_round,
        _iso(state.resume_since),
        state.workflow or None,
    )


def _org(row: Sequence[Any]) -> Organisation:
    return Organisation(id=row[0], name=row[1], level=row[2], parent=row[3])


def _refusal(row: Sequence[Any]) -> Refusal:
    return Refusal(
        unit_id=row[0],
        stage=row[1],
        version=int(row[2]),
        trigger=row[3],
        target=row[4],
        on=date.fromisoformat(row[5]),
        seq=int(row[6]),
        failures=tuple(verdict_from_data(v) for v in json.loads(row[7])),
    )
