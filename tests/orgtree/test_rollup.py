"""Roll-ups up the organisation tree: equal to the sum of their parts and to a unit-by-unit recount."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.overview import OrgProgress
from campaignflow._words.records import Organisation
from campaignflow.store import MemoryStore
from tests.orgtree.flows import GOOD, START, SUPERIOR, flow
from tests.orgtree.world import (
    CLERK,
    EXAMPLES,
    LOOSE,
    PG_EXAMPLES,
    Plan,
    Recount,
    build,
    figures_of,
    fresh_store,
    plans,
    roots,
)
from tests.store.conftest import StoreFactory

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _sum_of_parts(node: OrgProgress) -> None:
    """Every node's figures are its own units' plus its children's (all levels listed)."""
    for n in node.walk():
        kids = n.children
        assert n.total == n.own + sum(c.total for c in kids)
        for name in ("finished", "on_time", "remedial", "remedial_rounds", "stuck"):
            assert getattr(n, name) >= sum(getattr(c, name) for c in kids)
        stages = n.by_stage()
        for child in kids:
            for stage, count in child.by_stage().items():
                assert stages[stage] >= count
        assert n.satisfaction.assessed >= sum(c.satisfaction.assessed for c in kids)


@pytest.mark.sized(default=10)
@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_rollup_equals_the_recount_from_states_and_history(
    backend: str, tmp_path: Path, size: int | None
) -> None:
    """For generated trees and states, every node equals a unit-by-unit recount and its parts' sum."""
    factory = StoreFactory(backend, tmp_path)
    examples = size or (PG_EXAMPLES if backend == "postgres" else EXAMPLES)
    try:
        settings(PROPERTY, max_examples=examples)(given(plan=plans())(_rollup_property))(factory)
    finally:
        factory.close()


def _rollup_property(factory: StoreFactory, plan: Plan) -> None:
    store, cid = fresh_store(factory)
    camp, _ = build(plan, store, cid)
    recount = Recount(camp)
    for root in roots(camp):
        tree = camp.progress(under=root, top=100)
        _sum_of_parts(tree)
        for node in tree.walk():
            assert figures_of(node) == recount.figures(node.id), node.id
            # Asking the node itself gives the same figures as finding it in the tree.
            direct = camp.progress(under=node.id, top=100, depth=0)
            assert figures_of(direct) == figures_of(node)
            assert direct.children == ()
    if any(parent < 0 for parent, *_ in plan.units):
        assert figures_of(camp.progress(under=LOOSE, top=100)) == recount.figures(LOOSE)


@pytest.mark.sized(default=30)
@PROPERTY
@given(plan=plans(), depth=st.integers(0, 3))
def test_depth_lists_fewer_levels_but_the_same_totals(plan: Plan, depth: int) -> None:
    """A shallower roll-up lists levels down to ``depth`` only, and each listed node keeps its totals."""
    camp, _ = build(plan, MemoryStore(), "depth")
    for root in roots(camp):
        full = {n.id: figures_of(n) for n in camp.progress(under=root).walk()}
        shallow = camp.progress(under=root, depth=depth)
        for node in shallow.walk():
            assert node.depth <= depth
            assert figures_of(node) == full[node.id]


def test_a_district_a_city_and_a_province_each_get_their_roll_up(
    store_factory: StoreFactory,
) -> None:
    """One database: the province sees both cities, a city its districts, a district its units."""
    store, cid = fresh_store(store_factory)
    clock = cf.FixedClock(START)
    camp = cf.Campaign(flow(), store=store, clock=clock, campaign_id=cid)
    camp.add_organisations(
        [
            Organisation("prov", "某省", "province"),
            Organisation("city-a", "甲市", "city", "prov"),
            Organisation("city-b", "乙市", "city", "prov"),
            Organisation("dist-a1", "甲市一区", "district", "city-a"),
            Organisation("dist-a2", "甲市二区", "district", "city-a"),
            Organisation("dist-b1", "乙市一区", "district", "city-b"),
        ]
    )
    placement = {"dist-a1": 3, "dist-a2": 2, "dist-b1": 4, "city-b": 1}
    units = [
        cf.Unit(id=f"{org}-{i}", name=f"{org} 支部 {i}", kind="organ", batch=1, parent=org)
        for org, n in placement.items()
        for i in range(n)
    ]
    camp.add_units(units)
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    camp.record("dist-a1-0", cf.StudySession(hours=12), actor=CLERK)
    camp.record("dist-a1-0", GOOD, actor=SUPERIOR)
    camp.advance("dist-a1-0", actor=CLERK)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("dist-b1-2", actor=CLERK)

    province = camp.progress(under="prov", depth=1)
    assert [c.id for c in province.children] == ["city-a", "city-b"]
    assert all(c.children == () for c in province.children)
    assert province.total == 10
    assert province.by_stage() == {"study": 9, "review": 1}
    assert province.stuck == 1
    assert province.blocking == (("study_hours.insufficient", 1), ("survey.missing", 1))

    city = camp.progress(under="city-a")
    assert (city.level, city.total, city.own) == ("city", 5, 0)
    assert [(d.id, d.total) for d in city.children] == [("dist-a1", 3), ("dist-a2", 2)]
    assert city.satisfaction.assessed == 1
    assert city.satisfaction.satisfied_rate == 0.9

    district = camp.progress(under="dist-b1")
    assert (district.total, district.own, district.stuck) == (4, 4, 1)
    assert camp.progress(under="city-b").own == 1


def test_finished_on_time_and_share() -> None:
    """A unit finished inside its batch window counts on time; one finished after does not."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(flow(), clock=clock)
    camp.add_organisations([Organisation("d", "区", "district")])
    camp.add_units([cf.Unit(id=u, name=u, kind="organ", batch=1, parent="d") for u in "ab"])
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    for unit, finish in (("a", date(2005, 3, 31)), ("b", date(2005, 4, 1))):
        camp.record(unit, cf.StudySession(hours=12), actor=CLERK)
        camp.record(unit, GOOD, actor=SUPERIOR)
        camp.advance(unit, actor=CLERK)
        clock.set(finish)
        camp.record(unit, cf.Milestone("summing_up"), actor=CLERK)
        camp.advance(unit, actor=CLERK)
        clock.set(START)
    node = camp.progress(under="d")
    assert (node.finished, node.on_time, node.on_time_share) == (2, 1, 0.5)
    assert camp.progress().finished == 2  # the campaign-wide progress is unchanged


def test_plain_progress_keeps_its_shape() -> None:
    """progress(batch=…) without under still returns the campaign-wide Progress."""
    camp = cf.Campaign(flow(), clock=cf.FixedClock(START))
    camp.add_units([cf.Unit(id="u", name="u", kind="organ", batch=1)])
    assert isinstance(camp.progress(batch=1), cf.Progress)
    with pytest.raises(cf.ValidationError, match="depth: only with under"):
        camp.progress(depth=1)


def test_bad_organisations_are_refused_whole_with_every_problem() -> None:
    """Unknown parents, duplicates, cycles: all listed, nothing registered."""
    camp = cf.Campaign(flow(), clock=cf.FixedClock(START))
    camp.add_organisations([Organisation("n", "全国", "nation")])
    with pytest.raises(cf.ValidationError) as refused:
        camp.add_organisations(
            [
                Organisation("n", "again", "nation"),
                Organisation("x", "X", "city", "nowhere"),
                Organisation("a", "A", "city", "b"),
                Organisation("b", "B", "city", "a"),
                Organisation("ok", "OK", "city", "n"),
            ]
        )
    problems = refused.value.problems
    assert any("'n' is already registered" in p for p in problems)
    assert any("parent must be a registered organisation, got 'nowhere'" in p for p in problems)
    assert any("cycle" in p for p in problems)
    assert [o.id for o in camp.organisations()] == ["n"]
    with pytest.raises(cf.ValidationError, match="Organisation 'z': parent must be another"):
        Organisation("z", "Z", "city", "z")
    with pytest.raises(cf.ValidationError, match="under: must be a registered organisation"):
        camp.progress(under="nobody")
    with pytest.raises(cf.ValidationError, match="organisations: must be an iterable"):
        camp.add_organisations("n")  # type: ignore[arg-type]


def test_add_organisations_is_idempotent_by_request_id(store_factory: StoreFactory) -> None:
    """The same request id registers once; the audit trail holds one record of it."""
    store, cid = fresh_store(store_factory)
    camp = cf.Campaign(flow(), store=store, clock=cf.FixedClock(START), campaign_id=cid)
    orgs = [Organisation("n", "全国", "nation"), Organisation("p", "省", "province", "n")]
    assert camp.add_organisations(orgs, request_id="orgs-1") == 2
    assert camp.add_organisations(orgs, request_id="orgs-1") == 2
    assert [r.command for r in camp.audit_trail()] == ["add_organisations"]
    assert [o.id for o in camp.organisations(under="n")] == ["n", "p"]
    assert camp.verify_audit().ok
