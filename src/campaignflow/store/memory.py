"""The in-memory store: dicts behind a lock, with an undo journal for all-or-nothing commands."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from campaignflow.audit import GENESIS_HASH, AuditRecord, Checkpoint
from campaignflow.errors import ConcurrencyConflict, ValidationError
from campaignflow.model import FactRecord, Unit, UnitState

__all__ = ["MemoryStore"]


class _Session:
    __slots__ = ("_store", "_undo", "_write")

    def __init__(self, store: MemoryStore, write: bool) -> None:
        self._store = store
        self._write = write
        self._undo: list[Callable[[], None]] = []

    def _writable(self) -> None:
        if not self._write:
            raise ValidationError("store: this session is read-only (transaction(write=False))")

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

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        return tuple(self._store._facts.get((unit_id, stage), ()))

    def _record(self, seq: int) -> AuditRecord | None:
        store = self._store
        index = seq - store._anchor_seq() - 1
        return store._audit[index] if 0 <= index < len(store._audit) else None

    def find_request(self, request_id: str) -> AuditRecord | None:
        seq = self._store._requests.get(request_id)
        return None if seq is None else self._record(seq)

    def audit_head(self) -> tuple[int, str]:
        store = self._store
        if store._audit:
            return store._audit[-1].seq, store._audit[-1].hash
        anchor = store._anchor
        return (anchor.seq, anchor.hash) if anchor else (0, GENESIS_HASH)

    def iter_audit(self, unit_id: str | None = None) -> Iterator[AuditRecord]:
        if unit_id is None:
            yield from list(self._store._audit)
            return
        for seq in list(self._store._by_unit.get(unit_id, ())):
            record = self._record(seq)
            if record is not None:
                yield record

    def claim_units(
        self, *, sweep: str, stages: Collection[str], limit: int, batch: int | None = None
    ) -> list[tuple[Unit, UnitState]]:
        self._writable()
        store = self._store
        claimed: list[tuple[Unit, UnitState]] = []
        for unit_id, state in list(store._states.items()):
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
        store._anchor = Checkpoint(gone[-1].seq, gone[-1].hash)
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
            raise ValidationError(f"unit {unit.id!r}: a unit with this id already exists")
        store._units[unit.id] = unit
        store._states[unit.id] = state

        def undo() -> None:
            del store._units[unit.id]
            del store._states[unit.id]

        self._undo.append(undo)

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        self._writable()
        store = self._store
        old = store._states.get(state.unit_id)
        if old is None or old.version != expected_version:
            raise ConcurrencyConflict(state.unit_id, expected_version=expected_version)
        store._states[state.unit_id] = state
        self._undo.append(lambda: store._states.__setitem__(state.unit_id, old))

    def insert_fact(self, record: FactRecord) -> None:
        self._writable()
        bucket = self._store._facts.setdefault((record.unit_id, record.stage), [])
        bucket.append(record)
        self._undo.append(lambda: _drop_last(bucket))

    def append_audit(self, record: AuditRecord) -> None:
        self._writable()
        store = self._store
        head, head_hash = self.audit_head()
        if record.seq != head + 1 or record.prev_hash != head_hash:
            raise ConcurrencyConflict(
                record.unit_id or "-",
                expected_version=head,
                detail="the audit chain moved on",
            )
        if record.request_id is not None and record.request_id in store._requests:
            raise ConcurrencyConflict(
                record.unit_id or "-",
                expected_version=head,
                detail=f"request_id {record.request_id!r} was used concurrently",
            )
        store._audit.append(record)
        undo_steps: list[Callable[[], None]] = [lambda: _drop_last(store._audit)]
        if record.request_id is not None:
            request_id = record.request_id
            store._requests[request_id] = record.seq
            undo_steps.append(lambda: _forget(store._requests, request_id))
        if record.unit_id is not None:
            seqs = store._by_unit.setdefault(record.unit_id, [])
            seqs.append(record.seq)
            undo_steps.append(lambda: _drop_last(seqs))

        def undo() -> None:
            for step in reversed(undo_steps):
                step()

        self._undo.append(undo)

    def _rollback(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()


def _restore(mapping: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


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
        self._audit: list[AuditRecord] = []
        self._requests: dict[str, int] = {}
        self._by_unit: dict[str, list[int]] = {}
        self._swept: dict[str, str] = {}
        self._anchor: Checkpoint | None = None
        self._exported = 0
        self._closed = False

    def _anchor_seq(self) -> int:
        return self._anchor.seq if self._anchor else 0

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._units)} units, {len(self._audit)} audit records>"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[_Session]:
        """A session holding the store's lock; undone if the block raises."""
        if self._closed:
            raise ValidationError("store: closed")
        with self._lock:
            session = _Session(self, write)
            try:
                yield session
            except BaseException:
                session._rollback()
                raise

    def close(self) -> None:
        """Mark the store closed; its data is dropped with the object."""
        self._closed = True
