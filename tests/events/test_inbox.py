"""The work list (``Campaign.inbox``): scope, paging, consistency with check(), on every store."""

from __future__ import annotations

import json
import os
import threading
import tomllib
import uuid
from datetime import date
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from hypothesis.stateful import invariant, run_state_machine_as_test

import campaignflow as cf
from campaignflow.cli import get_command
from campaignflow.store import PostgresStore, Store
from campaignflow.testing import CampaignMachine, machine_settings
from tests.events.test_events import (
    FLOW,
    INSPECTOR,
    LEADER,
    Visit,
    _FailAfterAudit,
    crash_transactions,
)
from tests.events.test_items import kept, recomputed
from tests.store.conftest import PG_DSN_ENV, StoreFactory, pg_dsn

SUPERVISION = frozenset({"supervision_group"})
ASSESSOR = "superior_org"


def expected_items(
    camp: cf.Campaign, actor: cf.Actor, under: str | None = None
) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    """The actor's work items recomputed from check() of every unit in its scope."""
    in_scope = None if under is None else {o.id for o in camp.organisations(under=under)} | {under}
    found = []
    for unit, state in camp.units():
        kind = camp.workflow_of(unit.id).stage(state.stage).kind
        if kind in ("waiting", "final"):
            continue
        decision = camp.check(unit.id)
        owed: list[str] = []
        waits: dict[tuple[str, str | None], list[str]] = {}
        if decision.allowed:
            waits[("advance", None)] = []
        for verdict in decision.failures():
            role = verdict.params.get("role")
            if verdict.code == "approval.missing" and isinstance(role, str):
                waits.setdefault(("approval", role), []).append(verdict.code)
            elif verdict.code == "survey.missing":
                waits.setdefault(("assessment", ASSESSOR), []).append(verdict.code)
            else:
                owed.append(verdict.code)
        if owed:
            waits[("facts", None)] = owed
        for (wait, role), codes in waits.items():
            if role is None:
                visible = actor.unit == unit.id
            else:
                visible = role in actor.roles and (in_scope is None or unit.parent in in_scope)
            if visible:
                found.append((unit.id, wait, role, tuple(codes)))
    return sorted(found, key=lambda i: (i[0], i[1], i[2] or ""))


def all_items(
    camp: cf.Campaign, actor: cf.Actor, limit: int = 2, **options: Any
) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    """Every page of the actor's inbox, joined."""
    found: list[cf.WorkItem] = []
    after = None
    while True:
        page = camp.inbox(actor, limit=limit, after=after, **options)
        assert len(page.items) <= limit
        found.extend(page.items)
        if not page.more:
            break
        after = page.cursor
    return [(i.unit_id, i.kind, i.role, i.codes) for i in found]


def _district(factory: StoreFactory, clock: cf.FixedClock) -> cf.Campaign:
    camp = factory.campaign(clock)
    camp.add_organisations(
        [
            cf.Organisation("city", "某市", "city"),
            cf.Organisation("east", "东区", "district", "city"),
            cf.Organisation("west", "西区", "district", "city"),
        ]
    )
    camp.add_units(
        [
            cf.Unit(
                id=f"{side}-{i}", name=f"{side}{i}", kind="organ", batch=1, members=10, parent=side
            )
            for side in ("east", "west")
            for i in range(3)
        ]
    )
    camp.start_batch(1, actor=LEADER)
    for unit_id in ("east-0", "east-1", "west-0"):
        clerk = cf.Actor(id=f"c-{unit_id}", roles={"branch_committee"}, unit=unit_id)
        for name in ("implementation_plan", "leading_group_established"):
            camp.record(unit_id, cf.Milestone(name), actor=clerk)
        camp.advance(unit_id, actor=clerk)
    return camp


def test_each_actor_sees_its_roles_in_its_sub_tree_and_its_own_unit(
    store_factory: StoreFactory,
) -> None:
    """The supervision group of one district sees that district's approvals, not the other's."""
    camp = _district(store_factory, cf.FixedClock(date(2005, 1, 10)))
    east = cf.Actor(id="zhang", roles=SUPERVISION)
    assert [i[:3] for i in all_items(camp, east, under="east")] == [
        ("east-0", "approval", "supervision_group"),
        ("east-1", "approval", "supervision_group"),
    ]
    assert [i[0] for i in all_items(camp, east, under="west")] == ["west-0"]
    assert [i[0] for i in all_items(camp, east, under="city")] == ["east-0", "east-1", "west-0"]
    assert all_items(camp, east, under="nowhere") == []
    clerk = cf.Actor(id="c", roles={"branch_committee"}, unit="east-2")
    assert all_items(camp, clerk) == [("east-2", "facts", None, ("milestones.missing",))]
    nobody = cf.Actor(id="passer-by")
    assert all_items(camp, nobody) == []
    for actor, under in (
        (east, "east"),
        (east, None),
        (clerk, None),
        (cf.Actor(id="s", roles={ASSESSOR}), "west"),
    ):
        assert all_items(camp, actor, under=under) == expected_items(camp, actor, under)


def test_a_command_changes_the_inbox_at_once_and_a_crashed_one_does_not(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approving removes the approval item; a rolled-back approval leaves it."""
    camp = _district(store_factory, cf.FixedClock(date(2005, 1, 10)))
    inspector = cf.Actor(id="zhang", roles=SUPERVISION)
    before = all_items(camp, inspector, under="east")
    crash_transactions(monkeypatch, camp, _FailAfterAudit)
    with pytest.raises(RuntimeError):
        camp.approve("east-0", actor=inspector)
    monkeypatch.undo()
    assert all_items(camp, inspector, under="east") == before
    camp.approve("east-0", actor=inspector)
    assert [i[0] for i in all_items(camp, inspector, under="east")] == ["east-1"]


def test_paging_filters_and_bad_arguments(store_factory: StoreFactory) -> None:
    """Pages join to the whole list; kind and due_before filter; bad arguments are refused."""
    camp = _district(store_factory, cf.FixedClock(date(2005, 1, 10)))
    boss = cf.Actor(id="boss", roles={"supervision_group", ASSESSOR})
    whole = all_items(camp, boss, limit=50)
    assert all_items(camp, boss, limit=1) == whole
    assert len(whole) == 6  # three approvals, three assessments
    assert {i[1] for i in all_items(camp, boss, kind="assessment")} == {"assessment"}
    assert all_items(camp, boss, due_before=date(2005, 6, 30)) == []
    assert all_items(camp, boss, due_before=date(2005, 7, 1)) == whole
    for options, code in (
        ({"limit": 0}, "validation.whole_number"),
        ({"limit": 1001}, "inbox.limit_too_large"),
        ({"kind": "approvals"}, "validation.one_of"),
        ({"after": "not a cursor"}, "inbox.bad_cursor"),
        ({"due_before": "2005-07-01"}, "inbox.bad_due_before"),
        ({"under": 7}, "validation.field"),
    ):
        with pytest.raises(cf.ValidationError) as caught:
            camp.inbox(boss, **options)
        assert caught.value.code == code, options
    with pytest.raises(cf.ValidationError):
        camp.inbox("boss")  # type: ignore[arg-type]


def test_a_custom_gate_is_owed_by_the_unit_and_explained() -> None:
    """A custom guard's failing code is the unit's own item; recording the custom fact clears it."""
    camp = cf.Campaign(
        cf.Workflow.from_dict(tomllib.loads(FLOW)), clock=cf.FixedClock(date(2005, 1, 10))
    )
    camp.add_units([cf.Unit(id="u0", name="支部", kind="organ", batch=1, members=5)])
    camp.start_batch(1, actor=LEADER)
    clerk = cf.Actor(id="c", roles={"branch_committee"}, unit="u0")
    (item,) = camp.inbox(clerk).items
    assert (item.kind, item.codes, item.since) == (
        "facts",
        ("evtest_visited.missing",),
        date(2005, 1, 10),
    )
    assert item.explain("zh_CN") == "尚未走访"
    assert item.deadline == date(2005, 6, 30)
    camp.record("u0", Visit(visitors=1), actor=INSPECTOR)
    assert [i.kind for i in camp.inbox(clerk).items] == ["advance"]


def _pg_store() -> Store:
    return PostgresStore(os.environ[PG_DSN_ENV], campaign_id=f"m-{uuid.uuid4().hex[:12]}")


class InboxMachine(CampaignMachine):
    """Random commands; after each, every inbox equals its recomputation from check()."""

    unit_ids = ("fin-01", "edu-02", "vil-03")
    actors: ClassVar[tuple[cf.Actor, ...]] = (
        cf.Actor(id="zhang", roles=SUPERVISION),
        cf.Actor(id="county", roles={ASSESSOR}),
        cf.Actor(id="c-fin", roles={"branch_committee"}, unit="fin-01"),
        cf.Actor(id="c-edu", roles={"branch_committee"}, unit="edu-02"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.cursor = 0
        self.seen: list[str] = []

    @invariant()
    def the_commands_kept_the_items_in_their_transactions(self) -> None:
        """Between inbox reads: when the mark is the head and today, no catch-up is pending,
        so the stored items alone must equal check() (the commands wrote them)."""
        with self.campaign.store.transaction(write=False) as tx:
            (through, on), (head, _) = tx.work_items_through(), tx.audit_head()
        if on == self.campaign.clock.now().date() and through == head:
            assert kept(self.campaign)[0] == recomputed(self.campaign)

    @invariant()
    def every_inbox_equals_its_recomputation_from_check(self) -> None:
        for actor in self.actors:
            assert all_items(self.campaign, actor, limit=2) == expected_items(self.campaign, actor)

    @invariant()
    def every_event_arrives_once_and_cursors_never_go_back(self) -> None:
        page = self.campaign.events(after=self.cursor, limit=3)
        assert page.cursor >= self.cursor
        self.seen.extend(e.id for e in page.events)
        self.cursor = page.cursor
        while page.more:
            page = self.campaign.events(after=self.cursor, limit=3)
            self.seen.extend(e.id for e in page.events)
            self.cursor = page.cursor
        assert len(self.seen) == len(set(self.seen))
        assert self.seen == [e.id for e in self.campaign.events(limit=10_000).events]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
@pytest.mark.sized(default=5)
def test_inbox_and_feed_hold_over_random_command_sequences(backend: str, size: int | None) -> None:
    """Random command sequences on each store keep inboxes equal to check() and events once."""
    if backend == "postgres":
        pg_dsn()

    class Machine(InboxMachine):
        store = _pg_store if backend == "postgres" else backend  # type: ignore[assignment]

    run_state_machine_as_test(Machine, settings=machine_settings(max_examples=size or 25, steps=25))


def test_the_inbox_command_shows_the_same_items(tmp_path: Any) -> None:
    """``campaignflow inbox --db ... --as ROLE@ORG`` lists what Campaign.inbox pages."""
    cli = get_command()
    factory = StoreFactory("sqlite", tmp_path)
    camp = _district(factory, cf.FixedClock(date(2005, 1, 10)))
    expected = all_items(camp, cf.Actor(id="z", roles=SUPERVISION), under="east")
    factory.close()
    runner = CliRunner()
    args = [
        "inbox",
        "--db",
        str(factory.path),
        "--campaign",
        factory.campaign_id,
        "--preset",
        "district_2005",
    ]
    shown = runner.invoke(cli, [*args, "--as", "supervision_group@east", "--limit", "1", "--json"])
    assert shown.exit_code == 0, shown.output
    page = json.loads(shown.output)
    assert [(i["unit_id"], i["kind"]) for i in page["items"]] == [expected[0][:2]]
    assert page["more"] is True
    rest = runner.invoke(
        cli, [*args, "--as", "supervision_group@east", "--after", page["cursor"], "--lang", "zh_CN"]
    )
    assert rest.exit_code == 0, rest.output
    assert rest.output.splitlines()[0].startswith("east-1  approval  学习动员")
    assert "尚未经督导组批准转段" in rest.output
    empty = runner.invoke(cli, [*args, "--as", "supervision_group@nowhere", "--lang", "en"])
    assert empty.output.strip() == "No work items."


def test_two_processes_catching_up_at_once_agree(sql_factory: StoreFactory) -> None:
    """Two campaigns on one database bring the items up to date at the same moment, safely."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _district(sql_factory, clock)
    other = sql_factory.campaign(clock)
    inspector = cf.Actor(id="zhang", roles=SUPERVISION)
    barrier = threading.Barrier(2)
    pages: list[Any] = []

    def read(campaign: cf.Campaign) -> None:
        barrier.wait()
        pages.append(campaign.inbox(inspector, under="city"))

    threads = [threading.Thread(target=read, args=(c,)) for c in (camp, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pages) == 2
    assert pages[0] == pages[1]
    assert [i.unit_id for i in pages[0].items] == ["east-0", "east-1", "west-0"]


def test_items_that_appear_or_go_are_events_once(store_factory: StoreFactory) -> None:
    """Bringing the items up to date audits each item created or done; reading again adds none."""
    camp = _district(store_factory, cf.FixedClock(date(2005, 1, 10)))
    inspector = cf.Actor(id="zhang", roles=SUPERVISION)
    camp.inbox(inspector)
    created = camp.events(kinds=["work_item_created"], limit=100).events
    assert ("east-0", "approval", ["supervision_group"]) in [
        (e.unit_id, e.params["kind"], e.params["notify"]) for e in created
    ]
    cursor = camp.events(limit=10_000).cursor
    camp.inbox(inspector)
    assert camp.events(after=cursor).events == ()
    camp.approve("east-0", actor=inspector)
    camp.send_reminders()  # the scheduler's call brings the items up to date as well
    done = camp.events(after=cursor, kinds=["work_item_done"]).events
    assert [(e.unit_id, e.params["kind"]) for e in done] == [("east-0", "approval")]
    assert done[0].explain("en") == (
        "work item done: unit east-0 in study and mobilisation no longer awaits "
        "supervision group (approval)"
    )
    assert camp.verify_audit().ok
