"""The audit trail: one record per command, linked into a SHA-256 hash chain.

Each record holds codes and numbers, never rendered text, so the chain is language-neutral.
``hash = SHA-256(prev_hash ‖ canonical JSON of the record without its hash)``; the canonical
encoding is JSON with sorted keys, no spaces, UTF-8 characters kept, dates as ISO text.
Changing, dropping, inserting or reordering any record breaks the chain at that record;
truncating the tail is caught against an exported checkpoint ``(seq, hash)``.
"""

from campaignflow._public import publish
from campaignflow.audit._chain import (
    PURGE_COMMAND,
    AuditVerification,
    Checkpoint,
    record_hash,
    seal,
    seal_row,
    verify_chain,
)
from campaignflow.audit._encode import (
    canonical_json,
    decision_from_data,
    decision_to_data,
    verdict_from_data,
    verdict_to_data,
)
from campaignflow.audit._record import AuditRecord
from campaignflow.audit._replay import replay, replay_versions
from campaignflow.audit._row import AUDIT_ROW_FIELDS, GENESIS_HASH, AuditRow
from campaignflow.audit._signing import (
    SignedCheckpoint,
    read_signed_checkpoint,
    sign_checkpoint,
    verify_signed_checkpoint,
)
from campaignflow.audit._store_check import RowDifference, StoreVerification

__all__ = [
    "AUDIT_ROW_FIELDS",
    "GENESIS_HASH",
    "PURGE_COMMAND",
    "AuditRecord",
    "AuditRow",
    "AuditVerification",
    "Checkpoint",
    "RowDifference",
    "SignedCheckpoint",
    "StoreVerification",
    "canonical_json",
    "decision_from_data",
    "decision_to_data",
    "read_signed_checkpoint",
    "record_hash",
    "replay",
    "replay_versions",
    "seal",
    "seal_row",
    "sign_checkpoint",
    "verdict_from_data",
    "verdict_to_data",
    "verify_chain",
    "verify_signed_checkpoint",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
