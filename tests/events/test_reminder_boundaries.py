"""Reminder rules at their boundaries, to the day, and across workflow versions.

docs/worklists.md: "awaiting approval" is due ``after_days`` after the unit entered its stage
while the approval is missing, its escalation ``escalate_after_days`` after; "window closing"
when the batch window closes within ``within_days`` days and the unit is not past
``not_past``, once per batch; "stuck" when the unit stayed ``after_days`` in its stage with a
gate holding it, once per stay. docs/workflow-versions.md: a migrated unit's "stay in the
stage goes on" (its dates are kept) and it is judged by the new version's rules; rules keep
their identity by ``id``.
"""

from __future__ import annotations

from datetime import date, timedelta

import campaignflow as cf
from campaignflow.testing.paths import fire, prepare, steps
from tests.events.test_events import LEADER
from tests.events.test_reminders import APPROVAL_RULE, START, _district, _in_study
from tests.store.conftest import StoreFactory

CLOSES = date(2005, 6, 30)  # batch 1's window closes (district_2005)

WINDOW_RULES = """
[[reminders]]
id = "closing_prep"
when = "window closing"
within_days = 30
not_past = "preparation"
notify = ["leading_group"]

[[reminders]]
id = "closing_study"
when = "window closing"
within_days = 10
not_past = "study_mobilization"
notify = ["leading_group"]
"""

STUCK_RULE = """
[[reminders]]
id = "stuck_20"
when = "stuck"
after_days = 20
notify = ["supervision_group"]
escalate_after_days = 40
escalate_to = ["leading_group"]
"""


def _campaign(factory: StoreFactory, flow: cf.Workflow, clock: cf.FixedClock) -> cf.Campaign:
    return cf.Campaign(flow, store=factory.open(), clock=clock, campaign_id=factory.campaign_id)


def _due(camp: cf.Campaign, clock: cf.FixedClock, day: date) -> list[tuple[str, str, str]]:
    """(unit, rule, kind) of the rule reminders send_reminders writes on ``day``."""
    clock.set(day)
    return [
        (e.unit_id or "", e.params["rule"], e.kind)
        for e in camp.send_reminders()
        if e.kind in ("reminder_due", "escalated")
    ]


def _clerk(unit_id: str) -> cf.Actor:
    return cf.Actor(id=f"clerk-{unit_id}", roles={"branch_committee"}, unit=unit_id)


def test_window_rule_is_due_the_day_the_close_comes_within_n_days_once_per_batch(
    store_factory: StoreFactory,
) -> None:
    """Day close-31 nothing, close-30 due for units not past the stage; again in the next batch."""
    clock = cf.FixedClock(START)
    camp = _campaign(store_factory, _district(WINDOW_RULES), clock)
    _in_study(camp, clock)  # fin-01: in study_mobilization, past preparation
    camp.add_units([cf.Unit(id="prep", name="支部", kind="organ", batch=1, members=9)])
    camp.start_batch(1, actor=LEADER)  # prep: in preparation
    assert _due(camp, clock, CLOSES - timedelta(days=31)) == []
    assert _due(camp, clock, CLOSES - timedelta(days=30)) == [
        ("prep", "closing_prep", "reminder_due")
    ]
    assert _due(camp, clock, CLOSES - timedelta(days=29)) == []
    assert _due(camp, clock, CLOSES - timedelta(days=11)) == []
    assert sorted(_due(camp, clock, CLOSES - timedelta(days=10))) == [
        ("fin-01", "closing_study", "reminder_due"),
        ("prep", "closing_study", "reminder_due"),
    ]
    days = camp.events(kinds=["reminder_due"]).events
    assert [e.params["days"] for e in days] == [30, 10, 10]
    # Deferred to batch 2, the unit is reminded again before that window closes.
    camp.defer("prep", actor=LEADER, to_batch=2)
    clock.set(date(2005, 7, 1))
    camp.start_batch(2, actor=LEADER)
    assert _due(camp, clock, date(2005, 12, 31) - timedelta(days=31)) == []
    assert _due(camp, clock, date(2005, 12, 31) - timedelta(days=30)) == [
        ("prep", "closing_prep", "reminder_due")
    ]


def test_a_window_rule_is_not_due_once_the_window_has_closed() -> None:
    """A scheduler first run after the close sends no "closes within" reminder (overdue items instead)."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(WINDOW_RULES), clock=clock)
    _in_study(camp, clock)
    clock.set(CLOSES + timedelta(days=3))
    sent = camp.send_reminders()
    assert [e.kind for e in sent] == ["work_item_overdue"] * 3
    assert _due(camp, clock, CLOSES + timedelta(days=4)) == []


def test_stuck_rule_counts_the_stay_in_the_stage_and_starts_again_in_the_next(
    store_factory: StoreFactory,
) -> None:
    """Day 19 nothing, 20 reminder, 39 nothing, 40 escalation, though the holding gates changed;
    in the next stage it counts from the day the unit entered it."""
    clock = cf.FixedClock(START)
    camp = _campaign(store_factory, _district(STUCK_RULE), clock)
    _in_study(camp, clock)
    clock.set(START + timedelta(days=10))
    camp.record("fin-01", cf.Milestone("mobilization_meeting"), actor=_clerk("fin-01"))
    sent = {day: _due(camp, clock, START + timedelta(days=day)) for day in (19, 20, 21, 39, 40, 41)}
    assert sent == {
        19: [],
        20: [("fin-01", "stuck_20", "reminder_due")],
        21: [],
        39: [],
        40: [("fin-01", "stuck_20", "escalated")],
        41: [],
    }
    (escalated,) = camp.events(kinds=["escalated"]).events
    assert escalated.params["days"] == 40
    assert escalated.params["notify"] == ["leading_group"]
    assert "approval.missing" in escalated.params["gates"]
    assert "mobilization_meeting" not in str(escalated.params["gates"])
    way = next(
        s
        for s in steps(camp.workflow)
        if s.source == "study_mobilization" and s.dest == "analysis_review"
    )
    fire(camp, "fin-01", way, actor=prepare(camp, "fin-01", way, clock=clock))
    entered = camp.state("fin-01").entered_on
    assert camp.state("fin-01").stage == "analysis_review"
    assert entered is not None
    assert _due(camp, clock, entered + timedelta(days=19)) == []
    assert _due(camp, clock, entered + timedelta(days=20)) == [
        ("fin-01", "stuck_20", "reminder_due")
    ]


SHORTER = APPROVAL_RULE.replace("after_days = 5", "after_days = 3").replace(
    "escalate_after_days = 10", "escalate_after_days = 7"
)


def test_a_migrated_unit_keeps_its_waiting_since_and_takes_the_new_versions_days(
    store_factory: StoreFactory,
) -> None:
    """Adopted on day 2 onto 3/7 days: reminder on day 3, escalation on day 7 (from the stage
    entry, not the adoption), nothing on version 1's days 5 and 10; the inbox deadline too."""
    clock = cf.FixedClock(START)
    camp = _campaign(store_factory, _district(), clock)
    _in_study(camp, clock)
    inspector = cf.Actor(id="zhang", roles={"supervision_group"})
    (item,) = camp.inbox(inspector, kind="approval").items
    assert item.deadline == START + timedelta(days=10)
    clock.set(START + timedelta(days=2))
    assert camp.send_reminders() == []
    camp.adopt(_district(SHORTER, version="2"), policy="migrate")
    assert camp.state("fin-01").entered_on == START
    (item,) = camp.inbox(inspector, kind="approval").items
    assert (item.since, item.deadline) == (START, START + timedelta(days=7))
    sent = {day: _due(camp, clock, START + timedelta(days=day)) for day in range(2, 12)}
    assert {day: events for day, events in sent.items() if events} == {
        3: [("fin-01", "approval_overdue", "reminder_due")],
        7: [("fin-01", "approval_overdue", "escalated")],
    }


def test_a_rule_sent_under_version_1_is_not_sent_again_under_a_later_rule_of_the_same_id() -> None:
    """Reminded on day 5 (version 1); migrated onto 8/12 days: nothing on day 8, escalation on day 12."""
    later = APPROVAL_RULE.replace("after_days = 5", "after_days = 8").replace(
        "escalate_after_days = 10", "escalate_after_days = 12"
    )
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(), clock=clock)
    _in_study(camp, clock)
    assert _due(camp, clock, START + timedelta(days=5)) == [
        ("fin-01", "approval_overdue", "reminder_due")
    ]
    camp.adopt(_district(later, version="2"), policy="migrate")
    sent = {day: _due(camp, clock, START + timedelta(days=day)) for day in range(6, 14)}
    assert {day: events for day, events in sent.items() if events} == {
        12: [("fin-01", "approval_overdue", "escalated")]
    }


def test_a_new_rule_of_the_new_version_counts_from_the_stage_entry() -> None:
    """A stuck rule only version 2 has, adopted on day 12, is due on day 15 of the stay."""
    stuck = STUCK_RULE.replace("after_days = 20", "after_days = 15").replace(
        "escalate_after_days = 40", "escalate_after_days = 30"
    )
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(rules=""), clock=clock)
    _in_study(camp, clock)
    clock.set(START + timedelta(days=12))
    assert camp.send_reminders() == []
    camp.adopt(_district(stuck, version="2"), policy="migrate")
    sent = {day: _due(camp, clock, START + timedelta(days=day)) for day in range(12, 17)}
    assert {day: events for day, events in sent.items() if events} == {
        15: [("fin-01", "stuck_20", "reminder_due")]
    }


def test_a_pinned_unit_keeps_its_versions_days_and_a_later_unit_takes_the_new_ones() -> None:
    """Under policy "pin" the unit in flight is reminded on version 1's day 5; a unit that
    starts after the adoption on version 2's day 3."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(), clock=clock)
    _in_study(camp, clock)
    camp.add_units([cf.Unit(id="late", name="后来", kind="organ", batch=1, members=9)])
    camp.adopt(_district(SHORTER, version="2"), policy="pin")
    assert camp.workflow_of("fin-01").version == "1"
    assert camp.workflow_of("late").version == "2"
    camp.start_batch(1, actor=LEADER)
    for name in ("implementation_plan", "leading_group_established"):
        camp.record("late", cf.Milestone(name), actor=_clerk("late"))
    camp.advance("late", actor=_clerk("late"))
    sent = {day: _due(camp, clock, START + timedelta(days=day)) for day in range(11)}
    assert {day: events for day, events in sent.items() if events} == {
        3: [("late", "approval_overdue", "reminder_due")],
        5: [("fin-01", "approval_overdue", "reminder_due")],
        7: [("late", "approval_overdue", "escalated")],
        10: [("fin-01", "approval_overdue", "escalated")],
    }
