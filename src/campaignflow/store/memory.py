"""The in-memory store: dicts behind a lock, with an undo journal for all-or-nothing commands."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from campaignflow._words.overview import GroupCounts, StuckQuery, order_key
from campaignflow._words.records import FactRecord, Organisation, Unit, UnitState, WorkflowVersion
from campaignflow._words.verdicts import Refusal
from campaignflow._words.work import InboxQuery, WorkItem
from campaignflow.audit import GENESIS_HASH, AuditRecord, AuditRow, Checkpoint
from campaignflow.errors import ConcurrencyConflict, ValidationError
from campaignflow.store import _counts_memory as counters
from campaignflow.store._due_walk import DueIndex
from campaignflow.store._protocol import DIRTY, DueKey, apply_one_by_one
from campaignflow.store._verify_reads import VerifyPage, memory_page

#: A unit's latest assessment: seq and counts (satisfied, fairly, basically, dissatisfied).
Assessment = tuple[int, int, int | None, int, int]

__all__ = ["MemoryStore"]


class _Session:
    __slots__ = ("_store", "_undo", "_write")

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self._store = store
        self._write = write
        self._undo: list[Callable[[], None]] = []

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

    def _due(self, unit_id: str, due: date | None) -> None:
        """Set the unit's due date in this transaction (undone with it)."""
        index = self._store._due
        old = index.set(unit_id, due, self._store._ordinals[unit_id])
        self._undo.append(functools.partial(index.restore, unit_id, old))

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        return tuple(self._store._facts.get((unit_id, stage), ()))

    def verify_page(self, after: str | None, limit: int) -> VerifyPage:
        store = self._store
        records = [store._audit_record(i) for i in range(len(store._audit))]
        return memory_page(store._units, store._states, store._facts, records)

    def _record(self, seq: int) -> AuditRecord | None:
        store = self._store
        index = seq - store._anchor_seq() - 1
        return store._audit_record(index) if 0 <= index < len(store._audit) else None

    def find_request(self, request_id: str) -> AuditRecord | None:
        seq = self._store._requests.get(request_id)
        return None if seq is None else self._record(seq)

    def audit_head(self) -> tuple[int, str]:
        store = self._store
        if store._audit:
            return store._audit[-1].seq, store._audit[-1].hash
        anchor = store._anchor
        return (anchor.seq, anchor.hash) if anchor else (0, GENESIS_HASH)

    def iter_audit(
        self, unit_id: str | None = None, *, after_seq: int = 0
    ) -> Iterator[AuditRecord]:
        store = self._store
        if unit_id is None:
            # A copy of the tail from after_seq: callers may write while iterating.
            start = max(0, after_seq - store._anchor_seq())
            yield from [store._audit_record(i) for i in range(start, len(store._audit))]
            return
        for seq in list(store._by_unit.get(unit_id, ())):
            if seq > after_seq and (record := self._record(seq)) is not None:
                yield record

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
            self._undo.append(functools.partial(_restore, store._swept, unit_id, previous))
            claimed.append((store._units[unit_id], state))
        return claimed

    def audit_anchor(self) -> Checkpoint | None:
        return self._store._anchor

    def exported_through(self) -> int:
        return self._store._exported

    def mark_exported(self, seq: int) -> None:
        self._writable()
        store = self._store
        old = store._exported
        store._exported = max(old, seq)
        self._undo.append(lambda: setattr(store, "_exported", old))

    def purge_audit(self, through_seq: int) -> int:
        self._writable()
        store = self._store
        keep = [r for r in store._audit if r.seq > through_seq]
        gone = [r for r in store._audit if r.seq <= through_seq]
        if not gone:
            return 0
        old = (
            list(store._audit),
            store._anchor,
            dict(store._requests),
            {k: list(v) for k, v in store._by_unit.items()},
        )
        store._audit = keep
        store._anchor = Checkpoint(seq=gone[-1].seq, hash=gone[-1].hash)
        for record in gone:
            if record.request_id is not None:
                store._requests.pop(record.request_id, None)
        for seqs in store._by_unit.values():
            seqs[:] = [seq for seq in seqs if seq > through_seq]

        def undo() -> None:
            store._audit, store._anchor, store._requests, store._by_unit = old

        self._undo.append(undo)
        return len(gone)

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

        def undo() -> None:
            store._due.restore(unit.id, DueIndex.MISSING)
            del store._units[unit.id]
            del store._states[unit.id]
            del store._ordinals[unit.id]
            # Undone last-in first-out under the store's lock: this unit is the last one.
            store._order.pop()
            del store._by_parent[unit.parent][unit.id]

        self._undo.append(undo)
        counters.counts_after(store, self._undo, before)

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        self._writable()
        store = self._store
        old = store._states.get(state.unit_id)
        if old is None or old.version != expected_version:
            raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
        before = counters.counts_before(store, [state.unit_id])
        store._states[state.unit_id] = state
        due = store._due.set(state.unit_id, DIRTY, store._ordinals[state.unit_id])

        def undo() -> None:
            store._states[state.unit_id] = old
            store._due.restore(state.unit_id, due)

        self._undo.append(undo)
        counters.counts_after(store, self._undo, before)

    def insert_fact(self, record: FactRecord) -> None:
        self._writable()
        bucket = self._store._facts.setdefault((record.unit_id, record.stage), [])
        bucket.append(record)
        self._undo.append(lambda: _drop_last(bucket))
        self._due(record.unit_id, DIRTY)

    def append_audit(self, record: AuditRecord, row: AuditRow | None = None) -> None:
        self._append_row(record)  # kept as it is: the row is for stores that write rows

    def _append_row(self, row: AuditRecord | AuditRow) -> None:
        """Append a record, or a transition's row (read back as a record when first read)."""
        self._writable()
        store = self._store
        head, head_hash = self.audit_head()
        if row.seq != head + 1 or row.prev_hash != head_hash:
            raise ConcurrencyConflict(
                row.unit_id,
                expected_version=head,
                detail="the audit chain moved on",
            )
        if row.request_id is not None and row.request_id in store._requests:
            raise ConcurrencyConflict(
                row.unit_id,
                expected_version=head,
                detail=f"request_id {row.request_id!r} was used concurrently",
            )
        store._audit.append(row)
        undo_steps: list[Callable[[], None]] = [lambda: _drop_last(store._audit)]
        if row.request_id is not None:
            request_id = row.request_id
            store._requests[request_id] = row.seq
            undo_steps.append(lambda: _forget(store._requests, request_id))
        if row.unit_id is not None:
            seqs = store._by_unit.setdefault(row.unit_id, [])
            seqs.append(row.seq)
            undo_steps.append(lambda: _drop_last(seqs))

        def undo() -> None:
            for step in reversed(undo_steps):
                step()

        self._undo.append(undo)

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
        counters.counts_after(store, self._undo, before)

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
        _remember(self._undo, self._store._refusals, refusal.unit_id, refusal)
        counters.counts_after(self._store, self._undo, before)

    def get_refusal(self, unit_id: str) -> Refusal | None:
        return self._store._refusals.get(unit_id)

    def set_assessment(
        self, unit_id: str, seq: int, counts: tuple[int, int | None, int, int]
    ) -> None:
        self._writable()
        before = counters.counts_before(self._store, [unit_id])
        _remember(self._undo, self._store._assessments, unit_id, (seq, *counts))
        self._due(unit_id, DIRTY)
        counters.counts_after(self._store, self._undo, before)

    def work_items_through(self) -> tuple[int, date | None]:
        return self._store._items_seq

    def mark_work_items(self, seq: int, on: date) -> None:
        self._writable()
        store, old = self._store, self._store._items_seq
        store._items_seq = (seq, on)
        self._undo.append(lambda: setattr(store, "_items_seq", old))

    def get_work_items(self, unit_id: str) -> list[WorkItem]:
        return list(self._store._items.get(unit_id, ()))

    def set_work_items(self, unit_id: str, items: Sequence[WorkItem]) -> None:
        self._writable()
        _remember(self._undo, self._store._items, unit_id, tuple(items))

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
        self._undo.append(lambda: setattr(store, "_tallies", old))

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
        self._undo.append(lambda: _drop_last(workflows))
        # Another version may judge any unit now: every one is judged again.
        index = self._store._due
        self._undo.append(functools.partial(index.restore_all, index.all_dirty()))

    def _rollback(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()


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


def _restore(mapping: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _remember(
    undo: list[Callable[[], None]], mapping: dict[str, Any], key: str, value: Any
) -> None:
    missing = object()
    old = mapping.get(key, missing)
    mapping[key] = value

    def restore() -> None:
        if old is missing:
            mapping.pop(key, None)
        else:
            mapping[key] = old

    undo.append(restore)


def _drop_last(items: list[Any]) -> None:
    items.pop()


def _forget(mapping: dict[str, int], key: str) -> None:
    del mapping[key]


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
        # Records as appended; a transition's sealed row until first read (see _audit_record).
        self._audit: list[AuditRecord | AuditRow] = []
        self._requests: dict[str, int] = {}
        self._by_unit: dict[str, list[int]] = {}
        self._swept: dict[str, str] = {}
        self._anchor: Checkpoint | None = None
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
        """The record at ``index`` of the kept log, made from its row on the first read."""
        kept = self._audit[index]
        if isinstance(kept, AuditRow):
            kept = self._audit[index] = AuditRecord.from_row(kept)
        return kept

    def _anchor_seq(self) -> int:
        return self._anchor.seq if self._anchor else 0

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._units)} units, {len(self._audit)} audit records>"

    def transaction(self, *, write: bool = True) -> _Transaction:
        """A session holding the store's lock; undone if the block raises."""
        return _Transaction(self, write)

    def close(self) -> None:
        """Mark the store closed; its data is dropped with the object."""
        self._closed = True
