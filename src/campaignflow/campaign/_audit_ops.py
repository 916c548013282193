"""Operations on a campaign's audit trail: read it, checkpoint and verify it, export and purge it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import IO

from campaignflow._words.checks import refuse, whole_number
from campaignflow._words.records import SYSTEM, Actor
from campaignflow.audit import (
    PURGE_COMMAND,
    AuditRecord,
    AuditVerification,
    Checkpoint,
    canonical_json,
    verify_chain,
)
from campaignflow.campaign._checks import check_stream, check_unit_id, checkpoint_list
from campaignflow.campaign._core import Core
from campaignflow.campaign._records import append
from campaignflow.errors import ValidationError
from campaignflow.store._protocol import StoreSession

__all__ = [
    "RETENTION_DAYS",
    "audit_checkpoint",
    "audit_trail",
    "chain_in",
    "export_audit",
    "purge_audit",
    "verify_audit",
]

# Audit records per read transaction when a caller iterates the trail.
_AUDIT_PAGE = 1000

#: The shortest time audit records are kept before they may be purged (等保 2.0: six months).
RETENTION_DAYS = 180


def audit_trail(core: Core, unit_id: str | None) -> Iterator[AuditRecord]:
    """``Campaign.audit_trail``: the records in seq order, a page per read transaction."""
    if unit_id is not None:
        check_unit_id(unit_id)  # at the call, not at the first record read
    return _pages(core, unit_id)


def _pages(core: Core, unit_id: str | None) -> Iterator[AuditRecord]:
    after = 0
    while True:
        with core.store.transaction(write=False) as tx:
            page = list(itertools.islice(tx.iter_audit(unit_id, after_seq=after), _AUDIT_PAGE))
        yield from page
        if len(page) < _AUDIT_PAGE:
            return
        after = page[-1].seq


def audit_checkpoint(core: Core) -> Checkpoint:
    """``Campaign.audit_checkpoint``: the head of the chain."""
    with core.store.transaction(write=False) as tx:
        seq, head = tx.audit_head()
    return Checkpoint(seq=seq, hash=head)


def verify_audit(core: Core, checkpoints: Sequence[Checkpoint]) -> AuditVerification:
    """``Campaign.verify_audit``: recompute the hash chain (from the purge's anchor)."""
    checkpoints = checkpoint_list(checkpoints)
    with core.store.transaction(write=False) as tx:
        return chain_in(tx, checkpoints, tx.audit_anchor())


def chain_in(
    tx: StoreSession,
    checkpoints: Sequence[Checkpoint],
    anchor: Checkpoint | None,
    seen: Callable[[Iterator[AuditRecord]], Iterator[AuditRecord]] = iter,
) -> AuditVerification:
    """The hash chain of ``tx``'s trail, from ``anchor`` (the purge's) to the stored head,
    against ``checkpoints``; each record passes through ``seen`` on its way (as read)."""
    seq, hash_ = tx.audit_head()
    return verify_chain(
        seen(tx.iter_audit()),
        checkpoints=checkpoints,
        anchor=anchor,
        head=Checkpoint(seq=seq, hash=hash_),
    )


def export_audit(core: Core, stream: IO[str], after_seq: int | None) -> Checkpoint:
    """``Campaign.export_audit``: write records as JSON Lines and mark them exported."""
    check_stream(stream)
    if after_seq is not None:
        whole_number("after_seq", after_seq, minimum=0)
    with core.store.transaction(write=False) as tx:
        start = tx.exported_through() if after_seq is None else after_seq
        seq, hash_ = tx.audit_head()
        head = Checkpoint(seq=seq, hash=hash_)
        last: AuditRecord | None = None
        for record in tx.iter_audit():
            if start < record.seq <= head.seq:
                stream.write(canonical_json(record.to_data()) + "\n")
                last = record
    if last is not None:
        with core.store.transaction() as tx:
            tx.mark_exported(last.seq)
    return head


def purge_audit(core: Core, older_than: date, retention_days: int, actor: Actor = SYSTEM) -> int:
    """``Campaign.purge_audit``: delete exported records older than the retention period."""
    if not isinstance(older_than, date) or isinstance(older_than, datetime):
        refuse("older_than", older_than, "must be a date")
    whole_number("retention_days", retention_days, minimum=0)
    if retention_days < RETENTION_DAYS:
        raise ValidationError(
            code="audit.retention_too_short",
            params={"minimum": RETENTION_DAYS, "retention_days": retention_days},
        )
    today = core.now().date()
    # A retention reaching back past the calendar's first day keeps every record.
    limit = today - timedelta(days=min(retention_days, (today - date.min).days))
    if older_than > limit or retention_days > (today - date.min).days:
        raise ValidationError(
            code="audit.purge_too_recent",
            params={
                "retention_days": retention_days,
                "limit": limit.isoformat(),
                "older_than": older_than.isoformat(),
            },
        )
    with core.store.transaction() as tx:
        exported = tx.exported_through()
        anchor = tx.audit_anchor()
        through, last_hash, units = 0, "", _purged_units(tx.iter_audit(), anchor)
        for record in tx.iter_audit():
            if record.on >= older_than:
                break
            if record.seq > exported:
                raise ValidationError(
                    code="audit.purge_not_exported",
                    params={
                        "seq": record.seq,
                        "on": record.on.isoformat(),
                        "exported": exported,
                    },
                )
            through, last_hash = record.seq, record.hash
            if units is not None and record.command == "add_unit" and record.outcome == "ok":
                units += 1
        if not through:
            return 0
        # The purge is itself a record, appended before the rows go: it names the range
        # and the hash of the last row deleted, which the anchor must match.
        append(
            core,
            tx,
            core.now(),
            PURGE_COMMAND,
            actor,
            "ok",
            payload={
                "from": (anchor.seq if anchor else 0) + 1,
                "through": through,
                "hash": last_hash,
                "units": units,
            },
        )
        return tx.purge_audit(through)


def _purged_units(records: Iterator[AuditRecord], anchor: Checkpoint | None) -> int | None:
    """How many units were added by records purged before: the last purge record says.

    None when the trail was purged by a release that wrote no purge records.
    """
    if anchor is None:
        return 0
    found: int | None = None
    for record in records:
        if record.command == PURGE_COMMAND and record.outcome == "ok":
            units = record.payload.get("units")
            found = units if isinstance(units, int) else None
    return found
