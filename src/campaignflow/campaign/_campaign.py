"""``Campaign``: the runtime API an OA back end calls — record facts, check, advance, defer.

A thin face: each command is one store transaction (see ``_commands``); every other call is
handed, with the campaign's :class:`~._core.Core`, to the room that does the work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from os import PathLike
from typing import IO, Any, Literal, overload

import campaignflow.campaign._adoption as _adoption
import campaignflow.campaign._audit_ops as _audit_ops
import campaignflow.campaign._checks as _checks
import campaignflow.campaign._commands as _commands
import campaignflow.campaign._events as _events
import campaignflow.campaign._inbox as _inbox
import campaignflow.campaign._overview as _overview
import campaignflow.campaign._reminders as _reminders
import campaignflow.campaign._sweeps as _sweeps
import campaignflow.campaign._verify as _verify
import campaignflow.campaign._xlsx as _xlsx
from campaignflow._words.checks import one_of, refuse
from campaignflow._words.events import Event, EventPage
from campaignflow._words.facts import FactTypes
from campaignflow._words.facts import fact_types as default_fact_types
from campaignflow._words.overview import OrgProgress, StuckOrder, StuckPage
from campaignflow._words.records import (
    SYSTEM,
    Actor,
    FactRecord,
    Organisation,
    TransitionRecord,
    Unit,
    UnitState,
    WorkflowVersion,
)
from campaignflow._words.verdicts import Decision
from campaignflow._words.work import InboxPage
from campaignflow.audit import AuditRecord, AuditVerification, Checkpoint, StoreVerification
from campaignflow.campaign._audit_ops import RETENTION_DAYS
from campaignflow.campaign._core import Core, FromCore, resolve_store
from campaignflow.campaign._items import WORK_ITEMS_MODES
from campaignflow.campaign._overview import Progress
from campaignflow.campaign._sweeps import CLAIM_LIMIT, Outcomes
from campaignflow.clock import Clock, SystemClock
from campaignflow.errors import UnknownUnit, ValidationError
from campaignflow.store._protocol import Store
from campaignflow.workflow import Workflow
from campaignflow.workflow._versions import Adoption, Policy

__all__ = ["Campaign"]


class Campaign:
    """One campaign: a workflow applied to many units, over a store and a clock.

    Args:
        workflow: the rules (a preset, a file, or your own).
        store: a :class:`~campaignflow.store.Store`, a URL (``"sqlite:///campaign.db"``,
            ``"postgresql://..."``), or None for in memory.
        clock: where "now" comes from (the wall clock when None; a FixedClock in tests).
        campaign_id: names the campaign in audit records (and separates request ids).
        fact_types: the registry of fact types (the default one unless given).
        host: data for guards declared ``reads_host`` (``ctx.host``), e.g. a roster provider.
            Each call that judges a gate takes its own ``host=``, which wins; a gate judged
            with neither raises ``guard.host_missing`` (not checked here: see custom-guards.md).
        work_items: ``"in_transaction"``: once an inbox was read, each command keeps the work
            items (待办) it changes in its own transaction; ``"on_read"``: commands never do,
            ``inbox`` catches up on the audit records it has not seen (see worklists.md).
    """

    def __init__(
        self,
        workflow: Workflow,
        store: Store | str | None = None,
        *,
        clock: Clock | None = None,
        campaign_id: str = "default",
        fact_types: FactTypes | None = None,
        host: Any = None,
        work_items: Literal["in_transaction", "on_read"] = "in_transaction",
    ) -> None:
        if not isinstance(workflow, Workflow):
            refuse("workflow", workflow, "must be a Workflow")
        _checks.check_campaign_id(campaign_id)
        if clock is not None and not callable(getattr(clock, "now", None)):
            refuse("clock", clock, "must have a now() method")
        one_of("work_items", work_items, WORK_ITEMS_MODES)
        types = fact_types or default_fact_types
        core = self._core = Core(
            workflow,
            resolve_store(store, campaign_id, types),
            clock if clock is not None else SystemClock(),
            campaign_id,
            types,
            host,
        )
        core.items_on_read = work_items == "on_read"
        given = core.workflow_ref
        with core.store.transaction(write=False) as tx:
            core.sync_versions(tx)
        if core.adopted and given not in {v.ref for v in core.adopted}:
            if isinstance(store, str):
                core.store.close()
            known = ", ".join(v.ref for v in core.adopted)
            raise ValidationError(
                code="campaign.workflow_not_adopted", params={"given": given, "known": known}
            )

    workflow = FromCore[Workflow](
        "The campaign's current workflow version (the one units added now take)."
    )
    store = FromCore[Store]("Where the campaign keeps its units, facts and audit trail.")
    clock = FromCore[Clock]('Where "now" comes from.')
    campaign_id = FromCore[str]("The name of the campaign in its audit records.")
    fact_types = FromCore[FactTypes]("The registry of fact types the campaign records.")

    def __repr__(self) -> str:
        return f"<Campaign {self.campaign_id!r} on {self.workflow.name!r} in {self.store!r}>"

    def close(self) -> None:
        """Close the store."""
        self._core.store.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- units --------------------------------------------------------------------------

    def add_units(
        self, units: Iterable[Unit], *, actor: Actor = SYSTEM, request_id: str | None = None
    ) -> int:
        """Register units; all or none. Returns how many were added.

        Raises:
            ValidationError: listing every problem (not a Unit, a duplicate id in the call or
                in the campaign, a batch the workflow does not have); nothing is added.
        """
        return _commands.add_units(self._core, units, actor=actor, request_id=request_id)

    def unit(self, unit_id: str) -> Unit:
        """The unit with ``unit_id``; UnknownUnit if there is none."""
        return self._core.read(unit_id)[0]

    def state(self, unit_id: str) -> UnitState:
        """Where the unit stands now; UnknownUnit if there is no such unit."""
        return self._core.read(unit_id)[1]

    def units(self, *, batch: int | None = None) -> list[tuple[Unit, UnitState]]:
        """Every unit with its state (those in ``batch`` now, when given)."""
        _checks.check_batch(batch)
        with self._core.store.transaction(write=False) as tx:
            return list(tx.iter_units(batch))

    def history(self, unit_id: str) -> tuple[AuditRecord, ...]:
        """Every audit record of the unit, oldest first (denials included); UnknownUnit if none."""
        _checks.check_unit_id(unit_id)
        with self._core.store.transaction(write=False) as tx:
            if tx.get_unit(unit_id) is None:
                raise UnknownUnit(unit_id)
            return tuple(tx.iter_audit(unit_id))

    def facts(self, unit_id: str, stage: str | None = None) -> tuple[FactRecord, ...]:
        """The unit's fact records in ``stage`` (its current stage by default)."""
        core = self._core
        _checks.check_unit_id(unit_id)
        _checks.check_stage_name(stage)
        with core.store.transaction(write=False) as tx:
            state = tx.get_state(unit_id)
            if state is None:
                raise UnknownUnit(unit_id)
            if stage is not None and not any(w.has_stage(stage) for w in core.versions.values()):
                core.wf(tx, state).stage(stage)
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
        return _commands.record(self._core, unit_id, fact, actor=actor, request_id=request_id)

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
        return _commands.approve(
            self._core,
            unit_id,
            actor=actor,
            role=role,
            decision=decision,
            comment=comment,
            request_id=request_id,
        )

    # --- judging and moving -------------------------------------------------------------

    def check(
        self,
        unit_id: str,
        trigger: str = "advance",
        *,
        actor: Actor | None = None,
        host: Any = None,
    ) -> Decision:
        """The dry run of ``advance``: every verdict of every candidate; writes nothing.

        With ``actor``, candidates reserved (``by``) for roles the actor lacks are left out,
        exactly as ``advance`` by that actor would.

        Raises:
            UnknownUnit: no such unit.
        """
        return _commands.check(self._core, unit_id, trigger, actor=actor, host=host)

    def advance(
        self,
        unit_id: str,
        *,
        actor: Actor,
        request_id: str | None = None,
        trigger: str = "advance",
        host: Any = None,
    ) -> TransitionRecord:
        """Move the unit on if its gates hold, judged against the data that commits.

        Returns:
            The transition record.

        Raises:
            TransitionRejected: a gate held; ``.decision`` says which, with the numbers.
            NotAuthorized: the transition names roles the actor does not hold.
            ValidationError: unknown unit or trigger.
        """
        return _commands.advance(
            self._core, unit_id, actor=actor, request_id=request_id, trigger=trigger, host=host
        )

    def defer(
        self,
        unit_id: str,
        *,
        actor: Actor,
        to_batch: int | None = None,
        request_id: str | None = None,
        host: Any = None,
    ) -> TransitionRecord:
        """Move a late unit to a later batch (b2 → b3 for units that could not start).

        Fires the workflow's ``defer`` transition from the unit's stage; the unit starts
        afresh in the new batch (the next one by default).

        Raises:
            ValidationError: the batch is not later or not in the workflow, or no ``defer``
                leaves the stage. TransitionRejected, NotAuthorized: as for :meth:`advance`.
        """
        return _commands.defer(
            self._core, unit_id, actor=actor, to_batch=to_batch, request_id=request_id, host=host
        )

    def start_batch(
        self, batch: int, on: date | None = None, *, actor: Actor, host: Any = None
    ) -> Outcomes:
        """Start every waiting unit of ``batch`` as ``actor`` (audited, paged as :meth:`advance_all`).

        ``actor`` needs the roles of the ``start`` transition's ``by`` (``leading_group`` if
        none). Gates judge the clock's date; ``on`` (today) dates the starts: never after
        today, before it only by an actor also holding ``records_office`` (NotAuthorized).
        """
        return _sweeps.start_batch(self._core, batch, on, actor=actor, host=host)

    def advance_all(
        self,
        *,
        batch: int | None = None,
        actor: Actor = SYSTEM,
        trigger: str = "advance",
        host: Any = None,
    ) -> Outcomes:
        """Try ``trigger`` on every unfinished unit (of ``batch``); move those whose gates hold.

        A sweep: units that cannot move are reported with their decision, and only applied
        transitions are audited (a sweep refusing 10,000 blocked units is not 10,000 denials).
        A sweep of ``advance`` reads only the units that are due (touched since they were
        last judged, or whose earliest-move date has come), dirty ones first, then by date;
        the :class:`Outcomes` list the units judged. Other triggers take every unit in the
        order they were added. A page of units per transaction; the :class:`Outcomes` keep a
        few bytes per unit and rebuild each outcome when it is read.

        Raises:
            ConcurrencyConflict: another writer held the store past its timeout before a page
                could be read; the pages before it are committed, and sweeping again goes on.
        """
        return _sweeps.advance_all(self._core, batch=batch, actor=actor, trigger=trigger, host=host)

    # --- overview -----------------------------------------------------------------------

    @overload
    def progress(
        self, *, batch: int | None = None, top: int = 10, host: Any = None
    ) -> Progress: ...

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
        host: Any = None,
    ) -> Progress | OrgProgress:
        """Counts per batch and stage, and the ``top`` reasons holding units back.

        Without ``under``: every unit (of ``batch``); blocking reasons come from a dry run
        of ``advance`` on each unit that has started and not finished. With ``under`` (an
        organisation id): an :class:`~campaignflow.OrgProgress` rolled up the tree — per
        stage and batch, finished on time, remedial, stuck units and the gates holding them,
        pooled satisfaction — for it and its children to ``depth`` levels (all when None),
        from a few indexed queries (nothing is replayed).
        """
        return _overview.progress(
            self._core, batch=batch, top=top, under=under, depth=depth, host=host
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
                already registered, an unregistered parent, a cycle); nothing is added.
        """
        return _overview.add_organisations(
            self._core, organisations, actor=actor, request_id=request_id
        )

    def organisations(self, *, under: str | None = None) -> list[Organisation]:
        """The registered organisations (``under`` and those below it), parents first."""
        return _overview.organisations(self._core, under=under)

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

        One indexed query on every store. ``under``, ``batch``, ``longer_than`` (days in
        stage) filter; ``order_by`` is ``days_in_stage``, ``refused`` or ``added``;
        ``offset``, ``limit`` (None: to the end) page. See docs/org-tree.md.
        """
        return _overview.stuck(
            self._core,
            under=under,
            longer_than=longer_than,
            batch=batch,
            order_by=order_by,
            offset=offset,
            limit=limit,
        )

    def export_xlsx(
        self,
        target: str | PathLike[str] | IO[bytes],
        *,
        locale: str = "zh_CN",
        under: str | None = None,
    ) -> None:
        """Write the spreadsheet an office sends upward of the units ``under`` an organisation
        (all when None) to a path or binary stream (extra ``xlsx``; see docs/report.md)."""
        _xlsx.export_xlsx(self._core, target, locale=locale, under=under)

    def backfill_overview(self) -> tuple[int, int]:
        """Fill the latest refusals and assessments (kept since schema 3) from the audit trail,
        once on a database an earlier release wrote; safe to repeat. Returns their counts."""
        return _overview.backfill_overview(self._core)

    # --- workflow versions ----------------------------------------------------------------

    def workflow_versions(self) -> tuple[WorkflowVersion, ...]:
        """Every workflow version of the campaign, oldest first (the first one alone before any adoption)."""
        return _adoption.workflow_versions(self._core)

    def workflow_of(self, unit_id: str) -> Workflow:
        """The workflow version that judges the unit (``state(unit_id).workflow`` names it).

        Raises:
            UnknownUnit: no such unit.
        """
        return _adoption.workflow_of(self._core, unit_id)

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

        ``pin``: units in flight finish on their version, units not started (and added
        later) take the new one; ``migrate``: every unit moves, ``stage_map`` mapping stages
        renamed or removed (old id -> new id); ``from_batch``: as ``pin``, for batches from
        it on. ``dry_run``: plan only. See docs/workflow-versions.md.

        Raises:
            ValidationError: bad arguments, or a plan with problems, all listed; nothing changes.
        """
        return _adoption.adopt(
            self._core,
            workflow,
            policy=policy,
            stage_map=stage_map,
            from_batch=from_batch,
            dry_run=dry_run,
            actor=actor,
            request_id=request_id,
        )

    def events(
        self, after: int = 0, limit: int = 100, *, kinds: Collection[str] | None = None
    ) -> EventPage:
        """The exactly-once event feed after cursor ``after`` (see docs/events.md)."""
        return _events.events(self._core, after, limit, kinds)

    def inbox(
        self,
        actor: Actor,
        *,
        under: str | None = None,
        kind: str | None = None,
        due_before: date | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> InboxPage:
        """The work items (待办) awaiting ``actor``, a page at a time (docs/worklists.md)."""
        return _inbox.inbox(self._core, actor, under, kind, due_before, limit, after)

    def send_reminders(self, *, actor: Actor = SYSTEM, host: Any = None) -> list[Event]:
        """Write each reminder/escalation of the workflow's rules due now, once (worklists.md)."""
        return _reminders.send_reminders(self._core, actor=actor, host=host)

    # --- audit --------------------------------------------------------------------------

    def audit_trail(self, unit_id: str | None = None) -> Iterator[AuditRecord]:
        """The audit records in seq order (only the unit's, when given), read in pages.

        Each page is its own short read transaction: a slow consumer holds no lock.
        """
        return _audit_ops.audit_trail(self._core, unit_id)

    def audit_checkpoint(self) -> Checkpoint:
        """The head of the chain, to export and later check against truncation."""
        return _audit_ops.audit_checkpoint(self._core)

    def verify_audit(self, *, checkpoints: Sequence[Checkpoint] = ()) -> AuditVerification:
        """Recompute the hash chain; check the head pointer, the purge anchor and the
        ``checkpoints`` exported earlier (:meth:`audit_checkpoint`): a truncated tail."""
        return _audit_ops.verify_audit(self._core, checkpoints)

    def verify(self, *, checkpoints: Sequence[Checkpoint] = ()) -> StoreVerification:
        """:meth:`verify_audit`, then every unit, state and fact row against the trail."""
        return _verify.verify_store(self._core, checkpoints)

    def export_audit(self, stream: IO[str], *, after_seq: int | None = None) -> Checkpoint:
        """Write audit records as JSON Lines (one ``AuditRecord.to_data()`` per line).

        Writes the records after ``after_seq`` (default: the last export's) and marks them
        exported, so :meth:`purge_audit` may remove them later. Keep the returned checkpoint.
        """
        return _audit_ops.export_audit(self._core, stream, after_seq)

    def purge_audit(self, *, older_than: date, retention_days: int = RETENTION_DAYS) -> int:
        """Delete exported audit records dated before ``older_than``; returns how many.

        Records younger than ``retention_days`` (180 by default: 等保 2.0 asks for at least
        six months) or not yet exported are never purged. A purge record names what went.

        Raises:
            ValidationError: ``older_than`` is inside the retention period, or records
                before it have not been exported.
        """
        return _audit_ops.purge_audit(self._core, older_than, retention_days)

    # --- scale-out ------------------------------------------------------------------------

    def due_units(
        self, *, batch: int | None = None, limit: int = 100, host: Any = None
    ) -> list[str]:
        """Ids of up to ``limit`` started, unfinished units whose ``advance`` would pass now
        (a dry run for a host's scheduler; writes nothing)."""
        return _sweeps.due_units(self._core, batch=batch, limit=limit, host=host)

    def advance_due(
        self,
        *,
        sweep: str,
        batch: int | None = None,
        limit: int = CLAIM_LIMIT,
        actor: Actor = SYSTEM,
        trigger: str = "advance",
        host: Any = None,
    ) -> Outcomes:
        """Claim up to ``limit`` units not yet claimed in ``sweep``; advance those whose gates hold.

        The worker's primitive for sharing a batch between processes and machines: call it
        in a loop until it returns no outcome. Within one ``sweep`` (any text: a date, a
        job id) every started, unfinished unit is claimed by at most one call, on every
        store (PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``); of ``advance``, only units
        that are due, when they are. Claim and advance commit together, so a crashed
        worker's claims vanish with its transaction.
        """
        return _sweeps.advance_due(
            self._core,
            sweep=sweep,
            batch=batch,
            limit=limit,
            actor=actor,
            trigger=trigger,
            host=host,
        )
