"""``CampaignMachine``: a hypothesis state machine that drives a campaign with random commands.

Subclass it with your workflow, your guards and your store; hypothesis then runs random
sequences of commands — add units, start batches, record facts, approve, advance, defer,
redeliver a command with the same request id, move the clock — and after every step checks
the library's invariants:

- no stage is skipped: every applied transition is an edge of the workflow;
- every applied transition had all its guards passing: the engine re-judges it against the
  facts that existed when it committed, and the audit record's decision says so too;
- state equals the replay of the audit history;
- a rejected or invalid command changes nothing (except an audit record of a denial);
- a redelivered command returns the first result and writes nothing;
- the audit chain verifies.

Add your own rules and invariants by ordinary subclassing::

    class MyMachine(CampaignMachine):
        workflow = my_workflow
        store = "sqlite"

        @invariant()
        def nobody_leaves_study_with_too_few_hours(self) -> None: ...

    TestMyMachine = MyMachine.TestCase
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import attrs
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from campaignflow._words.facts import Approval
from campaignflow._words.records import Actor, FactRecord, Unit, UnitState
from campaignflow.audit import AuditRecord, replay
from campaignflow.campaign import Campaign
from campaignflow.campaign._checks import starter_roles
from campaignflow.clock import SimulatedClock
from campaignflow.errors import NotAuthorized, TransitionRejected, ValidationError
from campaignflow.guards._recipe import merge_host
from campaignflow.presets import district_2005
from campaignflow.store._protocol import Store
from campaignflow.testing._coverage import Coverage, coverage
from campaignflow.testing._machine_coverage import check_required
from campaignflow.testing._recipes import Edge
from campaignflow.testing.paths import Step, fire, prepare, steps
from campaignflow.testing.strategies import facts_for
from campaignflow.workflow import Workflow
from campaignflow.workflow._engine import decide, next_state

__all__ = ["CampaignMachine", "Snapshot", "machine_settings"]

#: What a command may change: every unit's state, every fact record, the audit records.
Snapshot = tuple[dict[str, UnitState], tuple[FactRecord, ...], int]

_REFUSED = (TransitionRejected, NotAuthorized)


@attrs.define
class _Derived:
    """What a machine class derives from its workflow once (a workflow never changes).

    Owned by the machine class (``CampaignMachine._derived``) and replaced when a run uses
    another workflow object, so it lives as long as the class and holds one workflow.
    """

    workflow: Workflow
    #: The workflow's steps that have a recipe, by source stage (computed on first use).
    firing: dict[str, list[Step]] | None = None
    #: The fact strategy of each stage asked for.
    facts: dict[str, st.SearchStrategy[object]] = attrs.Factory(dict)


def machine_settings(*, max_examples: int = 100, steps: int = 40, **options: Any) -> settings:
    """Settings that suit a campaign machine: no deadline, no slow-data health checks, and no
    "explain" phase (which re-runs a failing program hundreds of times to annotate it).

    ``steps`` is the most commands per run; other options go to ``hypothesis.settings``.
    Every subclass of :class:`CampaignMachine` starts with ``machine_settings()``; change it
    with ``MyMachine.TestCase.settings = machine_settings(max_examples=500)``.
    """
    options.setdefault("deadline", None)
    options.setdefault("suppress_health_check", list(HealthCheck))
    options.setdefault("phases", [p for p in Phase if p is not Phase.explain])
    return settings(max_examples=max_examples, stateful_step_count=steps, **options)


class CampaignMachine(RuleBasedStateMachine):
    """A random-command test of a campaign; subclass it with your workflow, guards and store.

    Class attributes to set in a subclass:

    - ``workflow``: a :class:`~campaignflow.Workflow` (default: the district preset), or
      override :meth:`make_workflow`;
    - ``store``: ``"memory"`` (default), ``"sqlite"`` (a temporary file per run), a URL, or
      a zero-argument callable returning a :class:`~campaignflow.store.Store` (your own;
      give each run a fresh campaign id);
    - ``start``: the first day on the clock (default 2005-01-03);
    - ``unit_ids``: the ids units are drawn from (a few, so commands hit the same units).

    - ``require_coverage``: ``True`` to fail the test unless its runs, together, took every
      transition of the workflow; a list of ``(source, trigger, dest)`` to require those
      only; ``False`` (default) to require none. :meth:`coverage` reports what was taken.

    Override :meth:`facts` to draw facts your own guards read. ``self.campaign``,
    ``self.clock`` and ``self.wf`` (the workflow in use) are there for your rules and
    invariants. The ``meet_gates`` rule records the passing recipe of every gate of a way out
    (each guard's ``recipe=``); a gate without one is named by a
    :class:`~campaignflow.NoRecipeWarning` when the machine starts.

    Host data: ``host`` is the campaign's own (``Campaign(host=...)``); the machine merges
    into it, per unit, the ``Recipe.host`` of every recipe ``meet_gates`` played for it, and
    passes that per call (``host=``) to every command and re-judgement of the unit's gates.
    """

    workflow: ClassVar[Workflow | None] = None
    store: ClassVar[str | Callable[[], Store | str]] = "memory"
    start: ClassVar[date] = date(2005, 1, 3)
    unit_ids: ClassVar[tuple[str, ...]] = ("u-1", "u-2", "u-3")
    require_coverage: ClassVar[bool | Sequence[Edge]] = False
    host: ClassVar[Any] = None

    requests = Bundle("requests")

    #: This class's steps and fact strategies for the workflow its runs use (see _Derived).
    _derived: ClassVar[_Derived | None] = None
    #: The transitions this class's runs took since its test began (see :meth:`coverage`).
    _taken: ClassVar[set[Edge]] = set()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        case = cls.TestCase
        case.settings = machine_settings()
        cls._derived = None
        cls._taken = set()
        case.setUp = lambda _test: cls._taken.clear()
        case.tearDown = lambda _test: cls.check_coverage()

    @classmethod
    def coverage(cls) -> Coverage:
        """The transitions this class's runs took, together, since its test began, and those
        they never took (``.missing``, ``.report()``)."""
        derived = cls._derived
        workflow = derived.workflow if derived is not None else district_2005()
        return coverage(workflow, sorted(cls._taken))

    @classmethod
    def check_coverage(cls) -> Coverage:
        """Fail unless the runs took every transition ``require_coverage`` asks for.

        Called after the hypothesis test of :attr:`TestCase` ends; returns the coverage.

        Raises:
            AssertionError: listing the required transitions no run took.
            ValidationError: ``require_coverage`` is of another kind, or names a transition
                the workflow lacks.
        """
        found = cls.coverage()
        derived = cls._derived
        name = derived.workflow.name if derived is not None else district_2005().name
        return check_required(found, cls.require_coverage, name)

    def __init__(self) -> None:
        super().__init__()
        self._tmp: str | None = None
        self.clock = SimulatedClock(self.start)
        self.wf: Workflow = self.make_workflow()
        derived = type(self)._derived
        if derived is None or derived.workflow is not self.wf:
            derived = type(self)._derived = _Derived(self.wf)
        self._derived_now = derived
        self.campaign = Campaign(self.wf, self.make_store(), clock=self.clock, host=type(self).host)
        self.hosts: dict[str, Any] = {}
        self.added: list[str] = []
        self.actor_units: dict[str, str | None] = {}
        self.sent: dict[str, tuple[str, Actor, Any]] = {}
        self._counter = 0
        self._checked_seq = 0
        self._replayed: dict[str, UnitState] = {}
        self._steps()  # names every gate without a recipe (NoRecipeWarning) at once

    # --- what a subclass chooses ------------------------------------------------------------

    def make_workflow(self) -> Workflow:
        """The workflow under test: the class's ``workflow``, or the district preset."""
        chosen = type(self).workflow
        if chosen is not None:
            return chosen
        return district_2005()

    def make_store(self) -> Store | str | None:
        """The store of one run: memory, a temporary SQLite file, a URL or your own store."""
        chosen = type(self).store
        if callable(chosen):
            return chosen()
        if chosen == "memory":
            return None
        if chosen == "sqlite":
            self._tmp = tempfile.mkdtemp(prefix="campaignflow-machine-")
            return f"sqlite:///{Path(self._tmp) / 'campaign.db'}"
        return chosen

    def facts(self, stage: str) -> st.SearchStrategy[object]:
        """Facts a unit in ``stage`` records (default: :func:`~.strategies.facts_for`)."""
        known = self._derived_now.facts
        found = known.get(stage)
        if found is None:
            found = known[stage] = facts_for(stage, workflow=self.wf)
        return found

    def teardown(self) -> None:
        """Note the transitions this run took, close the campaign's store, remove a temporary
        database."""
        type(self)._taken.update(coverage(self.wf, [self.campaign]).covered)
        self.campaign.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    # --- actors -------------------------------------------------------------------------

    def clerk(self, unit_id: str) -> Actor:
        """The unit's own clerk (branch committee): records its facts, never approves it."""
        return self._known(
            Actor(id=f"clerk-{unit_id}", roles=frozenset({"branch_committee"}), unit=unit_id)
        )

    def outsider(self, role: str) -> Actor:
        """Someone outside every unit holding ``role`` (the supervision group, the superior)."""
        return self._known(Actor(id=f"{role}-1", roles=frozenset({role})))

    def insider(self, unit_id: str, role: str) -> Actor:
        """Someone holding ``role`` who belongs to the unit: must never approve or assess it."""
        return self._known(Actor(id=f"insider-{unit_id}", roles=frozenset({role}), unit=unit_id))

    def _known(self, actor: Actor) -> Actor:
        self.actor_units[actor.id] = actor.unit
        return actor

    # --- helpers ------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Every unit's state, every fact record and the number of audit records."""
        states = {u.id: s for u, s in self.campaign.units()}
        facts = tuple(
            record
            for uid, state in sorted(states.items())
            for stage in {state.stage}
            for record in self.campaign.facts(uid, stage)
        )
        return states, facts, sum(1 for _ in self.campaign.audit_trail())

    def attempt(self, command: Callable[[], Any]) -> Any:
        """Run a command; if it is refused or invalid, check that it changed nothing.

        A refusal (:class:`TransitionRejected`, :class:`NotAuthorized`) may add exactly one
        audit record, a denial; invalid input (:class:`ValidationError`) adds nothing.
        Returns the command's result, ``"denied"`` or ``"invalid"``.
        """
        before = self.snapshot()
        try:
            return command()
        except _REFUSED:
            states, facts, audit = self.snapshot()
            assert states == before[0], "a refused command changed a unit's state"
            assert facts == before[1], "a refused command recorded a fact"
            assert audit == before[2] + 1, "a refused command must leave one denial record"
            last = self._last_audit()
            assert last is not None
            assert last.outcome == "denied"
            return "denied"
        except ValidationError:
            assert self.snapshot() == before, "an invalid command changed something"
            return "invalid"

    def host_for(self, unit_id: str) -> Any:
        """The host data the unit's gates are judged with: ``host`` and the recipes' merged."""
        return merge_host(type(self).host, self.hosts.get(unit_id))

    def _last_audit(self) -> AuditRecord | None:
        last = None
        for last in self.campaign.audit_trail():  # noqa: B007 - the loop finds the last one
            pass
        return last

    def _request_id(self) -> str:
        self._counter += 1
        return f"req-{self._counter}"

    def _unit(self, data: st.DataObject) -> str:
        pool = self.added or list(self.unit_ids)
        # An unknown unit now and then: commands on it must be refused, changing nothing.
        return data.draw(st.sampled_from([*pool, *pool, *pool, "ghost"]), label="unit")

    def _batches(self) -> list[int]:
        return [b.number for b in self.wf.batches] or [1]

    # --- rules --------------------------------------------------------------------------

    @initialize()
    def first_unit(self) -> None:
        """Every run starts with one unit of the first batch."""
        unit = Unit(id=self.unit_ids[0], name="第一党支部", kind="organ", batch=self._batches()[0])
        self.campaign.add_units([unit])
        self.added.append(unit.id)

    @rule(data=st.data(), members=st.integers(0, 40))
    def add_unit(self, data: st.DataObject, members: int) -> None:
        """Add a unit (an id already taken is refused, changing nothing)."""
        unit = Unit(
            id=data.draw(st.sampled_from(self.unit_ids), label="id"),
            name="党支部",
            kind=data.draw(st.sampled_from(("organ", "community", "village")), label="kind"),
            batch=data.draw(st.sampled_from(self._batches()), label="batch"),
            members=members,
        )
        if self.attempt(lambda: self.campaign.add_units([unit])) == 1:
            self.added.append(unit.id)

    @rule(data=st.data())
    def start_batch(self, data: st.DataObject) -> None:
        """Start a batch: units whose ``start`` gates hold move, the others stay as they were."""
        batch = data.draw(st.sampled_from(self._batches()), label="batch")
        before = {u.id: s for u, s in self.campaign.units()}
        try:
            leader = Actor(id="leading_group", roles=starter_roles(self.wf))
            outcomes = self.campaign.start_batch(batch, actor=leader)
        except ValidationError:
            assert {u.id: s for u, s in self.campaign.units()} == before
            return
        for outcome in outcomes:
            if not outcome.advanced:
                assert self.campaign.state(outcome.unit_id) == before[outcome.unit_id]

    @rule(days=st.integers(1, 45))
    def tick(self, days: int) -> None:
        """Move the clock forward."""
        self.clock.advance(days=days)

    @rule(data=st.data())
    def record_fact(self, data: st.DataObject) -> None:
        """Record a fact the unit's stage cares about, as the actor who would record it."""
        self._record(data, self._unit(data))

    def _record(self, data: st.DataObject, unit_id: str) -> None:
        try:
            stage = self.campaign.state(unit_id).stage
        except Exception:
            stage = self.wf.initial
        fact = data.draw(self.facts(stage), label="fact")
        if isinstance(fact, Approval):
            actor = self.outsider(fact.role)
            self.attempt(
                lambda: self.campaign.approve(
                    unit_id, actor=actor, role=fact.role, decision=fact.decision
                )
            )
            return
        kind = self.campaign.fact_types.name_of(fact)
        role = self.wf.fact_roles.get(kind) or self.campaign.fact_types.role_for(kind)
        who = data.draw(st.sampled_from(("right", "insider", "clerk")), label="who")
        if role is None or who == "clerk":
            actor = self.clerk(unit_id)
        elif who == "insider":
            actor = self.insider(unit_id, role)
        else:
            actor = self.outsider(role)
        self.attempt(lambda: self.campaign.record(unit_id, fact, actor=actor))

    @rule(target=requests, data=st.data())
    def record_then_advance(self, data: st.DataObject) -> str:
        """Record a fact and ask to move on at once, as an OA form's "submit and apply" does."""
        unit_id = self._unit(data)
        self._record(data, unit_id)
        return self._advance(unit_id)

    @rule(
        data=st.data(),
        who=st.sampled_from(("outsider", "insider", "clerk")),
        decision=st.sampled_from(("approved", "approved", "rejected")),
    )
    def approve(self, data: st.DataObject, who: str, decision: str) -> None:
        """Approve (or refuse) the unit's stage transition, as an outsider, an insider or its clerk."""
        unit_id = self._unit(data)
        roles = sorted({r for s in self.wf.stages for r in self.wf.approver_roles(s.id)}) or [
            "supervision_group"
        ]
        role = data.draw(st.sampled_from(roles), label="role")
        actor = {
            "outsider": self.outsider(role),
            "insider": self.insider(unit_id, role),
            "clerk": self.clerk(unit_id),
        }[who]
        self.attempt(
            lambda: self.campaign.approve(
                unit_id,
                actor=actor,
                role=role,
                decision=decision,  # type: ignore[arg-type]
            )
        )

    @rule(target=requests, data=st.data())
    def advance(self, data: st.DataObject) -> str:
        """Ask to move a unit on, with a fresh request id (kept for redelivery)."""
        return self._advance(self._unit(data))

    def _advance(self, unit_id: str) -> str:
        rid = self._request_id()
        actor = self.clerk(unit_id)
        host = self.host_for(unit_id)
        result = self.attempt(
            lambda: self.campaign.advance(unit_id, actor=actor, request_id=rid, host=host)
        )
        self.sent[rid] = (unit_id, actor, result)
        return rid

    @rule(rid=requests)
    def redeliver(self, rid: str) -> None:
        """The same request again returns the first result (or refusal) and writes nothing.

        Input refused as invalid was never recorded, so its redelivery is a fresh attempt.
        """
        unit_id, actor, first = self.sent[rid]
        if first == "invalid":
            return
        before = self.snapshot()
        try:
            again = self.campaign.advance(
                unit_id, actor=actor, request_id=rid, host=self.host_for(unit_id)
            )
        except _REFUSED:
            assert first == "denied", f"request {rid}: first {first!r}, redelivery refused"
        else:
            assert again == first, f"request {rid}: first {first!r}, redelivery {again!r}"
        assert self.snapshot() == before, f"redelivering request {rid} wrote something"

    @rule(data=st.data())
    def meet_gates(self, data: st.DataObject) -> None:
        """Record what one way out of the unit's stage asks for, wait as long as it needs, advance.

        Uses the verified recipes of :mod:`~campaignflow.testing.paths`, so runs reach the
        later stages instead of stalling at the first gate.
        """
        unit_id = data.draw(st.sampled_from(self.added), label="unit")
        stage = self.campaign.state(unit_id).stage
        ways = [s for s in self._steps().get(stage, []) if s.trigger != "defer"]
        if not ways:
            return
        step = data.draw(st.sampled_from(ways), label="way")
        try:
            # Not an attempt: the recipe's facts are real commands that may partly succeed.
            actor = prepare(self.campaign, unit_id, step, clock=self.clock)
        except (*_REFUSED, ValidationError):
            return
        self._known(actor)
        if step.recipe is not None and step.recipe.host is not None:
            self.hosts[unit_id] = merge_host(self.hosts.get(unit_id), step.recipe.host)
        host = self.host_for(unit_id)
        self.attempt(lambda: fire(self.campaign, unit_id, step, actor=actor, host=host))

    def _steps(self) -> dict[str, list[Step]]:
        derived = self._derived_now
        if derived.firing is None:
            found: dict[str, list[Step]] = {}
            for s in steps(self.wf):
                if s.recipe is not None:
                    found.setdefault(s.source, []).append(s)
            derived.firing = found
        return derived.firing

    @precondition(lambda self: any(t.trigger == "defer" for t in self.wf.transitions))
    @rule(data=st.data(), by_leader=st.booleans())
    def defer(self, data: st.DataObject, by_leader: bool) -> None:
        """Defer a unit to a later batch, as the roles the workflow names (or as its clerk)."""
        unit_id = self._unit(data)
        roles = frozenset().union(*(t.by for t in self.wf.transitions if t.trigger == "defer"))
        actor = (
            self._known(Actor(id="leader-1", roles=roles or frozenset({"leading_group"})))
            if by_leader
            else self.clerk(unit_id)
        )
        to_batch = data.draw(st.sampled_from([None, *self._batches()]), label="to_batch")
        host = self.host_for(unit_id)
        self.attempt(
            lambda: self.campaign.defer(unit_id, actor=actor, to_batch=to_batch, host=host)
        )

    # --- invariants ---------------------------------------------------------------------

    def _new_records(self) -> Iterator[AuditRecord]:
        for record in self.campaign.audit_trail():
            if record.seq > self._checked_seq:
                yield record

    @invariant()
    def audit_chain_verifies(self) -> None:
        """The audit hash chain verifies from the first record to the last."""
        verification = self.campaign.verify_audit()
        assert verification.ok, f"audit chain broken: {verification}"

    @invariant()
    def state_equals_replay_of_history(self) -> None:
        """Every unit's state is what replaying the audit trail gives."""
        replayed = replay(self.wf, self.campaign.audit_trail())
        assert replayed == {u.id: s for u, s in self.campaign.units()}

    @invariant()
    def every_transition_was_an_edge_whose_gates_held(self) -> None:
        """No stage skipped, and each applied transition's gates held when it committed.

        Checks the transitions applied since the last step: the move is an edge of the
        workflow, the recorded decision chose it with every verdict passing, and the engine,
        re-judging against the facts that existed at that moment, chooses it again.
        """
        units = {u.id: u for u, _ in self.campaign.units()}
        for record in self._new_records():
            self._checked_seq = record.seq
            if record.outcome != "ok" or record.unit_id is None:
                continue
            if record.command == "add_unit":
                self._replayed.update(
                    replay(self.wf, [record], units={record.unit_id: units[record.unit_id]})
                )
                continue
            if record.dest is None or record.command not in ("advance", "defer"):
                continue
            trigger = str(record.payload.get("trigger", "advance"))
            source = record.source or ""
            edges = [c.dest for c in self.wf.candidates(source, trigger)]
            assert record.dest in edges, f"{source} -> {record.dest} is no edge: a skipped stage"
            decision = record.decision
            assert decision is not None
            assert decision["allowed"]
            chosen = next(c for c in decision["candidates"] if c["passed"])
            assert chosen["dest"] == record.dest
            assert all(v["passed"] for v in chosen["verdicts"])
            before = self._replayed[record.unit_id]
            facts = [f for f in self.campaign.facts(record.unit_id, source) if f.seq < record.seq]
            again = decide(
                self.wf,
                units[record.unit_id],
                before,
                facts,
                record.on,
                trigger,
                roles=frozenset(record.actor_roles),
                host=self.host_for(record.unit_id),
            )
            assert again.allowed, (
                f"unit {record.unit_id}: {source} -> {record.dest} on {record.on} committed, "
                f"but its gates do not hold on the facts of that moment:\n{again.explain('en')}"
            )
            assert again.target == record.dest, (
                f"unit {record.unit_id}: {source} -> {record.dest} on {record.on} committed, "
                f"but its gates do not hold on the facts of that moment:\n{again.explain('en')}"
            )
            self._replayed[record.unit_id] = _next(self.wf, before, record)

    @invariant()
    def version_counts_transitions(self) -> None:
        """A unit's version is the number of transitions applied to it."""
        counts: dict[str, int] = {}
        for record in self.campaign.audit_trail():
            if record.outcome == "ok" and record.command in ("advance", "defer", "start"):
                counts[record.unit_id or ""] = counts.get(record.unit_id or "", 0) + 1
        for unit, state in self.campaign.units():
            assert state.version == counts.get(unit.id, 0)

    @invariant()
    def no_unit_approves_or_assesses_itself(self) -> None:
        """No approval or role-reserved fact was ever accepted from inside the unit."""
        for record in self.campaign.audit_trail():
            if record.outcome != "ok" or record.command not in ("approve", "record"):
                continue
            kind = (record.payload.get("fact") or {}).get("kind")
            if record.command == "approve" or kind in self.wf.fact_roles:
                assert self.actor_units.get(record.actor_id) != record.unit_id, (
                    f"{record.actor_id} of unit {record.unit_id} approved or assessed it"
                )


def _next(workflow: Workflow, state: UnitState, record: AuditRecord) -> UnitState:
    batch = record.payload.get("to_batch") if record.command == "defer" else None
    return next_state(workflow, state, record.dest or "", record.on, batch=batch)
