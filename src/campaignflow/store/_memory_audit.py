"""The memory store's audit log: sealed rows kept compact, records built only when read.

A row is kept as a plain tuple of its columns (:data:`Kept`): its ``hash`` as the 32 bytes
of the digest, no ``prev_hash`` (it is the hash of the row before, or the anchor's), and the
columns that repeat from row to row (day, campaign, command, roles, outcome, workflow, source,
dest: :data:`Context`) in one tuple that rows share. Tuples of strings, numbers and bytes are
not tracked by the cyclic garbage collector, and repeated texts (instants, actors, payloads,
decisions) and contexts are shared through bounded memos, so a sweep's row costs about 230
bytes instead of a record's graph of objects.

Per-unit trails are a chain of seqs, not a list per unit: ``last[unit]`` is the seq of the
unit's newest row and ``prev[i]`` the seq of the row before row ``i`` of the same unit (0 for
none). Undoing appends walks the appended rows back, so appending needs no undo entry each.

``rows`` may also hold an :class:`AuditRecord` or an :class:`AuditRow` as it is (a row whose
hash is not plain lower-case hex; tests that tamper with the log put records there).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from campaignflow.audit import GENESIS_HASH, AuditRecord, AuditRow, Checkpoint

__all__ = ["AuditLog", "Kept"]

_T = TypeVar("_T")

#: A kept row: ``(seq, at, actor_id, context, unit_id, version, request_id, payload,
#: decision, reason, digest)``; AuditRow's columns without ``prev_hash``, ``hash`` as bytes.
Kept = tuple[Any, ...]
#: The columns rows share: ``(on, campaign, command, actor_roles, outcome, workflow, source,
#: dest)``.
Context = tuple[str | None, ...]

# Distinct texts the memo holds before it starts over: far more than a campaign repeats.
_TEXTS_KEPT = 8192


class AuditLog:
    """The rows of one memory store's audit trail, their per-unit chains and request ids."""

    __slots__ = ("_contexts", "_head", "_texts", "anchor", "last", "prev", "requests", "rows")

    def __init__(self) -> None:
        self.rows: list[Kept | AuditRecord | AuditRow] = []
        self.prev = array("q")  # seq of the same unit's previous row, per row (0: none)
        self.last: dict[str, int] = {}  # unit id -> seq of its newest row
        self.requests: dict[str, int] = {}  # request id -> seq
        self.anchor: Checkpoint | None = None
        self._texts: dict[str, str] = {}
        self._contexts: dict[Context, Context] = {}
        # The newest kept row with its (seq, hash): read before every append.
        self._head: tuple[object, tuple[int, str]] = (None, (0, GENESIS_HASH))

    # --- reading -----------------------------------------------------------------------

    def anchor_seq(self) -> int:
        """The seq of the last purged record (0: none purged)."""
        return self.anchor.seq if self.anchor else 0

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the newest row, else of the anchor, else of the genesis."""
        if self.rows:
            newest = self.rows[-1]
            kept, head = self._head
            if kept is not newest:
                seq, _, _ = _keys(newest)
                head = (seq, _hash_of(newest))
                self._head = (newest, head)
            return head
        anchor = self.anchor
        return (anchor.seq, anchor.hash) if anchor else (0, GENESIS_HASH)

    def row(self, index: int) -> AuditRow:
        """The row at ``index`` of the kept log, as it was sealed."""
        return _as_row(self.rows[index], self._prev_hash(index))

    def record(self, index: int) -> AuditRecord:
        """The record at ``index``, built from its row (not kept: the row stays the copy)."""
        kept = self.rows[index]
        return kept if isinstance(kept, AuditRecord) else AuditRecord.from_row(self.row(index))

    def rows_from(self, start: int) -> Iterator[AuditRow]:
        """The rows from ``start`` on, as kept now: later writes do not change what it yields."""
        rows = self.rows[start:]
        return _rows_of(rows, self._prev_hash(start) if rows else GENESIS_HASH)

    def records_from(self, start: int) -> Iterator[AuditRecord]:
        """The records from ``start`` on, as kept now, each built as it is read."""
        rows = self.rows[start:]
        return _records_of(rows, self._prev_hash(start) if rows else GENESIS_HASH)

    def index_of(self, seq: int) -> int | None:
        """Where the row ``seq`` is kept, or None when it is purged or not yet written."""
        index = seq - self.anchor_seq() - 1
        return index if 0 <= index < len(self.rows) else None

    def unit_seqs(self, unit_id: str, after_seq: int) -> list[int]:
        """The seqs of the unit's kept rows after ``after_seq``, oldest first."""
        floor = max(after_seq, self.anchor_seq())
        prev, anchor_seq = self.prev, self.anchor_seq()
        seqs: list[int] = []
        seq = self.last.get(unit_id, 0)
        while seq > floor:
            seqs.append(seq)
            seq = prev[seq - anchor_seq - 1]
        seqs.reverse()
        return seqs

    def _prev_hash(self, index: int) -> str:
        if index > 0:
            return _hash_of(self.rows[index - 1])
        anchor = self.anchor
        return anchor.hash if anchor else GENESIS_HASH

    # --- writing -----------------------------------------------------------------------

    def append(self, row: AuditRow) -> None:
        """Keep ``row`` (whose seq and prev_hash the caller checked against the head)."""
        seq, unit_id, request_id = row.seq, row.unit_id, row.request_id
        if unit_id is None:
            self.prev.append(0)
        else:
            self.prev.append(self.last.get(unit_id, 0))
            self.last[unit_id] = seq
        if request_id is not None:
            self.requests[request_id] = seq
        kept = self._compact(row)
        self.rows.append(kept)
        self._head = (kept, (seq, row.hash))

    def truncate(self, length: int) -> None:
        """Undo the appends after the first ``length`` rows, newest first."""
        rows, prev, last, requests = self.rows, self.prev, self.last, self.requests
        for index in range(len(rows) - 1, length - 1, -1):
            _, unit_id, request_id = _keys(rows[index])
            if unit_id is not None:
                before = prev[index]
                if before:
                    last[unit_id] = before
                else:
                    last.pop(unit_id, None)
            if request_id is not None:
                requests.pop(request_id, None)
        del rows[length:]
        del prev[length:]

    def purge(self, through_seq: int) -> tuple[int, Callable[[], None] | None]:
        """Drop the rows up to ``through_seq``; how many, and how to undo it (None: none)."""
        rows = self.rows
        count = 0
        while count < len(rows) and _keys(rows[count])[0] <= through_seq:
            count += 1
        if not count:
            return 0, None
        gone, gone_prev, old_anchor = rows[:count], self.prev[:count], self.anchor
        seq, _, _ = _keys(gone[-1])
        forgotten: dict[str, int] = {}
        for kept in gone:
            _, _, request_id = _keys(kept)
            if request_id is not None and request_id in self.requests:
                forgotten[request_id] = self.requests.pop(request_id)
        self.anchor = Checkpoint(seq=seq, hash=_hash_of(gone[-1]))
        del rows[:count]
        del self.prev[:count]

        def undo() -> None:
            rows[0:0] = gone
            self.prev[0:0] = gone_prev
            self.anchor = old_anchor
            self.requests.update(forgotten)

        return count, undo

    def _compact(self, row: AuditRow) -> Kept | AuditRow:
        digest_text = row.hash
        try:
            digest = bytes.fromhex(digest_text)
        except ValueError:
            return row
        if digest.hex() != digest_text:  # not the canonical form: keep the row as it is
            return row
        text = self._text
        decision, reason = row.decision, row.reason
        context: Context = (
            row.on,
            row.campaign,
            row.command,
            row.actor_roles,
            row.outcome,
            row.workflow,
            row.source,
            row.dest,
        )
        shared = _kept(self._contexts, context)
        return (
            row.seq,
            text(row.at),
            text(row.actor_id),
            shared,
            row.unit_id,
            row.version,
            row.request_id,
            text(row.payload),
            decision if decision is None else text(decision),
            reason if reason is None else text(reason),
            digest,
        )

    def _text(self, value: str) -> str:
        """``value``, or the equal text kept before: a campaign's rows repeat most texts."""
        return _kept(self._texts, value)


def _as_row(kept: Kept | AuditRecord | AuditRow, prev_hash: str) -> AuditRow:
    """The sealed row ``kept`` holds; ``prev_hash``: the hash of the row before it."""
    if isinstance(kept, AuditRecord):
        return kept.row()
    if isinstance(kept, AuditRow):
        return kept
    seq, at, actor_id, context, unit_id, version, request_id, payload, decision, reason, digest = (
        kept
    )
    on, campaign, command, actor_roles, outcome, workflow, source, dest = context
    return AuditRow(
        seq=seq,
        at=at,
        on=on,
        campaign=campaign,
        command=command,
        actor_id=actor_id,
        actor_roles=actor_roles,
        outcome=outcome,
        unit_id=unit_id,
        source=source,
        dest=dest,
        version=version,
        request_id=request_id,
        workflow=workflow,
        payload=payload,
        decision=decision,
        reason=reason,
        prev_hash=prev_hash,
        hash=digest.hex(),
    )


def _rows_of(rows: list[Kept | AuditRecord | AuditRow], prev_hash: str) -> Iterator[AuditRow]:
    for kept in rows:
        row = _as_row(kept, prev_hash)
        prev_hash = row.hash
        yield row


def _records_of(rows: list[Kept | AuditRecord | AuditRow], prev_hash: str) -> Iterator[AuditRecord]:
    for kept in rows:
        if isinstance(kept, AuditRecord):
            prev_hash = kept.hash
            yield kept
        else:
            row = _as_row(kept, prev_hash)
            prev_hash = row.hash
            yield AuditRecord.from_row(row)


def _keys(kept: Kept | AuditRecord | AuditRow) -> tuple[int, str | None, str | None]:
    """``(seq, unit_id, request_id)`` of a kept row."""
    if isinstance(kept, (AuditRecord, AuditRow)):
        return kept.seq, kept.unit_id, kept.request_id
    seq, _, _, _, unit_id, _, request_id, _, _, _, _ = kept
    return seq, unit_id, request_id


def _hash_of(kept: Kept | AuditRecord | AuditRow) -> str:
    if isinstance(kept, (AuditRecord, AuditRow)):
        return kept.hash
    *_, digest = kept
    return str(digest.hex())


def _kept(kept: dict[_T, _T], value: _T) -> _T:
    """``value``, or the equal one ``kept`` holds (at most ``_TEXTS_KEPT``, then started anew)."""
    found = kept.get(value)
    if found is None:
        if len(kept) >= _TEXTS_KEPT:
            kept.clear()
        found = kept[value] = value
    return found
