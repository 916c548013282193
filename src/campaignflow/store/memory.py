"""The in-memory store: dicts behind a lock, with an undo journal for all-or-nothing commands."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date

from campaignflow._words.overview import GroupCounts, StuckQuery, order_key
from campaignflow._words.records import FactRecord, Organisation, Unit, UnitState, WorkflowVersion
from campaignflow._words.verdicts import Refusal
from campaignflow._words.work import InboxQuery, WorkItem
from campaignflow.audit import AuditRecord, AuditRow, Checkpoint
from campaignflow.errors import ConcurrencyConflict, ValidationError
from campaignflow.store import _counts_memory as counters
from campaignflow.store._due_walk import DueIndex
from campaignflow.store._memory_audit import AuditLog
from campaignflow.store._memory_journal import MISSING, Undo, remember, roll_back
from campaignflow.store._protocol import DIRTY, DueKey, apply_one_by_one
from campaignflow.store._verify_reads import VerifyPage, memory_page

#: A unit's latest assessment: seq and counts (satisfied, fairly, basically, dissatisfied).
Assessment = tuple[int, int, int | None, int, int]

__all__ = ["MemoryStore"]


class _Session:
    __slots__ = (
        "_audit_marked",
        "_counts_run",
        "_old_dues",
        "_old_states",
        "_store",
        "_undo",
        "_write",
    )

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self._store = store
        self._write = write
        # A journal of what each write replaced, undone newest first on an exception: plain
        # tuples, not a closure per write (see _rollback).
        self._undo: list[Undo] = []
        self._audit_marked = False  # whether the journal has the log's length before appends
        # The states and due dates writes replaced, first of each unit, in one journal entry
        # each (a segment) until a write that must be undone apart ends it: a sweep's page
        # adds two journal entries, not two per unit.
        self._old_states: dict[str, UnitState] | None = None
        self._old_dues: dict[str, object] | None = None
        # The counters' steps of a run of writes, flat: (*contribution, sign) after another.
        self._counts_run: list[object] | None = None

    def _writable(self) -> None:
        if not self._write:
            raise ValidationError(code="store.read_only")

    def get_unit(self, unit_id: str) -> Unit | None:
        return self._store._units.get(unit_id)

    def get_state(self, unit_id: str) -> UnitState | None:
        return self._store._states.get(unit_id)

    def prefetch(self, unit_ids: Sequence[str]) -> None:
        """Nothing to do: every read is a dict lookup."""

    def get_unit_state(self, unit_id: str) -> tuple[Unit, UnitState] | None:
        state = self._store._states.get(unit_id)
        return None if state is None else (self._store._units[unit_id], state)

    def iter_units(self, batch: int | None = None) -> Iterator[tuple[Unit, UnitState]]:
        units, states = self._store._units, self._store._states
        # A snapshot of the keys: callers may write while iterating.
        for unit_id in list(states):
            state = states[unit_id]
            if batch is None or state.batch == batch:
                yield units[unit_id], state

    def page_units(
        self, batch: int | None, after: int, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], int]:
        store = self._store
        order, units, states = store._order, store._units, store._states
        page: list[tuple[Unit, UnitState]] = []
        position = after
        while position < len(order) and len(page) < limit:
            unit_id = order[position]
            position += 1
            state = states[unit_id]
            if batch is None or state.batch == batch:
                page.append((units[unit_id], state))
        return page, position

    def page_due(
        self, batch: int | None, day: date, after: DueKey | None, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], DueKey | None]:
        store = self._store
        units, states = store._units, store._states
        ids, key = store._due.page(
            batch, day, after, limit, store._ordinals, lambda u: states[u].batch == batch
        )
        return [(units[unit_id], states[unit_id]) for unit_id in ids], key

    def set_due(self, dues: Sequence[tuple[str, date | None]]) -> None:
        self._writable()
        for unit_id, due in dues:
            self._due(unit_id, due)

    def _counted(self, before: Mapping[str, counters.Contribution | None]) -> None:
        """Add to the counters what the write since ``before`` changed (undone with it)."""
        steps = counters.counts_after(self._store, before)
        if steps:
            run = self._counts_run
            if run is None:
                run = self._counts_run = []
                self._undo.append(("counts", run))
            for part, sign in steps:
                run.extend(part)  # flat: no tuple per step outlives the write
                run.append(sign)

    def _due(self, unit_id: str, due: date | None) -> None:
        """Set the unit's due date in this transaction (undone with it)."""
        old = self._store._due.set(unit_id, due, self._store._ordinals[unit_id])
        olds = self._old_dues
        if olds is None:
            olds = self._old_dues = {}
            self._undo.append(("dues", olds))
        olds.setdefault(unit_id, old)

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        return tuple(self._store._facts.get((unit_id, stage), ()))

    def verify_page(self, after: str | None, limit: int) -> VerifyPage:
        store = self._store
        log = store._log
        records = [log.record(i) for i in range(len(log.rows))]
        return memory_page(store._units, store._states, store._facts, records)

    def _record(self, seq: int) -> AuditRecord | None:
        log = self._store._log
        index = log.index_of(seq)
        return None if index is None else log.record(index)

    def find_request(self, request_id: str) -> AuditRecord | None:
        seq = self._store._log.requests.get(request_id)
        return None if seq is None else self._record(seq)

    def audit_head(self) -> tuple[int, str]:
        return self._store._log.head()

    def iter_audit(
        self, unit_id: str | None = None, *, after_seq: int = 0
    ) -> Iterator[AuditRecord]:
        log = self._store._log
        if unit_id is None:
            # The tail from after_seq as it is now (callers may write while iterating), each
            # record built as it is read and not kept.
            yield from log.records_from(max(0, after_seq - log.anchor_seq()))
            return
        for seq in log.unit_seqs(unit_id, after_seq):
            if (record := self._record(seq)) is not None:
                yield record

    def iter_audit_rows(self, *, after_seq: int = 0) -> Iterator[AuditRow]:
        """The sealed rows after ``after_seq`` as they were sealed, without building records.

        For copying a memory store's trail into another store (``append_audit(record, row)``
        writes the row as it is). Not part of the Store protocol.
        """
        log = self._store._log
        return log.rows_from(max(0, after_seq - log.anchor_seq()))

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
        store = self._store
        claimed: list[tuple[Unit, UnitState]] = []
        if due_by is None:
            ids: list[str] = list(store._states)
        else:  # only the due, in the due index's order
            ids = [u for _, _, u in store._due.due_ids(due_by, None, store._ordinals)]
        for unit_id in ids:
            state = store._states[unit_id]
            if len(claimed) >= limit:
                break
            if state.stage not in stages or (batch is not None and state.batch != batch):
                continue
            previous = store._swept.get(unit_id)
            if previous == sweep:
                continue
            store._swept[unit_id] = sweep
            self._undo.append(
                ("key", store._swept, unit_id, MISSING if previous is None else previous)
            )
            claimed.append((store._units[unit_id], state))
        return claimed

    def audit_anchor(self) -> Checkpoint | None:
        return self._store._log.anchor

    def exported_through(self) -> int:
        return self._store._exported

    def mark_exported(self, seq: int) -> None:
        self._writable()
        store = self._store
        old = store._exported
        store._exported = max(old, seq)
        self._undo.append(("attr", "_exported", old))

    def purge_audit(self, through_seq: int) -> int:
        self._writable()
        count, undo = self._store._log.purge(through_seq)
        if undo is not None:
            self._undo.append(undo)
            self._audit_marked = False  # appends after the purge are undone before it
        return count

    def insert_unit(self, unit: Unit, state: UnitState) -> None:
        self._writable()
        store = self._store
        if unit.id in store._units:
            raise ValidationError(code="store.unit_exists", params={"unit": repr(unit.id)})
        before = counters.counts_before(store, [unit.id])
        store._units[unit.id] = unit
        store._states[unit.id] = state
        store._ordinals[unit.id] = len(store._ordinals) + 1
        store._order.append(unit.id)
        store._by_parent.setdefault(unit.parent, {})[unit.id] = None
        store._due.set(unit.id, DIRTY, store._ordinals[unit.id])
        self._undo.append(("unit", unit))
        # Undone before the unit goes: later writes of states and dates start new segments.
        self._old_states = self._old_dues = None
        self._counted(before)

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        self._writable()
        store = self._store
        old = store._states.get(state.unit_id)
        if old is None or old.version != expected_version:
            raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
        before = counters.counts_before(store, [state.unit_id])
        store._states[state.unit_id] = state
        olds = self._old_states
        if olds is None:
            olds = self._old_states = {}
            self._undo.append(("states", olds))
        olds.setdefault(state.unit_id, old)
        self._due(state.unit_id, DIRTY)
        self._counted(before)

    def insert_fact(self, record: FactRecord) -> None:
        self._writable()
        bucket = self._store._facts.setdefault((record.unit_id, record.stage), [])
        bucket.append(record)
        self._undo.append(("pop", bucket))
        self._due(record.unit_id, DIRTY)

    def append_audit(self, record: AuditRecord, row: AuditRow | None = None) -> None:
        self._append_row(record.row() if row is None else row)  # kept as the row, not the record

    def _append_row(self, row: AuditRow) -> None:
        """Append a sealed row (read back as a record when read, and not kept as one)."""
        self._writable()
        log = self._store._log
        head, head_hash = log.head()
        if row.seq != head + 1 or row.prev_hash != head_hash:
            raise ConcurrencyConflict(
                row.unit_id,
                expected_version=head,
                detail="the audit chain moved on",
            )
        if row.request_id is not None and row.request_id in log.requests:
            raise ConcurrencyConflict(
                row.unit_id,
                expected_version=head,
                detail=f"request_id {row.request_id!r} was used concurrently",
            )
        if not self._audit_marked:
            # One journal entry for every append of the session: the log's length before.
            self._undo.append(("audit", len(log.rows)))
            self._audit_marked = True
        log.append(row)

    def apply_transitions(self, moves: Sequence[tuple[UnitState, int, AuditRow]]) -> None:
        apply_one_by_one(self, moves)

    # --- organisation tree, refusals, assessments, workflow versions -----------------------

    def insert_organisation(self, org: Organisation) -> None:
        self._writable()
        store = self._store
        if org.id in store._orgs:
            raise ValidationError(code="store.organisation_exists", params={"org": repr(org.id)})
        ancestors = dict(store._ancestors.get(org.parent, {})) if org.parent else {}
        chain = {a: d + 1 for a, d in ancestors.items()}
        chain[org.id] = 0
        before = counters.counts_before(store, store._by_parent.get(org.id, {}))
        store._orgs[org.id] = org
        store._ancestors[org.id] = chain
        for ancestor in chain:
            store._descendants.setdefault(ancestor, {})[org.id] = None

        def undo() -> None:
            del store._orgs[org.id]
            del store._ancestors[org.id]
            for ancestor in chain:
                store._descendants[ancestor].pop(org.id, None)

        self._undo.append(undo)
        self._counted(before)

    def get_organisation(self, org_id: str) -> Organisation | None:
        return self._store._orgs.get(org_id)

    def iter_organisations(self, under: str | None = None) -> Iterator[Organisation]:
        store = self._store
        if under is None:
            yield from list(store._orgs.values())
            return
        for org_id in list(store._descendants.get(under, {})):
            yield store._orgs[org_id]

    def set_refusal(self, refusal: Refusal) -> None:
        self._writable()
        before = counters.counts_before(self._store, [refusal.unit_id])
        remember(self._undo, self._store._refusals, refusal.unit_id, refusal)
        self._counted(before)

    def get_refusal(self, unit_id: str) -> Refusal | None:
        return self._store._refusals.get(unit_id)

    def set_assessment(
        self, unit_id: str, seq: int, counts: tuple[int, int | None, int, int]
    ) -> None:
        self._writable()
        before = counters.counts_before(self._store, [unit_id])
        remember(self._undo, self._store._assessments, unit_id, (seq, *counts))
        self._due(unit_id, DIRTY)
        self._counted(before)

    def work_items_through(self) -> tuple[int, date | None]:
        return self._store._items_seq

    def mark_work_items(self, seq: int, on: date) -> None:
        self._writable()
        store, old = self._store, self._store._items_seq
        store._items_seq = (seq, on)
        self._undo.append(("attr", "_items_seq", old))

    def get_work_items(self, unit_id: str) -> list[WorkItem]:
        return list(self._store._items.get(unit_id, ()))

    def set_work_items(self, unit_id: str, items: Sequence[WorkItem]) -> None:
        self._writable()
        remember(self._undo, self._store._items, unit_id, tuple(items))

    def page_work_items(self, query: InboxQuery) -> list[WorkItem]:
        # Memory keeps no index: a page sorts the selected items (a test store's trade-off).
        under = None if query.under is None else frozenset(self._unit_ids_under(query.under))
        found = [
            item
            for items in self._store._items.values()
            for item in items
            if query.selects(item, under)
        ]
        return sorted(found, key=query.key)[: query.limit]

    def _unit_ids_under(self, under: str | None) -> Iterator[str]:
        store = self._store
        if under is None:
            yield from list(store._states)
            return
        parents = list(store._descendants.get(under, {})) or [under]
        for parent in parents:
            yield from list(store._by_parent.get(parent, {}))

    def _current_refusal(self, unit_id: str) -> Refusal | None:
        refusal = self._store._refusals.get(unit_id)
        state = self._store._states[unit_id]
        return refusal if refusal is not None and refusal.version == state.version else None

    def rollup_counts(
        self, under: str, *, batch: int | None = None, closes: Mapping[int, date]
    ) -> list[GroupCounts]:
        store = self._store
        groups: dict[tuple[str | None, int, str], Counter[str]] = {}
        for unit_id in self._unit_ids_under(under):
            state = store._states[unit_id]
            if batch is not None and state.batch != batch:
                continue
            key = (store._units[unit_id].parent, state.batch, state.stage)
            counts = groups.setdefault(key, Counter())
            close = closes.get(state.batch)
            on_time = close is not None and state.entered_on is not None
            counts["units"] += 1
            counts["on_time"] += on_time and state.entered_on <= close  # type: ignore[operator]
            counts["remedial"] += state.remedial
            counts["remedial_rounds"] += state.remedial_round
            assessment = store._assessments.get(unit_id)
            if assessment is not None:
                _, sat, fair, basic, dis = assessment
                counts["assessed"] += 1
                counts["satisfied"] += sat
                counts["fairly_satisfied"] += fair or 0
                counts["basically_satisfied"] += basic
                counts["dissatisfied"] += dis
                counts["majority_dissatisfied"] += 2 * dis > sat + (fair or 0) + basic + dis
            counts["stuck"] += self._current_refusal(unit_id) is not None
        return [
            GroupCounts(parent=parent, batch=group_batch, stage=stage, **counts)
            for (parent, group_batch, stage), counts in groups.items()
        ]

    def blocking_counts(
        self, under: str | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        counts: Counter[tuple[str | None, str]] = Counter()
        for unit_id in self._unit_ids_under(under):
            refusal = self._current_refusal(unit_id)
            if refusal is None or (
                batch is not None and self._store._states[unit_id].batch != batch
            ):
                continue
            parent = self._store._units[unit_id].parent
            counts.update({(parent, code) for code in refusal.codes})
        return [(parent, code, n) for (parent, code), n in counts.items()]

    def counted_groups(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[GroupCounts]:
        return counters.counted_groups(self._store._tallies, orgs, batch)

    def counted_blocking(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        return counters.counted_blocking(self._store._tallies, orgs, batch)

    def organisations_within(self, under: str, depth: int | None) -> list[Organisation]:
        store = self._store
        return [
            store._orgs[org_id]
            for org_id in store._descendants.get(under, {})
            if depth is None or store._ancestors[org_id][under] <= depth
        ]

    def batch_closes(self) -> dict[int, date]:
        return dict(self._store._tallies.closes)

    def set_batch_closes(self, closes: Mapping[int, date]) -> None:
        self._writable()
        store, old = self._store, self._store._tallies
        store._tallies = counters.Tallies(closes=dict(closes))
        store._tallies = counters.refill(store)
        self._undo.append(("attr", "_tallies", old))
        self._counts_run = None  # the steps before it are undone on the old counters

    def stuck_units(self, query: StuckQuery) -> tuple[int, list[tuple[Unit, UnitState, Refusal]]]:
        under, batch, stage_before = query.under, query.batch, query.stage_before
        order_by, offset, limit = query.order_by, query.offset, query.limit
        store = self._store
        found: list[tuple[int, UnitState, Refusal]] = []
        for unit_id in self._unit_ids_under(under):
            refusal = self._current_refusal(unit_id)
            if refusal is None:
                continue
            state = store._states[unit_id]
            if batch is not None and state.batch != batch:
                continue
            if stage_before is not None and not (
                state.stage_since is not None and state.stage_since < stage_before
            ):
                continue
            found.append((store._ordinals[unit_id], state, refusal))
        found.sort(key=order_key(order_by, date.max))
        chosen = found[offset:] if limit is None else found[offset : offset + limit]
        return len(found), [(store._units[s.unit_id], s, r) for _, s, r in chosen]

    def workflow_versions(self) -> list[WorkflowVersion]:
        return list(self._store._workflows)

    def add_workflow_version(self, version: WorkflowVersion) -> None:
        self._writable()
        workflows = self._store._workflows
        if version.number != len(workflows) + 1:
            raise ConcurrencyConflict(
                None, expected_version=len(workflows), detail="another adoption came first"
            )
        workflows.append(version)
        self._undo.append(("pop", workflows))
        # Another version may judge any unit now: every one is judged again.
        index = self._store._due
        self._undo.append(("due_all", index.all_dirty()))
        self._old_dues = None  # undone before the dates it replaced

    def _rollback(self) -> None:
        roll_back(self._store, self._undo)
        self._undo.clear()
        self._audit_marked = False
        self._old_states = self._old_dues = None
        self._counts_run = None


class _Transaction:
    """``with store.transaction() as session``: the store's lock held, undone on an error.

    A plain context manager (not a generator's): every command of an in-memory campaign
    opens one.
    """

    __slots__ = ("_session", "_store", "_write")

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self._store = store
        self._write = write

    def __enter__(self) -> _Session:
        store = self._store
        if store._closed:
            raise ValidationError(code="store.closed")
        store._lock.acquire()
        self._session = _Session(store, self._write)
        return self._session

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        try:
            if kind is not None:
                self._session._rollback()
        finally:
            self._store._lock.release()


class MemoryStore:
    """Keeps a campaign in process memory: fast, for tests, simulations and small tools.

    Transactions are serialised by a lock and undone on an exception, so a failed command
    leaves nothing behind, as on the durable stores. Nothing survives the process.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._units: dict[str, Unit] = {}
        self._states: dict[str, UnitState] = {}
        self._facts: dict[tuple[str, str], list[FactRecord]] = {}
        # The audit trail: sealed rows kept compact, records built when read (_memory_audit).
        self._log = AuditLog()
        self._audit = self._log.rows  # the kept rows, oldest first (tests tamper with them)
        self._swept: dict[str, str] = {}
        self._exported = 0
        self._closed = False
        self._ordinals: dict[str, int] = {}
        self._order: list[str] = []  # unit ids by ordinal (the first unit's is 1)
        self._by_parent: dict[str | None, dict[str, None]] = {}
        self._orgs: dict[str, Organisation] = {}
        # ancestors[org] = {ancestor: depth} and descendants[org] = {descendant: None}, each
        # including the organisation itself: the closure of the tree, kept on insert.
        self._ancestors: dict[str, dict[str, int]] = {}
        self._descendants: dict[str, dict[str, None]] = {}
        self._refusals: dict[str, Refusal] = {}
        self._assessments: dict[str, Assessment] = {}
        self._workflows: list[WorkflowVersion] = []
        self._items: dict[str, tuple[WorkItem, ...]] = {}
        self._items_seq: tuple[int, date | None] = (0, None)
        self._due = DueIndex()  # when each unit next needs judging (see page_due)
        self._tallies = counters.Tallies()

    def _audit_record(self, index: int) -> AuditRecord:
        """The record at ``index`` of the kept log, built from its row."""
        return self._log.record(index)

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._units)} units, {len(self._audit)} audit records>"

    def transaction(self, *, write: bool = True) -> _Transaction:
        """A session holding the store's lock; undone if the block raises."""
        return _Transaction(self, write)

    def close(self) -> None:
        """Mark the store closed; its data is dropped with the object."""
        self._closed = True
