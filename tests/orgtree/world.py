"""Generated organisation trees and campaigns, and the brute-force answers to check roll-ups against.

A :class:`Plan` is data (hypothesis draws it): organisations, units with their parent, batch,
a script of commands and the day they run. :func:`build` plays it on a store; :func:`expected`
recomputes every figure from the unit states and the audit history alone.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from datetime import date, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.records import Organisation
from campaignflow.audit import decision_from_data
from campaignflow.store import MemoryStore, Store
from tests.orgtree.flows import BAD, CLOSES, GOOD, SUPERIOR, flow
from tests.store.conftest import StoreFactory

#: How many hypothesis examples the property tests run on memory and SQLite, and on
#: PostgreSQL (a round trip per statement makes it the slow one; CI raises it to 300).
EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_ORGTREE_EXAMPLES", "300"))
PG_EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_ORGTREE_PG_EXAMPLES", "40"))

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
BATCH_START = {1: date(2005, 1, 10), 2: date(2005, 4, 5)}
LEVELS = ("nation", "province", "city", "district", "branch")
LOOSE = "loose-parent"  # a parent id no organisation registers

#: What a unit goes through after its batch starts (see ``_play``).
SCRIPTS = 7


@attrs.frozen
class Plan:
    """Organisations (index of the parent, -1 for a root) and units (parent, batch, script, day)."""

    org_parents: tuple[int, ...]
    units: tuple[tuple[int, int, int, int], ...]


@st.composite
def plans(draw: st.DrawFn, *, max_orgs: int = 7, max_units: int = 9) -> Plan:
    """Trees of 1..max_orgs organisations and 0..max_units units spread over them."""
    n = draw(st.integers(1, max_orgs))
    parents = tuple([-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)])
    units = draw(
        st.lists(
            st.tuples(
                st.integers(-1, n - 1),  # -1: an unregistered parent
                st.integers(1, 3),  # batch 3 never starts here
                st.integers(0, SCRIPTS - 1),
                st.integers(0, 120),
            ),
            max_size=max_units,
        )
    )
    return Plan(parents, tuple(units))


def org_id(i: int) -> str:
    return f"org-{i}"


def fresh_store(factory: StoreFactory) -> tuple[Store, str]:
    """A new store with a new campaign (memory: a new MemoryStore) and its campaign id.

    Closes the stores this factory opened before: property tests call this once per example,
    and hundreds of open PostgreSQL connections would exhaust the server's slots.
    """
    factory.close()
    cid = f"t-{uuid.uuid4().hex[:12]}"
    if factory.kind == "memory":
        return MemoryStore(), cid
    if factory.kind == "sqlite":
        # A real file and the same SQL; WAL with NORMAL sync skips the fsync per commit.
        return factory.open(campaign_id=cid, synchronous="NORMAL"), cid
    return factory.open(campaign_id=cid), cid


def build(plan: Plan, store: Store, campaign_id: str) -> tuple[cf.Campaign, cf.FixedClock]:
    """Play ``plan`` on ``store``: register the tree, add the units, run their scripts."""
    clock = cf.FixedClock(BATCH_START[1])
    camp = cf.Campaign(flow(), store=store, clock=clock, campaign_id=campaign_id)
    depth: list[int] = []
    orgs = []
    for i, parent in enumerate(plan.org_parents):
        depth.append(0 if parent < 0 else depth[parent] + 1)
        orgs.append(
            Organisation(
                id=org_id(i),
                name=f"组织{i}",
                level=LEVELS[min(depth[i], len(LEVELS) - 1)],
                parent=None if parent < 0 else org_id(parent),
            )
        )
    # Children first in the call: the campaign orders parents before children itself.
    camp.add_organisations(list(reversed(orgs)))
    units = [
        cf.Unit(
            id=f"u{i}",
            name=f"支部{i}",
            kind="organ",
            batch=batch,
            parent=LOOSE if parent < 0 else org_id(parent),
        )
        for i, (parent, batch, _, _) in enumerate(plan.units)
    ]
    camp.add_units(units)
    for batch, day in BATCH_START.items():
        clock.set(day)
        camp.start_batch(batch, on=day, actor=cf.Actor(id="leader", roles={"leading_group"}))
    for unit, (_, batch, script, offset) in zip(units, plan.units, strict=True):
        if batch in BATCH_START:
            _play(camp, clock, unit.id, script, BATCH_START[batch] + timedelta(days=offset))
    clock.set(date(2005, 9, 1))
    return camp, clock


def _try(camp: cf.Campaign, unit_id: str) -> None:
    with suppress(cf.TransitionRejected):
        camp.advance(unit_id, actor=CLERK)


def _play(camp: cf.Campaign, clock: cf.FixedClock, unit_id: str, script: int, day: date) -> None:
    clock.set(day)
    record = camp.record
    if script == 1:  # refused in study: stuck
        _try(camp, unit_id)
    elif script in (2, 3):  # into review; refused there (2) or finished (3)
        record(unit_id, cf.StudySession(hours=12), actor=CLERK)
        record(unit_id, GOOD, actor=SUPERIOR)
        camp.advance(unit_id, actor=CLERK)
        clock.set(day + timedelta(days=10))
        if script == 3:
            record(unit_id, cf.Milestone("summing_up"), actor=CLERK)
            camp.advance(unit_id, actor=CLERK)
        else:
            _try(camp, unit_id)
    elif script in (4, 6):  # a failed assessment: make-up; refused there (4) or back (6)
        record(unit_id, BAD, actor=SUPERIOR)
        camp.advance(unit_id, actor=CLERK)
        clock.set(day + timedelta(days=5))
        if script == 6:
            record(unit_id, cf.Milestone("remedial_completed"), actor=CLERK)
        _try(camp, unit_id)
    elif script == 5:  # refused, then moved on: the refusal is stale
        _try(camp, unit_id)
        record(unit_id, cf.StudySession(hours=12), actor=CLERK)
        record(unit_id, GOOD, actor=SUPERIOR)
        clock.set(day + timedelta(days=3))
        camp.advance(unit_id, actor=CLERK)


# --- brute force ---------------------------------------------------------------------------


@attrs.frozen
class Figures:
    """What a roll-up node should say, recomputed unit by unit."""

    by_batch: dict[int, dict[str, int]]
    total: int
    own: int
    finished: int
    on_time: int
    remedial: int
    remedial_rounds: int
    stuck: int
    blocking: dict[str, int]
    satisfaction: tuple[int, ...]


def history(camp: cf.Campaign) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Each unit's latest refused move (audit record) and latest survey (fact data)."""
    refusals: dict[str, Any] = {}
    surveys: dict[str, dict[str, Any]] = {}
    for record in camp.audit_trail():
        if record.unit_id is None:
            continue
        if record.outcome == "denied" and record.decision is not None:
            refusals[record.unit_id] = record
        fact = record.payload.get("fact") if record.outcome == "ok" else None
        if record.command == "record" and fact and fact["kind"] == "survey":
            surveys[record.unit_id] = fact
    return refusals, surveys


def stuck_codes(camp: cf.Campaign) -> dict[str, tuple[Any, set[str]]]:
    """Units whose latest refusal is in their current stay: (refusal record, failing codes)."""
    refusals, _ = history(camp)
    found: dict[str, tuple[Any, set[str]]] = {}
    for unit, state in camp.units():
        record = refusals.get(unit.id)
        if record is not None and record.version == state.version:
            decision = decision_from_data(unit.id, record.decision)
            found[unit.id] = (record, {f.code for f in decision.failures()})
    return found


class Recount:
    """Every figure of any node's roll-up, from the unit states and the audit history only."""

    def __init__(self, camp: cf.Campaign) -> None:
        self.workflow = camp.workflow
        self.units = camp.units()
        self.orgs = {o.id: o for o in camp.organisations()}
        _, self.surveys = history(camp)
        self.stuck = stuck_codes(camp)

    def chain(self, parent: str | None) -> list[str]:
        """``parent`` and every registered organisation above it."""
        found: list[str] = []
        current = parent
        while current is not None:
            found.append(current)
            current = self.orgs[current].parent if current in self.orgs else None
        return found

    def figures(self, node: str) -> Figures:
        """What the roll-up of ``node`` must say."""
        by_batch: dict[int, Counter[str]] = {}
        blocking: Counter[str] = Counter()
        total = own = finished = on_time = remedial = rounds = stuck_n = 0
        sat = [0, 0, 0, 0, 0, 0]
        for unit, state in self.units:
            if node not in self.chain(unit.parent):
                continue
            total += 1
            own += unit.parent == node
            by_batch.setdefault(state.batch, Counter())[state.stage] += 1
            if self.workflow.is_final(state.stage):
                finished += 1
                close = CLOSES[state.batch]
                on_time += state.entered_on is not None and state.entered_on <= close
            remedial += state.remedial
            rounds += state.remedial_round
            if unit.id in self.stuck:
                stuck_n += 1
                blocking.update(self.stuck[unit.id][1])
            survey = self.surveys.get(unit.id)
            if survey is not None:
                fair = survey["fairly_satisfied"] or 0
                ballots = survey["satisfied"] + fair + survey["basically_satisfied"]
                ballots += survey["dissatisfied"]
                counts = (
                    1,
                    survey["satisfied"],
                    fair,
                    survey["basically_satisfied"],
                    survey["dissatisfied"],
                    int(2 * survey["dissatisfied"] > ballots),
                )
                sat = [a + b for a, b in zip(sat, counts, strict=True)]
        return Figures(
            by_batch={b: dict(c) for b, c in by_batch.items()},
            total=total,
            own=own,
            finished=finished,
            on_time=on_time,
            remedial=remedial,
            remedial_rounds=rounds,
            stuck=stuck_n,
            blocking=dict(blocking),
            satisfaction=tuple(sat),
        )


def figures_of(node: Any) -> Figures:
    """The same figures as an ``OrgProgress`` node reports them."""
    s = node.satisfaction
    return Figures(
        by_batch={b: dict(c) for b, c in node.by_batch.items()},
        total=node.total,
        own=node.own,
        finished=node.finished,
        on_time=node.on_time,
        remedial=node.remedial,
        remedial_rounds=node.remedial_rounds,
        stuck=node.stuck,
        blocking=dict(node.blocking),
        satisfaction=(
            s.assessed,
            s.satisfied,
            s.fairly_satisfied,
            s.basically_satisfied,
            s.dissatisfied,
            s.majority_dissatisfied,
        ),
    )


def roots(camp: cf.Campaign) -> Iterable[str]:
    """Ids of the registered organisations without a parent."""
    return [o.id for o in camp.organisations() if o.parent is None]
