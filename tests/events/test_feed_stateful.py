"""Random command sequences over an organisation tree keep every inbox and the event feed right.

A hypothesis state machine drives the district preset (with reminder rules) on memory,
SQLite and PostgreSQL: units added across a small organisation tree, facts recorded, approvals,
assessments, advance, advance_all, deferrals, a new workflow version adopted, the FixedClock
moved on by days, ``send_reminders``, redelivered requests, inbox and event pages read. After
every step:

- every actor's inbox, read page by page with its cursor, equals the work list recomputed here
  from ``check()`` of every unit in the actor's scope, by the rules of docs/worklists.md (kind,
  role, gates, since, deadline);
- no actor sees an item outside its roles and its sub-tree;
- the feed, read by a consumer paging with ``after=``, has each event once, with strictly
  increasing cursors, ids and contents stable across re-reads, and the work-item events fold
  into exactly the current work items.

The checks use only the public API, so they hold wherever the work items are kept up to date
(in ``inbox``/``send_reminders`` or in each command's own transaction).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import campaignflow as cf
from campaignflow.store import PostgresStore, Store
from campaignflow.testing import machine_settings
from campaignflow.testing.paths import fire, prepare, steps
from tests.store.conftest import PG_DSN_ENV, pg_dsn

START = date(2005, 1, 10)

#: Rules of each workflow version the machine may adopt (same stages, other reminders).
RULES = {
    "1": """
[[reminders]]
id = "approval_overdue"
when = "awaiting approval"
after_days = 5
notify = ["supervision_group"]
escalate_after_days = 10
escalate_to = ["leading_group"]
""",
    "2": """
[[reminders]]
id = "approval_overdue"
when = "awaiting approval"
role = "supervision_group"
after_days = 3
notify = ["supervision_group"]
escalate_after_days = 7
escalate_to = ["leading_group"]

[[reminders]]
id = "stuck_15"
when = "stuck"
after_days = 15
notify = ["supervision_group"]

[[reminders]]
id = "closing"
when = "window closing"
within_days = 20
not_past = "analysis_review"
notify = ["leading_group"]
""",
    "3": "",
}


def workflow(version: str) -> cf.Workflow:
    """The district preset as version ``version``, with that version's reminder rules."""
    data = tomllib.loads(cf.presets.source("district_2005") + RULES[version])
    data["version"] = version
    return cf.Workflow.from_dict(data)


#: The organisation tree: (id, parent).
ORGS = (("city", None), ("east", "city"), ("west", "city"), ("east-a", "east"))
UNIT_IDS = ("u1", "u2", "u3", "u4", "u5")
SUP = frozenset({"supervision_group"})
ASSESSOR = frozenset({"superior_org"})
LEADER = cf.Actor(id="leader", roles={"leading_group"})
#: Actors who read their inbox, with the organisation they stand in (None: everywhere).
READERS: tuple[tuple[cf.Actor, str | None], ...] = (
    (cf.Actor(id="sup-city", roles=SUP), "city"),
    (cf.Actor(id="sup-east", roles=SUP), "east"),
    (cf.Actor(id="sup-east-a", roles=SUP), "east-a"),
    (cf.Actor(id="sup-west", roles=SUP), "west"),
    (cf.Actor(id="assessor-west", roles=ASSESSOR), "west"),
    (cf.Actor(id="boss", roles=SUP | ASSESSOR | {"leading_group"}), None),
    (cf.Actor(id="passer-by"), None),
    *((cf.Actor(id=f"clerk-{u}", roles={"branch_committee"}, unit=u), None) for u in UNIT_IDS[:3]),
    # A unit's clerk who also sits on a supervision group: both kinds of item, one list.
    (
        cf.Actor(id="clerk-sup-u4", roles={"branch_committee", "supervision_group"}, unit="u4"),
        "west",
    ),
)

Item = tuple[str, str, str | None, tuple[str, ...], date | None, date | None]


def clerk(unit_id: str) -> cf.Actor:
    return cf.Actor(id=f"clerk-{unit_id}", roles={"branch_committee"}, unit=unit_id)


def below(org: str | None) -> set[str] | None:
    """``org`` and the organisations under it, from the machine's own tree (None: all)."""
    if org is None:
        return None
    found = {org}
    grew = True
    while grew:
        more = {o for o, parent in ORGS if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def recomputed(camp: cf.Campaign) -> list[tuple[cf.Unit, Item]]:
    """Every unit's work items, recomputed from ``check()`` by docs/worklists.md's rules.

    - a unit not started or finished awaits nothing;
    - ``check()`` allowed: one ``advance`` item, the unit's own;
    - each missing approval: an ``approval`` item of its role; a missing assessment: an
      ``assessment`` item of the role ``fact_roles.survey`` names; every other failing gate:
      one ``facts`` item, the unit's own;
    - ``since``: the day the unit entered its stage; ``deadline``: the batch window's close,
      for an approval sooner when an "awaiting approval" rule of the unit's version asks for
      it sooner (its escalation day, or its reminder day without an escalation).
    """
    found: list[tuple[cf.Unit, Item]] = []
    for unit, state in camp.units():
        flow = camp.workflow_of(unit.id)
        if flow.stage(state.stage).kind in ("waiting", "final"):
            continue
        decision = camp.check(unit.id)
        since = state.entered_on or state.stage_since
        window = flow.batch(state.batch)
        closes = None if window is None else window.closes
        if decision.allowed:
            found.append((unit, (unit.id, "advance", None, (), since, closes)))
            continue
        approvals: dict[str, list[str]] = {}
        assessed: list[str] = []
        owed: list[str] = []
        for verdict in decision.failures():
            role = verdict.params.get("role")
            if verdict.code == "approval.missing" and isinstance(role, str):
                approvals.setdefault(role, []).append(verdict.code)
            elif verdict.code == "survey.missing":
                assessed.append(verdict.code)
            else:
                owed.append(verdict.code)
        for role, codes in approvals.items():
            days = [
                r.escalate_after_days or r.after_days
                for r in flow.reminders
                if r.when == "awaiting approval" and r.role in (None, role)
            ]
            deadline = closes
            if days and since is not None:
                sooner = since + timedelta(days=min(d for d in days if d is not None))
                deadline = sooner if closes is None else min(closes, sooner)
            found.append((unit, (unit.id, "approval", role, tuple(codes), since, deadline)))
        assessor = flow.fact_roles.get("survey")
        if assessed and assessor:
            found.append((unit, (unit.id, "assessment", assessor, tuple(assessed), since, closes)))
        if owed:
            found.append((unit, (unit.id, "facts", None, tuple(owed), since, closes)))
    return found


def visible(actor: cf.Actor, org: str | None, unit: cf.Unit, item: Item) -> bool:
    """Whether ``actor`` standing in ``org`` sees ``item`` of ``unit``: its own unit's items,
    its roles' items in its sub-tree."""
    role = item[2]
    if role is None:
        return actor.unit == unit.id
    scope = below(org)
    return role in actor.roles and (scope is None or unit.parent in scope)


def key(item: Item) -> tuple[str, str, str]:
    return item[0], item[1], item[2] or ""


def read_inbox(camp: cf.Campaign, actor: cf.Actor, org: str | None, limit: int) -> list[Item]:
    """Every page of the actor's inbox, walking the cursor; pages are in strict key order."""
    found: list[cf.WorkItem] = []
    after = None
    for _ in range(1000):
        page = camp.inbox(actor, under=org, limit=limit, after=after)
        assert len(page.items) <= limit
        assert page.more is False or len(page.items) == limit
        found.extend(page.items)
        if not page.more:
            break
        assert page.cursor is not None
        assert page.cursor != after, "the inbox cursor did not move"
        after = page.cursor
    items = [(i.unit_id, i.kind, i.role, i.codes, i.since, i.deadline) for i in found]
    keys = [key(i) for i in items]
    assert keys == sorted(set(keys)), f"pages out of order or repeated: {keys}"
    return items


class FeedMachine(RuleBasedStateMachine):
    """Random commands across an organisation tree; inboxes and the feed checked after each."""

    store: ClassVar[str] = "memory"
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self._tmp: str | None = None
        self.clock = cf.FixedClock(START)
        self.versions = ["1"]
        self.camp = cf.Campaign(workflow("1"), store=self._store(), clock=self.clock)
        self.camp.add_organisations([cf.Organisation(o, o, "district", p) for o, p in ORGS])
        self.added: list[str] = []
        self.counter = 0
        self.sent: dict[str, tuple[str, Any]] = {}
        #: The consumer: its cursor and what it was delivered, by id.
        self.cursor = 0
        self.delivered: dict[str, tuple[int, str, Any]] = {}
        self.ways = {}
        for s in steps(workflow("1")):
            if s.recipe is not None and s.trigger != "defer":
                self.ways.setdefault(s.source, []).append(s)

    def _store(self) -> Store | str | None:
        if self.store == "memory":
            return None
        if self.store == "sqlite":
            self._tmp = tempfile.mkdtemp(prefix="cf-feed-")
            return f"sqlite:///{Path(self._tmp) / 'c.db'}"
        return PostgresStore(os.environ[PG_DSN_ENV], campaign_id=f"f-{uuid.uuid4().hex[:12]}")

    def teardown(self) -> None:
        self.camp.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def attempt(self, command: Any) -> Any:
        try:
            return command()
        except (cf.TransitionRejected, cf.NotAuthorized):
            return "denied"
        except cf.ValidationError:
            return "invalid"

    def rid(self) -> str:
        self.counter += 1
        return f"r{self.counter}"

    def unit(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.added or list(UNIT_IDS)), label="unit")

    # --- commands ---------------------------------------------------------------------------

    @initialize(parents=st.lists(st.sampled_from([o for o, _ in ORGS]), min_size=3, max_size=3))
    def first_units(self, parents: list[str]) -> None:
        """Three units of batch 1 somewhere in the tree, started; the first one a stage on."""
        self.camp.add_units(
            [
                cf.Unit(id=u, name=u, kind="organ", batch=1, members=10, parent=p)
                for u, p in zip(UNIT_IDS, parents, strict=False)
            ]
        )
        self.added.extend(UNIT_IDS[:3])
        self.camp.start_batch(1, actor=LEADER)
        # u1 moves into 学习动员, whose exit awaits the supervision group and an assessment.
        for name in ("implementation_plan", "leading_group_established"):
            self.camp.record("u1", cf.Milestone(name), actor=clerk("u1"))
        self.camp.advance("u1", actor=clerk("u1"))

    @rule(
        uid=st.sampled_from(UNIT_IDS),
        parent=st.sampled_from([o for o, _ in ORGS]),
        batch=st.sampled_from((1, 1, 2)),
    )
    def add_unit(self, uid: str, parent: str, batch: int) -> None:
        unit = cf.Unit(id=uid, name=uid, kind="organ", batch=batch, members=10, parent=parent)
        if self.attempt(lambda: self.camp.add_units([unit])) == 1:
            self.added.append(uid)

    @precondition(lambda self: self.added)
    @rule(batch=st.sampled_from((1, 2)))
    def start_batch(self, batch: int) -> None:
        self.attempt(lambda: self.camp.start_batch(batch, actor=LEADER))

    @rule(data=st.data(), times=st.integers(1, 4))
    def meet_gates(self, data: st.DataObject, times: int) -> None:
        """Record what a way out of the unit's stage asks (facts, approvals, assessments) and,
        mostly, advance; up to ``times`` stages: moves units on, and the clock with them."""
        uid = data.draw(st.sampled_from(self.added), label="unit")
        for _ in range(times):
            ways = self.ways.get(self.camp.state(uid).stage, [])
            if not ways:
                return
            step = data.draw(st.sampled_from(ways), label="way")
            try:
                actor = prepare(self.camp, uid, step, clock=self.clock)
            except (cf.TransitionRejected, cf.NotAuthorized, cf.ValidationError):
                return
            if not data.draw(st.integers(0, 3), label="fire"):
                return  # gates met, the unit not moved: its advance item waits
            self.attempt(lambda s=step, a=actor: fire(self.camp, uid, s, actor=a))

    @rule(data=st.data(), name=st.sampled_from(("implementation_plan", "mobilization_meeting")))
    def record(self, data: st.DataObject, name: str) -> None:
        uid = self.unit(data)
        self.attempt(lambda: self.camp.record(uid, cf.Milestone(name), actor=clerk(uid)))

    @rule(data=st.data(), decision=st.sampled_from(("approved", "approved", "rejected")))
    def approve(self, data: st.DataObject, decision: str) -> None:
        uid = self.unit(data)
        who = cf.Actor(id="zhang", roles=SUP)
        self.attempt(lambda: self.camp.approve(uid, actor=who, decision=decision))  # type: ignore[arg-type]

    @rule(data=st.data(), happy=st.booleans())
    def assess(self, data: st.DataObject, happy: bool) -> None:
        uid = self.unit(data)
        survey = cf.Survey(satisfied=9 if happy else 2, basically_satisfied=0, dissatisfied=1)
        who = cf.Actor(id="county", roles=ASSESSOR)
        self.attempt(lambda: self.camp.record(uid, survey, actor=who))

    @rule(target=requests, data=st.data())
    def advance(self, data: st.DataObject) -> str:
        uid = self.unit(data)
        rid = self.rid()
        self.sent[rid] = (
            uid,
            self.attempt(lambda: self.camp.advance(uid, actor=clerk(uid), request_id=rid)),
        )
        return rid

    @rule(rid=requests)
    def redeliver(self, rid: str) -> None:
        """The same request again yields the first result and no event."""
        uid, first = self.sent[rid]
        if first == "invalid":
            return
        head = self.camp.events(after=0, limit=10_000).cursor
        again = self.attempt(lambda: self.camp.advance(uid, actor=clerk(uid), request_id=rid))
        assert again == first
        assert self.camp.events(after=head).events == (), "a redelivered request made an event"

    @rule()
    def advance_all(self) -> None:
        self.camp.advance_all()

    @rule(data=st.data(), to_batch=st.sampled_from((None, 2, 3)))
    def defer(self, data: st.DataObject, to_batch: int | None) -> None:
        uid = self.unit(data)
        self.attempt(lambda: self.camp.defer(uid, actor=LEADER, to_batch=to_batch))

    @precondition(lambda self: len(self.versions) < len(RULES))
    @rule(policy=st.sampled_from(("migrate", "migrate", "pin")))
    def adopt(self, policy: str) -> None:
        """Adopt the next workflow version (its other reminder rules)."""
        version = str(len(self.versions) + 1)
        self.camp.adopt(workflow(version), policy=policy)  # type: ignore[arg-type]
        self.versions.append(version)

    @rule(days=st.sampled_from((1, 1, 2, 4, 5, 9, 30)), scheduler=st.booleans())
    def tick(self, days: int, scheduler: bool) -> None:
        """Days pass; the host's scheduler may run ``send_reminders`` on the new day."""
        self.clock.set(self.clock.now() + timedelta(days=days))
        if scheduler:
            self.send_reminders()

    @rule()
    def send_reminders(self) -> None:
        """What send_reminders returns is in the feed, once, as it returned it."""
        sent = self.camp.send_reminders()
        assert self.camp.send_reminders() == [], "a reminder was sent twice on one day"
        if sent:
            page = self.camp.events(after=sent[0].cursor - 1, limit=10_000)
            shown = {e.id: e for e in page.events}
            for event in sent:
                assert shown[event.id] == event

    @rule(limit=st.sampled_from((1, 2, 3, 50)))
    def consume(self, limit: int) -> None:
        """A consumer pages with ``after=``: strictly increasing cursors, nothing twice."""
        for _ in range(10_000):
            page = self.camp.events(after=self.cursor, limit=limit)
            assert page.cursor >= self.cursor, "a cursor went backwards"
            assert len(page.events) <= limit
            last = self.cursor
            for event in page.events:
                assert event.cursor > last, "events out of order"
                last = event.cursor
                assert event.id not in self.delivered, f"{event.id} delivered twice"
                self.delivered[event.id] = (event.cursor, event.kind, event.params)
            self.cursor = page.cursor
            if not page.more:
                return

    @rule(
        reader=st.sampled_from(READERS),
        kind=st.sampled_from((None, "approval", "assessment", "facts", "advance")),
        due_in=st.sampled_from((None, 0, 3, 10, 60)),
        limit=st.sampled_from((1, 2, 50)),
    )
    def read_filtered(
        self, reader: tuple[cf.Actor, str | None], kind: str | None, due_in: int | None, limit: int
    ) -> None:
        """``kind=`` and ``due_before=`` keep exactly the recomputed items that match."""
        actor, org = reader
        due = None if due_in is None else self.clock.now().date() + timedelta(days=due_in)
        shown: list[cf.WorkItem] = []
        after = None
        while True:
            page = self.camp.inbox(
                actor, under=org, kind=kind, due_before=due, limit=limit, after=after
            )
            shown.extend(page.items)
            if not page.more:
                break
            after = page.cursor
        expected = sorted(
            (
                i
                for u, i in recomputed(self.camp)
                if visible(actor, org, u, i)
                and kind in (None, i[1])
                and (due is None or (i[5] is not None and i[5] < due))
            ),
            key=key,
        )
        got = [(i.unit_id, i.kind, i.role, i.codes, i.since, i.deadline) for i in shown]
        assert got == expected, f"inbox of {actor.id}@{org}, kind={kind}, due_before={due}"

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def every_inbox_equals_its_recomputation_within_its_scope(self) -> None:
        expected = recomputed(self.camp)
        units = {u.id: u for u, _ in self.camp.units()}
        for n, (actor, org) in enumerate(READERS):
            shown = read_inbox(self.camp, actor, org, limit=1 + n % 3)
            for item in shown:
                assert visible(actor, org, units[item[0]], item), f"{actor.id}@{org} sees {item}"
            mine = sorted((i for u, i in expected if visible(actor, org, u, i)), key=key)
            assert shown == mine, f"inbox of {actor.id}@{org}"

    @invariant()
    def the_feed_is_stable_and_its_work_item_events_fold_into_the_items(self) -> None:
        self.camp.inbox(READERS[0][0], limit=1)  # brings the work items up to date
        whole = self.camp.events(after=0, limit=10_000)
        assert not whole.more
        cursors = [e.cursor for e in whole.events]
        assert cursors == sorted(set(cursors))
        assert len({e.id for e in whole.events}) == len(whole.events)
        for event in whole.events:
            if event.id in self.delivered:
                assert self.delivered[event.id] == (event.cursor, event.kind, event.params)
        assert {i for i, (c, _, _) in self.delivered.items() if c <= self.cursor} == {
            e.id for e in whole.events if e.cursor <= self.cursor
        }, "the consumer missed an event"
        # The work-item events fold into the current items.
        open_items: set[tuple[str, str, str]] = set()
        for event in whole.events:
            if event.kind in ("work_item_created", "work_item_done"):
                k = (event.unit_id or "", event.params["kind"], event.params["notify"][0])
                if event.kind == "work_item_created":
                    assert k not in open_items, f"{k} created twice"
                    open_items.add(k)
                else:
                    assert k in open_items, f"{k} done but never created"
                    open_items.discard(k)
        now = {(i[0], i[1], i[2] or i[0]) for _, i in recomputed(self.camp)}
        assert open_items == now


#: Runs at full size (of up to 30 steps); PostgreSQL's cost ~1 s a run, memory's ~30 ms.
EXAMPLES = int(os.environ.get("CF_FEED_EXAMPLES", "60"))
PG_EXAMPLES = int(os.environ.get("CF_FEED_PG_EXAMPLES", "15"))


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
@pytest.mark.sized(default=3)
def test_inboxes_and_the_feed_hold_over_random_commands_across_the_tree(
    backend: str, size: int | None
) -> None:
    """On every store, random commands keep each inbox equal to check() in scope and the feed exactly once."""
    if backend == "postgres":
        pg_dsn()
        runs = 1 if size else PG_EXAMPLES  # the default run: one run, PostgreSQL is slow
    else:
        runs = size or EXAMPLES

    class Machine(FeedMachine):
        store = backend

    steps = 15 if size else 30  # the default run: shorter programs too
    run_state_machine_as_test(Machine, settings=machine_settings(max_examples=runs, steps=steps))
