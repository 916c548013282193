"""What the SQL store keeps besides units and facts: the audit trail's reads and retention,
and the adopted workflow versions.

A mixin of :class:`~campaignflow.store._session.Session`, which appends to the trail (the
chain head is the session's) and provides what is stubbed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from campaignflow._words.records import WorkflowVersion
from campaignflow.audit import AuditRecord, Checkpoint, canonical_json
from campaignflow.errors import CampaignflowError, ConcurrencyConflict
from campaignflow.store._dialect import Failure
from campaignflow.store._queries import AUDIT_COLUMNS, DIRTY_ON, SessionStatements
from campaignflow.store._rows import WorkflowRow, audit_of, workflow_of

__all__ = ["AuditQueries"]


class AuditQueries(SessionStatements):
    """The audit trail and workflow versions of a session's campaign."""

    __slots__ = ()

    _page_size: int

    def find_request(self, request_id: str) -> AuditRecord | None:
        rows = self._rows(
            f"SELECT {AUDIT_COLUMNS} FROM cf_audit WHERE campaign_id = ? AND request_id = ?",
            (self._cid, request_id),
        )
        return next((audit_of(row) for row in rows), None)

    def iter_audit(
        self, unit_id: str | None = None, *, after_seq: int = 0
    ) -> Iterator[AuditRecord]:
        where = "" if unit_id is None else " AND unit_id = ?"
        sql = (
            f"SELECT {AUDIT_COLUMNS} FROM cf_audit WHERE campaign_id = ? AND seq > ?{where} "
            f"ORDER BY seq LIMIT {self._page_size}"
        )
        extra: tuple[Any, ...] = () if unit_id is None else (unit_id,)
        after = after_seq
        while True:
            rows = self._rows(sql, (self._cid, after, *extra))
            for row in rows:
                record = audit_of(row)
                after = record.seq
                yield record
            if len(rows) < self._page_size:
                return

    def audit_anchor(self) -> Checkpoint | None:
        rows = self._rows(
            "SELECT anchor_seq, anchor_hash FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
        )
        for seq, hash_ in rows:
            # No purge leaves (0, NULL); anything else is an anchor, to be confirmed.
            if not seq and hash_ is None:
                return None
            return Checkpoint(seq=int(seq), hash="" if hash_ is None else str(hash_))
        return None

    def exported_through(self) -> int:
        rows = self._rows(
            "SELECT exported_seq FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
        )
        return next((int(seq) for (seq,) in rows), 0)

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
        for seq, hash_ in rows:
            last_seq, last_hash = int(seq), str(hash_)
            gone = self._run(
                "DELETE FROM cf_audit WHERE campaign_id = ? AND seq <= ?", (self._cid, last_seq)
            )
            self._run(
                "UPDATE cf_campaigns SET anchor_seq = ?, anchor_hash = ? WHERE campaign_id = ?",
                (last_seq, last_hash, self._cid),
            )
            return gone
        return 0

    def workflow_versions(self) -> list[WorkflowVersion]:
        rows = self._rows(
            f"SELECT {', '.join(WorkflowRow._fields)} FROM cf_workflows "
            "WHERE campaign_id = ? ORDER BY n",
            (self._cid,),
        )
        return [workflow_of(WorkflowRow._make(row)) for row in rows]

    def add_workflow_version(self, version: WorkflowVersion) -> None:
        def taken(_: BaseException) -> CampaignflowError:
            return ConcurrencyConflict(
                None, expected_version=version.number - 1, detail="another adoption came first"
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
        # Another version may judge any unit now: every one is judged again.
        self._run("UPDATE cf_states SET due_on = ? WHERE campaign_id = ?", (DIRTY_ON, self._cid))
