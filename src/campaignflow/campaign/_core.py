"""The campaign's core: what every room of a campaign reads, and the caches it owns.

A :class:`Core` holds the store, the clock, the ids and every workflow version the campaign
knows; ``Campaign`` makes one and hands it to the functions of its rooms (commands, sweeps,
overview, adoption, audit operations). The caches here live as long as the campaign.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar, overload

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow._words.records import Actor, Unit, UnitState, WorkflowVersion
from campaignflow._words.verdicts import Decision
from campaignflow.audit._encode import Encoder, iso_date, iso_instant
from campaignflow.campaign._checks import check_unit_id
from campaignflow.clock import Clock
from campaignflow.errors import UnknownUnit, ValidationError
from campaignflow.observability import candidate_judge
from campaignflow.store import open_store
from campaignflow.store._protocol import Store, StoreSession
from campaignflow.store.memory import MemoryStore
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import decide, require_host, workflow_ref

__all__ = ["Core", "FromCore", "Stamp", "resolve_store"]


@attrs.frozen(kw_only=True)
class Stamp:
    """Who acts and when, with the texts each of the command's records stores for them.

    Made once per instant and actor (:meth:`Core.stamp`): the texts are the same for every
    record written at that instant by that actor, a page of a sweep or a run of commands
    on a fixed clock.
    """

    now: datetime
    day: date
    actor: Actor
    at_text: str
    on_text: str
    roles_text: str


def resolve_store(store: Store | str | None, campaign_id: str, fact_types: FactTypes) -> Store:
    """The store ``Campaign(store=...)`` names: in memory, opened from a URL, or as given."""
    if store is None or store == "memory://":
        return MemoryStore()
    if isinstance(store, str):
        return open_store(store, campaign_id=campaign_id, fact_types=fact_types)
    for name in ("transaction", "close"):
        if not callable(getattr(store, name, None)):
            refuse(
                "store",
                store,
                "must be a Store (with transaction() and close()) or a URL like 'sqlite:///campaign.db'",
            )
    return store


class Core:
    """A campaign's store, clock and ids, and every workflow version it knows.

    ``workflow`` is the current version (the one units added now take, unless a batch pins
    another); ``versions`` every version by ref, adopted ones learnt from the store.
    ``host``: the host's data guards that declare it read (``GuardContext.host``), unless
    a call gives its own.
    """

    __slots__ = (
        "adopted",
        "campaign_id",
        "clock",
        "encoder",
        "fact_types",
        "first_ref",
        "host",
        "items_on_read",
        "last_stamp",
        "payload_texts",
        "sorted_roles",
        "store",
        "unknown_refs",
        "versions",
        "workflow",
        "workflow_ref",
    )

    def __init__(
        self,
        workflow: Workflow,
        store: Store,
        clock: Clock,
        campaign_id: str,
        fact_types: FactTypes,
        host: Any = None,
    ) -> None:
        self.workflow = workflow
        self.host = host
        self.store = store
        self.clock = clock
        self.campaign_id = campaign_id
        self.fact_types = fact_types
        self.workflow_ref = workflow_ref(workflow)
        # Every workflow version the campaign knows, by ref; adopted ones come from the store.
        self.versions: dict[str, Workflow] = {self.workflow_ref: workflow}
        # Each actor's roles in the audit's (sorted) order: one sort per role set, not per record.
        self.sorted_roles: dict[frozenset[str], tuple[str, ...]] = {}
        # The canonical text of each transition payload (trigger, batch, to_batch) written:
        # a sweep writes the same few hundreds of times.
        self.payload_texts: dict[tuple[str, int, int | None], str] = {}
        # The audit texts this campaign's records repeat (stage ids, actors, verdicts).
        self.encoder = Encoder()
        # The stamp of the last command: the next one at the same instant, by the same
        # actor, writes the same texts (a fixed clock, a sweep's pages, a simulated day).
        self.last_stamp: Stamp | None = None
        self.adopted: tuple[WorkflowVersion, ...] = ()
        self.first_ref = self.workflow_ref
        self.unknown_refs: set[str] = set()
        # Work items caught up by ``inbox`` only, never kept by commands (``work_items=``).
        self.items_on_read = False

    def now(self) -> datetime:
        """The clock's instant, checked: commands stamp their records with it."""
        now = self.clock.now()
        if not isinstance(now, datetime) or now.tzinfo is None:
            refuse("clock", now, "now() must return an aware datetime")
        return now

    # --- workflow versions ----------------------------------------------------------------

    def sync_versions(self, tx: StoreSession) -> None:
        """Learn the versions the store keeps (another process may have adopted one)."""
        stored = tx.workflow_versions()
        if len(stored) == len(self.adopted):
            return
        registry = getattr(self.workflow, "_registry", None)
        for version in stored:
            if version.ref not in self.versions:
                self.versions[version.ref] = Workflow.from_dict(
                    version.definition,
                    registry=registry,
                    source=f"workflow version {version.number} ({version.ref})",
                )
        self.learn(tuple(stored))

    def learn(self, adopted: tuple[WorkflowVersion, ...]) -> None:
        """Take ``adopted`` (every stored version, oldest first) as the campaign's versions."""
        self.adopted = adopted
        self.first_ref = adopted[0].ref
        self.workflow = self.versions[adopted[-1].ref]
        self.workflow_ref = adopted[-1].ref

    def ref_of(self, state: UnitState) -> str:
        """The ref of the version that judges ``state`` (the first one for older states)."""
        return state.workflow or self.first_ref

    def wf(self, tx: StoreSession | None, state: UnitState) -> Workflow:
        """The workflow version that judges ``state``."""
        return self.wf_of(tx, state.workflow)

    def wf_of(self, tx: StoreSession | None, state_ref: str) -> Workflow:
        """The workflow version a state with this ``workflow`` ref is judged by."""
        ref = state_ref or self.first_ref
        found = self.versions.get(ref)
        if found is None and tx is not None and ref not in self.unknown_refs:
            self.sync_versions(tx)
            found = self.versions.get(ref)
            if found is None:
                self.unknown_refs.add(ref)
        # A ref this campaign never kept (written before versions were kept, and opened
        # with another definition since): judged by the campaign's workflow, as before.
        return found if found is not None else self.workflow

    def ref_for_batch(self, batch: int) -> str:
        """The version a unit of ``batch`` takes when added now."""
        chosen = self.workflow_ref
        if self.adopted:
            chosen = self.adopted[0].ref
            for version in self.adopted:
                if version.from_batch <= batch:
                    chosen = version.ref
        return chosen

    # --- host data ---------------------------------------------------------------------------

    def host_for(self, given: Any) -> Any:
        """The host data a call judges with: its own ``host=``, else the campaign's."""
        return self.host if given is None else given

    def require_host(self, trigger: str, host: Any) -> None:
        """Refuse a sweep of ``trigger`` without host data when some version's gate reads it.

        Checked before the sweep's first page, so a sweep never stops half-way for it.

        Raises:
            ValidationError: ``guard.host_missing``, naming the first such gate.
        """
        if host is None:
            for workflow in self.versions.values():
                require_host(workflow.host_guards(trigger), host)

    # --- reading and judging units ----------------------------------------------------------

    def load(self, tx: StoreSession, unit_id: str) -> tuple[Unit, UnitState]:
        """The unit and its state, read in ``tx``.

        Raises:
            UnknownUnit: no such unit.
        """
        check_unit_id(unit_id)
        found = tx.get_unit_state(unit_id)
        if found is None:
            raise UnknownUnit(unit_id)
        return found

    def read(self, unit_id: str) -> tuple[Unit, UnitState]:
        """The unit and its state, read in a read transaction of their own.

        Raises:
            UnknownUnit: no such unit.
        """
        check_unit_id(unit_id)
        with self.store.transaction(write=False) as tx:
            return self.load(tx, unit_id)

    def check_open(self, state: UnitState, doing: str) -> None:
        """Refuse ``doing`` on a unit not started or already finished."""
        stage = self.wf(None, state).stage(state.stage)
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

    def decide(
        self,
        tx: StoreSession,
        unit: Unit,
        state: UnitState,
        today: date,
        trigger: str,
        roles: frozenset[str] | None,
        workflow: Workflow | None = None,
        observed: bool | None = None,
        host: Any = None,
        foresee: bool = True,
    ) -> Decision:
        """The unit's decision, judged by its own workflow version on its stage's facts.

        ``workflow``: that version, when the caller already has it; ``observed``: whether
        guard evaluation is traced and logged (asked of observability when None);
        ``host``: the host data resolved for the call (:meth:`host_for`); ``foresee``:
        whether a held decision says when the unit may move (see the engine's ``decide``).
        """
        return decide(
            workflow or self.wf(tx, state),
            unit,
            state,
            tx.get_facts(unit.id, state.stage),
            today,
            trigger,
            roles=roles,
            judged_by=self.ref_of(state),
            versioned=len(self.versions) > 1,
            judge=candidate_judge(observed),
            host=host,
            foresee=foresee,
        )

    def stamp(self, now: datetime, day: date, actor: Actor) -> Stamp:
        """The stamp of a command ``actor`` issues at ``now`` (business day ``day``).

        The last one is kept: the same instant (the very object, so its offset and text are
        the same) by the same actor on the same day gets it again instead of new texts.
        """
        last = self.last_stamp
        if last is not None and last.now is now and last.actor is actor and last.day == day:
            return last
        made = self.last_stamp = Stamp(
            now=now,
            day=day,
            actor=actor,
            at_text=iso_instant(now),
            on_text=iso_date(day),
            roles_text=self.encoder.roles_text(self.roles_of(actor)),
        )
        return made

    def roles_of(self, actor: Actor) -> tuple[str, ...]:
        """The actor's roles as records keep them: sorted."""
        roles = self.sorted_roles.get(actor.roles)
        if roles is None:
            roles = self.sorted_roles[actor.roles] = tuple(sorted(actor.roles))
        return roles


class _HasCore(Protocol):
    @property
    def _core(self) -> Core: ...


_T = TypeVar("_T")


class FromCore(Generic[_T]):
    """A read-only attribute of a campaign: its core's attribute of the same name."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, campaign: None, owner: type) -> FromCore[_T]: ...
    @overload
    def __get__(self, campaign: _HasCore, owner: type) -> _T: ...
    def __get__(self, campaign: _HasCore | None, owner: type) -> _T | FromCore[_T]:
        if campaign is None:
            return self
        value: _T = getattr(campaign._core, self.name)
        return value

    def __set__(self, campaign: _HasCore, value: object) -> None:
        raise AttributeError(f"{type(campaign).__name__}.{self.name} is read-only")
