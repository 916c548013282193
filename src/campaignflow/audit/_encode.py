"""The one canonical encoder of an audit body, and verdicts and decisions as data.

The chain's rule: ``hash = SHA-256(prev_hash ‖ canonical JSON of the record without its
hash)``, where canonical JSON is :func:`canonical_json`: sorted keys, no spaces, UTF-8
characters kept, finite numbers only. A store keeps a record as an :class:`AuditRow` whose
JSON columns already hold canonical text, so :func:`row_body` assembles the body from the
row's columns in the body's (sorted) key order instead of encoding the record again; the
property tests hold the two equal for any record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from campaignflow.audit._row import AuditRow
from campaignflow.model import Candidate, Decision, Verdict

__all__ = [
    "canonical_json",
    "decision_from_data",
    "decision_text",
    "decision_to_data",
    "iso_date",
    "iso_instant",
    "roles_json",
    "row_body",
    "row_hash",
    "verdict_from_data",
    "verdict_to_data",
]

# Configured once: json.dumps with options would build an encoder on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(data: Any) -> str:
    """The canonical text of ``data``: sorted keys, no spaces, UTF-8 kept, finite numbers only."""
    return _ENCODER.encode(data)


def _text(value: object) -> str:
    """``canonical_json(value)``, written out directly for the plain types a row holds."""
    if value is None:
        return "null"
    kind = value.__class__
    if kind is int:
        return int.__repr__(value)  # what json writes for an int
    return _ENCODER.encode(value)  # a str is written without setting up the full encoder


def iso_instant(at: datetime) -> str:
    """The text an audit row (and a fact row) stores for an instant."""
    return at.isoformat()


def iso_date(day: date) -> str:
    """The text an audit row (and a state or fact row) stores for a business day."""
    return day.isoformat()


def roles_json(roles: tuple[str, ...]) -> str:
    """The canonical JSON of a record's ``actor_roles``."""
    return _ENCODER.encode(list(roles))


# The body's keys, sorted. ISO dates and instants are digits, '-', ':', '+', 'T' and '.':
# quoted, never escaped.
_BODY = (
    '{"actor_id":%s,"actor_roles":%s,"at":"%s","campaign":%s,"command":%s,"decision":%s,'
    '"dest":%s,"on":"%s","outcome":%s,"payload":%s,"prev_hash":%s,"reason":%s,'
    '"request_id":%s,"seq":%s,"source":%s,"unit_id":%s,"version":%s,"workflow":%s}'
)


def row_body(row: AuditRow) -> str:
    """``canonical_json(record.body())`` of the record stored as ``row`` (its hash unused)."""
    return _BODY % (
        _text(row.actor_id),
        row.actor_roles,  # encoded
        row.at,  # ISO text
        _text(row.campaign),
        _text(row.command),
        "null" if row.decision is None else row.decision,  # encoded
        _text(row.dest),
        row.on,  # ISO text
        _text(row.outcome),
        row.payload,  # encoded
        _text(row.prev_hash),
        "null" if row.reason is None else row.reason,  # encoded
        _text(row.request_id),
        _text(row.seq),
        _text(row.source),
        _text(row.unit_id),
        _text(row.version),
        _text(row.workflow),
    )


def row_hash(row: AuditRow) -> str:
    """``SHA-256(prev_hash ‖ body)`` as hex, of the record stored as ``row``."""
    return hashlib.sha256((row.prev_hash + row_body(row)).encode("utf-8")).hexdigest()


# --- verdicts and decisions as data -------------------------------------------------------


def verdict_to_data(verdict: Verdict) -> dict[str, Any]:
    """A verdict as codes and numbers (no text)."""
    data: dict[str, Any] = {
        "guard": verdict.guard,
        "passed": verdict.passed,
        "code": verdict.code,
        "params": dict(verdict.params),
    }
    if verdict.children:
        data["children"] = [verdict_to_data(c) for c in verdict.children]
    return data


def verdict_from_data(data: Mapping[str, Any]) -> Verdict:
    """The inverse of :func:`verdict_to_data`."""
    return Verdict(
        guard=data["guard"],
        passed=data["passed"],
        code=data["code"],
        params=dict(data["params"]),
        children=tuple(verdict_from_data(c) for c in data.get("children", ())),
    )


def decision_to_data(decision: Decision) -> dict[str, Any]:
    """A decision as codes and numbers, enough to rebuild it with :func:`decision_from_data`."""
    return {
        "trigger": decision.trigger,
        "source": decision.source,
        "target": decision.target,
        "allowed": decision.allowed,
        "judged_on": decision.judged_on.isoformat(),
        "candidates": [
            {
                "dest": c.dest,
                "passed": c.passed,
                "verdicts": [verdict_to_data(v) for v in c.verdicts],
            }
            for c in decision.candidates
        ],
    }


def decision_text(decision: Decision) -> str:
    """``canonical_json(decision_to_data(decision))``: the decision column of an audit row."""
    return _ENCODER.encode(decision_to_data(decision))


def decision_from_data(unit_id: str, data: Mapping[str, Any], workflow: str = "") -> Decision:
    """The decision stored by :func:`decision_to_data`."""
    return Decision(
        unit_id=unit_id,
        trigger=data["trigger"],
        source=data["source"],
        target=data["target"],
        allowed=data["allowed"],
        candidates=tuple(
            Candidate(
                dest=c["dest"],
                passed=c["passed"],
                verdicts=tuple(verdict_from_data(v) for v in c["verdicts"]),
            )
            for c in data["candidates"]
        ),
        judged_on=date.fromisoformat(data["judged_on"]),
        workflow=workflow,
    )
