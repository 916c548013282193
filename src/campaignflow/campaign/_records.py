"""The audit records a campaign writes, and a repeated command's first result read back.

Every command ends here: :func:`append` seals one record onto the chain's head, and
:func:`moved` seals a transition's row (a single ``advance`` and every unit a sweep moves go
through it alike). A command repeated with its ``request_id`` finds its first record
(:func:`replayed`) and returns what that record says (:func:`transition_record_of`,
:func:`fact_record_of`) or raises its refusal again (:func:`refusal_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

import attrs

from campaignflow._words.records import Actor, FactRecord, TransitionRecord, Unit, UnitState
from campaignflow._words.verdicts import Decision
from campaignflow.audit import AuditRecord, AuditRow, canonical_json, decision_from_data, seal_row
from campaignflow.campaign._checks import UNRECORDABLE, not_authorized, unrecordable
from campaignflow.campaign._core import Core, Stamp
from campaignflow.errors import NotAuthorized, TransitionRejected, ValidationError
from campaignflow.i18n import messages
from campaignflow.store._protocol import StoreSession
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import next_state, stage_titles

__all__ = [
    "Stamp",
    "append",
    "fact_record_of",
    "moved_record",
    "moved_row",
    "redelivered",
    "refusal_of",
    "replayed",
    "same_requester",
    "stamp",
    "transition_record_of",
    "unit_payload",
]


def stamp(core: Core, now: datetime, day: date, actor: Actor) -> Stamp:
    """The stamp of a command ``actor`` issues at ``now`` (business day ``day``): see
    :meth:`Core.stamp`."""
    return core.stamp(now, day, actor)


def append(
    core: Core,
    tx: StoreSession,
    now: datetime,
    command: str,
    actor: Actor,
    outcome: Literal["ok", "denied", "error"],
    *,
    unit_id: str | None = None,
    source: str | None = None,
    dest: str | None = None,
    version: int | None = None,
    request_id: str | None = None,
    payload: Mapping[str, Any] | None = None,
    decision: Mapping[str, Any] | None = None,
    reason: Mapping[str, Any] | None = None,
    workflow: str | None = None,
) -> int:
    """Seal one record of ``command``, dated ``now``, onto the chain's head in ``tx``; returns
    its seq.

    The record's row is built and sealed once, its JSON columns encoded by the campaign's
    :class:`~campaignflow.audit.Encoder`, and handed to the store with the record, so no
    store encodes it again.
    """
    seq, prev = tx.audit_head()
    encoder = core.encoder
    roles = core.roles_of(actor)
    workflow = workflow or core.workflow_ref
    payload = dict(payload or {})
    on = now.date()
    made = core.stamp(now, on, actor)
    try:
        row = seal_row(
            AuditRow(
                seq=seq + 1,
                at=made.at_text,
                on=made.on_text,
                campaign=core.campaign_id,
                command=command,
                actor_id=actor.id,
                actor_roles=made.roles_text,
                outcome=outcome,
                unit_id=unit_id,
                source=source,
                dest=dest,
                version=version,
                request_id=request_id,
                workflow=workflow,
                payload=canonical_json(payload),
                decision=None if decision is None else canonical_json(decision),
                reason=None if reason is None else canonical_json(reason),
                prev_hash=prev,
            ),
            encoder=encoder,
        )
    except UNRECORDABLE as exc:
        raise unrecordable(command, exc) from None
    record = AuditRecord.of_row(
        row,
        at=now,
        on=on,
        actor_roles=roles,
        payload=payload,
        decision=decision,
        reason=reason,
    )
    tx.append_audit(record, row)
    return row.seq


def moved_record(
    stamp: Stamp,
    unit: Unit,
    state: UnitState,
    new: UnitState,
    decision: Decision,
    request_id: str | None,
    seq: int,
) -> TransitionRecord:
    """The transition record one command returns for a move :func:`moved_row` sealed."""
    return TransitionRecord(
        unit_id=unit.id,
        trigger=decision.trigger,
        source=state.stage,
        dest=new.stage,
        version=new.version,
        on=stamp.day,
        at=stamp.now,
        actor_id=stamp.actor.id,
        seq=seq,
        request_id=request_id,
        batch=new.batch,
    )


def moved_row(
    core: Core,
    workflow: Workflow,
    stamp: Stamp,
    unit: Unit,
    state: UnitState,
    decision: Decision,
    request_id: str | None,
    batch: int | None,
    seq: int,
    prev: str,
    command: str = "advance",
) -> tuple[UnitState, AuditRow]:
    """The unit's new state and its transition's sealed audit row.

    The row is the record as the store writes it, sealed without building an
    AuditRecord: a transition is the one record a sweep writes for each unit it moves
    (one command adds its :func:`moved_record`).
    """
    assert decision.target is not None
    new = next_state(workflow, state, decision.target, stamp.day, batch=batch)
    key = (decision.trigger, new.batch, batch or None)
    payload_text = core.payload_texts.get(key)
    if payload_text is None:
        payload: dict[str, Any] = {"trigger": decision.trigger, "batch": new.batch}
        if batch:
            payload["to_batch"] = batch
        payload_text = core.payload_texts[key] = canonical_json(payload)
    ref = core.ref_of(state) or core.workflow_ref
    try:
        row = seal_row(
            AuditRow(
                seq=seq,
                at=stamp.at_text,
                on=stamp.on_text,
                campaign=core.campaign_id,
                command=command,
                actor_id=stamp.actor.id,
                actor_roles=stamp.roles_text,
                outcome="ok",
                unit_id=unit.id,
                source=state.stage,
                dest=new.stage,
                version=new.version,
                request_id=request_id,
                workflow=ref,
                payload=payload_text,
                decision=core.encoder.decision_text(decision),
                reason=None,
                prev_hash=prev,
            ),
            encoder=core.encoder,
        )
    except UNRECORDABLE as exc:
        raise unrecordable(command, exc) from None
    return new, row


def replayed(
    tx: StoreSession,
    request_id: str | None,
    command: str,
    unit_id: str,
    payload: Mapping[str, Any],
    actor: Actor,
) -> AuditRecord | None:
    """The first record of a command repeated with ``request_id``, or None for a new one.

    Raises:
        NotAuthorized: the first command was another actor's (its result is theirs).
        ValidationError: the request id was used for another command, unit or payload.
    """
    if request_id is None:
        return None
    first = tx.find_request(request_id)
    if first is None:
        return None
    same_payload = all(first.payload.get(k) == v for k, v in payload.items() if k != "to_batch")
    if first.command != command or first.unit_id != unit_id or not same_payload:
        raise ValidationError(
            code="campaign.request_id_reused_unit",
            params={
                "request_id": repr(request_id),
                "command": first.command,
                "unit": repr(first.unit_id),
            },
        )
    same_requester(first, actor)
    return first


def same_requester(first: AuditRecord, actor: Actor) -> None:
    """Refuse a replay of ``first``'s request id by another actor.

    A redelivery returns the first result to whoever sent the first command; anyone else
    would receive another person's success (or refusal) as their own.

    Raises:
        NotAuthorized: ``actor`` is not the one ``first`` records (``not_authorized.request_of_other``).
    """
    if first.actor_id != actor.id:
        reason = {
            "code": "not_authorized.request_of_other",
            "params": {"actor": actor.id, "request_id": first.request_id or ""},
        }
        raise not_authorized(reason, actor, first.unit_id)


def fact_record_of(core: Core, audit: AuditRecord) -> FactRecord:
    """The fact record a repeated ``record`` or ``approve`` returns (or its refusal, raised)."""
    if audit.outcome != "ok":
        raise refusal_of(core, audit)
    return FactRecord(
        unit_id=audit.unit_id or "",
        stage=audit.source or "",
        version=audit.version or 0,
        fact=core.fact_types.load(audit.payload["fact"]),
        on=audit.on,
        at=audit.at,
        actor_id=audit.actor_id,
        seq=audit.seq,
        request_id=audit.request_id,
    )


def transition_record_of(core: Core, audit: AuditRecord) -> TransitionRecord:
    """The transition record a repeated ``advance`` or ``defer`` returns (or its refusal)."""
    if audit.outcome != "ok":
        raise refusal_of(core, audit)
    return TransitionRecord(
        unit_id=audit.unit_id or "",
        trigger=str(audit.payload.get("trigger", "")),
        source=audit.source or "",
        dest=audit.dest or "",
        version=audit.version or 0,
        on=audit.on,
        at=audit.at,
        actor_id=audit.actor_id,
        seq=audit.seq,
        request_id=audit.request_id,
        batch=audit.payload.get("batch"),
    )


def refusal_of(core: Core, audit: AuditRecord) -> Exception:
    """The error a refused command raised, made again from its audit record."""
    reason = audit.reason or {}
    if audit.decision is not None:
        judge = core.versions.get(audit.workflow, core.workflow)
        decision = decision_from_data(audit.unit_id or "", audit.decision, judge.name)
        # Titles are text, never stored in the chain: restore them from the workflow so a
        # replayed refusal explains itself exactly as the first delivery did.
        titles = stage_titles(judge, decision.source, decision.target)
        return TransitionRejected(
            attrs.evolve(
                decision,
                titles=titles,
                judged_by=audit.workflow,
                versioned=len(core.versions) > 1,
            )
        )
    params = dict(reason.get("params", {}))
    return NotAuthorized(
        messages.render(str(reason.get("code", "")), params, "en"),
        actor_id=audit.actor_id,
        unit_id=audit.unit_id,
        rule=str(reason.get("code", "")),
        params=params,
    )


def redelivered(tx: StoreSession, request_id: str, batch: list[Unit], actor: Actor) -> bool:
    """Whether ``add_units`` with ``request_id`` ran before, with exactly these units.

    Each unit of the first delivery was sealed under ``request_id#i``: a redelivery must
    list the same units in the same order, no more and no fewer.

    Raises:
        ValidationError: the id was used for another list (or another command).
        NotAuthorized: the first delivery was another actor's.
    """
    if (
        replayed(tx, f"{request_id}#0", "add_unit", batch[0].id, unit_payload(batch[0]), actor)
        is None
    ):
        return False
    for i, unit in enumerate(batch[1:], start=1):
        found = tx.find_request(f"{request_id}#{i}")
        if found is None or (found.unit_id, found.payload) != (unit.id, unit_payload(unit)):
            raise _list_changed(request_id)
    if tx.find_request(f"{request_id}#{len(batch)}") is not None:
        raise _list_changed(request_id)
    return True


def unit_payload(unit: Unit) -> dict[str, Any]:
    """The payload of a unit's ``add_unit`` record."""
    return {"unit": attrs.asdict(unit)}


def _list_changed(request_id: str) -> ValidationError:
    return ValidationError(
        code="campaign.request_id_other_units", params={"request_id": repr(request_id)}
    )
