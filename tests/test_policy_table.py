"""The default policy table (shared/domain.md), row by row, through a real Campaign on the presets.

Each test drives one unit of a shipped preset to the stage a rule guards, satisfies every other
gate, and then puts the rule's own evidence on each side of its boundary: the decision's verdict
for that rule carries the expected code and numbers, and ``advance`` moves the unit (or not).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import attrs
import pytest

import campaignflow as cf

START = date(2005, 1, 10)
UNIT = "fin-01"

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county-org", roles={"superior_org"})
LEADER = cf.Actor(id="wang", roles={"leading_group"})

#: The working stages in order, each with the stage a unit moves on to.
NEXT = {
    "preparation": "study_mobilization",
    "study_mobilization": "analysis_review",
    "analysis_review": "rectification",
    "rectification": "closing",
    "closing": "accepted",
}
#: Stages whose exit is a stage transition (转段) judged by the supervision group.
TRANSITION_STAGES = ("study_mobilization", "analysis_review", "rectification", "closing")

MILESTONES = {
    "preparation": ("implementation_plan", "leading_group_established"),
    "study_mobilization": (
        "mobilization_meeting",
        "advanced_standards_adopted",
        "transition_application",
    ),
    "analysis_review": (
        "opinions_solicited",
        "org_life_meeting",
        "democratic_appraisal",
        "feedback_published",
        "transition_application",
    ),
    "rectification": (
        "rectification_plan_reviewed",
        "rectification_plan_published",
        "rectification_plan_filed",
        "rectification_results_published",
        "transition_application",
    ),
    "closing": ("follow_up_review", "summing_up"),
}
RECTIFICATION_STEPS = MILESTONES["rectification"][:4]

_SURVEY_GUARDS = {"satisfaction_rate_at_least", "dissatisfied_rate_at_most", "survey_recorded"}


def clerk_of(unit_id: str) -> cf.Actor:
    """The unit's own branch-committee clerk: records the unit's facts, never judges it."""
    return cf.Actor(id=f"clerk-{unit_id}", roles={"branch_committee"}, unit=unit_id)


def _spec_names(spec: cf.GuardSpec) -> Iterable[str]:
    yield spec.name
    for child in spec.children:
        yield from _spec_names(child)


@attrs.define
class Run:
    """One unit of one campaign on a fixed clock, with the commands a test needs."""

    camp: cf.Campaign
    clock: cf.FixedClock
    unit_id: str = UNIT

    @property
    def clerk(self) -> cf.Actor:
        return clerk_of(self.unit_id)

    @property
    def state(self) -> cf.UnitState:
        return self.camp.state(self.unit_id)

    @property
    def stage(self) -> str:
        return self.state.stage

    def on(self, day: date) -> None:
        self.clock.set(day)

    def record(self, fact: object, *, actor: cf.Actor | None = None) -> cf.FactRecord:
        return self.camp.record(self.unit_id, fact, actor=actor or self.clerk)

    def milestones(self, *names: str) -> None:
        for name in names:
            self.record(cf.Milestone(name))

    def survey(self, satisfied: int, dissatisfied: int, **counts: int) -> cf.FactRecord:
        counts.setdefault("basically_satisfied", 0)
        fact = cf.Survey(satisfied=satisfied, dissatisfied=dissatisfied, **counts)
        return self.record(fact, actor=SUPERIOR)

    def approve(self, **kwargs: Any) -> cf.FactRecord:
        kwargs.setdefault("actor", INSPECTOR)
        return self.camp.approve(self.unit_id, **kwargs)

    def check(self) -> cf.Decision:
        return self.camp.check(self.unit_id)

    def advance(self) -> cf.TransitionRecord:
        return self.camp.advance(self.unit_id, actor=self.clerk)

    def verdict(self, guard: str, decision: cf.Decision | None = None) -> cf.Verdict:
        """The verdict of ``guard`` on the forward candidate (the first written one)."""
        decision = decision or self.check()
        found = [v for v in decision.candidates[0].verdicts if v.guard == guard]
        assert len(found) == 1, f"{guard} judged {len(found)} times on the forward candidate"
        return found[0]

    def asks_survey(self) -> bool:
        """Whether leaving the unit's stage needs a satisfaction assessment in this workflow."""
        return any(
            name in _SURVEY_GUARDS
            for candidate in self.camp.workflow.candidates(self.stage)
            for bound in candidate.guards
            for name in _spec_names(bound.spec)
        )

    def satisfy(self, *, skip: Iterable[str] = ()) -> None:
        """Record every piece of evidence the forward gate of the stage asks, except ``skip``.

        ``skip`` names milestones or ``"hours"``, ``"days"``, ``"survey"``, ``"approval"``.
        """
        skipped = set(skip)
        stage, state = self.stage, self.state
        self.milestones(*(n for n in MILESTONES[stage] if n not in skipped))
        if stage == "study_mobilization":
            if "hours" not in skipped:
                self.record(cf.StudySession(hours=24, guided=True))
                self.record(cf.StudySession(hours=16))
            if "days" not in skipped:
                assert state.stage_since is not None
                self._not_before(state.stage_since + timedelta(days=30))
        if stage == "analysis_review":
            self.record(cf.Milestone("heart_to_heart_talks", done=32, total=32))
            self.record(cf.Milestone("party_spirit_report", done=32, total=32))
        if stage == "closing" and "days" not in skipped:
            assert state.started_on is not None
            self._not_before(state.started_on + timedelta(days=90))
        if stage in TRANSITION_STAGES:
            if "survey" not in skipped and self.asks_survey():
                self.survey(satisfied=28, basically_satisfied=3, dissatisfied=1)
            if "approval" not in skipped:
                self.approve()

    def _not_before(self, day: date) -> None:
        if self.clock.now().date() < day:
            self.on(day)

    def go_to(self, stage: str) -> Run:
        """Move the unit, every gate satisfied, until it stands in ``stage``."""
        for _ in range(len(NEXT) + 1):
            if self.stage == stage:
                return self
            self.satisfy()
            self.advance()
        raise AssertionError(f"unit never reached {stage!r}; it is in {self.stage!r}")


def new_run(
    preset: str = "district_2005", *, batch: int = 1, on: date = START, unit_id: str = UNIT
) -> Run:
    """A campaign on ``preset`` with one unit of ``batch``, not yet started, clock at ``on``."""
    clock = cf.FixedClock(on)
    camp = cf.Campaign(cf.presets.load(preset), clock=clock)
    camp.add_units(
        [cf.Unit(id=unit_id, name="区财政局机关党支部", kind="organ", batch=batch, members=32)]
    )
    return Run(camp, clock, unit_id)


def at_stage(stage: str, preset: str = "district_2005") -> Run:
    """A unit of batch 1 started on START and moved, every gate satisfied, into ``stage``."""
    run = new_run(preset)
    [outcome] = run.camp.start_batch(1, on=START, actor=LEADER)
    assert outcome.advanced
    return run.go_to(stage)


# --- unit: concentrated period at least 90 days --------------------------------------------


@pytest.mark.parametrize("preset", ["district_2005", "advanced_nature_2005"])
def test_concentrated_period_at_least_90_days_at_closing(preset: str) -> None:
    """At closing, 89 days since the unit started hold it; on day 90 it is accepted."""
    run = at_stage("closing", preset)
    run.satisfy(skip={"days"})
    run.on(START + timedelta(days=89))
    short = run.verdict("min_concentrated_days")
    assert (short.passed, short.code) == (False, "concentrated_days.too_few")
    assert short.params == {"actual": 89, "required": 90}
    with pytest.raises(cf.TransitionRejected) as refused:
        run.advance()
    assert [f.code for f in refused.value.decision.failures()] == ["concentrated_days.too_few"]
    assert run.stage == "closing"

    run.on(START + timedelta(days=90))
    enough = run.verdict("min_concentrated_days")
    assert (enough.passed, enough.code) == (True, "concentrated_days.enough")
    assert enough.params == {"actual": 90, "required": 90}
    assert run.advance().dest == "accepted"


# --- batches: windows --------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2005, 1, 1), START, date(2005, 6, 30)])
def test_batch_window_start_inside_batch_1_passes(day: date) -> None:
    """A batch-1 unit starts on any day of its window, both ends included."""
    run = new_run(on=day)
    [outcome] = run.camp.start_batch(1, on=day, actor=LEADER)
    assert outcome.advanced
    verdict = outcome.decision.verdicts[0]
    assert (verdict.passed, verdict.code) == (True, "batch_window.open")
    assert verdict.params == {
        "batch": 1,
        "today": day.isoformat(),
        "opens": "2005-01-01",
        "closes": "2005-06-30",
    }
    assert run.state.stage == "preparation"
    assert run.state.started_on == day


@pytest.mark.parametrize("day", [date(2004, 12, 31), date(2005, 7, 1)])
def test_batch_window_start_outside_batch_1_fails(day: date) -> None:
    """A batch-1 unit does not start the day before or after its window: batch_window.closed."""
    run = new_run(on=day)
    [outcome] = run.camp.start_batch(1, on=day, actor=LEADER)
    assert not outcome.advanced
    [failure] = outcome.decision.failures()
    assert failure.code == "batch_window.closed"
    assert failure.params == {
        "batch": 1,
        "today": day.isoformat(),
        "opens": "2005-01-01",
        "closes": "2005-06-30",
    }
    assert run.state.stage == "pending"
    with pytest.raises(cf.TransitionRejected):
        run.camp.advance(UNIT, actor=LEADER, trigger="start")
    assert run.state.stage == "pending"


@pytest.mark.parametrize(
    ("preset", "day", "opens", "starts"),
    [
        ("district_2005", date(2005, 11, 25), "2006-01-01", False),
        ("district_2005", date(2005, 12, 31), "2006-01-01", False),
        ("district_2005", date(2006, 1, 1), "2006-01-01", True),
        ("advanced_nature_2005", date(2005, 11, 24), "2005-11-25", False),
        ("advanced_nature_2005", date(2005, 11, 25), "2005-11-25", True),
    ],
)
def test_batch_window_batch_3_district_opens_in_january_national_in_november(
    preset: str, day: date, opens: str, starts: bool
) -> None:
    """Batch 3 opens 2006-01-01 in the district preset and 2005-11-25 in the national one."""
    run = new_run(preset, batch=3, on=day)
    [outcome] = run.camp.start_batch(3, on=day, actor=LEADER)
    assert outcome.advanced is starts
    verdict = outcome.decision.candidates[0].verdicts[0]
    assert verdict.code == ("batch_window.open" if starts else "batch_window.closed")
    assert verdict.params == {
        "batch": 3,
        "today": day.isoformat(),
        "opens": opens,
        "closes": "2006-06-30",
    }
    assert run.stage == ("preparation" if starts else "pending")


# --- study_mobilization: stage length, study and guided hours ----------------------------


def test_study_stage_at_least_30_days() -> None:
    """Leaving study and mobilisation after 29 days fails; after 30 days it passes."""
    run = at_stage("study_mobilization")
    entered = run.state.stage_since
    assert entered == START
    run.satisfy(skip={"days"})
    run.on(entered + timedelta(days=29))
    early = run.verdict("min_days_in_stage")
    assert (early.passed, early.code) == (False, "days_in_stage.too_few")
    assert early.params == {"actual": 29, "required": 30, "stage": "study_mobilization"}
    with pytest.raises(cf.TransitionRejected) as refused:
        run.advance()
    assert [f.code for f in refused.value.decision.failures()] == ["days_in_stage.too_few"]

    run.on(entered + timedelta(days=30))
    enough = run.verdict("min_days_in_stage")
    assert (enough.passed, enough.code) == (True, "days_in_stage.enough")
    assert enough.params == {"actual": 30, "required": 30, "stage": "study_mobilization"}
    assert run.advance().dest == "analysis_review"


def test_study_hours_at_least_40() -> None:
    """39.5 hours of study hold the unit (actual=39.5, required=40); 40 hours let it move."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"hours"})
    run.record(cf.StudySession(hours=24, guided=True))
    run.record(cf.StudySession(hours=15.5))
    short = run.verdict("min_study_hours")
    assert (short.passed, short.code) == (False, "study_hours.insufficient")
    assert short.params == {"actual": 39.5, "required": 40}
    assert [f.code for f in run.check().failures()] == ["study_hours.insufficient"]
    with pytest.raises(cf.TransitionRejected):
        run.advance()

    run.record(cf.StudySession(hours=0.5))
    enough = run.verdict("min_study_hours")
    assert (enough.passed, enough.code) == (True, "study_hours.sufficient")
    assert enough.params == {"actual": 40.0, "required": 40}
    assert run.advance().dest == "analysis_review"


def test_guided_hours_at_least_24() -> None:
    """23.5 guided hours hold the unit even with 40 in all; 24 guided hours let it move."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"hours"})
    run.record(cf.StudySession(hours=23.5, guided=True))
    run.record(cf.StudySession(hours=16.5))
    short = run.verdict("min_guided_hours")
    assert (short.passed, short.code) == (False, "guided_hours.insufficient")
    assert short.params == {"actual": 23.5, "required": 24}
    assert run.verdict("min_study_hours").passed
    assert [f.code for f in run.check().failures()] == ["guided_hours.insufficient"]

    run.record(cf.StudySession(hours=0.5, guided=True))
    enough = run.verdict("min_guided_hours")
    assert (enough.passed, enough.code) == (True, "guided_hours.sufficient")
    assert enough.params == {"actual": 24.0, "required": 24}
    assert run.advance().dest == "analysis_review"


# --- analysis_review: reports 100 %, talks >= 95 % ---------------------------------------


def _coverage_verdict(run: Run, milestone: str) -> cf.Verdict:
    found = [
        v
        for v in run.check().candidates[0].verdicts
        if v.guard == "coverage_at_least" and v.params["milestone"] == milestone
    ]
    assert len(found) == 1
    return found[0]


def test_party_spirit_reports_from_every_member() -> None:
    """31 of 32 party-spirit reports hold the unit; 32 of 32 let it move."""
    run = at_stage("analysis_review")
    run.satisfy()
    run.record(cf.Milestone("party_spirit_report", done=31, total=32))
    short = _coverage_verdict(run, "party_spirit_report")
    assert (short.passed, short.code) == (False, "coverage.insufficient")
    assert short.params == {
        "milestone": "party_spirit_report",
        "done": 31,
        "total": 32,
        "actual": 31 / 32,
        "required": 1.0,
    }
    assert [f.code for f in run.check().failures()] == ["coverage.insufficient"]
    with pytest.raises(cf.TransitionRejected):
        run.advance()

    run.record(cf.Milestone("party_spirit_report", done=32, total=32))
    full = _coverage_verdict(run, "party_spirit_report")
    assert (full.passed, full.code) == (True, "coverage.enough")
    assert (full.params["done"], full.params["total"], full.params["actual"]) == (32, 32, 1.0)
    assert run.advance().dest == "rectification"


@pytest.mark.parametrize(("done", "passes"), [(20, True), (19, True), (18, False)])
def test_heart_to_heart_talks_coverage_at_least_95_percent(done: int, passes: bool) -> None:
    """Talks with 19 of 20 members (95 %) pass; 18 of 20 (90 %) hold the unit."""
    run = at_stage("analysis_review")
    run.satisfy()
    run.record(cf.Milestone("heart_to_heart_talks", done=done, total=20))
    verdict = _coverage_verdict(run, "heart_to_heart_talks")
    assert verdict.passed is passes
    assert verdict.code == ("coverage.enough" if passes else "coverage.insufficient")
    assert verdict.params == {
        "milestone": "heart_to_heart_talks",
        "done": done,
        "total": 20,
        "actual": done / 20,
        "required": 0.95,
    }
    assert run.check().allowed is passes


def test_analysis_review_without_coverage_reports_is_held_with_coverage_missing() -> None:
    """A unit that never reported talks or party-spirit reports is held with coverage.missing."""
    run = at_stage("analysis_review")
    run.milestones(*MILESTONES["analysis_review"])
    run.survey(satisfied=30, dissatisfied=2)
    run.approve()
    failures = run.check().failures()
    assert [(f.code, f.params["milestone"]) for f in failures] == [
        ("coverage.missing", "heart_to_heart_talks"),
        ("coverage.missing", "party_spirit_report"),
    ]


# --- rectification: plan reviewed, published, filed; results published --------------------


@pytest.mark.parametrize("missing", RECTIFICATION_STEPS)
def test_rectification_requires_plan_reviewed_published_filed_and_results_published(
    missing: str,
) -> None:
    """Each missing rectification step holds the unit with milestones.missing naming it."""
    run = at_stage("rectification")
    run.satisfy(skip={missing})
    verdict = run.verdict("milestones_done")
    assert (verdict.passed, verdict.code) == (False, "milestones.missing")
    assert verdict.params == {
        "missing": [missing],
        "required": list(MILESTONES["rectification"]),
    }
    assert [f.code for f in run.check().failures()] == ["milestones.missing"]
    with pytest.raises(cf.TransitionRejected):
        run.advance()

    run.milestones(missing)
    assert run.verdict("milestones_done").code == "milestones.done"
    assert run.advance().dest == "closing"


# --- every stage exit: approval by the supervision group ------------------------------------


@pytest.mark.parametrize("stage", TRANSITION_STAGES)
def test_every_stage_exit_needs_supervision_group_approval(stage: str) -> None:
    """Without the supervision group's approval a unit is held with approval.missing."""
    run = at_stage(stage)
    run.satisfy(skip={"approval"})
    missing = run.verdict("approved_by")
    assert (missing.passed, missing.code) == (False, "approval.missing")
    assert missing.params == {"role": "supervision_group"}
    assert [f.code for f in run.check().failures()] == ["approval.missing"]
    with pytest.raises(cf.TransitionRejected):
        run.advance()
    assert run.stage == stage

    run.approve()
    granted = run.verdict("approved_by")
    assert (granted.passed, granted.code) == (True, "approval.granted")
    assert granted.params == {"role": "supervision_group", "by": "zhang", "comment": ""}
    assert run.advance().dest == NEXT[stage]


def test_rejected_approval_refuses_stage_exit() -> None:
    """A supervision group's rejection holds the unit with approval.refused and its comment."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"approval"})
    run.approve(decision="rejected", comment="学习笔记不全")
    refused = run.verdict("approved_by")
    assert (refused.passed, refused.code) == (False, "approval.refused")
    assert refused.params == {"role": "supervision_group", "by": "zhang", "comment": "学习笔记不全"}
    with pytest.raises(cf.TransitionRejected) as rejected:
        run.advance()
    assert [f.code for f in rejected.value.decision.failures()] == ["approval.refused"]
    assert run.stage == "study_mobilization"

    run.approve()  # the latest decision counts
    assert run.verdict("approved_by").code == "approval.granted"
    assert run.advance().dest == "analysis_review"


def test_unit_never_approves_its_own_stage_exit() -> None:
    """A supervision-group member of the unit itself may not approve it; nothing changes."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"approval"})
    insider = cf.Actor(id="insider", roles={"supervision_group"}, unit=UNIT)
    before_state, before_facts = run.state, run.camp.facts(UNIT)
    with pytest.raises(cf.NotAuthorized) as denied:
        run.approve(actor=insider)
    assert denied.value.rule == "not_authorized.own_unit"
    assert (denied.value.actor_id, denied.value.unit_id) == ("insider", UNIT)
    assert run.state == before_state
    assert run.camp.facts(UNIT) == before_facts
    assert run.verdict("approved_by").code == "approval.missing"


def test_actor_without_supervision_group_role_cannot_approve() -> None:
    """An actor from outside the unit without the supervision_group role may not approve."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"approval"})
    before_state, before_facts = run.state, run.camp.facts(UNIT)
    outsider = cf.Actor(id="li", roles={"leading_group"})
    with pytest.raises(cf.NotAuthorized) as denied:
        run.approve(actor=outsider)
    assert denied.value.rule == "not_authorized.missing_role"
    assert run.state == before_state
    assert run.camp.facts(UNIT) == before_facts
    assert run.verdict("approved_by").code == "approval.missing"


# --- every stage exit (district): satisfied rate at least 0.60 ------------------------------


@pytest.mark.parametrize("stage", TRANSITION_STAGES)
def test_district_satisfied_rate_at_least_60_percent_at_every_stage_exit(stage: str) -> None:
    """At every stage exit 600 of 1000 satisfied passes and the unit moves on."""
    run = at_stage(stage)
    run.satisfy(skip={"survey"})
    run.survey(satisfied=600, dissatisfied=400)
    verdict = run.verdict("satisfaction_rate_at_least")
    assert (verdict.passed, verdict.code) == (True, "satisfaction.enough")
    assert verdict.params == {"actual": 0.6, "required": 0.6, "ballots": 1000, "scale": 3}
    assert run.advance().dest == NEXT[stage]


@pytest.mark.parametrize("stage", TRANSITION_STAGES)
def test_district_satisfied_rate_below_60_percent_sends_unit_to_remedial(stage: str) -> None:
    """599 of 1000 satisfied fails with satisfaction.too_low; advance goes to <stage>_remedial."""
    run = at_stage(stage)
    run.satisfy(skip={"survey"})
    run.survey(satisfied=599, dissatisfied=401)
    decision = run.check()
    verdict = run.verdict("satisfaction_rate_at_least", decision)
    assert (verdict.passed, verdict.code) == (False, "satisfaction.too_low")
    assert verdict.params == {"actual": 0.599, "required": 0.6, "ballots": 1000, "scale": 3}
    assert not decision.candidates[0].passed
    assert (decision.allowed, decision.target) == (True, f"{stage}_remedial")

    moved = run.advance()
    assert (moved.source, moved.dest) == (stage, f"{stage}_remedial")
    assert run.state.remedial
    assert run.state.remedial_round == 1


def test_district_survey_missing_holds_unit_without_sending_it_to_remedial() -> None:
    """A unit not yet assessed is held with survey.missing and stays in its stage."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"survey"})
    decision = run.check()
    assert not decision.allowed
    assert decision.target == "analysis_review"
    assert [(f.code, dict(f.params)) for f in decision.failures()] == [
        ("survey.missing", {"required": 0.6})
    ]
    with pytest.raises(cf.TransitionRejected):
        run.advance()
    assert run.stage == "study_mobilization"


def test_remedial_make_up_returns_to_stage_needing_new_survey_and_approval() -> None:
    """After remedial_completed the unit is back in its stage, re-assessed and re-approved afresh.

    Study hours logged before the make-up still count, and so do the days already spent.
    """
    run = at_stage("study_mobilization")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=599, dissatisfied=401)
    assert run.advance().dest == "study_mobilization_remedial"

    held = run.check()
    assert not held.allowed
    assert [f.code for f in held.failures()] == ["milestones.missing"]
    assert held.failures()[0].params["missing"] == ["remedial_completed"]

    run.milestones("remedial_completed")
    assert run.advance().dest == "study_mobilization"
    assert not run.state.remedial
    assert run.state.stage_since == START

    back = run.check()
    assert not back.allowed
    assert [(f.guard, f.code) for f in back.failures()] == [
        ("approved_by", "approval.missing"),
        ("satisfaction_rate_at_least", "survey.missing"),
    ]
    hours = run.verdict("min_study_hours", back)
    assert (hours.passed, hours.params) == (True, {"actual": 40.0, "required": 40})
    assert run.verdict("min_days_in_stage", back).passed

    run.survey(satisfied=600, dissatisfied=400)
    assert [f.code for f in run.check().failures()] == ["approval.missing"]
    run.approve()
    assert run.advance().dest == "analysis_review"


def test_second_remedial_round_needs_its_own_remedial_completed() -> None:
    """A unit failing its re-assessment must complete a new make-up before it returns."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=599, dissatisfied=401)
    assert run.advance().dest == "study_mobilization_remedial"
    run.milestones("remedial_completed")
    assert run.advance().dest == "study_mobilization"

    run.survey(satisfied=500, dissatisfied=500)
    run.approve()
    assert run.advance().dest == "study_mobilization_remedial"
    assert run.state.remedial_round == 2
    held = run.check()
    assert not held.allowed
    assert [f.code for f in held.failures()] == ["milestones.missing"]


def test_four_level_scale_counts_fairly_satisfied_as_satisfied() -> None:
    """On the 4-level scale 比较满意 counts: 200 + 300 fairly + 100 basically of 1000 is 60 %."""
    run = at_stage("study_mobilization")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=200, fairly_satisfied=300, basically_satisfied=100, dissatisfied=400)
    verdict = run.verdict("satisfaction_rate_at_least")
    assert (verdict.passed, verdict.code) == (True, "satisfaction.enough")
    assert verdict.params == {"actual": 0.6, "required": 0.6, "ballots": 1000, "scale": 4}
    assert run.advance().dest == "analysis_review"


def test_four_level_scale_below_60_percent_is_too_low() -> None:
    """On the 4-level scale 599 content ballots of 1000 still fall short of 60 %."""
    run = at_stage("analysis_review")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=199, fairly_satisfied=300, basically_satisfied=100, dissatisfied=401)
    verdict = run.verdict("satisfaction_rate_at_least")
    assert (verdict.code, verdict.params["scale"]) == ("satisfaction.too_low", 4)
    assert run.advance().dest == "analysis_review_remedial"


def test_district_preset_threshold_is_switchable() -> None:
    """district_2005(satisfaction_rate=0.5) moves a 55 % unit the default preset sends to make-up."""
    for rate, dest in ((0.6, "study_mobilization_remedial"), (0.5, "analysis_review")):
        clock = cf.FixedClock(START)
        camp = cf.Campaign(cf.presets.district_2005(satisfaction_rate=rate), clock=clock)
        camp.add_units([cf.Unit(id=UNIT, name="区财政局机关党支部", kind="organ", batch=1)])
        camp.start_batch(1, on=START, actor=LEADER)
        run = Run(camp, clock).go_to("study_mobilization")
        run.satisfy(skip={"survey"})
        run.survey(satisfied=55, dissatisfied=45)
        assert run.verdict("satisfaction_rate_at_least").params["required"] == rate
        assert run.advance().dest == dest


# --- campaign end (national preset): dissatisfied rate at most 0.50 -------------------------


def test_national_preset_needs_no_per_stage_survey() -> None:
    """Under the central rules a unit reaches closing with no assessment recorded at all."""
    run = at_stage("closing", "advanced_nature_2005")
    assert not any(
        isinstance(record.fact, cf.Survey)
        for stage in TRANSITION_STAGES
        for record in run.camp.facts(UNIT, stage)
    )
    run.satisfy(skip={"survey"})
    decision = run.check()
    assert not decision.allowed
    assert [(f.code, dict(f.params)) for f in decision.failures()] == [
        ("survey.missing", {"limit": 0.5})
    ]


@pytest.mark.parametrize(("dissatisfied", "dest"), [(50, "accepted"), (51, "closing_remedial")])
def test_national_campaign_end_majority_dissatisfied_sends_unit_to_make_up(
    dissatisfied: int, dest: str
) -> None:
    """At the end 50 of 100 dissatisfied is accepted; 51 of 100 goes to closing_remedial."""
    run = at_stage("closing", "advanced_nature_2005")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=100 - dissatisfied, dissatisfied=dissatisfied)
    verdict = run.verdict("dissatisfied_rate_at_most")
    too_many = dissatisfied > 50
    assert verdict.passed is not too_many
    assert verdict.code == ("dissatisfied.too_many" if too_many else "dissatisfied.within_limit")
    assert verdict.params == {
        "actual": dissatisfied / 100,
        "limit": 0.5,
        "ballots": 100,
        "scale": 3,
    }
    assert run.advance().dest == dest


def test_national_closing_make_up_then_reassessment_accepts_unit() -> None:
    """After closing make-up the unit returns to closing and needs a new assessment and approval."""
    run = at_stage("closing", "advanced_nature_2005")
    run.satisfy(skip={"survey"})
    run.survey(satisfied=49, dissatisfied=51)
    assert run.advance().dest == "closing_remedial"
    run.milestones("remedial_completed")
    assert run.advance().dest == "closing"
    assert {f.code for f in run.check().failures()} == {"approval.missing", "survey.missing"}
    run.survey(satisfied=60, dissatisfied=40)
    run.approve()
    assert run.advance().dest == "accepted"


# --- late unit: defer to next batch ----------------------------------------------------------


@pytest.mark.parametrize("started", [False, True])
def test_late_unit_deferred_from_batch_2_to_batch_3(started: bool) -> None:
    """The leading group moves a batch-2 unit (waiting or preparing) to batch 3, back to pending."""
    run = new_run(batch=2, on=date(2005, 7, 1))
    if started:
        [outcome] = run.camp.start_batch(2, on=date(2005, 7, 1), actor=LEADER)
        assert outcome.advanced
        assert run.stage == "preparation"
    moved = run.camp.defer(UNIT, actor=LEADER)
    assert (moved.dest, moved.batch) == ("pending", 3)
    state = run.state
    assert (state.stage, state.batch, state.started_on) == ("pending", 3, None)
    assert [u.id for u, _ in run.camp.units(batch=3)] == [UNIT]
    assert run.camp.units(batch=2) == []


def test_deferred_unit_starts_with_district_batch_3_window() -> None:
    """A unit deferred to batch 3 in the district preset starts on 2006-01-01, not before."""
    run = new_run(batch=2, on=date(2005, 7, 1))
    run.camp.defer(UNIT, actor=LEADER, to_batch=3)
    run.clock.set(date(2005, 12, 31))  # gates judge the clock's date, and starts are dated today
    [early] = run.camp.start_batch(3, actor=LEADER)
    assert not early.advanced
    assert [f.code for f in early.decision.failures()] == ["batch_window.closed"]
    run.clock.set(date(2006, 1, 1))
    [on_time] = run.camp.start_batch(3, actor=LEADER)
    assert on_time.advanced
    assert (run.stage, run.state.started_on) == ("preparation", date(2006, 1, 1))


def test_defer_without_leading_group_role_is_not_authorized() -> None:
    """Only the leading group defers a unit; anyone else is refused and the unit stays put."""
    run = new_run(batch=2, on=date(2005, 7, 1))
    before = run.state
    for actor in (clerk_of(UNIT), INSPECTOR, SUPERIOR):
        with pytest.raises(cf.NotAuthorized) as denied:
            run.camp.defer(UNIT, actor=actor)
        assert denied.value.rule == "not_authorized.missing_role"
    assert run.state == before


@pytest.mark.parametrize(("batch", "to_batch"), [(2, 4), (2, 2), (2, 1), (3, None)])
def test_defer_to_batch_not_in_workflow_is_validation_error(
    batch: int, to_batch: int | None
) -> None:
    """Deferring to a batch the workflow lacks (or not a later one) is bad input; nothing changes."""
    run = new_run(batch=batch, on=date(2005, 7, 1))
    before = run.state
    with pytest.raises(cf.ValidationError, match="to_batch"):
        run.camp.defer(UNIT, actor=LEADER, to_batch=to_batch)
    assert run.state == before


# --- the satisfaction assessment is run by the superior organisation ----------------------


def test_survey_recorded_by_actor_without_superior_org_role_is_not_authorized() -> None:
    """Only the superior organisation records a satisfaction assessment."""
    run = at_stage("study_mobilization")
    before = run.camp.facts(UNIT)
    for actor in (INSPECTOR, cf.Actor(id="li", roles={"leading_group"})):
        with pytest.raises(cf.NotAuthorized) as denied:
            run.record(cf.Survey(satisfied=30, basically_satisfied=2, dissatisfied=0), actor=actor)
        assert denied.value.rule == "not_authorized.missing_role"
    assert run.camp.facts(UNIT) == before


@pytest.mark.parametrize(
    ("roles", "rule"),
    [
        (set(), "not_authorized.missing_role"),
        ({"superior_org"}, "not_authorized.own_unit"),
    ],
)
def test_survey_recorded_by_units_own_actor_is_not_authorized(roles: set[str], rule: str) -> None:
    """A unit never assesses itself, even when its actor holds the superior_org role."""
    run = at_stage("study_mobilization")
    before = run.camp.facts(UNIT)
    insider = cf.Actor(id="insider", roles=roles, unit=UNIT)
    with pytest.raises(cf.NotAuthorized) as denied:
        run.record(cf.Survey(satisfied=30, basically_satisfied=2, dissatisfied=0), actor=insider)
    assert denied.value.rule == rule
    assert run.camp.facts(UNIT) == before
    assert run.verdict("satisfaction_rate_at_least").code == "survey.missing"
