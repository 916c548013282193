"""Reminder and escalation rules as workflow data, sent once per (unit, rule, level) at the campaign's clock."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from typing import Any

import pytest

import campaignflow as cf
from tests.events.test_events import FLOW, INSPECTOR, LEADER, Visit
from tests.store.conftest import StoreFactory

START = date(2005, 1, 10)

APPROVAL_RULE = """
[[reminders]]
id = "approval_overdue"
when = "awaiting approval"
after_days = 5
notify = ["supervision_group"]
escalate_after_days = 10
escalate_to = ["leading_group"]
"""


def _district(rules: str = APPROVAL_RULE, version: str = "1") -> cf.Workflow:
    data = tomllib.loads(cf.presets.source("district_2005") + rules)
    data["version"] = version
    return cf.Workflow.from_dict(data)


def _in_study(camp: cf.Campaign, clock: cf.FixedClock) -> None:
    """One unit, started and moved into 学习动员 (whose exit asks the supervision group) on START."""
    clock.set(START)
    camp.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1, members=30)])
    camp.start_batch(1, actor=LEADER)
    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
    for name in ("implementation_plan", "leading_group_established"):
        camp.record("fin-01", cf.Milestone(name), actor=clerk)
    camp.advance("fin-01", actor=clerk)


def _sent_by_day(camp: cf.Campaign, clock: cf.FixedClock, days: range) -> dict[int, list[Any]]:
    sent = {}
    for day in days:
        clock.set(START + timedelta(days=day))
        sent[day] = [(e.kind, e.params["notify"]) for e in camp.send_reminders()]
    return sent


def test_day_4_nothing_day_5_reminder_day_10_escalation_each_once(
    store_factory: StoreFactory,
) -> None:
    """The rule's boundaries hold to the day, and a later call sends nothing again."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(
        _district(), store=store_factory.open(), clock=clock, campaign_id=store_factory.campaign_id
    )
    _in_study(camp, clock)
    sent = _sent_by_day(camp, clock, range(13))
    assert sent[4] == []
    assert sent[5] == [("reminder_due", ["supervision_group"])]
    assert sent[10] == [("escalated", ["leading_group"])]
    assert [day for day, events in sent.items() if events] == [5, 10]
    feed = camp.events(kinds=["reminder_due", "escalated"]).events
    assert [(e.kind, e.params["days"], e.params["gates"]) for e in feed] == [
        ("reminder_due", 5, ["approval.missing"]),
        ("escalated", 10, ["approval.missing"]),
    ]
    assert feed[1].explain("en").startswith("escalated: unit fin-01 in study and mobilisation")
    assert camp.verify_audit().ok


def test_a_first_call_late_sends_reminder_and_escalation_together(
    store_factory: StoreFactory,
) -> None:
    """A scheduler that missed days catches up: both levels, in order, once."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(
        _district(), store=store_factory.open(), clock=clock, campaign_id=store_factory.campaign_id
    )
    _in_study(camp, clock)
    clock.set(START + timedelta(days=11))
    assert [e.kind for e in camp.send_reminders()] == ["reminder_due", "escalated"]
    assert camp.send_reminders() == []


def test_an_approval_given_stops_the_reminders() -> None:
    """Once the supervision group approved, the approval rule is not due."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(), clock=clock)
    _in_study(camp, clock)
    camp.approve("fin-01", actor=INSPECTOR)
    assert _sent_by_day(camp, clock, range(12)) == {day: [] for day in range(12)}


def test_reminders_hold_across_workflow_versions() -> None:
    """After adoption, the same rule id in the new version does not send again; its escalation still comes."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(), clock=clock)
    _in_study(camp, clock)
    assert _sent_by_day(camp, clock, range(7))[5] == [("reminder_due", ["supervision_group"])]
    camp.adopt(_district(version="2"), policy="migrate")
    assert camp.workflow_of("fin-01").version == "2"
    later = _sent_by_day(camp, clock, range(7, 12))
    assert later == {7: [], 8: [], 9: [], 10: [("escalated", ["leading_group"])], 11: []}


def test_a_version_without_rules_sends_nothing() -> None:
    """Units migrated to a version without reminders are not reminded."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(), clock=clock)
    _in_study(camp, clock)
    camp.adopt(_district(rules="", version="2"), policy="migrate")
    assert _sent_by_day(camp, clock, range(12)) == {day: [] for day in range(12)}


def test_stuck_rule_names_a_custom_gate_and_window_rule_counts_days_left() -> None:
    """A unit held by a custom guard is reported stuck with its code; a closing window is flagged."""
    rules = """
[[reminders]]
id = "stuck_study"
when = "stuck"
after_days = 3
notify = ["supervision_group"]

[[reminders]]
id = "closing"
when = "window closing"
within_days = 30
not_past = "study_mobilization"
notify = ["leading_group"]
"""
    clock = cf.FixedClock(START)
    flow = cf.Workflow.from_dict(tomllib.loads(FLOW + rules))
    camp = cf.Campaign(flow, clock=clock)
    camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=5)])
    camp.start_batch(1, actor=LEADER)
    sent = dict(_days(camp, clock, [2, 3, 4]))
    assert sent[2] == []
    assert [(e.kind, e.params["rule"], e.params["gates"]) for e in sent[3]] == [
        ("reminder_due", "stuck_study", ["evtest_visited.missing"])
    ]
    assert sent[4] == []
    clock.set(date(2005, 5, 31))  # the window closes on 2005-06-30
    assert [(e.params["rule"], e.params["days"]) for e in camp.send_reminders()] == [
        ("closing", 30)
    ]
    camp.record("u0", Visit(visitors=1), actor=INSPECTOR)
    camp.advance("u0", actor=cf.Actor(id="c", roles={"branch_committee"}, unit="u0"))
    assert camp.send_reminders() == []


def _days(
    camp: cf.Campaign, clock: cf.FixedClock, days: list[int]
) -> list[tuple[int, list[cf.Event]]]:
    found = []
    for day in days:
        clock.set(START + timedelta(days=day))
        found.append((day, camp.send_reminders()))
    return found


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            'id = "a"\nwhen = "awaiting aproval"\nafter_days = 5\nnotify = ["x"]',
            "$.reminders[0].when: 'awaiting aproval' is not a reminder condition; did you mean "
            "'awaiting approval'? The conditions are awaiting approval, window closing, stuck",
        ),
        (
            'id = "a"\nwhen = "stuck"\nnotify = ["x"]',
            "$.reminders[0].after_days: required field missing",
        ),
        (
            'id = "a"\nwhen = "stuck"\nafter_days = 5\nnotify = ["x"]\nescalate_after_days = 5\n'
            'escalate_to = ["y"]',
            "$.reminders[0].escalate_after_days: must be more than after_days (5), got 5",
        ),
        (
            'id = "a"\nwhen = "stuck"\nafter_days = 5\nnotify = ["x"]\nescalate_after_days = 9',
            "$.reminders[0]: escalate_after_days and escalate_to go together: give both or neither",
        ),
        (
            'id = "a"\nwhen = "window closing"\nwithin_days = 5\nnot_past = "nowhere"\nnotify = ["x"]',
            "$.reminders[0].not_past: unknown stage 'nowhere'",
        ),
        (
            'id = "a"\nwhen = "window closing"\nwithin_days = 5\nnot_past = "rectificaton"\n'
            'notify = ["x"]',
            "$.reminders[0].not_past: unknown stage 'rectificaton'; did you mean 'rectification'?",
        ),
        (
            'id = "a"\nwhen = "stuk"\nafter_days = -1\nnotify = ["x"]',
            "$.reminders[0].after_days: must be a whole number from 0 to 36500, got -1",
        ),
        (
            'id = "a"\nwhen = "stuck"\nafter_days = -1\nnotify = []',
            "$.reminders[0].after_days: must be a whole number from 0 to 36500, got -1",
        ),
        (
            'id = "a"\nwhen = "stuck"\nafter_days = 1\nnotify = ["x"]\nwithin_days = 3',
            '$.reminders[0].within_days: a reminder with when = "stuck" takes no within_days',
        ),
        (
            'id = "a"\nwhen = "stuck"\nafter_days = 1\nnotify = ["x"]\nnotfy = 3',
            "$.reminders[0]: unknown key(s): notfy",
        ),
    ],
)
def test_bad_rules_are_definition_problems_with_paths(rule: str, expected: str) -> None:
    """Each bad rule is reported with its path, as the rest of a workflow is."""
    with pytest.raises(cf.DefinitionError) as caught:
        _district(rules=f"\n[[reminders]]\n{rule}\n")
    assert expected in caught.value.problems
    assert all(p.message("zh_CN") for p in caught.value.problems)


def test_a_repeated_rule_id_is_a_problem_and_rules_round_trip() -> None:
    """Rule ids are unique; to_dict keeps the rules and from_dict reads them back equal."""
    with pytest.raises(cf.DefinitionError) as caught:
        _district(rules=APPROVAL_RULE + APPROVAL_RULE)
    assert caught.value.problems[0].code == "definition.duplicate_reminder"
    workflow = _district()
    assert workflow.reminders == (
        cf.Reminder(
            id="approval_overdue",
            when="awaiting approval",
            notify=("supervision_group",),
            after_days=5,
            escalate_after_days=10,
            escalate_to=("leading_group",),
        ),
    )
    assert cf.Workflow.from_dict(workflow.to_dict()) == workflow
    assert "reminders" not in cf.presets.district_2005().to_dict()


def test_work_items_past_the_closed_window_are_overdue_once(store_factory: StoreFactory) -> None:
    """The day after the batch window closes, each open work item is reported overdue, once."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(
        _district(rules=""),
        store=store_factory.open(),
        clock=clock,
        campaign_id=store_factory.campaign_id,
    )
    _in_study(camp, clock)
    sent = {}
    for day in (date(2005, 6, 30), date(2005, 7, 1), date(2005, 7, 2)):
        clock.set(day)
        sent[day] = [(e.kind, e.params["kind"], e.params["notify"]) for e in camp.send_reminders()]
    assert sent[date(2005, 6, 30)] == []
    assert sent[date(2005, 7, 1)] == [
        ("work_item_overdue", "approval", ["supervision_group"]),
        ("work_item_overdue", "assessment", ["superior_org"]),
        ("work_item_overdue", "facts", ["fin-01"]),
    ]
    assert sent[date(2005, 7, 2)] == []
    (event,) = camp.events(kinds=["work_item_overdue"], limit=1).events
    assert event.params["deadline"] == "2005-06-30"
    assert event.explain("zh_CN").startswith("逾期：单位 fin-01 在“学习动员”环节的待办（approval）")


def test_rules_are_kept_with_the_adopted_versions_a_database_stores(tmp_path: Any) -> None:
    """A campaign reopened from SQLite judges each unit by its version's stored rules."""
    path = tmp_path / "c.db"
    clock = cf.FixedClock(START)
    camp = cf.Campaign(_district(rules=""), store=f"sqlite:///{path}", clock=clock)
    _in_study(camp, clock)
    camp.adopt(_district(version="2"), policy="migrate")
    camp.close()
    again = cf.Campaign(_district(version="2"), store=f"sqlite:///{path}", clock=clock)
    assert [r.id for r in again.workflow_of("fin-01").reminders] == ["approval_overdue"]
    clock.set(START + timedelta(days=5))
    assert [e.kind for e in again.send_reminders()] == ["reminder_due"]
    again.close()
