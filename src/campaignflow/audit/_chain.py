"""The hash chain: sealing a record onto it, checkpoints, and verifying it whole.

``hash = SHA-256(prev_hash ‖ canonical JSON of the record without its hash)``. Changing,
dropping, inserting or reordering any record breaks the chain at that record; truncating
the tail is caught against an exported checkpoint ``(seq, hash)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from campaignflow.audit._encode import Encoder, row_hash
from campaignflow.audit._record import AuditRecord
from campaignflow.audit._row import GENESIS_HASH, AuditRow
from campaignflow.errors import AuditTampered
from campaignflow.i18n import messages

__all__ = [
    "PURGE_COMMAND",
    "AuditVerification",
    "Checkpoint",
    "record_hash",
    "seal",
    "seal_row",
    "verify_chain",
]


def seal(record: AuditRecord) -> AuditRecord:
    """A new record: ``record`` with its hash computed (see :meth:`AuditRecord.sealed`)."""
    return record.sealed()


def seal_row(row: AuditRow, *, encoder: Encoder | None = None) -> AuditRow:
    """A new row: ``row`` with its hash computed, exactly as sealing its record would.

    For commands that write many records (a sweep's transitions): the row a store writes,
    sealed without building the record. ``encoder``: the caller's own, to reuse the texts
    it remembers (a fresh one otherwise).
    """
    return row._replace(hash=(encoder or Encoder()).row_hash(row))


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over ``prev_hash`` followed by the canonical body, as hex.

    Always computed from the record's fields, so a verification sees exactly what is stored.
    """
    return row_hash(record.row())


@attrs.frozen
class Checkpoint:
    """A point of the chain exported elsewhere, to catch a truncated or rewritten tail."""

    seq: int
    hash: str


@attrs.frozen
class AuditVerification:
    """The result of verifying a chain; true when it holds.

    ``broken_at`` is the seq of the first wrong record (None when the chain holds, or when
    the problem is a missing tail); ``reason`` says what is wrong, in English;
    ``reason_code`` and ``reason_params`` say it as a catalog code and its data, so
    :meth:`reason_text` (and the :class:`AuditTampered` raised) read in zh_CN too.
    """

    ok: bool
    checked: int
    head: Checkpoint | None = None
    broken_at: int | None = None
    reason: str = ""
    reason_code: str = ""
    reason_params: Mapping[str, Any] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def reason_text(self, locale: str = "zh_CN") -> str:
        """What is wrong, in ``locale`` (empty when the chain holds)."""
        if not self.reason_code:
            return self.reason
        return messages.render(self.reason_code, self.reason_params, locale)

    def raise_if_broken(self) -> None:
        """Raise :class:`AuditTampered` naming the first broken record, if any."""
        if not self.ok:
            raise AuditTampered(
                self.broken_at,
                self.reason,
                reason_code=self.reason_code,
                reason_params=self.reason_params,
            )


def _broken(checked: int, at: int | None, code: str, **params: Any) -> AuditVerification:
    # The English reason is the code's en text, so the two never drift apart.
    reason = messages.render(code, params, "en")
    return AuditVerification(
        ok=False,
        checked=checked,
        head=None,
        broken_at=at,
        reason=reason,
        reason_code=code,
        reason_params=params,
    )


#: The command of the record a purge appends before it deletes: it names what went.
PURGE_COMMAND = "purge"


def verify_chain(
    records: Iterable[AuditRecord],
    *,
    checkpoints: Sequence[Checkpoint] = (),
    anchor: Checkpoint | None = None,
    head: Checkpoint | None = None,
) -> AuditVerification:
    """Check that ``records`` (in seq order) form an unbroken chain matching ``checkpoints``.

    ``anchor``: the last record purged before ``records`` start; the chain must continue
    from it, and the newest purge record of the chain must name it (the seq and hash of
    the last row it deleted). When checkpoints are given, that purge record must lie at or
    before the newest of them: a purge is followed by a new checkpoint, so a purge record
    after every checkpoint could be a forgery that hides deleted records. Checkpoints at or
    before the anchor are not checked (those records are gone by design, into an export),
    except that one at the anchor's seq must carry its hash.
    ``head``: the head pointer the store keeps; it must be the chain's last record.

    Streams the records, keeping only the last one: memory does not grow with the trail.
    """
    points = sorted(checkpoints, key=lambda c: c.seq)
    newest = points[-1].seq if points else None
    if anchor is not None:
        for point in points:
            if point.seq == anchor.seq and point.hash != anchor.hash:
                return _broken(0, point.seq, "audit.anchor_mismatch", seq=point.seq)
        points = [point for point in points if point.seq > anchor.seq]
    expected_seq = anchor.seq + 1 if anchor else 1
    prev = anchor.hash if anchor else GENESIS_HASH
    last: AuditRecord | None = None
    purge: tuple[object, object, int] | None = None  # through, hash, the record's seq
    count = 0
    at = 0  # the next checkpoint to meet
    encoder = Encoder()  # one for the whole chain: the texts records repeat are encoded once
    for record in records:
        count += 1
        if record.seq != expected_seq:
            return _broken(
                count, record.seq, "audit.seq_gap", expected=expected_seq, found=record.seq
            )
        if record.prev_hash != prev:
            return _broken(count, record.seq, "audit.prev_hash_mismatch")
        if encoder.row_hash(record.row()) != record.hash:  # record_hash, as it computes it
            return _broken(count, record.seq, "audit.hash_mismatch")
        while at < len(points) and points[at].seq == record.seq:
            if points[at].hash != record.hash:
                return _broken(count, record.seq, "audit.checkpoint_mismatch", seq=record.seq)
            at += 1
        if record.command == PURGE_COMMAND and record.outcome == "ok":
            purge = (record.payload.get("through"), record.payload.get("hash"), record.seq)
        prev = record.hash
        expected_seq += 1
        last = record
    if at < len(points):
        return _broken(count, None, "audit.truncated", seq=points[at].seq, last=expected_seq - 1)
    if anchor is not None:
        if purge is None or purge[:2] != (anchor.seq, anchor.hash):
            return _broken(count, anchor.seq, "audit.anchor_unconfirmed", seq=anchor.seq)
        if newest is not None and purge[2] > newest:
            return _broken(
                count, purge[2], "audit.anchor_after_checkpoints", seq=purge[2], newest=newest
            )
    tip = Checkpoint(seq=last.seq, hash=last.hash) if last else anchor
    if head is not None and head != (tip or Checkpoint(seq=0, hash=GENESIS_HASH)):
        found = tip.seq if tip else 0
        return _broken(count, None, "audit.head_mismatch", stored=head.seq, found=found)
    return AuditVerification(
        ok=True, checked=count, head=Checkpoint(seq=last.seq, hash=last.hash) if last else None
    )
