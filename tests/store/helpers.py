"""What the store tests share: a scripted district campaign, snapshots, a failing store wrapper."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from typing import Any

import campaignflow as cf
from campaignflow.store import Store, StoreSession

# The crash child runs by path and imports nothing from the test tree, so the shared actors
# and evidence live there and the suite imports them.
from tests.store.crash_child import INSPECTOR as INSPECTOR
from tests.store.crash_child import LEADER as LEADER
from tests.store.crash_child import MILESTONES, clerk_of
from tests.store.crash_child import SUPERIOR as SUPERIOR

START = date(2005, 1, 10)

UNITS = (
    cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32),
    cf.Unit(
        id="edu-02", name="区教育局机关党支部", kind="organ", batch=1, members=20, parent="edu"
    ),
    cf.Unit(id="vil-03", name="东村党支部", kind="village", batch=2, members=41),
)


def satisfy(
    camp: cf.Campaign, clock: cf.FixedClock, unit_id: str, *, dissatisfied: int = 1
) -> None:
    """Record every piece of evidence the unit's current stage asks for, moving the clock if needed."""
    state = camp.state(unit_id)
    stage, clerk = state.stage, clerk_of(unit_id)
    for name in MILESTONES[stage]:
        camp.record(
            unit_id, cf.Milestone(name), actor=clerk, request_id=f"{unit_id}-{stage}-{name}"
        )
    if stage == "study_mobilization":
        camp.record(unit_id, cf.StudySession(hours=24, guided=True), actor=clerk)
        camp.record(unit_id, cf.StudySession(hours=16.5), actor=clerk)
        assert state.stage_since is not None
        _not_before(clock, state.stage_since + timedelta(days=30))
    if stage == "analysis_review":
        camp.record(unit_id, cf.Milestone("heart_to_heart_talks", done=32, total=32), actor=clerk)
        camp.record(unit_id, cf.Milestone("party_spirit_report", done=32, total=32), actor=clerk)
    if stage == "closing":
        assert state.started_on is not None
        _not_before(clock, state.started_on + timedelta(days=90))
    if stage != "preparation":
        survey = cf.Survey(satisfied=28, basically_satisfied=3, dissatisfied=dissatisfied)
        camp.record(unit_id, survey, actor=SUPERIOR)
        camp.approve(unit_id, actor=INSPECTOR, comment="同意转段")


def _not_before(clock: cf.FixedClock, day: date) -> None:
    if clock.now().date() < day:
        clock.set(day)


def run_district(camp: cf.Campaign, clock: cf.FixedClock) -> None:
    """A scripted district campaign: one unit straight to accepted, one through make-up, one deferred.

    Covers every command (add, start, record, approve, advance, defer), denials (an own-unit
    approval, a refused advance), request-id replays, remedial state fields and a batch change.
    """
    camp.add_units(UNITS, request_id="add-all")
    camp.add_units(UNITS, request_id="add-all")  # replayed: writes nothing
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    camp.defer("vil-03", actor=LEADER, to_batch=3, request_id="defer-vil")

    # A refused advance is an audited denial.
    with suppress(cf.TransitionRejected):
        camp.advance("fin-01", actor=clerk_of("fin-01"), request_id="too-early")

    satisfy(camp, clock, "edu-02")
    camp.advance("edu-02", actor=clerk_of("edu-02"))
    assert camp.state("edu-02").stage == "study_mobilization"
    # So is an approval by a member of the unit itself.
    own = cf.Actor(id="li", roles={"supervision_group"}, unit="edu-02")
    with suppress(cf.NotAuthorized):
        camp.approve("edu-02", actor=own)
    # edu-02 fails its first assessment at study and goes to make-up (补课), then returns.
    _fail_assessment(camp, clock, "edu-02")

    for unit_id in ("fin-01", "edu-02"):
        for _ in range(8):
            if camp.state(unit_id).stage == "accepted":
                break
            satisfy(camp, clock, unit_id)
            camp.advance(
                unit_id,
                actor=clerk_of(unit_id),
                request_id=f"{unit_id}-adv-{camp.state(unit_id).version}",
            )
        assert camp.state(unit_id).stage == "accepted", unit_id


def _fail_assessment(camp: cf.Campaign, clock: cf.FixedClock, unit_id: str) -> None:
    clerk = clerk_of(unit_id)
    survey = cf.Survey(satisfied=5, basically_satisfied=5, dissatisfied=20)
    camp.record(unit_id, survey, actor=SUPERIOR)
    record = camp.advance(unit_id, actor=clerk)
    assert record.dest == "study_mobilization_remedial"
    camp.record(unit_id, cf.Milestone("remedial_completed"), actor=clerk)
    clock.set(clock.now() + timedelta(days=7))
    assert camp.advance(unit_id, actor=clerk).dest == "study_mobilization"
    assert camp.state(unit_id).remedial_round == 1


def snapshot(camp: cf.Campaign) -> tuple[Any, ...]:
    """Everything a campaign keeps: units with states, every stage's facts, the audit trail."""
    units = camp.units()
    facts = [camp.facts(unit.id, stage.id) for unit, _ in units for stage in camp.workflow.stages]
    return units, facts, list(camp.audit_trail())


class _FailingSession:
    """A session that raises on one method after doing nothing else."""

    def __init__(self, inner: StoreSession, fail_on: str) -> None:
        self._inner = inner
        self._fail_on = fail_on

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._fail_on:
            return attribute

        def fail(*args: Any, **kwargs: Any) -> Any:
            attribute(*args, **kwargs)  # the write happens, then the command dies
            raise RuntimeError(f"injected failure after {name}")

        return fail


class FailingStore:
    """Wraps a store so that ``fail_on`` (a session method) raises right after it has written."""

    def __init__(self, inner: Store, fail_on: str) -> None:
        self.inner = inner
        self.fail_on = fail_on

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Any]:
        """The inner store's session, with ``fail_on`` made to raise."""
        with self.inner.transaction(write=write) as tx:
            yield _FailingSession(tx, self.fail_on)

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()


def hashes(records: Sequence[cf.AuditRecord]) -> list[str]:
    """The hashes of audit records, in order."""
    return [r.hash for r in records]
