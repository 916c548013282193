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
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from campaignflow._words.verdicts import Candidate, Decision, Verdict
from campaignflow.audit._row import AuditRow

__all__ = [
    "Encoder",
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


def iso_instant(at: datetime) -> str:
    """The text an audit row (and a fact row) stores for an instant."""
    return at.isoformat()


def iso_date(day: date) -> str:
    """The text an audit row (and a state or fact row) stores for a business day."""
    return day.isoformat()


def roles_json(roles: tuple[str, ...]) -> str:
    """The canonical JSON of a record's ``actor_roles``."""
    if all(role.__class__ is str for role in roles):  # each name as JSON writes it in a list
        return "[" + ",".join([_ENCODER.encode(role) for role in roles]) + "]"
    return _ENCODER.encode(list(roles))


# The body's keys, sorted. ISO dates and instants are digits, '-', ':', '+', 'T' and '.':
# quoted, never escaped.
_BODY = (
    '{"actor_id":%s,"actor_roles":%s,"at":"%s","campaign":%s,"command":%s,"decision":%s,'
    '"dest":%s,"on":"%s","outcome":%s,"payload":%s,"prev_hash":%s,"reason":%s,'
    '"request_id":%s,"seq":%s,"source":%s,"unit_id":%s,"version":%s,"workflow":%s}'
)
# Decision data's keys are fixed too: written out in their sorted order.
_DECISION = '{"allowed":%s,"candidates":[%s],"judged_on":"%s","source":%s,"target":%s,"trigger":%s}'
_CANDIDATE = '{"dest":%s,"passed":%s,"verdicts":[%s]}'
_VERDICT = '{"code":%s,"guard":%s,"params":%s,"passed":%s}'
_VERDICT_WITH_CHILDREN = '{"children":[%s],"code":%s,"guard":%s,"params":%s,"passed":%s}'

# Texts an Encoder remembers before it starts over: far more than a campaign's distinct
# stage ids, actors and verdicts, few enough to stay small.
_KEPT = 4096


class Encoder:
    """Writes audit rows' bodies and decisions as :func:`canonical_json` would, remembering
    the texts that recur from record to record.

    A campaign's records repeat a handful of strings (stage ids, commands, actors, the
    workflow ref) and of leaf verdicts: its owner (a :class:`~campaignflow.Campaign` holds
    one for its sweeps) keeps one Encoder, and each is encoded once. Only plain ``str``
    values, and leaf verdicts of plain str, bool and int values, are remembered, so no value
    ever stands in for an equal one of another type (``1``, ``1.0``, ``True``). Each memo
    starts over when full. The module's functions use a fresh Encoder per call.
    """

    __slots__ = ("_days", "_last_hash", "_texts", "_verdicts")

    def __init__(self) -> None:
        # Only str keys are stored, so looking up any other value (None, 1, True) misses.
        self._texts: dict[object, str] = {}
        self._verdicts: dict[tuple[Any, ...], str] = {}
        # Days as ISO text (``date.isoformat`` costs more than the rest of a decision's
        # text): plain dates only, so a datetime never stands in for its day.
        self._days: dict[date, str] = {}
        # The last hash this encoder computed: the next record's prev_hash, in a chain
        # sealed in order. Hex digits, so its JSON is the text in quotes.
        self._last_hash = ""

    def text(self, value: object) -> str:
        """``canonical_json(value)`` of a value a row or decision holds."""
        if value is None:
            return "null"
        kind = value.__class__
        if kind is str:
            text = self._texts.get(value)
            return _keep(self._texts, value, _ENCODER.encode(value)) if text is None else text
        if kind is int:
            return int.__repr__(value)  # what json writes for an int
        if kind is float and math.isfinite(value):  # type: ignore[arg-type]
            return float.__repr__(value)  # what json writes for a finite float
        if value is True:
            return "true"
        if value is False:
            return "false"
        return _ENCODER.encode(value)

    def roles_text(self, roles: tuple[str, ...]) -> str:
        """``roles_json(roles)``: the ``actor_roles`` column, each role's text remembered."""
        text = self.text
        return "[" + ",".join([text(role) for role in roles]) + "]"

    def params_text(self, params: Mapping[str, Any]) -> str:
        """``canonical_json(dict(params))``: each value written by :meth:`text`.

        Keys that are not all ``str`` (JSON writes ``1`` and ``True`` as ``"1"`` and
        ``"true"``, and cannot sort them among strings) go to the encoder as they are.
        """
        data = params if params.__class__ is dict else dict(params)
        if not all(key.__class__ is str for key in data):
            return _ENCODER.encode(data)
        text = self.text
        return "{" + ",".join([text(key) + ":" + text(data[key]) for key in sorted(data)]) + "}"

    def row_body(self, row: AuditRow) -> str:
        """``canonical_json(record.body())`` of the record stored as ``row`` (hash unused).

        The columns a campaign's records share (actor, command, stages, workflow) are looked
        up first; the record's own (seq, unit, version, request, prev_hash) never recur
        within a sweep and go straight to the encoder (a str or an int is written without
        its set-up), so they do not crowd the memo.
        """
        known, text, encode = self._texts.get, self.text, _ENCODER.encode
        seq, version, request_id, prev = row.seq, row.version, row.request_id, row.prev_hash
        return _BODY % (
            known(row.actor_id) or text(row.actor_id),
            row.actor_roles,  # encoded
            row.at,  # ISO text
            known(row.campaign) or text(row.campaign),
            known(row.command) or text(row.command),
            "null" if row.decision is None else row.decision,  # encoded
            known(row.dest) or text(row.dest),
            row.on,  # ISO text
            known(row.outcome) or text(row.outcome),
            row.payload,  # encoded
            f'"{prev}"' if prev is self._last_hash else encode(prev),
            "null" if row.reason is None else row.reason,  # encoded
            "null" if request_id is None else encode(request_id),
            int.__repr__(seq) if seq.__class__ is int else encode(seq),
            known(row.source) or text(row.source),
            encode(row.unit_id),
            int.__repr__(version) if version.__class__ is int else encode(version),
            known(row.workflow) or text(row.workflow),
        )

    def row_hash(self, row: AuditRow) -> str:
        """``SHA-256(prev_hash ‖ body)`` as hex, of the record stored as ``row``."""
        body = self.row_body(row)
        digest = self._last_hash = hashlib.sha256((row.prev_hash + body).encode()).hexdigest()
        return digest

    def day_text(self, day: date) -> str:
        """``day.isoformat()``, remembered for plain dates."""
        if day.__class__ is not date:
            return day.isoformat()
        text = self._days.get(day)
        return _keep(self._days, day, day.isoformat()) if text is None else text

    def decision_text(self, decision: Decision) -> str:
        """``canonical_json(decision_to_data(decision))``: the decision column of a row."""
        known, text = self._texts.get, self.text
        candidates = decision.candidates
        if len(candidates) == 1:  # nearly every decision
            candidates_text = self._candidate_text(candidates[0])
        else:
            candidates_text = ",".join([self._candidate_text(c) for c in candidates])
        return _DECISION % (
            "true" if decision.allowed is True else text(decision.allowed),
            candidates_text,
            self.day_text(decision.judged_on),
            known(decision.source) or text(decision.source),
            known(decision.target) or text(decision.target),
            known(decision.trigger) or text(decision.trigger),
        )

    def _candidate_text(self, candidate: Candidate) -> str:
        verdicts = candidate.verdicts
        return _CANDIDATE % (
            self._texts.get(candidate.dest) or self.text(candidate.dest),
            "true" if candidate.passed is True else self.text(candidate.passed),
            self._verdict_text(verdicts[0])
            if len(verdicts) == 1
            else ",".join([self._verdict_text(v) for v in verdicts]),
        )

    def _verdict_text(self, verdict: Verdict) -> str:
        key = _verdict_key(verdict)
        if key is None:
            return self._encoded_verdict(verdict)
        text = self._verdicts.get(key)
        return _keep(self._verdicts, key, self._encoded_verdict(verdict)) if text is None else text

    def _encoded_verdict(self, verdict: Verdict) -> str:
        fields = (
            self.text(verdict.code),
            self.text(verdict.guard),
            self.params_text(verdict.params),
            self.text(verdict.passed),
        )
        if verdict.children:
            children = ",".join([self._verdict_text(c) for c in verdict.children])
            return _VERDICT_WITH_CHILDREN % (children, *fields)
        return _VERDICT % fields


def _keep(memo: dict[Any, str], key: object, text: str) -> str:
    """Remember ``text`` under ``key`` (``memo`` starts over when full) and return it."""
    if len(memo) >= _KEPT:
        memo.clear()
    memo[key] = text
    return text


def _verdict_key(verdict: Verdict) -> tuple[Any, ...] | None:
    """A leaf verdict's memo key, or None unless its values are plain str, bool and numbers.

    Equal keys must have one text: a param is keyed ``(name, value)`` when the value is a
    plain str or int (never a bool or a float, which are equal to ints), ``(name, float,
    value)`` for a float (by its repr when zero: ``0.0`` and ``-0.0`` are equal but written
    apart; a non-finite float is never written, so never remembered), and ``(name, items)``
    for a list or tuple of plain str (JSON writes both as one array).
    """
    guard, code, passed, params = verdict.guard, verdict.code, verdict.passed, verdict.params
    if (
        verdict.children
        or params.__class__ is not dict
        or guard.__class__ is not str
        or code.__class__ is not str
        or passed.__class__ is not bool
    ):
        return None
    key: list[Any] = [guard, code, passed]
    for name, value in params.items():
        kind = value.__class__
        if name.__class__ is not str:
            return None
        if kind is int or kind is str:
            key.append((name, value))
        elif kind is float:
            key.append((name, float, value if value else float.__repr__(value)))
        elif kind is list or kind is tuple:
            items = tuple(value)
            # The classes of the items, checked in one pass of C: plain str only.
            if items and not _PLAIN_STR.issuperset(map(type, items)):
                return None
            key.append((name, items))
        else:
            return None
    return tuple(key)


_PLAIN_STR = frozenset({str})


def row_body(row: AuditRow) -> str:
    """``canonical_json(record.body())`` of the record stored as ``row`` (its hash unused)."""
    return Encoder().row_body(row)


def row_hash(row: AuditRow) -> str:
    """``SHA-256(prev_hash ‖ body)`` as hex, of the record stored as ``row``."""
    return Encoder().row_hash(row)


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
    return Encoder().decision_text(decision)


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
