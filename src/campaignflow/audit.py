"""The audit trail: one record per command, linked into a SHA-256 hash chain.

Each record holds codes and numbers, never rendered text, so the chain is language-neutral.
``hash = SHA-256(prev_hash ‖ canonical JSON of the record without its hash)``; the canonical
encoding is JSON with sorted keys, no spaces, UTF-8 characters kept, dates as ISO text.
Changing, dropping, inserting or reordering any record breaks the chain at that record;
truncating the tail is caught against an exported checkpoint ``(seq, hash)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from json.encoder import encode_basestring as _json_string
from typing import Any, Literal, cast

import attrs

from campaignflow._memo import remember
from campaignflow.errors import AuditTampered
from campaignflow.i18n import messages
from campaignflow.model import Candidate, Decision, Verdict

__all__ = [
    "AUDIT_ROW_FIELDS",
    "GENESIS_HASH",
    "AuditRecord",
    "AuditRow",
    "AuditVerification",
    "Checkpoint",
    "canonical_json",
    "decision_from_data",
    "decision_to_data",
    "record_hash",
    "verdict_from_data",
    "verdict_to_data",
    "verify_chain",
]

#: The ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64

Outcome = Literal["ok", "denied", "error"]

#: The columns of a stored audit record, in the order of :meth:`AuditRecord.row`.
AUDIT_ROW_FIELDS = (
    "seq",
    "at",
    "on",
    "campaign",
    "command",
    "actor_id",
    "actor_roles",
    "outcome",
    "unit_id",
    "source",
    "dest",
    "version",
    "request_id",
    "workflow",
    "payload",
    "decision",
    "reason",
    "prev_hash",
    "hash",
)
#: A record as :data:`AUDIT_ROW_FIELDS` (see :meth:`AuditRecord.row`).
AuditRow = tuple[Any, ...]


class _KeepsStoredFields:
    """A slot outside the attrs fields for the stored form a record was sealed from.

    Kept from sealing so a store writes the very text that was hashed without encoding it
    again. Not a field: not part of equality, ``attrs.fields`` or ``evolve`` (an evolved
    or loaded record starts without it), and never trusted by verification.
    """

    __slots__ = ("_stored",)


@attrs.frozen
class AuditRecord(_KeepsStoredFields):
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

        What a store writes into its JSON columns; computed once per record (sealing keeps
        them), so the text stored is the text hashed. ``decision`` / ``reason`` are None
        when the field is.
        """
        fields = self._stored_fields()
        return fields[6], fields[14], fields[15], fields[16]

    def _stored_fields(self) -> tuple[Any, ...]:
        """:meth:`row` without the hash, computed once per record (sealing keeps it)."""
        fields: tuple[Any, ...] | None = getattr(self, "_stored", None)
        if fields is None:
            fields = _stored_fields(self)
            object.__setattr__(self, "_stored", fields)
        return fields

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
        """The record as a store writes it: :data:`AUDIT_ROW_FIELDS`, in that order.

        Dates and instants as ISO text, ``actor_roles``, ``payload``, ``decision`` and
        ``reason`` as their canonical JSON (the text that was hashed; None when absent).
        """
        return (*self._stored_fields(), self.hash)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> AuditRecord:
        """The record a :meth:`row` (or a stored row in that order) holds; not re-hashed."""
        return cls(
            seq=int(row[0]),
            at=datetime.fromisoformat(row[1]),
            on=date.fromisoformat(row[2]),
            campaign=row[3],
            command=row[4],
            actor_id=row[5],
            actor_roles=tuple(json.loads(row[6])),
            outcome=row[7],
            unit_id=row[8],
            source=row[9],
            dest=row[10],
            version=None if row[11] is None else int(row[11]),
            request_id=row[12],
            workflow=row[13],
            payload=json.loads(row[14]) or {},
            decision=None if row[15] is None else json.loads(row[15]),
            reason=None if row[16] is None else json.loads(row[16]),
            prev_hash=row[17],
            hash=row[18],
        )

    def sealed(self) -> AuditRecord:
        """This record with its ``hash`` computed from its body and ``prev_hash``."""
        return attrs.evolve(self, hash=record_hash(self))

    @classmethod
    def seal(cls, **fields: Any) -> AuditRecord:
        """A new record with its hash computed: the way records are made for appending."""
        return seal_fresh(cls(**fields))


def _refuse(value: object) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# json's C encoder, made once: json.dumps with options builds a JSONEncoder and a C encoder
# on every call, which costs as much as encoding a small record. Same options, same text.
# Cycles are not tracked (records are trees); one ends as RecursionError, reported as
# json.dumps reports it.
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ENCODE_PARTS: Any = (
    None
    if _C_ENCODER is None
    else _C_ENCODER(None, _refuse, _json_string, None, ":", ",", True, False, False)
)
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def seal_fresh(record: AuditRecord) -> AuditRecord:
    """``record`` (just built, not yet shared) with its hash set in place; returns it.

    Frozen records are built once: the hash goes on the fresh instance instead of a second
    one made by evolve (this is on every command's path). Use :meth:`AuditRecord.seal`
    unless you hold the only reference. The stored form hashed is kept for the store.
    """
    object.__setattr__(record, "hash", _fields_hash(record._stored_fields()))
    return record


def canonical_json(data: Any) -> str:
    """The canonical text of ``data``: sorted keys, no spaces, UTF-8 kept, finite numbers only."""
    if _ENCODE_PARTS is None:  # an interpreter without json's C accelerator
        return _ENCODE(data)
    try:
        return "".join(_ENCODE_PARTS(data, 0))
    except RecursionError:
        raise ValueError("Circular reference detected") from None


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over ``prev_hash`` followed by the canonical body, as hex.

    Always computed from the record's fields (never from text kept at sealing), so a
    verification sees exactly what is stored.
    """
    return _fields_hash(_stored_fields(record))


def _fields_hash(fields: Sequence[Any]) -> str:
    """The hash of the record whose stored row, without the hash, is ``fields``."""
    return _chain_hash(fields[17], _row_body(fields))


def _chain_hash(prev_hash: str, body: str) -> str:
    """``SHA-256(prev_hash ‖ body)`` as hex: the link every record makes to the one before."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def seal_row(fields: Sequence[Any]) -> AuditRow:
    """A record's stored row, sealed: ``fields`` (every column of :data:`AUDIT_ROW_FIELDS`
    but ``hash``, as stored) followed by the hash.

    For commands that write many records (a sweep's transitions): the row a store writes,
    hashed exactly as :func:`seal_fresh` hashes the record :meth:`AuditRecord.from_row`
    makes of it, without building the record.
    """
    return (*fields, _fields_hash(fields))


# The canonical text of the actor role tuples seen lately: every command has one, and a
# campaign has a handful. Only tuples of plain strings are stored.
_ROLES_TEXT: dict[tuple[str, ...], str] = {}


def roles_json(roles: tuple[str, ...]) -> str:
    """The canonical JSON of a record's ``actor_roles``."""
    text = _ROLES_TEXT.get(roles) if roles.__class__ is tuple else None
    return _roles_text(roles) if text is None else text


def _roles_text(roles: tuple[str, ...]) -> str:
    if not all(r.__class__ is str for r in roles):
        return canonical_json(list(roles))
    # Nearly always a few plain names: joined without the encoder.
    text = "[" + ",".join([_json_string(r) for r in roles]) + "]"
    return text if roles.__class__ is not tuple else remember(_ROLES_TEXT, roles, text)


def _scalar(value: object) -> str:
    """``canonical_json(value)``, without the encoder's set-up for the common plain types."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = value.__class__
    if kind is str:
        return _json_string(cast(str, value))
    if kind is int:
        return int.__repr__(cast(int, value))
    return canonical_json(value)


# The canonical text of strings seen lately. The same few values (stage ids, commands, actor
# ids, the campaign, the workflow ref) recur in every record, and a dict lookup costs a
# fraction of a call to _scalar. Only str keys are ever stored, so looking up any other value
# (None, a number, a bool) misses and goes to _scalar: True == 1 can never alias a string.
_TEXT_OF: dict[object, str] = {}


def _text(value: object) -> str:
    """``_scalar(value)``, remembered in ``_TEXT_OF`` when ``value`` is a string."""
    text = _scalar(value)
    return remember(_TEXT_OF, value, text) if value.__class__ is str else text


# The ISO text of the last instant written: a sweep seals hundreds of records with the very
# same ``at`` object, and the store writes it again into its rows. Matched by identity, never
# by equality: equal aware datetimes in different zones have different texts. One tuple, so
# threads swap it whole.
_LAST_AT: tuple[object, str] = (None, "")


def iso_instant(at: datetime) -> str:
    """``at.isoformat()``, remembered for the last instant asked about (records and rows)."""
    global _LAST_AT
    last, text = _LAST_AT
    if last is not at:
        text = at.isoformat()
        _LAST_AT = (at, text)
    return text


# The ISO text of the plain dates seen lately: a campaign's records and states carry a few
# hundred business days. Keyed by value, which is safe for plain dates only (equal dates,
# one text); a subclass such as datetime is never stored or looked up.
_DATE_TEXT: dict[date, str] = {}


def iso_date(value: date) -> str:
    """``value.isoformat()``, remembered for plain ``date`` values."""
    if value.__class__ is not date:
        return value.isoformat()
    text = _DATE_TEXT.get(value)
    return remember(_DATE_TEXT, value, value.isoformat()) if text is None else text


# ISO dates and instants are digits, '-', ':', '+', 'T' and '.': quoted, never escaped.
_BODY = (
    '{"actor_id":%s,"actor_roles":%s,"at":"%s","campaign":%s,"command":%s,"decision":%s,'
    '"dest":%s,"on":"%s","outcome":%s,"payload":%s,"prev_hash":%s,"reason":%s,'
    '"request_id":%s,"seq":%s,"source":%s,"unit_id":%s,"version":%s,"workflow":%s}'
)


def _stored_fields(record: AuditRecord) -> tuple[Any, ...]:
    """The record's row without its hash (see :meth:`AuditRecord.row`), from its fields."""
    return (
        record.seq,
        iso_instant(record.at),
        iso_date(record.on),
        record.campaign,
        record.command,
        record.actor_id,
        roles_json(record.actor_roles),
        record.outcome,
        record.unit_id,
        record.source,
        record.dest,
        record.version,
        record.request_id,
        record.workflow,
        canonical_json(record.payload),
        None if record.decision is None else canonical_json(record.decision),
        None if record.reason is None else canonical_json(record.reason),
        record.prev_hash,
    )


def _row_body(fields: Sequence[Any]) -> str:
    """``canonical_json(record.body())`` of the record whose stored row, without the hash,
    is ``fields``: assembled from its already-encoded parts.

    The body's keys are fixed, so their sorted order is written out here; the property
    tests hold this equal to the generic encoder on arbitrary records.
    """
    return _BODY % _body_parts(fields)


def _body_parts(fields: Sequence[Any]) -> tuple[str, ...]:
    """The texts of ``_BODY``'s parts, in its (sorted) order, for the row ``fields``."""
    known = _TEXT_OF.get
    (
        _, at, on, campaign, command, actor_id, roles, outcome, _, source, dest,
        _, request_id, workflow, payload, _, reason, _,
    ) = fields  # fmt: skip
    decision_text, prev_text, seq_text, unit_text, version_text = _own_parts(fields)
    return (
        known(actor_id) or _text(actor_id),
        roles,  # encoded
        at,  # ISO text
        known(campaign) or _text(campaign),
        known(command) or _text(command),
        decision_text,
        known(dest) or _text(dest),
        on,  # ISO text
        known(outcome) or _text(outcome),
        payload,  # encoded
        prev_text,
        "null" if reason is None else reason,  # encoded
        "null" if request_id is None else _scalar(request_id),
        seq_text,
        known(source) or _text(source),
        unit_text,
        version_text,
        known(workflow) or _text(workflow),
    )


# Where the record's own parts (see _own_parts) go among _BODY's, in its order.
_OWN_SLOTS = (5, 10, 13, 15, 16)


def _own_parts(fields: Sequence[Any]) -> tuple[str, str, str, str, str]:
    """The body texts of a record's own fields: its decision, prev_hash, seq, unit_id and
    version, the ones a sweep's records do not share (see :func:`body_template`)."""
    seq, unit_id, version, decision, prev_hash = (
        fields[0],
        fields[8],
        fields[11],
        fields[15],
        fields[17],
    )
    return (
        "null" if decision is None else decision,  # encoded
        _json_string(prev_hash) if prev_hash.__class__ is str else _scalar(prev_hash),
        int.__repr__(seq) if seq.__class__ is int else _scalar(seq),
        _json_string(unit_id) if unit_id.__class__ is str else _scalar(unit_id),
        int.__repr__(version) if version.__class__ is int else _scalar(version),
    )


def body_template(fields: Sequence[Any]) -> str:
    """The body :func:`seal_row` hashes for ``fields``, with a ``%s`` for each of the
    record's own fields (decision, prev_hash, seq, unit_id, version): see :func:`seal_templated`.
    """
    parts = [part.replace("%", "%%") for part in _body_parts(fields)]
    for slot in _OWN_SLOTS:
        parts[slot] = "%s"
    return _BODY % tuple(parts)


def seal_templated(template: str, fields: Sequence[Any]) -> AuditRow:
    """``seal_row(fields)``, its body written into ``template``.

    ``template``: :func:`body_template` of a row that has every field of ``fields`` but the
    record's own. A page of a sweep seals a thousand rows that differ only in those, so
    the other seventeen parts are encoded once per page instead of once per row.
    """
    return (*fields, _chain_hash(fields[17], template % _own_parts(fields)))


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
    return AuditVerification(False, checked, None, at, reason, code, params)


def verify_chain(
    records: Iterable[AuditRecord],
    *,
    checkpoints: Sequence[Checkpoint] = (),
    anchor: Checkpoint | None = None,
) -> AuditVerification:
    """Check that ``records`` (in seq order) form an unbroken chain matching ``checkpoints``.

    ``anchor``: the last record purged before ``records`` start; the chain must continue
    from it. Checkpoints at or before the anchor are not checked (those records are gone
    by design, into an export).
    """
    expected_seq = anchor.seq + 1 if anchor else 1
    prev = anchor.hash if anchor else GENESIS_HASH
    seen: dict[int, str] = {}
    last: AuditRecord | None = None
    count = 0
    for record in records:
        count += 1
        if record.seq != expected_seq:
            return _broken(
                count, record.seq, "audit.seq_gap", expected=expected_seq, found=record.seq
            )
        if record.prev_hash != prev:
            return _broken(count, record.seq, "audit.prev_hash_mismatch")
        if record_hash(record) != record.hash:
            return _broken(count, record.seq, "audit.hash_mismatch")
        seen[record.seq] = record.hash
        prev = record.hash
        expected_seq += 1
        last = record
    for point in sorted(checkpoints, key=lambda c: c.seq):
        if anchor is not None and point.seq <= anchor.seq:
            if point.seq == anchor.seq and point.hash != anchor.hash:
                return _broken(count, point.seq, "audit.anchor_mismatch", seq=point.seq)
            continue
        found = seen.get(point.seq)
        if found is None:
            return _broken(count, None, "audit.truncated", seq=point.seq, last=expected_seq - 1)
        if found != point.hash:
            return _broken(count, point.seq, "audit.checkpoint_mismatch", seq=point.seq)
    head = Checkpoint(last.seq, last.hash) if last else None
    return AuditVerification(True, count, head)


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
        data["guard"],
        data["passed"],
        data["code"],
        dict(data["params"]),
        tuple(verdict_from_data(c) for c in data.get("children", ())),
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


# The keys of decision data are fixed, so their sorted order is written out here once.
_DECISION = '{"allowed":%s,"candidates":[%s],"judged_on":"%s","source":%s,"target":%s,"trigger":%s}'
_CANDIDATE = '{"dest":%s,"passed":%s,"verdicts":[%s]}'
_VERDICT = '{"code":%s,"guard":%s,"params":%s,"passed":%s}'
_VERDICT_WITH_CHILDREN = '{"children":[%s],"code":%s,"guard":%s,"params":%s,"passed":%s}'


def decision_text(decision: Decision) -> str:
    """``canonical_json(decision_to_data(decision))``, written out without building the data.

    Only each verdict's params go through the encoder. The property tests hold the two
    equal for any decision.
    """
    known = _TEXT_OF.get
    candidates = decision.candidates
    if len(candidates) == 1:  # nearly every decision: written without the joins
        candidates_text = _candidate_text(candidates[0])
    else:
        candidates_text = ",".join([_candidate_text(c) for c in candidates])
    return _DECISION % (
        # Flags are nearly always True or False: written out without a call.
        "true" if decision.allowed is True else _scalar(decision.allowed),
        candidates_text,
        iso_date(decision.judged_on),
        known(decision.source) or _text(decision.source),
        known(decision.target) or _text(decision.target),
        known(decision.trigger) or _text(decision.trigger),
    )


def _candidate_text(candidate: Candidate) -> str:
    verdicts = candidate.verdicts
    return _CANDIDATE % (
        _TEXT_OF.get(candidate.dest) or _text(candidate.dest),
        "true" if candidate.passed is True else _scalar(candidate.passed),
        _verdict_text(verdicts[0])
        if len(verdicts) == 1
        else ",".join([_verdict_text(v) for v in verdicts]),
    )


# The canonical text of leaf verdicts seen lately, keyed by guard, code, passed and the
# params' items. Only verdicts of plain str guard and code, a bool passed, and params of plain
# str names with plain str or int values are stored or looked up: of those, equal keys
# always have one text (1.0 and True, equal to 1, never take this path).
_VERDICT_TEXT: dict[tuple[Any, ...], str] = {}


def _verdict_text(verdict: Verdict) -> str:
    key = _verdict_key(verdict)
    if key is None:
        return _encoded_verdict(verdict)
    text = _VERDICT_TEXT.get(key)
    return remember(_VERDICT_TEXT, key, _encoded_verdict(verdict)) if text is None else text


def _verdict_key(verdict: Verdict) -> tuple[Any, ...] | None:
    """The verdict's key in ``_VERDICT_TEXT``, or None if it is not a leaf of plain values."""
    guard, code, passed, params = verdict.guard, verdict.code, verdict.passed, verdict.params
    if (
        verdict.children
        or params.__class__ is not dict
        or guard.__class__ is not str
        or code.__class__ is not str
        or passed.__class__ is not bool
    ):
        return None
    for name, value in params.items():
        if name.__class__ is not str or (value.__class__ is not int and value.__class__ is not str):
            return None
    return (guard, code, passed, *params.items())


def _encoded_verdict(verdict: Verdict) -> str:
    known = _TEXT_OF.get
    params = verdict.params
    fields = (
        known(verdict.code) or _text(verdict.code),
        known(verdict.guard) or _text(verdict.guard),
        canonical_json(params if params.__class__ is dict else dict(params)),
        "true" if verdict.passed is True else _scalar(verdict.passed),
    )
    children = verdict.children
    if children:
        return _VERDICT_WITH_CHILDREN % (",".join([_verdict_text(c) for c in children]), *fields)
    return _VERDICT % fields


def decision_from_data(unit_id: str, data: Mapping[str, Any], workflow: str = "") -> Decision:
    """The decision stored by :func:`decision_to_data`."""
    return Decision(
        unit_id=unit_id,
        trigger=data["trigger"],
        source=data["source"],
        target=data["target"],
        allowed=data["allowed"],
        candidates=tuple(
            Candidate(c["dest"], c["passed"], tuple(verdict_from_data(v) for v in c["verdicts"]))
            for c in data["candidates"]
        ),
        judged_on=date.fromisoformat(data["judged_on"]),
        workflow=workflow,
    )
