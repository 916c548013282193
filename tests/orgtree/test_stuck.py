"""Stuck lists: the units whose latest refusal is in their current stay, exactly as the history says."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.overview import STUCK_ORDERS
from campaignflow._words.records import Organisation
from tests.orgtree.flows import START, flow
from tests.orgtree.world import (
    CLERK,
    EXAMPLES,
    PG_EXAMPLES,
    Plan,
    Recount,
    build,
    fresh_store,
    org_id,
    plans,
)
from tests.store.conftest import StoreFactory

#: The day the generated campaigns are looked at (``build`` leaves the clock there).
TODAY = date(2005, 9, 1)

queries = st.fixed_dictionaries(
    {
        "under": st.one_of(st.none(), st.integers(0, 6).map(org_id), st.just("loose-parent")),
        "longer_than": st.one_of(st.none(), st.integers(0, 240)),
        "batch": st.one_of(st.none(), st.integers(1, 3)),
        "order_by": st.sampled_from(STUCK_ORDERS),
        "offset": st.integers(0, 4),
        "limit": st.one_of(st.none(), st.integers(1, 5)),
    }
)


def brute_force(recount: Recount, query: dict[str, object]) -> list[tuple[str, int, set[str]]]:
    """(unit id, days in stage, failing codes) of every match, in the asked order, paged."""
    order = {unit.id: i for i, (unit, _) in enumerate(recount.units)}
    found = []
    for unit, state in recount.units:
        if unit.id not in recount.stuck:
            continue
        if query["under"] is not None and query["under"] not in recount.chain(unit.parent):
            continue
        if query["batch"] is not None and state.batch != query["batch"]:
            continue
        assert state.stage_since is not None
        days = (TODAY - state.stage_since).days
        if query["longer_than"] is not None and not days > query["longer_than"]:  # type: ignore[operator]
            continue
        record, codes = recount.stuck[unit.id]
        key = {
            "days_in_stage": (-days, order[unit.id]),
            "refused": (-record.seq, order[unit.id]),
            "added": (order[unit.id], 0),
        }[str(query["order_by"])]
        found.append((key, (unit.id, days, codes)))
    found.sort(key=lambda item: item[0])
    rows = [row for _, row in found]
    offset = int(query["offset"])  # type: ignore[call-overload]
    limit = query["limit"]
    return rows[offset:] if limit is None else rows[offset : offset + int(limit)]  # type: ignore[call-overload]


def _stuck_property(
    factory: StoreFactory, plan: Plan, batch_of_queries: list[dict[str, object]]
) -> None:
    store, cid = fresh_store(factory)
    camp, clock = build(plan, store, cid)
    assert clock.now().date() == TODAY
    recount = Recount(camp)
    for query in batch_of_queries:
        page = camp.stuck(**query)  # type: ignore[arg-type]
        wanted = brute_force(recount, query)
        got = [(s.unit.id, s.days_in_stage, set(s.codes)) for s in page.units]
        assert got == wanted, query
        assert page.total == len(brute_force(recount, {**query, "offset": 0, "limit": None}))
        for entry in page.units:
            assert entry.refusal.version == entry.state.version
            assert entry.refusal.stage == entry.state.stage
            # The refusal keeps the numbers, exactly as the audit record's decision has them.
            record, _ = recount.stuck[entry.unit.id]
            assert entry.refusal.seq == record.seq


@pytest.mark.sized(default=10)
@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_stuck_lists_match_a_recomputation_from_history(
    backend: str, tmp_path: Path, size: int | None
) -> None:
    """For generated campaigns and queries (under, longer_than, batch, order, page), the list is exact."""
    factory = StoreFactory(backend, tmp_path)
    examples = size or (PG_EXAMPLES if backend == "postgres" else max(EXAMPLES // 2, 1))
    property_ = given(plan=plans(), batch_of_queries=st.lists(queries, min_size=1, max_size=4))(
        _stuck_property
    )
    try:
        settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )(property_)(factory)
    finally:
        factory.close()


def test_a_stuck_entry_names_the_gates_and_numbers(store_factory: StoreFactory) -> None:
    """The entry carries every failing gate code with its numbers, and the days in stage."""
    store, cid = fresh_store(store_factory)
    clock = cf.FixedClock(START)
    camp = cf.Campaign(flow(), store=store, clock=clock, campaign_id=cid)
    camp.add_organisations([Organisation("d", "区", "district")])
    camp.add_units([cf.Unit(id="u", name="支部", kind="organ", batch=1, parent="d")])
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    camp.record("u", cf.StudySession(hours=4), actor=CLERK)
    clock.set(START + timedelta(days=20))
    with pytest.raises(cf.TransitionRejected):
        camp.advance("u", actor=CLERK)
    clock.set(START + timedelta(days=45))
    [entry] = camp.stuck(under="d").units
    assert entry.days_in_stage == 45
    assert entry.refusal.on == START + timedelta(days=20)
    assert entry.codes == ("study_hours.insufficient", "survey.missing")
    hours = entry.refusal.failures[0]
    assert dict(hours.params) == {"actual": 4.0, "required": 10}
    assert "at least 10 required" in hours.message("en")
    assert camp.stuck(under="d", longer_than=45).total == 0
    assert camp.stuck(under="d", longer_than=44).total == 1
    # Longer than the calendar goes back: nobody, not an OverflowError.
    assert camp.stuck(under="d", longer_than=2**63 - 1).total == 0
    # Moving on clears it: the refusal belongs to a stay that ended.
    camp.record("u", cf.StudySession(hours=8), actor=CLERK)
    camp.record(
        "u",
        cf.Survey(satisfied=9, basically_satisfied=0, dissatisfied=1),
        actor=cf.Actor(id="c", roles={"superior_org"}),
    )
    camp.advance("u", actor=CLERK)
    assert camp.stuck().total == 0


def test_stuck_refuses_bad_arguments() -> None:
    """Unknown orders, negative days or offsets and zero limits are refused by name."""
    camp = cf.Campaign(flow(), clock=cf.FixedClock(START))
    for kwargs, field in (
        ({"order_by": "name"}, "order_by"),
        ({"longer_than": -1}, "longer_than"),
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"under": ""}, "under"),
    ):
        with pytest.raises(cf.ValidationError, match=field):
            camp.stuck(**kwargs)  # type: ignore[arg-type]
