"""``Campaign.send_reminders``: the reminders and escalations due at the campaign's clock.

The rules are data (a workflow's ``[[reminders]]``, :class:`~campaignflow.Reminder`); this
command judges them for every started, unfinished unit by the unit's own workflow version and
writes one audit record (command ``remind``) per reminder or escalation that falls due, in
one transaction; once a unit's batch window has closed, also one per work item of the unit
past its deadline (level ``overdue``, whatever the rules). Nothing runs a thread: the host calls it from its scheduler, as often as it
likes. Each (unit, rule, level) is sent once: the record's ``request_id`` is a key of the
three (and of the unit's stay in its stage, or its batch for a window rule), and the audit
table's ``UNIQUE (campaign_id, request_id)`` keeps it once whatever the callers. The records
are the event feed's ``reminder_due`` and ``escalated`` events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import attrs

from campaignflow._words.events import Event
from campaignflow._words.records import Actor, Unit, UnitState
from campaignflow._words.verdicts import Decision
from campaignflow.audit import AuditRecord
from campaignflow.campaign._checks import check_actor
from campaignflow.campaign._core import Core
from campaignflow.campaign._events import events_of
from campaignflow.campaign._inbox import catch_up
from campaignflow.campaign._items import days_left, keep_items, work_items
from campaignflow.campaign._records import append
from campaignflow.store._protocol import StoreSession
from campaignflow.workflow import Reminder, Workflow

__all__ = ["send_reminders"]

# Item kinds never overdue: the unit's own move, and a deferral (its window rule reminds).
_NOT_OVERDUE = frozenset({"advance", "deferral"})

# Longer keys are hashed: a request id is at most 200 characters.
_KEY_MOST = 200


def send_reminders(core: Core, *, actor: Actor, host: Any = None) -> list[Event]:
    """``Campaign.send_reminders``: write every reminder now due; returns their events."""
    check_actor(actor)
    now = core.now()
    today = now.date()
    host = core.host_for(host)
    sent: list[Event] = []
    with core.store.transaction() as tx:
        catch_up(core, tx)  # the scheduler's call also brings the work items up to date
        caught_up, _ = tx.audit_head()
        units = list(tx.iter_units(None))
        for unit, state in units:
            workflow = core.wf(tx, state)
            if workflow.stage(state.stage).kind in ("waiting", "final"):
                continue
            at = _Today(
                core=core, tx=tx, workflow=workflow, unit=unit, state=state, today=today, host=host
            )
            for key, payload in _all_due(at):
                if tx.find_request(key) is not None:
                    continue
                seq = append(
                    core,
                    tx,
                    now,
                    "remind",
                    actor,
                    "ok",
                    unit_id=unit.id,
                    source=state.stage,
                    version=state.version,
                    request_id=key,
                    payload=payload,
                    workflow=core.ref_of(state),
                )
                record = AuditRecord(
                    seq=seq,
                    at=now,
                    on=today,
                    campaign=core.campaign_id,
                    command="remind",
                    actor_id=actor.id,
                    actor_roles=core.roles_of(actor),
                    outcome="ok",
                    unit_id=unit.id,
                    source=state.stage,
                    request_id=key,
                    payload=payload,
                )
                sent.extend(events_of(record))
        keep_items(core, tx, now, caught_up, ())  # reminders change no item: the mark moves on
    return sent


@attrs.frozen(kw_only=True)
class _Today:
    """One unit as its reminders are judged today: in ``tx``, by its ``workflow`` version."""

    core: Core
    tx: StoreSession
    workflow: Workflow
    unit: Unit
    state: UnitState
    today: date
    host: Any

    def decide(self) -> Decision:
        """The unit's ``advance`` decided today (the gates that still hold it)."""
        return self.core.decide(
            self.tx,
            self.unit,
            self.state,
            self.today,
            "advance",
            None,
            self.workflow,
            host=self.host,
        )


def _all_due(at: _Today) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each (request id, payload) due for the unit today: its rules', then overdue items."""
    workflow, unit, state, today = at.workflow, at.unit, at.state, at.today
    for rule, level, payload in _due(at):
        yield _key(rule, level, unit, state), payload
    window = workflow.batch(state.batch)
    if window is None or window.closes >= today:
        return
    for item in work_items(workflow, unit, state, at.decide(), today):
        if item.deadline is None or item.deadline >= today or item.kind in _NOT_OVERDUE:
            continue
        payload = {
            "rule": "",
            "level": "overdue",
            "kind": item.kind,
            "notify": [item.role] if item.role else [unit.id],  # own items: the unit itself
            "days": (today - item.deadline).days,
            "deadline": item.deadline.isoformat(),
            "gates": list(dict.fromkeys(item.codes)),
            "since": None if item.since is None else item.since.isoformat(),
        }
        yield _hashed(f"overdue:{item.kind}:{item.role or ''}:v{state.version}:{unit.id}"), payload


def _due(at: _Today) -> Iterator[tuple[Reminder, str, dict[str, Any]]]:
    """Each (rule, level, payload) due for the unit today, reminder before escalation."""
    workflow, state, today = at.workflow, at.state, at.today
    decision: Decision | None = None
    since = state.entered_on or state.stage_since
    for rule in workflow.reminders:
        if rule.when == "window closing":
            days = days_left(workflow, state, rule, today)
            if days is not None:
                yield rule, "reminder", _payload(rule, "reminder", days, [], since)
            continue
        if since is None or rule.after_days is None:
            continue
        waited = (today - since).days
        if waited < rule.after_days:
            continue
        if decision is None:
            decision = at.decide()
        gates = _holding(rule, workflow, state, decision)
        if not gates:
            continue
        yield rule, "reminder", _payload(rule, "reminder", waited, gates, since)
        if rule.escalate_after_days is not None and waited >= rule.escalate_after_days:
            yield rule, "escalation", _payload(rule, "escalation", waited, gates, since)


def _holding(rule: Reminder, workflow: Workflow, state: UnitState, decision: Decision) -> list[str]:
    """The codes of the gates the rule waits on that still hold the unit (none: not due)."""
    if decision.allowed:
        return []
    failures = decision.failures()
    if rule.when == "stuck":
        return list(dict.fromkeys(v.code for v in failures))
    roles = {rule.role} if rule.role else set(workflow.approver_roles(state.stage))
    waiting = [
        v for v in failures if v.code == "approval.missing" and v.params.get("role") in roles
    ]
    return ["approval.missing"] if waiting else []


def _payload(
    rule: Reminder, level: str, days: int, gates: list[str], since: date | None
) -> dict[str, Any]:
    notify = rule.escalate_to if level == "escalation" else rule.notify
    return {
        "rule": rule.id,
        "when": rule.when,
        "level": level,
        "notify": list(notify),
        "days": days,
        "gates": gates,
        "since": None if since is None else since.isoformat(),
    }


def _key(rule: Reminder, level: str, unit: Unit, state: UnitState) -> str:
    """The request id that makes (unit, rule, level) once: per stay, or per batch (window)."""
    stay = f"b{state.batch}" if rule.when == "window closing" else f"v{state.version}"
    return _hashed(f"remind:{rule.id}:{level}:{stay}:{unit.id}")


def _hashed(key: str) -> str:
    """``key``, or its digest when it is longer than a request id may be."""
    if len(key) > _KEY_MOST:
        return f"remind:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return key
