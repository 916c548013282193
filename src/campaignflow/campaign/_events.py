"""``Campaign.events``: the exactly-once event feed, read from the audit chain.

The audit chain is the transactional outbox. Every command already writes its audit record
in its own transaction, with a seq that commits in order (the chain head is taken under the
write lock), so an event is a projection of a committed record: a rolled-back command leaves
no record and so no event, and the same record always yields the same event with the same
id. There is no second write path to keep in step. A host consumes the feed exactly once by
keeping the page's ``cursor`` in its own transaction with its side effects (see
docs/events.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from campaignflow._words.checks import one_of, whole_number
from campaignflow._words.events import EVENT_KINDS, Event, EventKind, EventPage
from campaignflow.audit import AuditRecord
from campaignflow.campaign._core import Core
from campaignflow.errors import ValidationError

__all__ = ["MAX_LIMIT", "events", "events_of"]

#: The most events one page may hold.
MAX_LIMIT = 10_000

# Audit records one call reads at most when the kinds asked for are rare: the page then
# ends early with ``more=True`` and its cursor past the records read, so a call costs
# O(limit + _SCAN), never O(trail).
_SCAN = 2_000


def events(core: Core, after: int, limit: int, kinds: Collection[str] | None) -> EventPage:
    """``Campaign.events``: the events after ``after``, at most ``limit`` (of ``kinds``)."""
    whole_number("after", after, minimum=0)
    whole_number("limit", limit, minimum=1)
    if limit > MAX_LIMIT:
        raise ValidationError(
            code="events.limit_too_large", params={"limit": limit, "maximum": MAX_LIMIT}
        )
    wanted = _kinds(kinds)
    found: list[Event] = []
    cursor = after
    with core.store.transaction(write=False) as tx:
        anchor = tx.audit_anchor()
        if anchor is not None and after < anchor.seq:
            raise ValidationError(
                code="events.purged", params={"after": after, "anchor": anchor.seq}
            )
        records: Iterator[AuditRecord] = tx.iter_audit(after_seq=after)
        for record in itertools.islice(records, _SCAN + limit):
            cursor = record.seq
            found.extend(e for e in events_of(record) if e.kind in wanted)
            if len(found) >= limit:
                break
        more = next(records, None) is not None
    return EventPage(events=tuple(found), cursor=cursor, more=more)


def _kinds(kinds: Collection[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(EVENT_KINDS)
    if isinstance(kinds, str) or not isinstance(kinds, Collection) or not kinds:
        raise ValidationError(
            code="events.bad_kinds", params={"value": repr(kinds), "choices": list(EVENT_KINDS)}
        )
    return frozenset(one_of("kinds[]", kind, EVENT_KINDS) for kind in kinds)


def events_of(record: AuditRecord) -> tuple[Event, ...]:
    """The events one audit record makes (none for records no host needs to hear of)."""
    made = _projection(record)
    if made is None:
        return ()
    code, params = made
    kind: EventKind = code.removeprefix("event.")  # type: ignore[assignment]  # one of EVENT_KINDS
    return (
        Event(
            id=f"{record.campaign}:{record.seq}",
            cursor=record.seq,
            kind=kind,
            code=code,
            params=params,
            unit_id=record.unit_id,
            on=record.on,
            at=record.at,
            actor_id=record.actor_id,
            request_id=record.request_id,
        ),
    )


def _projection(record: AuditRecord) -> tuple[str, dict[str, Any]] | None:
    unit = record.unit_id or ""
    payload = record.payload
    if record.outcome != "ok":
        reason = record.reason or {}
        return "event.refused", {
            "unit": unit,
            "command": record.command,
            "reason": str(reason.get("code", "")),
            "gates": _failing_codes(record.decision),
        }
    if record.command == "add_unit":
        added = payload.get("unit") or {}
        return "event.unit_added", {"unit": unit, "batch": added.get("batch")}
    if record.command == "work_item":
        role = payload.get("role")
        item = {
            "unit": unit,
            "kind": str(payload.get("kind", "")),
            "stage": record.source or "",
            "deadline": str(payload.get("deadline") or "-"),
            "notify": [role] if isinstance(role, str) else [unit],
            "gates": list(payload.get("gates") or ()),
        }
        if payload.get("change") == "done":
            return "event.work_item_done", item
        return "event.work_item_created", item
    if record.command == "remind":
        params = {
            "unit": unit,
            "rule": str(payload.get("rule", "")),
            "stage": record.source or "",
            "days": payload.get("days"),
            "notify": list(payload.get("notify") or ()),
            "gates": list(payload.get("gates") or ()),
        }
        if payload.get("level") == "overdue":
            return "event.work_item_overdue", {
                "unit": unit,
                "kind": str(payload.get("kind", "")),
                "stage": record.source or "",
                "days": payload.get("days"),
                "deadline": str(payload.get("deadline", "")),
                "notify": list(payload.get("notify") or ()),
                "gates": list(payload.get("gates") or ()),
            }
        if payload.get("level") == "escalation":
            return "event.escalated", params
        return "event.reminder_due", params
    fact = payload.get("fact")
    if isinstance(fact, Mapping):
        return "event.fact_recorded", {
            "unit": unit,
            "fact": str(fact.get("kind", "")),
            "stage": record.source or "",
        }
    if record.dest is not None and record.source is not None:
        return "event.unit_advanced", {
            "unit": unit,
            "source": record.source,
            "dest": record.dest,
            "trigger": str(payload.get("trigger", record.command)),
            "batch": payload.get("batch"),
        }
    return None


def _failing_codes(decision: Mapping[str, Any] | None) -> list[str]:
    """The codes of the failing gates of the decision's target, each once, in order."""
    if not decision:
        return []
    target = decision.get("target")
    for candidate in decision.get("candidates") or ():
        if candidate.get("dest") == target:
            codes = (
                v.get("code", "") for v in candidate.get("verdicts") or () if not v.get("passed")
            )
            return list(dict.fromkeys(codes))
    return []
