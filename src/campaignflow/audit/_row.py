"""An audit record as a store keeps it: one named tuple of columns, hash last.

The bottom of the audit package: the encoder reads these columns by name, the record
converts to and from them, and every store writes and reads them as they are.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["AUDIT_ROW_FIELDS", "GENESIS_HASH", "AuditRow"]

#: The ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64


class AuditRow(NamedTuple):
    """A stored audit record: dates and instants as ISO text, JSON columns as canonical JSON.

    ``actor_roles``, ``payload``, ``decision`` and ``reason`` hold the very text that was
    hashed (``decision`` / ``reason`` are None when the record has none). ``hash`` is empty
    until the row is sealed (see :func:`campaignflow.audit.seal_row`).
    """

    seq: int
    at: str
    on: str
    campaign: str
    command: str
    actor_id: str
    actor_roles: str
    outcome: str
    unit_id: str | None
    source: str | None
    dest: str | None
    version: int | None
    request_id: str | None
    workflow: str
    payload: str
    decision: str | None
    reason: str | None
    prev_hash: str
    hash: str = ""


#: The columns of a stored audit record, in the order a store writes them.
AUDIT_ROW_FIELDS: tuple[str, ...] = AuditRow._fields
