"""Any sequence of commands keeps the campaign's invariants (DESIGN.md, "Invariants")."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

import campaignflow as cf
from campaignflow.engine import replay

UNIT_IDS = ["fin-01", "edu-02", "vil-03", "com-04", "ent-05"]
MILESTONES = sorted(
    {
        "implementation_plan", "leading_group_established", "mobilization_meeting",
        "advanced_standards_adopted", "transition_application", "opinions_solicited",
        "org_life_meeting", "democratic_appraisal", "feedback_published",
        "rectification_plan_reviewed", "rectification_plan_published",
        "rectification_plan_filed", "rectification_results_published", "follow_up_review",
        "summing_up", "remedial_completed",
    }
)

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county", roles={"superior_org"})
LEADER = cf.Actor(id="wang", roles={"leading_group"})
NOBODY = cf.Actor(id="passer-by")


def clerk_of(unit_id: str) -> cf.Actor:
    return cf.Actor(id=f"clerk-{unit_id}", roles={"branch_committee"}, unit=unit_id)


def own_inspector(unit_id: str) -> cf.Actor:
    """A supervision-group member who belongs to the unit itself: must never approve it."""
    return cf.Actor(id=f"insider-{unit_id}", roles={"supervision_group", "superior_org"}, unit=unit_id)


class CampaignCommands(RuleBasedStateMachine):
    """Random units, facts, approvals, advances, deferrals, redeliveries and bad input."""

    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.clock = cf.SimulatedClock(date(2005, 1, 3))
        self.workflow = cf.presets.district_2005()
        self.camp = cf.Campaign(self.workflow, clock=self.clock)
        self.added: list[str] = []
        self.actor_units: dict[str, str | None] = {}
        self.counter = 0
        self.results: dict[str, Any] = {}

    # --- helpers ------------------------------------------------------------------------

    def _rid(self) -> str:
        self.counter += 1
        return f"req-{self.counter}"

    def _snapshot(self) -> tuple[dict[str, cf.UnitState], int, int]:
        states = {u.id: s for u, s in self.camp.units()}
        facts = sum(len(self.camp.facts(uid)) for uid in states)
        audit = len(list(self.camp.audit_trail()))
        return states, facts, audit

    def _attempt(self, command: Any, *, actor: cf.Actor | None = None) -> Any:
        """Run a command; when it is refused, check that nothing but a denial record was written.

        Returns the command's result, "denied" or "invalid".
        """
        if actor is not None:
            self.actor_units[actor.id] = actor.unit
        before = self._snapshot()
        try:
            return command()
        except (cf.TransitionRejected, cf.NotAuthorized):
            states, facts, audit = self._snapshot()
            assert states == before[0]
            assert facts == before[1]
            assert audit == before[2] + 1
            assert next(iter(reversed(list(self.camp.audit_trail())))).outcome == "denied"
            return "denied"
        except cf.ValidationError:
            assert self._snapshot() == before
            return "invalid"

    def _unit(self, data: st.DataObject) -> str:
        pool = self.added or UNIT_IDS
        return data.draw(st.sampled_from([*pool, "ghost-99"]))

    # --- rules --------------------------------------------------------------------------

    @initialize()
    def add_first_unit(self) -> None:
        self.camp.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1, members=20)])
        self.added.append("fin-01")

    @rule(data=st.data(), batch=st.integers(1, 3))
    def add_unit(self, data: st.DataObject, batch: int) -> None:
        unit_id = data.draw(st.sampled_from(UNIT_IDS))
        unit = cf.Unit(id=unit_id, name=f"单位{unit_id}", kind="organ", batch=batch, members=20)
        if self._attempt(lambda: self.camp.add_units([unit])) == 1:
            self.added.append(unit_id)

    @rule(batch=st.integers(1, 3))
    def start_batch(self, batch: int) -> None:
        before = {u.id: s for u, s in self.camp.units()}
        for outcome in self.camp.start_batch(batch):
            if not outcome.advanced:
                assert before[outcome.unit_id] == self.camp.state(outcome.unit_id)

    @rule(days=st.integers(1, 40))
    def tick(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(data=st.data(), hours=st.floats(0, 30).map(lambda h: round(h, 1)), guided=st.booleans())
    def record_study(self, data: st.DataObject, hours: float, guided: bool) -> None:
        unit_id = self._unit(data)
        actor = clerk_of(unit_id)
        self._attempt(
            lambda: self.camp.record(unit_id, cf.StudySession(hours=hours, guided=guided), actor=actor),
            actor=actor,
        )

    @rule(data=st.data(), name=st.sampled_from(MILESTONES))
    def record_milestone(self, data: st.DataObject, name: str) -> None:
        unit_id = self._unit(data)
        actor = clerk_of(unit_id)
        self._attempt(lambda: self.camp.record(unit_id, cf.Milestone(name), actor=actor), actor=actor)

    @rule(
        data=st.data(),
        name=st.sampled_from(["heart_to_heart_talks", "party_spirit_report"]),
        total=st.integers(1, 40),
        missing=st.integers(0, 3),
    )
    def record_coverage(self, data: st.DataObject, name: str, total: int, missing: int) -> None:
        unit_id = self._unit(data)
        actor = clerk_of(unit_id)
        fact = cf.Milestone(name, done=max(total - missing, 0), total=total)
        self._attempt(lambda: self.camp.record(unit_id, fact, actor=actor), actor=actor)

    @rule(
        data=st.data(),
        satisfied=st.integers(0, 50),
        basic=st.integers(0, 20),
        dissatisfied=st.integers(0, 40),
        who=st.sampled_from(["superior", "insider", "clerk", "nobody"]),
    )
    def record_survey(self, data: st.DataObject, satisfied: int, basic: int, dissatisfied: int, who: str) -> None:
        unit_id = self._unit(data)
        if satisfied + basic + dissatisfied == 0:
            satisfied = 1
        actor = {"superior": SUPERIOR, "insider": own_inspector(unit_id), "clerk": clerk_of(unit_id), "nobody": NOBODY}[who]
        survey = cf.Survey(satisfied=satisfied, basically_satisfied=basic, dissatisfied=dissatisfied)
        self._attempt(lambda: self.camp.record(unit_id, survey, actor=actor), actor=actor)

    @rule(
        data=st.data(),
        who=st.sampled_from(["inspector", "insider", "nobody"]),
        decision=st.sampled_from(["approved", "approved", "rejected"]),
    )
    def approve(self, data: st.DataObject, who: str, decision: str) -> None:
        unit_id = self._unit(data)
        actor = {"inspector": INSPECTOR, "insider": own_inspector(unit_id), "nobody": NOBODY}[who]
        role = "supervision_group" if who == "insider" else None
        self._attempt(
            lambda: self.camp.approve(unit_id, actor=actor, role=role, decision=decision),  # type: ignore[arg-type]
            actor=actor,
        )

    @rule(data=st.data())
    def satisfy_current_stage(self, data: st.DataObject) -> None:
        """Record everything the unit's main way out asks for (so runs reach later stages)."""
        unit_id = data.draw(st.sampled_from(self.added))
        self._satisfy(unit_id)

    def _satisfy(self, unit_id: str) -> None:
        state = self.camp.state(unit_id)
        candidates = self.workflow.candidates(state.stage)
        if not candidates or self.workflow.stage(state.stage).kind in ("waiting", "final"):
            return
        clerk = clerk_of(unit_id)
        self.actor_units[clerk.id] = unit_id
        for bound in candidates[0].guards:
            spec = bound.spec
            if spec.name in ("min_study_hours", "min_guided_hours"):
                self.camp.record(unit_id, cf.StudySession(hours=spec.params.get("hours", 40), guided=True), actor=clerk)
            elif spec.name == "milestones_done":
                for name in spec.params["names"]:
                    self.camp.record(unit_id, cf.Milestone(name), actor=clerk)
            elif spec.name == "coverage_at_least":
                self.camp.record(unit_id, cf.Milestone(spec.params["milestone"], done=30, total=30), actor=clerk)

    @rule(data=st.data(), steps=st.integers(1, 6), fail_at=st.integers(0, 8))
    def push_forward(self, data: st.DataObject, steps: int, fail_at: int) -> None:
        """Meet every gate of the unit's stage, then advance it; repeat; one assessment may fail."""
        unit_id = data.draw(st.sampled_from(self.added))
        for step in range(steps):
            state = self.camp.state(unit_id)
            kind = self.workflow.stage(state.stage).kind
            if kind == "final":
                return
            if kind == "waiting":
                self.start_batch(state.batch)
                continue
            self._satisfy(unit_id)
            self.clock.advance(days=31)
            if kind == "stage":
                dissatisfied = 60 if step == fail_at else 10
                survey = cf.Survey(satisfied=100 - dissatisfied, basically_satisfied=0, dissatisfied=dissatisfied)
                self._attempt(lambda s=survey: self.camp.record(unit_id, s, actor=SUPERIOR), actor=SUPERIOR)
                self._attempt(lambda: self.camp.approve(unit_id, actor=INSPECTOR), actor=INSPECTOR)
            actor = clerk_of(unit_id)
            self._attempt(lambda a=actor: self.camp.advance(unit_id, actor=a), actor=actor)

    @rule(target=requests, data=st.data())
    def advance(self, data: st.DataObject) -> str:
        unit_id = self._unit(data)
        rid = self._rid()
        actor = clerk_of(unit_id)
        self.results[rid] = ("advance", unit_id, actor, self._attempt(
            lambda: self.camp.advance(unit_id, actor=actor, request_id=rid), actor=actor
        ))
        return rid

    @rule(data=st.data(), who=st.sampled_from(["leader", "clerk"]), to_batch=st.sampled_from([None, 2, 3, 4]))
    def defer(self, data: st.DataObject, who: str, to_batch: int | None) -> None:
        unit_id = self._unit(data)
        actor = LEADER if who == "leader" else clerk_of(unit_id)
        self._attempt(lambda: self.camp.defer(unit_id, actor=actor, to_batch=to_batch), actor=actor)

    @rule(rid=requests)
    def redeliver(self, rid: str) -> None:
        """The same request again returns the first result (or refusal) and writes nothing.

        Input refused as invalid was never recorded, so its redelivery is a fresh attempt.
        """
        _, unit_id, actor, first = self.results[rid]
        if first == "invalid":
            return
        before = self._snapshot()
        try:
            again = self.camp.advance(unit_id, actor=actor, request_id=rid)
        except (cf.TransitionRejected, cf.NotAuthorized):
            assert first == "denied"
        else:
            assert again == first
        assert self._snapshot() == before

    @rule(rid=consumes(requests), data=st.data())
    def reuse_request_id_for_another_command(self, rid: str, data: st.DataObject) -> None:
        """A request id used for one command is refused for a different one, writing nothing."""
        _, unit_id, actor, first = self.results[rid]
        if first == "invalid":
            return  # never recorded: the id is still free
        before = self._snapshot()
        try:
            self.camp.record(unit_id, cf.Milestone("summing_up"), actor=actor, request_id=rid)
        except cf.ValidationError:
            pass
        else:
            raise AssertionError("a reused request id must be refused")
        assert self._snapshot() == before

    @rule()
    def sweep(self) -> None:
        for outcome in self.camp.advance_all():
            if outcome.advanced:
                assert outcome.record is not None
                assert outcome.decision.allowed

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def audit_chain_verifies(self) -> None:
        assert self.camp.verify_audit().ok

    @invariant()
    def state_equals_replay_of_history(self) -> None:
        replayed = replay(self.workflow, self.camp.audit_trail())
        assert replayed == {u.id: s for u, s in self.camp.units()}

    @invariant()
    def no_stage_skipped_and_every_transition_had_its_gates(self) -> None:
        for record in self.camp.audit_trail():
            if record.outcome != "ok" or record.dest is None or record.command == "add_unit":
                continue
            trigger = record.payload["trigger"]
            dests = [c.dest for c in self.workflow.candidates(record.source, trigger)]
            assert record.dest in dests, f"{record.source} -> {record.dest} is no edge"
            decision = record.decision
            assert decision is not None
            assert decision["allowed"]
            chosen = next(c for c in decision["candidates"] if c["passed"])
            assert chosen["dest"] == record.dest
            assert all(v["passed"] for v in chosen["verdicts"])

    @invariant()
    def version_counts_transitions(self) -> None:
        counts: dict[str, int] = {}
        for record in self.camp.audit_trail():
            if record.outcome == "ok" and record.command in ("advance", "defer"):
                counts[record.unit_id or ""] = counts.get(record.unit_id or "", 0) + 1
        for unit, state in self.camp.units():
            assert state.version == counts.get(unit.id, 0)

    @invariant()
    def no_unit_approves_or_assesses_itself(self) -> None:
        for record in self.camp.audit_trail():
            if record.outcome == "ok" and (
                record.command == "approve" or (record.payload.get("fact") or {}).get("kind") == "survey"
            ):
                assert self.actor_units.get(record.actor_id) != record.unit_id


CampaignCommands.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCampaignCommands = CampaignCommands.TestCase
