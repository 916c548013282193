"""Any sequence of commands keeps the campaign's invariants (DESIGN.md, "Invariants").

The library's own ``CampaignMachine`` (campaignflow.testing) drives the district preset: add
units, start batches, record facts near every gate's numbers, approve as outsiders, insiders
and clerks, advance, submit-and-advance, defer, redeliver, move the clock; after every step it
checks that no stage is skipped, every applied transition's gates held on the facts of that
moment, state equals the replay of history, versions count transitions, refused or invalid
commands change nothing but a denial record, redeliveries return the first result, nobody
approves or assesses their own unit, and the audit chain verifies. The rules below add what
is particular to this suite: strangers acting, failed assessments on the way forward, request
ids reused for other commands, and sweeps.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import consumes, rule, run_state_machine_as_test

import campaignflow as cf
from campaignflow.testing import CampaignMachine, machine_settings

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county", roles={"superior_org"})
NOBODY = cf.Actor(id="passer-by")


class CampaignCommands(CampaignMachine):
    """Random units, facts, approvals, advances, deferrals, redeliveries and bad input."""

    unit_ids = ("fin-01", "edu-02", "vil-03", "com-04", "ent-05")

    @rule(data=st.data(), survey=st.booleans())
    def stranger_acts(self, data: st.DataObject, survey: bool) -> None:
        """Someone without any role records a survey or approves: refused, nothing changes."""
        unit_id = self._unit(data)
        self._known(NOBODY)
        if survey:
            fact = cf.Survey(satisfied=9, basically_satisfied=0, dissatisfied=1)
            self.attempt(lambda: self.campaign.record(unit_id, fact, actor=NOBODY))
        else:
            self.attempt(lambda: self.campaign.approve(unit_id, actor=NOBODY))

    @rule(data=st.data(), steps=st.integers(1, 6), fail_at=st.integers(0, 8))
    def push_forward(self, data: st.DataObject, steps: int, fail_at: int) -> None:
        """Meet every gate of the unit's stage, then advance it; repeat; one assessment may fail."""
        unit_id = data.draw(st.sampled_from(self.added))
        for step in range(steps):
            state = self.campaign.state(unit_id)
            kind = self.wf.stage(state.stage).kind
            if kind == "final":
                return
            if kind == "waiting":
                self.campaign.start_batch(
                    state.batch, actor=cf.Actor(id="leader", roles={"leading_group"})
                )
                continue
            self._satisfy(unit_id)
            self.clock.advance(days=31)
            if kind == "stage":
                dissatisfied = 60 if step == fail_at else 10
                survey = cf.Survey(
                    satisfied=100 - dissatisfied, basically_satisfied=0, dissatisfied=dissatisfied
                )
                self._known(SUPERIOR)
                self._known(INSPECTOR)
                self.attempt(lambda s=survey: self.campaign.record(unit_id, s, actor=SUPERIOR))
                self.attempt(lambda: self.campaign.approve(unit_id, actor=INSPECTOR))
            actor = self.clerk(unit_id)
            self.attempt(lambda a=actor: self.campaign.advance(unit_id, actor=a))

    def _satisfy(self, unit_id: str) -> None:
        """Record everything the unit's main way out asks for (so runs reach later stages)."""
        state = self.campaign.state(unit_id)
        candidates = self.wf.candidates(state.stage)
        if not candidates or self.wf.stage(state.stage).kind in ("waiting", "final"):
            return
        clerk = self.clerk(unit_id)
        for bound in candidates[0].guards:
            spec = bound.spec
            if spec.name in ("min_study_hours", "min_guided_hours"):
                hours = spec.params.get("hours", 40)
                self.campaign.record(
                    unit_id, cf.StudySession(hours=hours, guided=True), actor=clerk
                )
            elif spec.name == "milestones_done":
                for name in spec.params["names"]:
                    self.campaign.record(unit_id, cf.Milestone(name), actor=clerk)
            elif spec.name == "coverage_at_least":
                fact = cf.Milestone(spec.params["milestone"], done=30, total=30)
                self.campaign.record(unit_id, fact, actor=clerk)

    @rule(rid=consumes(CampaignMachine.requests))
    def reuse_request_id_for_another_command(self, rid: str) -> None:
        """A request id used for one command is refused for a different one, writing nothing."""
        unit_id, actor, first = self.sent[rid]
        if first == "invalid":
            return  # never recorded: the id is still free
        before = self.snapshot()
        try:
            self.campaign.record(unit_id, cf.Milestone("summing_up"), actor=actor, request_id=rid)
        except cf.ValidationError:
            pass
        else:
            raise AssertionError("a reused request id must be refused")
        assert self.snapshot() == before

    @rule()
    def sweep(self) -> None:
        """advance_all moves only units whose gates hold, each with its record."""
        for outcome in self.campaign.advance_all():
            if outcome.advanced:
                assert outcome.record is not None
                assert outcome.decision.allowed


@pytest.mark.sized(default=20)
def test_random_command_sequences_keep_every_invariant(size: int | None) -> None:
    """Random sequences of 40 commands (100 of them at full size) keep every invariant."""
    run_state_machine_as_test(
        CampaignCommands, settings=machine_settings(max_examples=size or 100, steps=40)
    )
