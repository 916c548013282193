"""The event feed (``Campaign.events``): a projection of the audit chain, exactly once, on every store."""

from __future__ import annotations

import contextlib
import io
import tomllib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import attrs
import pytest

import campaignflow as cf
from tests.store.conftest import StoreFactory

LEADER = cf.Actor(id="leader", roles={"leading_group"})
INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})


@cf.fact_type("evtest_visit")
@attrs.frozen
class Visit:
    """A visit of the county office to a unit (a custom fact type)."""

    visitors: int


@cf.guard(
    "evtest_visited",
    messages={
        "evtest_visited.ok": {"zh_CN": "已走访 {visits} 次", "en": "visited {visits} time(s)"},
        "evtest_visited.missing": {"zh_CN": "尚未走访", "en": "not visited yet"},
    },
)
def evtest_visited(ctx: cf.GuardContext) -> cf.Verdict:
    """A custom gate: the unit was visited at least once in this stage."""
    visits = len(ctx.facts(Visit))
    code = "evtest_visited.ok" if visits else "evtest_visited.missing"
    return cf.Verdict("evtest_visited", bool(visits), code, {"visits": visits})


FLOW = """
name = "evtest"
initial = "pending"
[[batches]]
number = 1
opens = 2005-01-01
closes = 2005-06-30
[[stages]]
id = "pending"
kind = "waiting"
[[stages]]
id = "study_mobilization"
[[stages]]
id = "accepted"
kind = "final"
[[transitions]]
trigger = "start"
source = "pending"
dest = "study_mobilization"
[[transitions]]
source = "study_mobilization"
dest = "accepted"
guards = [{ guard = "evtest_visited" }]
"""


def _campaign(factory: StoreFactory, clock: cf.FixedClock) -> cf.Campaign:
    flow = cf.Workflow.from_dict(tomllib.loads(FLOW))
    return cf.Campaign(flow, store=factory.open(), clock=clock, campaign_id=factory.campaign_id)


def _clerk(unit: str) -> cf.Actor:
    return cf.Actor(id=f"clerk-{unit}", roles={"branch_committee"}, unit=unit)


def _play(camp: cf.Campaign) -> None:
    """Every kind of command: add, start, record a custom fact, refuse, advance."""
    camp.add_units(
        [cf.Unit(id=f"u{i}", name=f"支部{i}", kind="organ", batch=1, members=10) for i in range(3)]
    )
    camp.start_batch(1, actor=LEADER)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("u0", actor=_clerk("u0"))
    camp.record("u0", Visit(visitors=2), actor=INSPECTOR)
    camp.advance("u0", actor=_clerk("u0"), request_id="adv-u0")
    camp.advance("u0", actor=_clerk("u0"), request_id="adv-u0")  # a repeat: no new event


def _all_events(camp: cf.Campaign, limit: int, **options: Any) -> list[cf.Event]:
    found: list[cf.Event] = []
    cursor = 0
    while True:
        page = camp.events(after=cursor, limit=limit, **options)
        assert page.cursor >= cursor, "a cursor never goes backwards"
        assert all(e.cursor > cursor for e in page.events)
        assert len(page.events) <= limit
        found.extend(page.events)
        cursor = page.cursor
        if not page.more:
            return found


def test_every_command_yields_its_events_exactly_once_across_pages(
    store_factory: StoreFactory,
) -> None:
    """Reading one event per page gives the same events, once each, as reading all at once."""
    camp = _campaign(store_factory, cf.FixedClock(date(2005, 1, 10)))
    _play(camp)
    whole = camp.events(limit=1000)
    assert not whole.more
    kinds = [(e.kind, e.unit_id) for e in whole.events]
    assert kinds == [
        ("unit_added", "u0"),
        ("unit_added", "u1"),
        ("unit_added", "u2"),
        ("unit_advanced", "u0"),
        ("unit_advanced", "u1"),
        ("unit_advanced", "u2"),
        ("refused", "u0"),
        ("fact_recorded", "u0"),
        ("unit_advanced", "u0"),
    ]
    for limit in (1, 2, 4):
        assert _all_events(camp, limit) == list(whole.events)
    ids = [e.id for e in whole.events]
    assert len(set(ids)) == len(ids)
    assert ids[0] == f"{store_factory.campaign_id}:1"
    seqs = [r.seq for r in camp.audit_trail()]
    assert whole.cursor == seqs[-1]
    assert camp.events(after=whole.cursor) == cf.EventPage(
        events=(), cursor=whole.cursor, more=False
    )


def test_events_carry_codes_params_and_text_of_custom_gates_and_facts(
    store_factory: StoreFactory,
) -> None:
    """A refusal names the custom gate's code; a custom fact is named by its kind; both render."""
    camp = _campaign(store_factory, cf.FixedClock(date(2005, 1, 10)))
    _play(camp)
    refused, recorded = camp.events(limit=10, kinds=["refused", "fact_recorded"]).events
    assert refused.code == "event.refused"
    assert refused.params == {
        "unit": "u0",
        "command": "advance",
        "reason": "transition.rejected",
        "gates": ["evtest_visited.missing"],
    }
    assert "evtest_visited.missing" in refused.explain("en")
    assert recorded.params == {"unit": "u0", "fact": "evtest_visit", "stage": "study_mobilization"}
    assert recorded.actor_id == "zhang"
    assert recorded.explain("zh_CN").startswith("单位 u0 在")
    moved = camp.events(after=recorded.cursor, kinds={"unit_advanced"}).events[0]
    assert moved.params["dest"] == "accepted"
    assert moved.request_id == "adv-u0"
    assert (
        moved.explain("en")
        == "unit u0 moved from study and mobilisation to accepted (advance, batch 1)"
    )
    with pytest.raises(cf.ValidationError):
        moved.explain("fr")


def crash_transactions(
    monkeypatch: pytest.MonkeyPatch, camp: cf.Campaign, wrap: Callable[[Any], Any]
) -> None:
    """From now on each transaction of ``camp``'s store is ``wrap(tx)``: commands fail part-way."""
    real = camp.store.transaction

    @contextlib.contextmanager
    def crashing(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(*args, **kwargs) as tx:
            yield wrap(tx)

    monkeypatch.setattr(camp.store, "transaction", crashing)


class _FailAfterAudit:
    """A transaction whose audit append writes, then fails: a crash mid-command."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def append_audit(self, *args: Any, **kwargs: Any) -> None:
        self._tx.append_audit(*args, **kwargs)
        raise RuntimeError("crash after the audit record was written")


def test_a_command_rolled_back_mid_way_yields_no_event(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record of a crashed command rolls back with it, and so does its event."""
    camp = _campaign(store_factory, cf.FixedClock(date(2005, 1, 10)))
    _play(camp)
    before = camp.events(limit=1000)
    store = camp.store
    real = store.transaction

    @contextlib.contextmanager
    def crashing(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(*args, **kwargs) as tx:
            yield _FailAfterAudit(tx)

    monkeypatch.setattr(store, "transaction", crashing)
    with pytest.raises(RuntimeError, match="crash"):
        camp.record("u1", Visit(visitors=1), actor=INSPECTOR)
    monkeypatch.undo()
    assert camp.events(limit=1000) == before
    camp.record("u1", Visit(visitors=1), actor=INSPECTOR)
    after = camp.events(after=before.cursor).events
    assert [(e.kind, e.unit_id, e.cursor) for e in after] == [
        ("fact_recorded", "u1", before.cursor + 1)
    ]


def test_a_kinds_filter_moves_the_cursor_past_what_it_skips(store_factory: StoreFactory) -> None:
    """Records that make no event of the kinds asked for are read once, not again."""
    camp = _campaign(store_factory, cf.FixedClock(date(2005, 1, 10)))
    _play(camp)
    page = camp.events(limit=1, kinds=["refused"])
    assert [e.kind for e in page.events] == ["refused"]
    assert page.cursor == page.events[0].cursor
    assert page.more
    rest = camp.events(after=page.cursor, kinds=["refused"])
    assert rest.events == ()
    assert not rest.more
    assert rest.cursor == max(r.seq for r in camp.audit_trail())


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"after": -1}, "validation.whole_number"),
        ({"after": True}, "validation.whole_number"),
        ({"after": "3"}, "validation.whole_number"),
        ({"limit": 0}, "validation.whole_number"),
        ({"limit": 10_001}, "events.limit_too_large"),
        ({"kinds": "refused"}, "events.bad_kinds"),
        ({"kinds": []}, "events.bad_kinds"),
        ({"kinds": ["refused", "advanced"]}, "validation.one_of"),
    ],
)
def test_bad_arguments_are_refused_with_a_code(options: dict[str, Any], code: str) -> None:
    """Each bad argument raises a ValidationError naming it."""
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    with pytest.raises(cf.ValidationError) as caught:
        camp.events(**options)
    assert caught.value.code == code


def test_a_cursor_behind_a_purge_is_refused_and_reading_on_from_the_anchor_works(
    store_factory: StoreFactory,
) -> None:
    """Purged records leave the feed; a consumer behind them is told where to read on."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = _campaign(store_factory, clock)
    _play(camp)
    camp.export_audit(io.StringIO())
    clock.set(date(2005, 1, 10) + timedelta(days=400))
    camp.add_units([cf.Unit(id="late", name="后来", kind="organ", batch=1, members=3)])
    purged = camp.purge_audit(older_than=date(2005, 2, 1))
    assert purged > 0
    with pytest.raises(cf.ValidationError) as caught:
        camp.events(after=0)
    assert caught.value.code == "events.purged"
    assert caught.value.params == {"after": 0, "anchor": purged}
    left = camp.events(after=purged).events
    assert [(e.kind, e.unit_id) for e in left] == [("unit_added", "late")]
