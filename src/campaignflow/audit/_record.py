"""One audit record: who, what, when, outcome, and the link to the record before.

Each record holds codes and numbers, never rendered text, so the chain is language-neutral.
:meth:`AuditRecord.row` and :meth:`AuditRecord.from_row` convert to and from the stored
:class:`~campaignflow.audit.AuditRow`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import attrs

from campaignflow.audit._encode import canonical_json, roles_json, row_hash
from campaignflow.audit._row import GENESIS_HASH, AuditRow

__all__ = ["AuditRecord", "Outcome"]

Outcome = Literal["ok", "denied", "error"]


@attrs.frozen
class AuditRecord:
    """One command as the audit trail keeps it: who, what, when, outcome, and the chain link.

    ``on`` is the business date the command took effect; ``at`` the UTC instant it was
    written. ``payload`` holds the command's data (the fact, the unit, the batch) and
    ``decision`` the verdicts, both as codes and numbers. ``reason`` says why a denied or
    failed command was refused (``{"code": ..., "params": ...}``).
    """

    seq: int
    at: datetime
    on: date
    campaign: str
    command: str
    actor_id: str
    actor_roles: tuple[str, ...]
    outcome: Outcome
    unit_id: str | None = None
    source: str | None = None
    dest: str | None = None
    version: int | None = None
    request_id: str | None = None
    workflow: str = ""
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    decision: Mapping[str, Any] | None = None
    reason: Mapping[str, Any] | None = None
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def canonical_parts(self) -> tuple[str, str, str | None, str | None]:
        """``actor_roles``, ``payload``, ``decision`` and ``reason`` as canonical JSON.

        What a store writes into its JSON columns, the text that is hashed. ``decision`` /
        ``reason`` are None when the field is.
        """
        row = self.row()
        return row.actor_roles, row.payload, row.decision, row.reason

    def body(self) -> dict[str, Any]:
        """The hashed content: every field but ``hash``, as plain data."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "on": self.on.isoformat(),
            "campaign": self.campaign,
            "command": self.command,
            "actor_id": self.actor_id,
            "actor_roles": list(self.actor_roles),
            "outcome": self.outcome,
            "unit_id": self.unit_id,
            "source": self.source,
            "dest": self.dest,
            "version": self.version,
            "request_id": self.request_id,
            "workflow": self.workflow,
            "payload": self.payload,
            "decision": self.decision,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }

    def to_data(self) -> dict[str, Any]:
        """The whole record, hash included, as JSON-able data (for export and storage)."""
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AuditRecord:
        """A record from :meth:`to_data`'s output (no re-hashing: verify to trust it)."""
        return cls(
            seq=data["seq"],
            at=datetime.fromisoformat(data["at"]),
            on=date.fromisoformat(data["on"]),
            campaign=data["campaign"],
            command=data["command"],
            actor_id=data["actor_id"],
            actor_roles=tuple(data["actor_roles"]),
            outcome=data["outcome"],
            unit_id=data.get("unit_id"),
            source=data.get("source"),
            dest=data.get("dest"),
            version=data.get("version"),
            request_id=data.get("request_id"),
            workflow=data.get("workflow", ""),
            payload=data.get("payload") or {},
            decision=data.get("decision"),
            reason=data.get("reason"),
            prev_hash=data["prev_hash"],
            hash=data["hash"],
        )

    def row(self) -> AuditRow:
        """The record as a store writes it (see :class:`~campaignflow.audit.AuditRow`)."""
        decision, reason = self.decision, self.reason
        return AuditRow(
            seq=self.seq,
            at=self.at.isoformat(),
            on=self.on.isoformat(),
            campaign=self.campaign,
            command=self.command,
            actor_id=self.actor_id,
            actor_roles=roles_json(self.actor_roles),
            outcome=self.outcome,
            unit_id=self.unit_id,
            source=self.source,
            dest=self.dest,
            version=self.version,
            request_id=self.request_id,
            workflow=self.workflow,
            payload=canonical_json(self.payload),
            decision=None if decision is None else canonical_json(decision),
            reason=None if reason is None else canonical_json(reason),
            prev_hash=self.prev_hash,
            hash=self.hash,
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> AuditRecord:
        """The record a :meth:`row` (or a stored row in that order) holds; not re-hashed."""
        stored = row if isinstance(row, AuditRow) else AuditRow._make(row)
        seq, version, decision, reason = stored.seq, stored.version, stored.decision, stored.reason
        if seq.__class__ is not int or not (version is None or version.__class__ is int):
            # A driver that returns its own numbers (a Decimal): the record holds ints.
            stored = stored._replace(
                seq=int(seq), version=None if version is None else int(version)
            )
        return cls.of_row(
            stored,
            at=datetime.fromisoformat(stored.at),
            on=date.fromisoformat(stored.on),
            actor_roles=tuple(json.loads(stored.actor_roles)),
            payload=json.loads(stored.payload) or {},
            decision=None if decision is None else json.loads(decision),
            reason=None if reason is None else json.loads(reason),
        )

    @classmethod
    def of_row(
        cls,
        row: AuditRow,
        *,
        at: datetime,
        on: date,
        actor_roles: tuple[str, ...],
        payload: Mapping[str, Any],
        decision: Mapping[str, Any] | None,
        reason: Mapping[str, Any] | None,
    ) -> AuditRecord:
        """The record of ``row``, given the values its text columns hold; nothing is decoded.

        The row's other columns are taken as they are. :meth:`from_row` decodes the six; a
        command that has just sealed a row passes the values it encoded.
        """
        typed = {
            "at": at,
            "on": on,
            "actor_roles": actor_roles,
            "payload": payload,
            "decision": decision,
            "reason": reason,
        }
        return cls(**{**row._asdict(), **typed})

    def sealed(self) -> AuditRecord:
        """A new record: this one with its ``hash`` computed from its body and ``prev_hash``."""
        return attrs.evolve(self, hash=row_hash(self.row()))

    @classmethod
    def seal(cls, **fields: Any) -> AuditRecord:
        """A new record with its hash computed: the way records are made for appending."""
        return cls(**fields).sealed()
