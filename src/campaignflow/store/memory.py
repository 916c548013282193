"""The in-memory store: dicts behind a lock, with an undo journal for all-or-nothing commands."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from campaignflow.audit import GENESIS_HASH, AuditRecord
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

    def iter_units(self, batch: int | None = None) -> Iterator[tuple[Unit, UnitState]]:
        units, states = self._store._units, self._store._states
        # A snapshot of the keys: callers may write while iterating.
        for unit_id in list(states):
            state = states[unit_id]
            if batch is None or state.batch == batch:
                yield units[unit_id], state

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        return tuple(self._store._facts.get((unit_id, stage), ()))

    def find_request(self, request_id: str) -> AuditRecord | None:
        seq = self._store._requests.get(request_id)
        return None if seq is None else self._store._audit[seq - 1]

    def audit_head(self) -> tuple[int, str]:
        audit = self._store._audit
        return (len(audit), audit[-1].hash) if audit else (0, GENESIS_HASH)

    def iter_audit(self, unit_id: str | None = None) -> Iterator[AuditRecord]:
        if unit_id is None:
            yield from list(self._store._audit)
            return
        for seq in list(self._store._by_unit.get(unit_id, ())):
            yield self._store._audit[seq - 1]

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
        self._closed = False

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
