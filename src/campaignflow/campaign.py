"""``Campaign``: the runtime API an OA back end calls — record facts, check, advance, defer.

Every command runs in one store transaction: it re-reads the unit, judges it against the
data that commits, writes the state change, the fact and the audit record together, and
returns a record. A refused command (a gate held, or the actor may not act) changes nothing
but leaves an audit record of the denial. Malformed input raises :class:`ValidationError`
before anything is written. A command repeated with the same ``request_id`` returns the first
result (or raises the first refusal again) and writes nothing.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import IO, Any, Literal, overload

import attrs

from campaignflow._validators import (
    is_valid_unicode,
    one_of,
    optional_text,
    refuse,
    rule_problem,
    whole_number,
)
from campaignflow.audit import (
    AuditRecord,
    AuditRow,
    AuditVerification,
    Checkpoint,
    Encoder,
    canonical_json,
    decision_from_data,
    decision_to_data,
    iso_date,
    iso_instant,
    roles_json,
    seal,
    seal_row,
    verify_chain,
)
from campaignflow.clock import Clock, SystemClock
from campaignflow.engine import decide, initial_state, next_state, stage_titles, workflow_ref
from campaignflow.errors import (
    ConcurrencyConflict,
    NotAuthorized,
    Problem,
    TransitionRejected,
    UnknownUnit,
    ValidationError,
)
from campaignflow.facts import FactTypes, fact_types
from campaignflow.i18n import messages
from campaignflow.model import (
    SYSTEM,
    Actor,
    Approval,
    Decision,
    FactRecord,
    Organisation,
    Refusal,
    Survey,
    TransitionRecord,
    Unit,
    UnitState,
    WorkflowVersion,
)
from campaignflow.observability import observe_advance, observing
from campaignflow.orgtree import (
    STUCK_ORDERS,
    OrgProgress,
    StuckOrder,
    StuckPage,
    StuckUnit,
    build_rollup,
)
from campaignflow.store._protocol import Store, StoreSession
from campaignflow.store.memory import MemoryStore
from campaignflow.versions import (
    POLICIES,
    Adoption,
    Policy,
    adoption_of,
    migrated_state,
    payload_of,
    plan_adoption,
)
from campaignflow.workflow import Workflow

__all__ = ["AdvanceOutcome", "Campaign", "Progress"]


#: Units judged and moved per transaction by start_batch and advance_all: a durable store
#: pays one commit (one fsync) per chunk, and other writers wait for a chunk's lock (tens of
#: milliseconds at this size).
_SWEEP_CHUNK = 1024

#: Units a worker claims per advance_due call unless told otherwise.
_CLAIM_LIMIT = 256
# Audit records per read transaction when a caller iterates the trail.
_AUDIT_PAGE = 1000

#: The shortest time audit records are kept before they may be purged (等保 2.0: six months).
RETENTION_DAYS = 180


@attrs.frozen
class AdvanceOutcome:
    """What ``advance_all`` did with one unit: the transition applied, or the decision that held it."""

    unit_id: str
    advanced: bool
    decision: Decision
    record: TransitionRecord | None = None


@attrs.frozen
class Progress:
    """Units per batch and stage, and what holds the ones that cannot move.

    ``by_batch[batch][stage]`` counts units; ``blocking`` lists failing verdict codes with
    how many units each holds, most first.
    """

    by_batch: Mapping[int, Mapping[str, int]]
    total: int
    finished: int
    remedial: int
    blocking: tuple[tuple[str, int], ...]

    def by_stage(self) -> dict[str, int]:
        """Units per stage over every batch."""
        counts: Counter[str] = Counter()
        for stages in self.by_batch.values():
            counts.update(stages)
        return dict(counts)


@attrs.frozen
class _Denied:
    """A refusal to raise once its audit record is committed."""

    error: Exception


@attrs.frozen
class _Stamp:
    """Who acts and when, with the texts each of the command's records stores for them.

    Made once per command (once per page of a sweep): the texts are the same for every
    record it writes.
    """

    now: datetime
    day: date
    actor: Actor
    at_text: str
    on_text: str
    roles_text: str
    #: For a page of a sweep: the audit bodies of its transitions, by the parts they share
    #: (see _moved). None for a single command, whose one record is sealed whole.
    bodies: dict[tuple[Any, ...], str] | None = None


_REJECTION_MESSAGES = {
    "not_authorized.missing_role": {
        "zh_CN": "{actor} 没有执行此操作所需的角色（需要：{roles:term}）",
        "en": "{actor} lacks the role this needs (one of: {roles:term})",
    },
    "not_authorized.own_unit": {
        "zh_CN": "{actor} 属于单位 {unit}，不能{action:term}本单位（单位不能自己批准或测评自己）",
        "en": "{actor} belongs to unit {unit} and may not {action:term} it (a unit never approves or assesses itself)",
    },
    "transition.rejected": {
        "zh_CN": "转段未获通过",
        "en": "the transition was refused",
    },
}
messages.register_many(_REJECTION_MESSAGES)
messages.register_terms(
    {
        "approve": {"zh_CN": "批准", "en": "approve"},
        "record": {"zh_CN": "登记此类事实于", "en": "record facts of this kind for"},
        "move": {"zh_CN": "推进", "en": "move"},
    }
)


def _resolve_store(store: Store | str | None, campaign_id: str, fact_types: FactTypes) -> Store:
    if store is None or store == "memory://":
        return MemoryStore()
    if isinstance(store, str):
        from campaignflow.store import open_store

        return open_store(store, campaign_id=campaign_id, fact_types=fact_types)
    for name in ("transaction", "close"):
        if not callable(getattr(store, name, None)):
            refuse(
                "store",
                store,
                "must be a Store (with transaction() and close()) or a URL like 'sqlite:///campaign.db'",
            )
    return store


class Campaign:
    """One campaign: a workflow applied to many units, over a store and a clock.

    Args:
        workflow: the rules (a preset, a file, or your own).
        store: a :class:`~campaignflow.store.Store`, a URL (``"sqlite:///campaign.db"``,
            ``"postgresql://..."``), or None for in memory.
        clock: where "now" comes from; the wall clock when None. Inject a
            :class:`~campaignflow.clock.FixedClock` or ``SimulatedClock`` in tests.
        campaign_id: names the campaign in audit records (and separates request ids).
        fact_types: the registry of fact types (the default one unless given).
    """

    def __init__(
        self,
        workflow: Workflow,
        store: Store | str | None = None,
        *,
        clock: Clock | None = None,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
    ) -> None:
        if not isinstance(workflow, Workflow):
            refuse("workflow", workflow, "must be a Workflow")
        if not isinstance(campaign_id, str) or not campaign_id:
            refuse("campaign_id", campaign_id, "must be non-empty text")
        if clock is not None and not callable(getattr(clock, "now", None)):
            refuse("clock", clock, "must have a now() method")
        self.workflow = workflow
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.campaign_id = campaign_id
        self.fact_types = fact_types or _default_fact_types()
        self.store: Store = _resolve_store(store, campaign_id, self.fact_types)
        self._workflow_ref = workflow_ref(workflow)
        # Every workflow version the campaign knows, by ref; adopted ones come from the store.
        self._versions: dict[str, Workflow] = {self._workflow_ref: workflow}
        # Each actor's roles in the audit's (sorted) order: one sort per role set, not per record.
        self._sorted_roles: dict[frozenset[str], tuple[str, ...]] = {}
        # The canonical text of each transition payload (trigger, batch, to_batch) written:
        # a sweep writes the same few hundreds of times.
        self._payload_texts: dict[tuple[str, int, int | None], str] = {}
        # The audit texts this campaign's records repeat (stage ids, actors, verdicts).
        self._encoder = Encoder()
        self._adopted: tuple[WorkflowVersion, ...] = ()
        self._first_ref = self._workflow_ref
        self._unknown_refs: set[str] = set()
        given = self._workflow_ref
        with self.store.transaction(write=False) as tx:
            self._sync_versions(tx)
        if self._adopted and given not in {v.ref for v in self._adopted}:
            if isinstance(store, str):
                self.store.close()
            known = ", ".join(v.ref for v in self._adopted)
            raise ValidationError(
                code="campaign.workflow_not_adopted", params={"given": given, "known": known}
            )

    def __repr__(self) -> str:
        return f"<Campaign {self.campaign_id!r} on {self.workflow.name!r} in {self.store!r}>"

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- time ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock.now()
        if not isinstance(now, datetime) or now.tzinfo is None:
            refuse("clock", now, "now() must return an aware datetime")
        return now

    # --- units --------------------------------------------------------------------------

    def add_units(
        self, units: Iterable[Unit], *, actor: Actor = SYSTEM, request_id: str | None = None
    ) -> int:
        """Register units; all or none. Returns how many were added.

        Raises:
            ValidationError: listing every problem (not a Unit, a duplicate id in the call or
                in the campaign, a batch the workflow does not have); nothing is added.
        """
        _check_actor(actor)
        _check_request_id(request_id)
        batch = _unit_list(units)
        problems: list[str] = []
        seen: set[str] = set()
        for i, unit in enumerate(batch):
            if not isinstance(unit, Unit):
                problems.append(rule_problem(f"units[{i}]", unit, "must be a campaignflow.Unit"))
                continue
            if unit.id in seen:
                problems.append(
                    Problem(f"units[{i}]", "campaign.unit_twice", {"unit": repr(unit.id)})
                )
            seen.add(unit.id)
            takes = self._versions[self._ref_for_batch(unit.batch)]
            if takes.batches and takes.batch(unit.batch) is None:
                numbers = ", ".join(str(b.number) for b in takes.batches)
                problems.append(
                    Problem(
                        f"units[{i}]",
                        "campaign.unit_batch_unknown",
                        {"unit": repr(unit.id), "batches": numbers, "batch": unit.batch},
                    )
                )
        if problems:
            raise ValidationError(code="validation.problems", problems=problems)
        now = self._now()
        with self.store.transaction() as tx:
            if request_id is not None and batch:
                first = self._replayed(
                    tx,
                    f"{request_id}#0",
                    "add_unit",
                    batch[0].id,
                    {"unit": attrs.asdict(batch[0])},
                )
                if first is not None:
                    return len(batch)
            for i, unit in enumerate(batch):
                if tx.get_unit(unit.id) is not None:
                    problems.append(
                        Problem(f"units[{i}]", "campaign.unit_exists", {"unit": repr(unit.id)})
                    )
            if problems:
                raise ValidationError(code="validation.problems", problems=problems)
            self._sync_versions(tx)
            for i, unit in enumerate(batch):
                ref = self._ref_for_batch(unit.batch)
                state = initial_state(self._versions[ref], unit, ref=ref)
                tx.insert_unit(unit, state)
                rid = request_id if request_id is None else f"{request_id}#{i}"
                self._append(
                    tx,
                    now,
                    now.date(),
                    "add_unit",
                    actor,
                    "ok",
                    unit_id=unit.id,
                    dest=state.stage,
                    version=0,
                    request_id=rid,
                    payload={"unit": attrs.asdict(unit)},
                    workflow=ref,
                )
        return len(batch)

    def unit(self, unit_id: str) -> Unit:
        """The unit with ``unit_id``.

        Raises:
            UnknownUnit: no such unit.
        """
        _check_unit_id(unit_id)
        with self.store.transaction(write=False) as tx:
            unit = tx.get_unit(unit_id)
        if unit is None:
            raise UnknownUnit(unit_id)
        return unit

    def state(self, unit_id: str) -> UnitState:
        """Where the unit stands now.

        Raises:
            UnknownUnit: no such unit.
        """
        _check_unit_id(unit_id)
        with self.store.transaction(write=False) as tx:
            state = tx.get_state(unit_id)
        if state is None:
            raise UnknownUnit(unit_id)
        return state

    def units(self, *, batch: int | None = None) -> list[tuple[Unit, UnitState]]:
        """Every unit with its state (those in ``batch`` now, when given)."""
        _check_batch(batch)
        with self.store.transaction(write=False) as tx:
            return list(tx.iter_units(batch))

    def history(self, unit_id: str) -> tuple[AuditRecord, ...]:
        """Every audit record of the unit, oldest first (denials included).

        Raises:
            UnknownUnit: no such unit.
        """
        _check_unit_id(unit_id)
        with self.store.transaction(write=False) as tx:
            if tx.get_unit(unit_id) is None:
                raise UnknownUnit(unit_id)
            return tuple(tx.iter_audit(unit_id))

    def facts(self, unit_id: str, stage: str | None = None) -> tuple[FactRecord, ...]:
        """The unit's fact records in ``stage`` (its current stage by default)."""
        _check_unit_id(unit_id)
        with self.store.transaction(write=False) as tx:
            state = tx.get_state(unit_id)
            if state is None:
                raise UnknownUnit(unit_id)
            if stage is not None and not any(w.has_stage(stage) for w in self._versions.values()):
                self._wf(tx, state).stage(stage)
            return tuple(tx.get_facts(unit_id, stage or state.stage))

    # --- facts --------------------------------------------------------------------------

    def record(
        self, unit_id: str, fact: object, *, actor: Actor, request_id: str | None = None
    ) -> FactRecord:
        """Attach a fact (study session, survey, milestone, approval, your own type) to the unit.

        The fact belongs to the unit's current stage. A fact type the workflow reserves for a
        role (the survey, for ``superior_org``) needs an actor with that role from outside the
        unit.

        Raises:
            ValidationError: unknown unit, an unregistered fact type, a unit not started or
                already finished.
            NotAuthorized: the actor lacks the role, or belongs to the unit (audited).
        """
        if isinstance(fact, Approval):
            return self.approve(
                unit_id,
                actor=actor,
                role=fact.role,
                decision=fact.decision,
                comment=fact.comment,
                request_id=request_id,
            )
        _check_actor(actor)
        _check_request_id(request_id)
        kind = self.fact_types.name_of(fact)
        payload = {"fact": self.fact_types.dump(fact)}
        now = self._now()
        with self.store.transaction() as tx:
            replay = self._replayed(tx, request_id, "record", unit_id, payload)
            if replay is not None:
                return self._fact_record_of(replay)
            unit, state = self._load(tx, unit_id)
            self._check_open(state, "record facts for")
            role = self._wf(tx, state).fact_roles.get(kind) or self.fact_types.role_for(kind)
            denial = None
            if role is not None:
                denial = _authorize(actor, unit, {role}, action="record")
            if denial is not None:
                self._append(
                    tx,
                    now,
                    now.date(),
                    "record",
                    actor,
                    "denied",
                    unit_id=unit_id,
                    source=state.stage,
                    version=state.version,
                    request_id=request_id,
                    payload=payload,
                    reason=denial,
                )
                result: FactRecord | _Denied = _Denied(_not_authorized(denial, actor, unit_id))
            else:
                result = self._add_fact(tx, now, unit, state, fact, payload, actor, request_id)
        if isinstance(result, _Denied):
            raise result.error
        return result

    def approve(
        self,
        unit_id: str,
        *,
        actor: Actor,
        role: str | None = None,
        decision: Literal["approved", "rejected"] = "approved",
        comment: str = "",
        request_id: str | None = None,
    ) -> FactRecord:
        """Record the decision of ``actor`` in ``role`` on the unit's stage transition.

        ``role`` defaults to the actor's one role that the unit's current stage asks to
        approve (the supervision group, 督导组, in the presets). A unit never approves itself.

        Raises:
            ValidationError: unknown unit, a role this stage asks no approval of, an actor
                with several such roles and no ``role`` given.
            NotAuthorized: the actor lacks the role or belongs to the unit (audited).
        """
        _check_actor(actor)
        _check_request_id(request_id)
        optional_text("role", role)
        one_of("decision", decision, ("approved", "rejected"))
        if not isinstance(comment, str):
            refuse("comment", comment, "must be text")
        optional_text("comment", comment)
        now = self._now()
        with self.store.transaction() as tx:
            base_payload = {"role": role, "decision": decision, "comment": comment}
            replay = self._replayed(tx, request_id, "approve", unit_id, base_payload)
            if replay is not None:
                return self._fact_record_of(replay)
            unit, state = self._load(tx, unit_id)
            self._check_open(state, "approve")
            wanted = self._wf(tx, state).approver_roles(state.stage)
            if not wanted:
                raise ValidationError(
                    code="campaign.no_approval_asked",
                    params={"unit": repr(unit_id), "stage": repr(state.stage)},
                )
            if role is not None and role not in wanted:
                raise ValidationError(
                    code="campaign.role_not_approver",
                    params={
                        "unit": repr(unit_id),
                        "stage": repr(state.stage),
                        "roles": sorted(wanted),
                        "role": repr(role),
                    },
                )
            chosen = role
            if chosen is None:
                held = sorted(wanted & actor.roles)
                if len(held) > 1:
                    raise ValidationError(
                        code="campaign.several_approver_roles",
                        params={"actor": repr(actor.id), "roles": list(held)},
                    )
                chosen = held[0] if held else sorted(wanted)[0]
            fact = Approval(role=chosen, decision=decision, comment=comment)
            denial = _authorize(actor, unit, {chosen}, action="approve")
            if denial is not None:
                self._append(
                    tx,
                    now,
                    now.date(),
                    "approve",
                    actor,
                    "denied",
                    unit_id=unit_id,
                    source=state.stage,
                    version=state.version,
                    request_id=request_id,
                    payload=base_payload,
                    reason=denial,
                )
                result: FactRecord | _Denied = _Denied(_not_authorized(denial, actor, unit_id))
            else:
                payload = {**base_payload, "fact": self.fact_types.dump(fact)}
                result = self._add_fact(
                    tx, now, unit, state, fact, payload, actor, request_id, command="approve"
                )
        if isinstance(result, _Denied):
            raise result.error
        return result

    def _add_fact(
        self,
        tx: StoreSession,
        now: datetime,
        unit: Unit,
        state: UnitState,
        fact: object,
        payload: dict[str, Any],
        actor: Actor,
        request_id: str | None,
        *,
        command: str = "record",
    ) -> FactRecord:
        seq = self._append(
            tx,
            now,
            now.date(),
            command,
            actor,
            "ok",
            unit_id=unit.id,
            source=state.stage,
            version=state.version,
            request_id=request_id,
            payload=payload,
            workflow=self._ref_of(state),
        )
        if isinstance(fact, Survey):
            counts = (
                fact.satisfied,
                fact.fairly_satisfied,
                fact.basically_satisfied,
                fact.dissatisfied,
            )
            tx.set_assessment(unit.id, seq, counts)
        record = FactRecord(
            unit_id=unit.id,
            stage=state.stage,
            version=state.version,
            fact=fact,
            on=now.date(),
            at=now,
            actor_id=actor.id,
            seq=seq,
            request_id=request_id,
        )
        tx.insert_fact(record)
        return record

    def _fact_record_of(self, audit: AuditRecord) -> FactRecord:
        if audit.outcome != "ok":
            raise self._refusal_of(audit)
        return FactRecord(
            unit_id=audit.unit_id or "",
            stage=audit.source or "",
            version=audit.version or 0,
            fact=self.fact_types.load(audit.payload["fact"]),
            on=audit.on,
            at=audit.at,
            actor_id=audit.actor_id,
            seq=audit.seq,
            request_id=audit.request_id,
        )

    # --- judging and moving -------------------------------------------------------------

    def check(
        self, unit_id: str, trigger: str = "advance", *, actor: Actor | None = None
    ) -> Decision:
        """The dry run of ``advance``: every verdict of every candidate; writes nothing.

        With ``actor``, candidates reserved (``by``) for roles the actor lacks are left out,
        exactly as ``advance`` by that actor would.

        Raises:
            UnknownUnit: no such unit.
        """
        if actor is not None:
            _check_actor(actor)
        _check_trigger(trigger)
        today = self._now().date()
        with self.store.transaction(write=False) as tx:
            unit, state = self._load(tx, unit_id)
            return self._decide(
                tx, unit, state, today, trigger, None if actor is None else actor.roles
            )

    def advance(
        self,
        unit_id: str,
        *,
        actor: Actor,
        request_id: str | None = None,
        trigger: str = "advance",
    ) -> TransitionRecord:
        """Move the unit on if its gates hold, judged against the data that commits.

        Returns:
            The transition record.

        Raises:
            TransitionRejected: a gate held; ``.decision`` says which, with the numbers.
            NotAuthorized: the transition names roles the actor does not hold.
            ValidationError: unknown unit or trigger.
        """
        _check_trigger(trigger)
        return observe_advance(
            lambda: self._fire(unit_id, trigger, actor, request_id, batch=None),
            unit_id=unit_id,
            trigger=trigger,
            workflow=self.workflow.name,
        )

    def defer(
        self,
        unit_id: str,
        *,
        actor: Actor,
        to_batch: int | None = None,
        request_id: str | None = None,
    ) -> TransitionRecord:
        """Move a late unit to a later batch (b2 → b3 for units that could not start).

        Fires the workflow's ``defer`` transition from the unit's stage; the unit starts
        afresh in the new batch (the next one by default).

        Raises:
            ValidationError: the batch is not later or not in the workflow; no ``defer``
                transition leaves the unit's stage.
            TransitionRejected, NotAuthorized: as for :meth:`advance`.
        """
        if to_batch is not None:
            whole_number("defer: to_batch", to_batch, minimum=1)
        return self._fire(unit_id, "defer", actor, request_id, batch=to_batch or 0)

    def start_batch(
        self, batch: int, on: date | None = None, *, actor: Actor = SYSTEM
    ) -> list[AdvanceOutcome]:
        """Start every waiting unit of ``batch``: fire ``start`` for each, on ``on`` (today).

        Each unit moved gets its own audit record (units are taken a page per transaction,
        as in :meth:`advance_all`); units whose ``start`` gates hold move, the others stay
        with their decision in the outcome.
        """
        whole_number("start_batch: batch", batch, minimum=1)
        if on is not None and (not isinstance(on, date) or isinstance(on, datetime)):
            refuse("start_batch", on, "on must be a date")
        if self.workflow.batches and self.workflow.batch(batch) is None:
            raise ValidationError(code="campaign.no_such_batch", params={"batch": batch})
        return self._sweep(batch, "start", actor, on, waiting_only=True)

    def advance_all(
        self, *, batch: int | None = None, actor: Actor = SYSTEM, trigger: str = "advance"
    ) -> list[AdvanceOutcome]:
        """Try ``trigger`` on every unfinished unit (of ``batch``); move those whose gates hold.

        A sweep: units that cannot move are reported with their decision, and only applied
        transitions are audited (a sweep refusing 10,000 blocked units is not 10,000 denials).
        Units are taken in the order they were added, a page of them per transaction.

        Raises:
            ConcurrencyConflict: another writer held the store past its timeout before a page
                could be read; the pages before it are committed, and sweeping again goes on.
        """
        if batch is not None:
            whole_number("advance_all: batch", batch, minimum=1)
        _check_trigger(trigger)
        return self._sweep(batch, trigger, actor, None, waiting_only=False)

    def _sweep(
        self, batch: int | None, trigger: str, actor: Actor, on: date | None, *, waiting_only: bool
    ) -> list[AdvanceOutcome]:
        _check_actor(actor)
        outcomes: list[AdvanceOutcome] = []
        now = self._now()
        day = on or now.date()
        # A page of units per write transaction, read inside it: what is judged is what
        # commits, and a durable store pays one commit (one fsync) per page, not per unit.
        # A conflict inside a page rolls it back; it is then redone unit by unit so one
        # contended unit cannot hold up the rest.
        # Whether (and by which version) a unit is tried depends on its version and stage
        # only: asked once per pair in a sweep, not once per unit.
        tries: dict[tuple[str, str], Workflow | None] = {}
        after, more = 0, True
        while more:
            part: list[str] | None = None
            try:
                with self.store.transaction() as tx:
                    page, after = tx.page_units(batch, after, _SWEEP_CHUNK)
                    more = len(page) == _SWEEP_CHUNK
                    tried, judges = self._tried(tx, page, trigger, waiting_only, tries)
                    part = [unit.id for unit, _ in tried]
                    tx.prefetch(part)
                    done = self._sweep_units(tx, now, day, tried, judges, trigger, actor)
            except ConcurrencyConflict:
                if part is None:  # the page itself could not be read: nothing was judged
                    raise
                done = []
                for unit_id in part:
                    try:
                        with self.store.transaction() as tx:
                            found = self._load(tx, unit_id)
                            done += self._sweep_units(
                                tx, now, day, (found,), (self._wf(tx, found[1]),), trigger, actor
                            )
                    except ConcurrencyConflict:
                        held = self.check(unit_id, trigger, actor=actor)
                        done.append(AdvanceOutcome(unit_id, False, held))
            outcomes.extend(done)
        return outcomes

    def _tried(
        self,
        tx: StoreSession,
        page: Sequence[tuple[Unit, UnitState]],
        trigger: str,
        waiting_only: bool,
        tries: dict[tuple[str, str], Workflow | None],
    ) -> tuple[list[tuple[Unit, UnitState]], list[Workflow]]:
        """The units of ``page`` a sweep tries, and alongside (not paired: nothing to
        allocate per unit) the workflow version judging each.

        ``tries``: the sweep's answers of :meth:`_sweeps` by (version, stage), filled here.
        """
        tried: list[tuple[Unit, UnitState]] = []
        judges: list[Workflow] = []
        for pair in page:
            state = pair[1]
            key = (state.workflow, state.stage)
            if key in tries:
                workflow = tries[key]
            else:
                workflow = tries[key] = self._sweeps(tx, state, trigger, waiting_only)
            if workflow is not None:
                tried.append(pair)
                judges.append(workflow)
        return tried, judges

    def _sweeps(
        self, tx: StoreSession, state: UnitState, trigger: str, waiting_only: bool
    ) -> Workflow | None:
        """The workflow that judges the unit in ``state``, if a sweep of ``trigger`` tries it."""
        workflow = self._wf(tx, state)
        tried = (
            not workflow.is_final(state.stage)
            and (not waiting_only or workflow.stage(state.stage).kind == "waiting")
            and workflow.candidates(state.stage, trigger)
        )
        return workflow if tried else None

    def _sweep_units(
        self,
        tx: StoreSession,
        now: datetime,
        day: date,
        units: Sequence[tuple[Unit, UnitState]],
        workflows: Sequence[Workflow],
        trigger: str,
        actor: Actor,
    ) -> list[AdvanceOutcome]:
        """Judge each unit and move those whose gates hold, in one write of the session.

        ``units``: each unit with its state as read in this session; ``workflows``: the
        version that judges each, in the same order. The moves are chained
        onto the head in order and handed to the store together, so a page of a sweep
        costs the store one call.
        """
        seq, prev = tx.audit_head()
        stamp = self._stamp(now, day, actor, page=True)
        observed = observing()  # asked once per page, not once per unit judged
        moves: list[tuple[UnitState, int, AuditRow]] = []
        outcomes: list[AdvanceOutcome] = []
        for (unit, state), workflow in zip(units, workflows, strict=True):
            unit_id = unit.id
            decision = self._decide(tx, unit, state, day, trigger, actor.roles, workflow, observed)
            if not decision.allowed:
                outcomes.append(AdvanceOutcome(unit_id, False, decision))
                continue
            seq += 1
            new, row, record = self._moved(
                workflow, stamp, unit, state, decision, None, None, seq, prev
            )
            prev = row[-1]
            moves.append((new, state.version, row))
            outcomes.append(AdvanceOutcome(unit_id, True, decision, record))
        if moves:
            tx.apply_transitions(moves)
        return outcomes

    def _fire(
        self, unit_id: str, trigger: str, actor: Actor, request_id: str | None, *, batch: int | None
    ) -> TransitionRecord:
        _check_actor(actor)
        _check_request_id(request_id)
        if not isinstance(trigger, str) or not trigger:
            refuse("trigger", trigger, "must be a trigger name")
        command = "defer" if batch is not None else "advance"
        payload: dict[str, Any] = {"trigger": trigger}
        if batch:
            payload["to_batch"] = batch
        now = self._now()
        today = now.date()
        with self.store.transaction() as tx:
            replay = self._replayed(tx, request_id, command, unit_id, payload)
            if replay is not None:
                return self._transition_record_of(replay)
            unit, state = self._load(tx, unit_id)
            workflow = self._wf(tx, state)
            candidates = workflow.candidates(state.stage, trigger)
            if not candidates:
                raise ValidationError(
                    code="campaign.no_such_transition",
                    params={
                        "unit": repr(unit_id),
                        "trigger": repr(trigger),
                        "stage": repr(state.stage),
                        "have": list(workflow.triggers(state.stage)),
                    },
                )
            if batch is not None:
                batch = self._check_defer_batch(unit_id, state, batch, workflow)
                payload["to_batch"] = batch
            denial = None
            if not any(not c.by or c.by & actor.roles for c in candidates):
                roles = frozenset().union(*(c.by for c in candidates))
                denial = _authorize(actor, unit, roles, action="move")
            if denial is not None:
                self._append(
                    tx,
                    now,
                    today,
                    command,
                    actor,
                    "denied",
                    unit_id=unit_id,
                    source=state.stage,
                    version=state.version,
                    request_id=request_id,
                    payload=payload,
                    reason=denial,
                )
                result: TransitionRecord | _Denied = _Denied(
                    _not_authorized(denial, actor, unit_id)
                )
            else:
                decision = self._decide(tx, unit, state, today, trigger, actor.roles)
                if decision.allowed:
                    seq, prev = tx.audit_head()
                    new, row, result = self._moved(
                        self._wf(tx, state),
                        self._stamp(now, today, actor),
                        unit,
                        state,
                        decision,
                        request_id,
                        batch,
                        seq + 1,
                        prev,
                        command,
                    )
                    tx.apply_transitions(((new, state.version, row),))
                else:
                    seq = self._append(
                        tx,
                        now,
                        today,
                        command,
                        actor,
                        "denied",
                        unit_id=unit_id,
                        source=state.stage,
                        dest=decision.target,
                        version=state.version,
                        request_id=request_id,
                        payload=payload,
                        decision=decision_to_data(decision),
                        reason={"code": "transition.rejected", "params": {}},
                        workflow=self._ref_of(state),
                    )
                    # The latest refusal, kept for stuck lists and roll-ups in this same
                    # transaction: the overview never replays the trail.
                    tx.set_refusal(
                        Refusal(
                            unit_id=unit_id,
                            stage=state.stage,
                            version=state.version,
                            trigger=trigger,
                            target=decision.target,
                            on=today,
                            seq=seq,
                            failures=tuple(
                                attrs.evolve(f, children=()) for f in decision.failures()
                            ),
                        )
                    )
                    result = _Denied(TransitionRejected(decision))
        if isinstance(result, _Denied):
            raise result.error
        return result

    def _check_defer_batch(
        self, unit_id: str, state: UnitState, batch: int, workflow: Workflow
    ) -> int:
        target = batch or state.batch + 1
        if target <= state.batch:
            raise ValidationError(
                code="campaign.to_batch_not_later",
                params={"unit": repr(unit_id), "batch": state.batch, "target": target},
            )
        if workflow.batches and workflow.batch(target) is None:
            raise ValidationError(
                code="campaign.to_batch_unknown",
                params={
                    "unit": repr(unit_id),
                    "batches": [str(b.number) for b in workflow.batches],
                    "target": target,
                },
            )
        return target

    def _stamp(self, now: datetime, day: date, actor: Actor, *, page: bool = False) -> _Stamp:
        """The stamp of a command ``actor`` issues at ``now`` (business day ``day``).

        ``page``: for a page of a sweep, whose transitions share an audit body template.
        """
        texts = (iso_instant(now), iso_date(day), roles_json(self._roles_of(actor)))
        return _Stamp(now, day, actor, *texts, {} if page else None)

    def _moved(
        self,
        workflow: Workflow,
        stamp: _Stamp,
        unit: Unit,
        state: UnitState,
        decision: Decision,
        request_id: str | None,
        batch: int | None,
        seq: int,
        prev: str,
        command: str = "advance",
    ) -> tuple[UnitState, AuditRow, TransitionRecord]:
        """The unit's new state, its transition's sealed audit row, and the transition record.

        The row is the record as the store writes it, sealed without building an
        AuditRecord: a transition is the one record a sweep writes for each unit it moves.
        """
        assert decision.target is not None
        day = stamp.day
        new = next_state(workflow, state, decision.target, day, batch=batch)
        key = (decision.trigger, new.batch, batch or None)
        payload_text = self._payload_texts.get(key)
        if payload_text is None:
            payload: dict[str, Any] = {"trigger": decision.trigger, "batch": new.batch}
            if batch:
                payload["to_batch"] = batch
            payload_text = self._payload_texts[key] = canonical_json(payload)
        ref = self._ref_of(state) or self._workflow_ref
        try:
            row = seal_row(
                AuditRow(
                    seq=seq,
                    at=stamp.at_text,
                    on=stamp.on_text,
                    campaign=self.campaign_id,
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
                    decision=self._encoder.decision_text(decision),
                    reason=None,
                    prev_hash=prev,
                ),
                encoder=self._encoder,
            )
        except _UNRECORDABLE as exc:
            raise _unrecordable(command, exc) from None
        # By position (unit_id, trigger, source, dest, version, on, at, actor_id, seq,
        # request_id, batch): one per unit a sweep moves.
        record = TransitionRecord(
            unit.id, decision.trigger, state.stage, new.stage, new.version, day, stamp.now,
            stamp.actor.id, seq, request_id, new.batch,
        )  # fmt: skip
        return new, row, record

    def _transition_record_of(self, audit: AuditRecord) -> TransitionRecord:
        if audit.outcome != "ok":
            raise self._refusal_of(audit)
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

    def _refusal_of(self, audit: AuditRecord) -> Exception:
        reason = audit.reason or {}
        if audit.decision is not None:
            judge = self._versions.get(audit.workflow, self.workflow)
            decision = decision_from_data(audit.unit_id or "", audit.decision, judge.name)
            # Titles are text, never stored in the chain: restore them from the workflow so a
            # replayed refusal explains itself exactly as the first delivery did.
            titles = stage_titles(judge, decision.source, decision.target)
            return TransitionRejected(
                attrs.evolve(
                    decision,
                    titles=titles,
                    judged_by=audit.workflow,
                    versioned=len(self._versions) > 1,
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

    # --- overview -----------------------------------------------------------------------

    @overload
    def progress(self, *, batch: int | None = None, top: int = 10) -> Progress: ...

    @overload
    def progress(
        self, *, under: str, depth: int | None = None, batch: int | None = None, top: int = 10
    ) -> OrgProgress: ...

    def progress(
        self,
        *,
        batch: int | None = None,
        top: int = 10,
        under: str | None = None,
        depth: int | None = None,
    ) -> Progress | OrgProgress:
        """Counts per batch and stage, and the ``top`` reasons holding units back.

        Without ``under``: every unit (of ``batch``); blocking reasons come from a dry run
        of ``advance`` on each unit that has started and not finished.

        With ``under`` (an organisation id): an :class:`~campaignflow.orgtree.OrgProgress`
        rolled up the organisation tree — per stage and batch, finished on time, remedial,
        stuck units and the gates holding them (from their latest refusals), the pooled
        satisfaction assessments — for the organisation and its children to ``depth``
        levels (all when None). Answered by a few indexed queries: nothing is replayed.
        """
        _check_batch(batch)
        whole_number("top", top, minimum=0)
        if under is not None:
            return self._rollup(under, batch=batch, depth=depth, top=top)
        if depth is not None:
            raise ValidationError(code="campaign.depth_needs_under")
        today = self._now().date()
        by_batch: dict[int, Counter[str]] = {}
        blocking: Counter[str] = Counter()
        total = finished = remedial = 0
        with self.store.transaction(write=False) as tx:
            for unit, state in tx.iter_units(batch):
                total += 1
                by_batch.setdefault(state.batch, Counter())[state.stage] += 1
                workflow = self._wf(tx, state)
                stage = workflow.stage(state.stage)
                if stage.kind == "final":
                    finished += 1
                    continue
                remedial += state.remedial
                if stage.kind == "waiting":
                    continue
                decision = decide(workflow, unit, state, tx.get_facts(unit.id, state.stage), today)
                if not decision.allowed:
                    blocking.update({f.code for f in decision.failures()})
        return Progress(
            by_batch={b: dict(c) for b, c in sorted(by_batch.items())},
            total=total,
            finished=finished,
            remedial=remedial,
            blocking=tuple(sorted(blocking.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
        )

    # --- organisation tree ----------------------------------------------------------------

    def add_organisations(
        self,
        organisations: Iterable[Organisation],
        *,
        actor: Actor = SYSTEM,
        request_id: str | None = None,
    ) -> int:
        """Register organisations of the tree (district, city, province, …); all or none.

        Each organisation's parent must be registered already or be in the same call (in
        any order). One audit record lists them. Returns how many were added.

        Raises:
            ValidationError: listing every problem (not an Organisation, an id twice or
                already registered, a parent that is not registered, a cycle); nothing
                is added.
        """
        _check_actor(actor)
        _check_request_id(request_id)
        listed = _item_list(organisations, Organisation, "organisations")
        problems: list[str] = []
        seen: dict[str, Organisation] = {}
        for i, org in enumerate(listed):
            if not isinstance(org, Organisation):
                problems.append(
                    rule_problem(f"organisations[{i}]", org, "must be a campaignflow.Organisation")
                )
            elif org.id in seen:
                problems.append(
                    Problem(f"organisations[{i}]", "campaign.org_twice", {"org": repr(org.id)})
                )
            else:
                seen[org.id] = org
        if problems:
            raise ValidationError(code="validation.problems", problems=problems)
        payload = {"organisations": [attrs.asdict(o) for o in listed]}
        now = self._now()
        with self.store.transaction() as tx:
            if request_id is not None:
                first = tx.find_request(request_id)
                if first is not None:
                    if first.command != "add_organisations" or first.payload != payload:
                        raise ValidationError(
                            code="campaign.request_id_reused",
                            params={"request_id": repr(request_id), "command": first.command},
                        )
                    return len(listed)
            for i, org in enumerate(listed):
                if tx.get_organisation(org.id) is not None:
                    problems.append(
                        Problem(f"organisations[{i}]", "campaign.org_exists", {"org": repr(org.id)})
                    )
                elif (
                    org.parent is not None
                    and org.parent not in seen
                    and tx.get_organisation(org.parent) is None
                ):
                    problems.append(
                        Problem(
                            f"organisations[{i}]",
                            "campaign.org_parent_unknown",
                            {"org": repr(org.id), "parent": repr(org.parent)},
                        )
                    )
            ordered = _parents_first(listed, problems)
            if problems:
                raise ValidationError(code="validation.problems", problems=problems)
            for org in ordered:
                tx.insert_organisation(org)
            self._append(
                tx,
                now,
                now.date(),
                "add_organisations",
                actor,
                "ok",
                request_id=request_id,
                payload=payload,
            )
        return len(listed)

    def organisations(self, *, under: str | None = None) -> list[Organisation]:
        """The registered organisations (``under`` and those below it), parents first."""
        if under is not None:
            _check_org_id("under", under)
        with self.store.transaction(write=False) as tx:
            return list(tx.iter_organisations(under))

    def stuck(
        self,
        *,
        under: str | None = None,
        longer_than: int | None = None,
        batch: int | None = None,
        order_by: StuckOrder = "days_in_stage",
        offset: int = 0,
        limit: int | None = 50,
    ) -> StuckPage:
        """Units held in their stage: their latest refused move, the gates and days in stage.

        A unit is stuck when its latest refused ``advance`` (or other trigger) happened in
        the stage it is still in. Each entry carries the refusal (failing gate codes with
        their numbers) and the days since the unit entered its stage. One indexed query on
        every store; nothing is replayed.

        Args:
            under: an organisation id: only units under it (all units when None).
            longer_than: only units more than this many days in their stage.
            batch: only units now in this batch.
            order_by: ``days_in_stage`` (longest first), ``refused`` (newest refusal
                first) or ``added`` (the order units were added in).
            offset, limit: the page (``limit`` None: to the end).
        """
        if under is not None:
            _check_org_id("under", under)
        if longer_than is not None:
            whole_number("longer_than", longer_than, minimum=0)
        _check_batch(batch)
        one_of("order_by", order_by, STUCK_ORDERS)
        whole_number("offset", offset, minimum=0)
        if limit is not None:
            _check_limit(limit)
        today = self._now().date()
        # Past the calendar's start nothing can have waited longer: clamp instead of overflowing.
        before = (
            None
            if longer_than is None
            else today - timedelta(days=min(longer_than, (today - date.min).days))
        )
        with self.store.transaction(write=False) as tx:
            total, rows = tx.stuck_units(
                under,
                batch=batch,
                stage_before=before,
                order_by=order_by,
                offset=offset,
                limit=limit,
            )
        units = tuple(
            StuckUnit(unit, state, refusal, (today - (state.stage_since or today)).days)
            for unit, state, refusal in rows
        )
        return StuckPage(total=total, offset=offset, units=units)

    def _rollup(self, under: str, *, batch: int | None, depth: int | None, top: int) -> OrgProgress:
        _check_org_id("under", under)
        if depth is not None:
            whole_number("depth", depth, minimum=0)
        closes = {b.number: b.closes for b in self.workflow.batches}
        with self.store.transaction(write=False) as tx:
            self._sync_versions(tx)
            root = tx.get_organisation(under)
            orgs = list(tx.iter_organisations(under)) if root is not None else []
            groups = tx.rollup_counts(under, batch=batch, closes=closes)
            blocking = tx.blocking_counts(under, batch=batch)
        if root is None:
            if not groups:
                refuse("under", under, "must be a registered organisation or the parent of a unit")
            root = Organisation(id=under, name=under, level="unregistered")
        finals = {s.id for w in self._versions.values() for s in w.stages if s.kind == "final"}
        return build_rollup(
            root,
            orgs,
            groups,
            blocking,
            is_final=finals.__contains__,
            depth=depth,
            top=top,
        )

    def backfill_overview(self) -> tuple[int, int]:
        """Fill the latest refusals and assessments from the audit trail; returns their counts.

        Roll-ups and stuck lists read what commands keep as they run (schema version 3 on).
        A database written by an earlier release has the history but not those rows: call
        this once after upgrading. Safe to repeat (it writes what the trail says).
        """
        refusals: dict[str, Refusal] = {}
        surveys: dict[str, tuple[int, tuple[int, int | None, int, int]]] = {}
        with self.store.transaction() as tx:
            for record in tx.iter_audit():
                if record.unit_id is None:
                    continue
                if record.outcome == "denied" and record.decision is not None:
                    decision = decision_from_data(record.unit_id, record.decision)
                    refusals[record.unit_id] = Refusal(
                        unit_id=record.unit_id,
                        stage=decision.source,
                        version=record.version or 0,
                        trigger=decision.trigger,
                        target=decision.target,
                        on=record.on,
                        seq=record.seq,
                        failures=tuple(attrs.evolve(f, children=()) for f in decision.failures()),
                    )
                fact = record.payload.get("fact") if record.outcome == "ok" else None
                survey = isinstance(fact, Mapping) and fact.get("kind") == "survey"
                if record.command == "record" and survey:
                    assert isinstance(fact, Mapping)
                    surveys[record.unit_id] = (
                        record.seq,
                        (
                            int(fact["satisfied"]),
                            fact.get("fairly_satisfied"),
                            int(fact["basically_satisfied"]),
                            int(fact["dissatisfied"]),
                        ),
                    )
            for refusal in refusals.values():
                tx.set_refusal(refusal)
            for unit_id, (seq, counts) in surveys.items():
                tx.set_assessment(unit_id, seq, counts)
        return len(refusals), len(surveys)

    # --- workflow versions ----------------------------------------------------------------

    def workflow_versions(self) -> tuple[WorkflowVersion, ...]:
        """Every workflow version of the campaign, oldest first (the first one alone before any adoption)."""
        with self.store.transaction(write=False) as tx:
            self._sync_versions(tx)
        if self._adopted:
            return self._adopted
        base = self._versions[self._first_ref]
        return (WorkflowVersion(1, self._first_ref, base.to_dict(), "base"),)

    def workflow_of(self, unit_id: str) -> Workflow:
        """The workflow version that judges the unit (``state(unit_id).workflow`` names it).

        Raises:
            UnknownUnit: no such unit.
        """
        with self.store.transaction(write=False) as tx:
            _, state = self._load(tx, unit_id)
            return self._wf(tx, state)

    def adopt(
        self,
        workflow: Workflow,
        *,
        policy: Policy = "pin",
        stage_map: Mapping[str, str] | None = None,
        from_batch: int | None = None,
        dry_run: bool = False,
        actor: Actor = SYSTEM,
        request_id: str | None = None,
    ) -> Adoption:
        """Adopt a new version of the campaign's workflow, in one audited command.

        Policies: ``pin`` — units in flight finish on their version; units not yet started
        and units added later take the new one. ``migrate`` — every unit moves to the new
        version; ``stage_map`` maps stages the new version renamed or removed (old id → new
        id). ``from_batch`` — as ``pin``, but only for batches ``from_batch`` and later
        (earlier batches keep their version, also for units added later). A unit moved to
        another stage id takes the facts of its stage along (a renamed stage keeps its
        evidence); its version counter and dates stay.

        ``dry_run``: plan only; the result lists every unit that would move and why, and
        nothing is written. The result of a real adoption lists the same.

        Raises:
            ValidationError: bad arguments, or a plan with problems — a unit mapped to a
                stage the new version lacks, a unit left without a stage, a mapping from an
                unknown stage, a batch the new version lacks — all listed in ``problems``;
                nothing changes.
        """
        if not isinstance(workflow, Workflow):
            refuse("workflow", workflow, "must be a Workflow")
        one_of("policy", policy, POLICIES)
        if policy == "from_batch":
            if from_batch is None:
                raise ValidationError(code="versions.from_batch_missing")
            whole_number("from_batch", from_batch, minimum=1)
        elif from_batch is not None:
            raise ValidationError(
                code="versions.from_batch_unexpected",
                params={"from_batch": repr(from_batch), "policy": repr(policy)},
            )
        mapping = _stage_map(stage_map)
        if not isinstance(dry_run, bool):
            refuse("dry_run", dry_run, "must be True or False")
        _check_actor(actor)
        _check_request_id(request_id)
        ref = workflow_ref(workflow)
        now = self._now()
        with self.store.transaction(write=not dry_run) as tx:
            if request_id is not None:
                first = tx.find_request(request_id)
                if first is not None:
                    if first.command != "adopt" or first.payload.get("workflow") != ref:
                        raise ValidationError(
                            code="campaign.request_id_reused",
                            params={"request_id": repr(request_id), "command": first.command},
                        )
                    return adoption_of(first.payload, seq=first.seq)
            self._sync_versions(tx)
            if ref == self._workflow_ref:
                raise ValidationError(code="versions.already_current", params={"ref": ref})
            units = list(tx.iter_units())
            changes, kept, problems = plan_adoption(
                workflow,
                ref,
                units,
                self._versions,
                default=self.workflow,
                first=self._first_ref,
                policy=policy,
                stage_map=mapping,
                from_batch=from_batch or 1,
            )
            if problems:
                # The message lists the first 20; ``problems`` keeps them all.
                hidden = max(0, len(problems) - 20)
                raise ValidationError(
                    code="versions.adopt_refused_more" if hidden else "versions.adopt_refused",
                    params={"ref": ref, "shown": 20, "hidden": hidden},
                    problems=problems,
                )
            adoption = Adoption(
                workflow=ref,
                previous=self._workflow_ref,
                policy=policy,
                from_batch=from_batch or 1,
                stage_map=mapping,
                dry_run=dry_run,
                changes=tuple(changes),
                kept=kept,
            )
            if dry_run:
                return adoption
            stored = list(self._adopted)
            if not stored:
                base = WorkflowVersion(
                    1, self._first_ref, self._versions[self._first_ref].to_dict(), "base"
                )
                tx.add_workflow_version(base)
                stored.append(base)
            seq = self._append(
                tx,
                now,
                now.date(),
                "adopt",
                actor,
                "ok",
                request_id=request_id,
                payload=payload_of(adoption, workflow.content_hash),
                workflow=ref,
            )
            version = WorkflowVersion(
                len(stored) + 1, ref, workflow.to_dict(), policy, from_batch or 1, seq
            )
            tx.add_workflow_version(version)
            states = {state.unit_id: state for _, state in units}
            for change in changes:
                state = states[change.unit_id]
                moved = migrated_state(workflow, ref, state, change.to_stage)
                tx.update_state(moved, expected_version=state.version)
                if change.to_stage != change.from_stage:
                    for fact in tx.get_facts(change.unit_id, change.from_stage):
                        tx.insert_fact(attrs.evolve(fact, stage=change.to_stage))
        self._versions[ref] = workflow
        self._adopted = (*stored, version)
        self._first_ref = stored[0].ref
        self.workflow = workflow
        self._workflow_ref = ref
        return attrs.evolve(adoption, seq=seq)

    # --- audit --------------------------------------------------------------------------

    def audit_trail(self, unit_id: str | None = None) -> Iterator[AuditRecord]:
        """The audit records in seq order (only the unit's, when given).

        Read in pages, each in its own short read transaction: a consumer that iterates
        slowly (or stops half-way) holds no transaction, snapshot or lock in between.
        Records never change once written, so the pages join into one consistent trail.
        """
        after = 0
        while True:
            with self.store.transaction(write=False) as tx:
                page = list(itertools.islice(tx.iter_audit(unit_id, after_seq=after), _AUDIT_PAGE))
            yield from page
            if len(page) < _AUDIT_PAGE:
                return
            after = page[-1].seq

    def audit_checkpoint(self) -> Checkpoint:
        """The head of the chain, to export and later check against truncation."""
        with self.store.transaction(write=False) as tx:
            seq, head = tx.audit_head()
        return Checkpoint(seq, head)

    def verify_audit(self, *, checkpoints: Sequence[Checkpoint] = ()) -> AuditVerification:
        """Recompute the hash chain; the result says whether it holds and where it breaks.

        Pass checkpoints exported earlier (:meth:`audit_checkpoint`, :meth:`export_audit`) to
        catch a truncated or rewritten tail. After a purge the chain is checked from the
        purge's anchor.
        """
        checkpoints = _checkpoint_list(checkpoints)
        with self.store.transaction(write=False) as tx:
            return verify_chain(tx.iter_audit(), checkpoints=checkpoints, anchor=tx.audit_anchor())

    def export_audit(self, stream: IO[str], *, after_seq: int | None = None) -> Checkpoint:
        """Write audit records as JSON Lines (one ``AuditRecord.to_data()`` per line).

        Writes the records after ``after_seq`` (by default, after the last export) and marks
        them exported, which allows :meth:`purge_audit` to remove them later. Keep the
        returned checkpoint elsewhere: it detects later truncation or rewriting.
        """
        if after_seq is not None and (not isinstance(after_seq, int) or after_seq < 0):
            refuse("after_seq", after_seq, "must be a whole number >= 0")
        with self.store.transaction(write=False) as tx:
            start = tx.exported_through() if after_seq is None else after_seq
            head = Checkpoint(*tx.audit_head())
            last: AuditRecord | None = None
            for record in tx.iter_audit():
                if start < record.seq <= head.seq:
                    stream.write(canonical_json(record.to_data()) + "\n")
                    last = record
        if last is not None:
            with self.store.transaction() as tx:
                tx.mark_exported(last.seq)
        return head

    def purge_audit(self, *, older_than: date, retention_days: int = RETENTION_DAYS) -> int:
        """Delete exported audit records dated before ``older_than``; returns how many.

        Records younger than ``retention_days`` (180 by default: 等保 2.0 asks for at least
        six months) and records not yet exported are never purged: the call is refused.
        The chain stays verifiable from the last purged record (its anchor).

        Raises:
            ValidationError: ``older_than`` is inside the retention period, or records
                before it have not been exported.
        """
        if not isinstance(older_than, date) or isinstance(older_than, datetime):
            refuse("older_than", older_than, "must be a date")
        whole_number("retention_days", retention_days, minimum=0)
        if retention_days < RETENTION_DAYS:
            raise ValidationError(
                code="audit.retention_too_short",
                params={"minimum": RETENTION_DAYS, "retention_days": retention_days},
            )
        limit = self._now().date() - timedelta(days=retention_days)
        if older_than > limit:
            raise ValidationError(
                code="audit.purge_too_recent",
                params={
                    "retention_days": retention_days,
                    "limit": limit.isoformat(),
                    "older_than": older_than.isoformat(),
                },
            )
        with self.store.transaction() as tx:
            exported = tx.exported_through()
            through = 0
            for record in tx.iter_audit():
                if record.on >= older_than:
                    break
                if record.seq > exported:
                    raise ValidationError(
                        code="audit.purge_not_exported",
                        params={
                            "seq": record.seq,
                            "on": record.on.isoformat(),
                            "exported": exported,
                        },
                    )
                through = record.seq
            return tx.purge_audit(through) if through else 0

    # --- scale-out ------------------------------------------------------------------------

    def due_units(self, *, batch: int | None = None, limit: int = 100) -> list[str]:
        """Ids of up to ``limit`` started, unfinished units whose ``advance`` would pass now.

        A dry run for a host's scheduler; writes nothing.
        """
        _check_limit(limit)
        _check_batch(batch)
        today = self._now().date()
        due: list[str] = []
        with self.store.transaction(write=False) as tx:
            for unit, state in tx.iter_units(batch):
                workflow = self._wf(tx, state)
                if workflow.stage(state.stage).kind in ("waiting", "final"):
                    continue
                facts = tx.get_facts(unit.id, state.stage)
                if decide(workflow, unit, state, facts, today).allowed:
                    due.append(unit.id)
                    if len(due) >= limit:
                        break
        return due

    def advance_due(
        self,
        *,
        sweep: str,
        batch: int | None = None,
        limit: int = _CLAIM_LIMIT,
        actor: Actor = SYSTEM,
        trigger: str = "advance",
    ) -> list[AdvanceOutcome]:
        """Claim up to ``limit`` units not yet claimed in ``sweep``; advance those whose gates hold.

        The worker's primitive for sharing a batch between processes and machines: call it
        in a loop until it returns an empty list. Within one ``sweep`` (any text: a date, a
        job id) every started, unfinished unit is claimed by exactly one call, on every
        store (PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``). Claim and advance commit
        together, so a crashed worker's claims vanish with its transaction.
        """
        if not isinstance(sweep, str) or not sweep:
            refuse("sweep", sweep, "must be non-empty text")
        _check_limit(limit)
        _check_batch(batch)
        _check_actor(actor)
        # Units of every version in use: a stage counts if some version can move units on.
        stages = sorted(
            {
                s.id
                for w in self._versions.values()
                for s in w.stages
                if s.kind not in ("waiting", "final") and w.candidates(s.id, trigger)
            }
        )
        now = self._now()
        with self.store.transaction() as tx:
            claimed = tx.claim_units(sweep=sweep, stages=stages, limit=limit, batch=batch)
            tx.prefetch([unit.id for unit, _ in claimed])
            judges = [self._wf(tx, state) for _, state in claimed]
            return self._sweep_units(tx, now, now.date(), claimed, judges, trigger, actor)

    # --- internals ----------------------------------------------------------------------

    def _sync_versions(self, tx: StoreSession) -> None:
        """Learn the versions the store keeps (another process may have adopted one)."""
        stored = tx.workflow_versions()
        if len(stored) == len(self._adopted):
            return
        registry = getattr(self.workflow, "_registry", None)
        for version in stored:
            if version.ref not in self._versions:
                self._versions[version.ref] = Workflow.from_dict(
                    version.definition,
                    registry=registry,
                    source=f"workflow version {version.number} ({version.ref})",
                )
        self._adopted = tuple(stored)
        self._first_ref = stored[0].ref
        self.workflow = self._versions[stored[-1].ref]
        self._workflow_ref = stored[-1].ref

    def _ref_of(self, state: UnitState) -> str:
        """The ref of the version that judges ``state`` (the first one for older states)."""
        return state.workflow or self._first_ref

    def _wf(self, tx: StoreSession | None, state: UnitState) -> Workflow:
        """The workflow version that judges ``state``."""
        return self._wf_of(tx, state.workflow)

    def _wf_of(self, tx: StoreSession | None, state_ref: str) -> Workflow:
        """The workflow version a state with this ``workflow`` ref is judged by."""
        ref = state_ref or self._first_ref
        found = self._versions.get(ref)
        if found is None and tx is not None and ref not in self._unknown_refs:
            self._sync_versions(tx)
            found = self._versions.get(ref)
            if found is None:
                self._unknown_refs.add(ref)
        # A ref this campaign never kept (written before versions were kept, and opened
        # with another definition since): judged by the campaign's workflow, as before.
        return found if found is not None else self.workflow

    def _ref_for_batch(self, batch: int) -> str:
        """The version a unit of ``batch`` takes when added now."""
        chosen = self._workflow_ref
        if self._adopted:
            chosen = self._adopted[0].ref
            for version in self._adopted:
                if version.from_batch <= batch:
                    chosen = version.ref
        return chosen

    def _decide(
        self,
        tx: StoreSession,
        unit: Unit,
        state: UnitState,
        today: date,
        trigger: str,
        roles: frozenset[str] | None,
        workflow: Workflow | None = None,
        observed: bool | None = None,
    ) -> Decision:
        """The unit's decision, judged by its own workflow version on its stage's facts.

        ``workflow``: that version, when the caller already has it; ``observed``: see
        :func:`~campaignflow.engine.decide`.
        """
        return decide(
            workflow or self._wf(tx, state),
            unit,
            state,
            tx.get_facts(unit.id, state.stage),
            today,
            trigger,
            roles=roles,
            judged_by=self._ref_of(state),
            versioned=len(self._versions) > 1,
            observed=observed,
        )

    def _load(self, tx: StoreSession, unit_id: str) -> tuple[Unit, UnitState]:
        _check_unit_id(unit_id)
        found = tx.get_unit_state(unit_id)
        if found is None:
            raise UnknownUnit(unit_id)
        return found

    def _check_open(self, state: UnitState, doing: str) -> None:
        stage = self._wf(None, state).stage(state.stage)
        if stage.kind == "waiting":
            raise ValidationError(
                code="campaign.unit_not_started",
                params={"unit": repr(state.unit_id), "stage": repr(state.stage), "doing": doing},
            )
        if stage.kind == "final":
            raise ValidationError(
                code="campaign.unit_finished",
                params={"unit": repr(state.unit_id), "stage": repr(state.stage), "doing": doing},
            )

    def _replayed(
        self,
        tx: StoreSession,
        request_id: str | None,
        command: str,
        unit_id: str,
        payload: Mapping[str, Any],
    ) -> AuditRecord | None:
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
        return first

    def _roles_of(self, actor: Actor) -> tuple[str, ...]:
        """The actor's roles as records keep them: sorted."""
        roles = self._sorted_roles.get(actor.roles)
        if roles is None:
            roles = self._sorted_roles[actor.roles] = tuple(sorted(actor.roles))
        return roles

    def _append(
        self,
        tx: StoreSession,
        now: datetime,
        on: date,
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
        seq, prev = tx.audit_head()
        roles = self._roles_of(actor)
        try:
            record = seal(
                AuditRecord(
                    seq=seq + 1,
                    at=now,
                    on=on,
                    campaign=self.campaign_id,
                    command=command,
                    actor_id=actor.id,
                    actor_roles=roles,
                    outcome=outcome,
                    unit_id=unit_id,
                    source=source,
                    dest=dest,
                    version=version,
                    request_id=request_id,
                    workflow=workflow or self._workflow_ref,
                    payload=dict(payload or {}),
                    decision=decision,
                    reason=reason,
                    prev_hash=prev,
                )
            )
        except _UNRECORDABLE as exc:
            raise _unrecordable(command, exc) from None
        tx.append_audit(record)
        return record.seq


# What encoding a record raises on data a host's own fact type or guard carries that JSON
# cannot hold exactly (NaN, an object; a lone surrogate fails when the text is hashed).
_UNRECORDABLE = (UnicodeEncodeError, ValueError, TypeError)


def _unrecordable(command: str, exc: BaseException) -> ValidationError:
    """The command is refused (its transaction rolls back): its record cannot be written."""
    return ValidationError(
        code="campaign.payload_unrecordable", params={"command": command, "exc": str(exc)}
    )


def _default_fact_types() -> FactTypes:
    return fact_types


def _check_unit_id(unit_id: object) -> None:
    if not isinstance(unit_id, str):
        refuse("unit_id", unit_id, "must be text")
    if not is_valid_unicode(unit_id):
        raise UnknownUnit(unit_id)


def _unit_list(units: object) -> list[Any]:
    if isinstance(units, Unit):
        return [units]
    if isinstance(units, str | bytes) or not isinstance(units, Iterable):
        refuse("units", units, "must be an iterable of campaignflow.Unit")
    return list(units)


def _checkpoint_list(checkpoints: object) -> tuple[Checkpoint, ...]:
    if isinstance(checkpoints, str | bytes) or not isinstance(checkpoints, Iterable):
        refuse("checkpoints", checkpoints, "must be a sequence of Checkpoint")
    listed = tuple(checkpoints)
    for i, checkpoint in enumerate(listed):
        if not isinstance(checkpoint, Checkpoint):
            refuse(f"checkpoints[{i}]", checkpoint, "must be a Checkpoint")
    return listed


def _check_trigger(trigger: object) -> None:
    if not isinstance(trigger, str):
        refuse("trigger", trigger, "must be the name of a transition")


def _check_batch(batch: object) -> None:
    if batch is not None:
        whole_number("batch", batch, minimum=1)


def _check_limit(limit: object) -> None:
    whole_number("limit", limit, minimum=1)


def _check_actor(actor: object) -> None:
    if not isinstance(actor, Actor):
        refuse("actor", actor, "must be a campaignflow.Actor")


_REQUEST_ID = re.compile(r"\S{1,200}")


def _check_request_id(request_id: object) -> None:
    if request_id is None:
        return
    if (
        not isinstance(request_id, str)
        or not _REQUEST_ID.fullmatch(request_id)
        or not request_id.isprintable()
    ):
        refuse("request_id", request_id, "must be 1-200 printable characters without white space")


def _authorize(
    actor: Actor, unit: Unit, roles: set[str] | frozenset[str], *, action: str
) -> dict[str, Any] | None:
    """None when ``actor`` may act; otherwise the denial reason as code and params."""
    if roles and not (actor.roles & roles):
        return {
            "code": "not_authorized.missing_role",
            "params": {"actor": actor.id, "roles": sorted(roles), "action": action},
        }
    if roles and actor.unit == unit.id and action != "move":
        return {
            "code": "not_authorized.own_unit",
            "params": {"actor": actor.id, "unit": unit.id, "action": action},
        }
    return None


def _not_authorized(reason: Mapping[str, Any], actor: Actor, unit_id: str) -> NotAuthorized:
    return NotAuthorized(
        messages.render(reason["code"], reason["params"], "en"),
        actor_id=actor.id,
        unit_id=unit_id,
        rule=reason["code"],
        params=reason["params"],
    )


def _item_list(items: object, kind: type, name: str) -> list[Any]:
    if isinstance(items, kind):
        return [items]
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ValidationError(
            code="validation.iterable_of",
            params={"field": name, "kind": kind.__name__, "value": repr(items)},
        )
    return list(items)


def _parents_first(orgs: Sequence[Organisation], problems: list[str]) -> list[Organisation]:
    """``orgs`` ordered so each parent in the call comes before its children; cycles reported."""
    by_id = {o.id: o for o in orgs}
    ordered: list[Organisation] = []
    placed: set[str] = set()
    for org in orgs:
        chain: list[Organisation] = []
        current: Organisation | None = org
        while current is not None and current.id not in placed:
            if current in chain:
                problems.append(
                    Problem("organisations", "campaign.org_cycle", {"org": repr(org.id)})
                )
                return ordered
            chain.append(current)
            current = by_id.get(current.parent) if current.parent is not None else None
        for item in reversed(chain):
            placed.add(item.id)
            ordered.append(item)
    return ordered


def _check_org_id(name: str, value: object) -> None:
    if (
        not isinstance(value, str)
        or not value
        or any(ch.isspace() or not ch.isprintable() for ch in value)
    ):
        refuse(name, value, "must be an organisation id (text)")


def _stage_map(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        refuse("stage_map", value, "must be a mapping of old stage id to new")
    mapping: dict[str, str] = {}
    for old, new in value.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise ValidationError(
                code="versions.stage_map_entry", params={"old": repr(old), "new": repr(new)}
            )
        mapping[old] = new
    return mapping
