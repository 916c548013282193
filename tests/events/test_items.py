"""Work items kept in the command's own transaction (issue 20): after every command the stored
items equal a recomputation from ``check()``, the store's mark is the chain head (no catch-up
left for the next ``inbox``), and a rolled-back command leaves items and events unchanged."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from tests.events.test_events import LEADER, crash_transactions
from tests.store.conftest import StoreFactory
from tests.store.test_schema_fixtures import open_copy

INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
ASSESSOR = "superior_org"

Item = tuple[str, str, str | None, tuple[str, ...]]


def recomputed(camp: cf.Campaign) -> list[Item]:
    """Every unit's items, recomputed from check() (no deferral rule in these workflows)."""
    found: list[Item] = []
    for unit, state in camp.units():
        if camp.workflow_of(unit.id).stage(state.stage).kind in ("waiting", "final"):
            continue
        decision = camp.check(unit.id)
        if decision.allowed:
            found.append((unit.id, "advance", None, ()))
            continue
        waits: dict[tuple[str, str | None], list[str]] = {}
        for verdict in decision.failures():
            role = verdict.params.get("role")
            if verdict.code == "approval.missing" and isinstance(role, str):
                waits.setdefault(("approval", role), []).append(verdict.code)
            elif verdict.code == "survey.missing":
                waits.setdefault(("assessment", ASSESSOR), []).append(verdict.code)
            else:
                waits.setdefault(("facts", None), []).append(verdict.code)
        found.extend((unit.id, kind, role, tuple(codes)) for (kind, role), codes in waits.items())
    return sorted(found, key=lambda i: (i[0], i[1], i[2] or ""))


def kept(camp: cf.Campaign) -> tuple[list[Item], bool]:
    """The items the store keeps, read without catching up, and whether its mark is the head."""
    with camp.store.transaction(write=False) as tx:
        through, _ = tx.work_items_through()
        head, _ = tx.audit_head()
        items = [
            (i.unit_id, i.kind, i.role, i.codes)
            for unit, _ in tx.iter_units(None)
            for i in tx.get_work_items(unit.id)
        ]
    return sorted(items, key=lambda i: (i[0], i[1], i[2] or "")), through == head


def assert_kept(camp: cf.Campaign) -> None:
    items, current = kept(camp)
    assert current, "the command left records its items do not reflect"
    assert items == recomputed(camp)


def _clerk(unit: str) -> cf.Actor:
    return cf.Actor(id=f"c-{unit}", roles={"branch_committee"}, unit=unit)


def test_each_command_keeps_the_items_in_its_own_transaction(store_factory: StoreFactory) -> None:
    """add, start, record, approve, advance, a refusal, defer, the sweeps and adopt each leave
    the items current, without an inbox read in between; the inbox then has nothing to do."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = store_factory.campaign(clock)
    camp.inbox(INSPECTOR)  # the store keeps items from here on
    camp.add_units(
        [cf.Unit(id=f"u{i}", name=f"支部{i}", kind="organ", batch=1, members=10) for i in range(4)]
    )
    assert_kept(camp)
    camp.start_batch(1, actor=LEADER)
    assert_kept(camp)
    for unit_id in ("u0", "u1", "u2"):
        for name in ("implementation_plan", "leading_group_established"):
            camp.record(unit_id, cf.Milestone(name), actor=_clerk(unit_id))
            assert_kept(camp)
    camp.advance("u0", actor=_clerk("u0"))
    assert_kept(camp)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("u3", actor=_clerk("u3"))
    assert_kept(camp)
    camp.defer("u3", actor=LEADER)
    assert_kept(camp)
    camp.advance_all(actor=LEADER)
    assert_kept(camp)
    camp.record("u0", cf.StudySession(hours=40), actor=_clerk("u0"))
    assert_kept(camp)
    camp.advance_due(sweep="w", batch=None, limit=10, actor=LEADER)
    assert_kept(camp)
    cursor = camp.events(limit=10_000).cursor
    page = camp.inbox(INSPECTOR)
    assert camp.events(after=cursor).events == (), "the inbox read had nothing to catch up"
    assert [(i.unit_id, i.kind) for i in page.items] == [
        (u, k) for u, k, r, _ in recomputed(camp) if r == "supervision_group"
    ]
    assert camp.verify_audit().ok


def test_adopting_a_version_keeps_the_moved_units_items(store_factory: StoreFactory) -> None:
    """The units an adoption moves are judged by the new version in its transaction."""
    camp = store_factory.campaign(cf.FixedClock(date(2005, 1, 10)))
    camp.inbox(INSPECTOR)
    camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=10)])
    camp.start_batch(1, actor=LEADER)
    data = camp.workflow.to_dict()
    for transition in data["transitions"]:
        if transition["dest"] == "study_mobilization":
            transition["guards"] = []
    camp.adopt(cf.Workflow.from_dict(data), policy="migrate")
    assert_kept(camp)
    assert kept(camp)[0] == [("u0", "advance", None, ())]


class _FailOnItems:
    """A transaction failing as it writes work items: an error in the middle of a command."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def set_work_items(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("crash while writing work items")


def test_a_rolled_back_command_leaves_items_and_events_unchanged(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command failing mid-way (or refused by validation) changes no item and no event."""
    camp = store_factory.campaign(cf.FixedClock(date(2005, 1, 10)))
    camp.inbox(INSPECTOR)
    camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=10)])
    camp.start_batch(1, actor=LEADER)
    camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1, members=10)])
    before = (kept(camp), camp.events(limit=10_000), camp.state("u0"), camp.state("u1"))
    crash_transactions(monkeypatch, camp, _FailOnItems)
    for command in (
        lambda: camp.record("u0", cf.Milestone("implementation_plan"), actor=_clerk("u0")),
        lambda: camp.defer("u0", actor=LEADER),
        lambda: camp.start_batch(1, actor=LEADER),
    ):
        with pytest.raises(RuntimeError):
            command()
    monkeypatch.undo()
    with pytest.raises(cf.ValidationError):
        camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1)])
    with pytest.raises(cf.ValidationError):
        camp.defer("u0", actor=LEADER, to_batch=1)
    assert (kept(camp), camp.events(limit=10_000), camp.state("u0"), camp.state("u1")) == before
    assert_kept(camp)


def test_commands_keep_no_items_until_an_inbox_is_read(store_factory: StoreFactory) -> None:
    """A host that never reads an inbox pays no items; the first read backfills them all."""
    camp = store_factory.campaign(cf.FixedClock(date(2005, 1, 10)))
    camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=10)])
    camp.start_batch(1, actor=LEADER)
    assert kept(camp)[0] == []
    assert camp.events(kinds=["work_item_created"]).events == ()
    clerk = _clerk("u0")
    assert [i.kind for i in camp.inbox(clerk).items] == ["facts"]
    assert_kept(camp)


DEFER_FLOW = """
name = "deftest"
initial = "pending"
[[batches]]
number = 1
opens = 2005-01-01
closes = 2005-03-31
[[batches]]
number = 2
opens = 2005-04-01
closes = 2005-06-30
[[stages]]
id = "pending"
kind = "waiting"
[[stages]]
id = "preparation"
[[stages]]
id = "study"
[[stages]]
id = "accepted"
kind = "final"
[[transitions]]
trigger = "start"
source = "pending"
dest = "preparation"
[[transitions]]
trigger = "defer"
source = ["pending", "preparation"]
dest = "pending"
by = ["leading_group"]
[[transitions]]
source = "preparation"
dest = "study"
guards = [{ guard = "milestones_done", names = ["plan"] }]
[[transitions]]
source = "study"
dest = "accepted"
guards = [{ guard = "milestones_done", names = ["report"] }]
[[reminders]]
id = "late"
when = "window closing"
within_days = 10
not_past = "preparation"
notify = ["leading_group"]
"""


def test_the_deferral_item_appears_and_goes_at_its_boundaries(store_factory: StoreFactory) -> None:
    """Day 11 before the close: none; day 10: the leading group's deferral item (the day
    roll); past the rule's stage or deferred: gone (in the command's transaction)."""
    clock = cf.FixedClock(date(2005, 3, 20))
    flow = cf.Workflow.from_dict(tomllib.loads(DEFER_FLOW))
    camp = cf.Campaign(
        flow, store=store_factory.open(), clock=clock, campaign_id=store_factory.campaign_id
    )
    camp.add_units(
        [cf.Unit(id=f"u{i}", name=f"支部{i}", kind="organ", batch=1, members=10) for i in range(3)]
    )
    camp.start_batch(1, actor=LEADER)

    def deferrals() -> list[str]:
        page = camp.inbox(LEADER, kind="deferral")
        assert all(i.role == "leading_group" for i in page.items)
        return [i.unit_id for i in page.items]

    assert deferrals() == []
    clock.set(date(2005, 3, 21))  # ten days left
    assert deferrals() == ["u0", "u1", "u2"]
    item = camp.inbox(LEADER, kind="deferral").items[0]
    assert item.deadline == date(2005, 3, 31)
    assert item.explain("en").startswith("the batch window closes on 2005-03-31 (10 days left)")
    assert "领导小组可将其推迟" in item.explain("zh_CN")
    camp.record("u0", cf.Milestone("plan"), actor=_clerk("u0"))
    camp.advance("u0", actor=_clerk("u0"))  # past "preparation": no longer the group's
    camp.defer("u1", actor=LEADER)  # batch 2: its window is far
    items, current = kept(camp)
    assert current
    assert [u for u, k, _, _ in items if k == "deferral"] == ["u2"]
    assert deferrals() == ["u2"]
    done = camp.events(kinds=["work_item_done"]).events
    assert sorted(e.unit_id for e in done if e.params["kind"] == "deferral") == ["u0", "u1"]


def test_a_campaign_keeping_items_on_read_leaves_them_to_the_inbox(
    store_factory: StoreFactory,
) -> None:
    """work_items="on_read": commands write no items, inbox catches up to the same items."""
    camp = store_factory.campaign(cf.FixedClock(date(2005, 1, 10)))
    camp.inbox(INSPECTOR)
    lazy = cf.Campaign(
        camp.workflow,
        store=camp.store,
        clock=camp.clock,
        campaign_id=camp.campaign_id,
        work_items="on_read",
    )
    lazy.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=10)])
    lazy.start_batch(1, actor=LEADER)
    assert kept(camp) == ([], False)
    camp.record("u0", cf.Milestone("plan"), actor=_clerk("u0"))  # kept, but records before not
    assert kept(camp)[1] is False
    assert [i.kind for i in lazy.inbox(_clerk("u0")).items] == ["facts"]
    assert_kept(camp)
    camp.record("u0", cf.Milestone("implementation_plan"), actor=_clerk("u0"))
    assert_kept(camp)
    with pytest.raises(cf.ValidationError, match="work_items"):
        cf.Campaign(camp.workflow, work_items="never")  # type: ignore[arg-type]


def test_a_database_written_before_is_caught_up_once_then_kept(tmp_path: Path) -> None:
    """A schema-6 database (items kept by inbox reads only): its first inbox of the day rolls
    every unit, and from then on commands keep the items."""
    camp, _ = open_copy(6, tmp_path)
    try:
        camp.inbox(INSPECTOR)
        assert_kept(camp)
        camp.record("edu-02", cf.Milestone("implementation_plan"), actor=_clerk("edu-02"))
        assert_kept(camp)
    finally:
        camp.close()
