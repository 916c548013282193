"""Roll-up counters equal a recount of the units after any command sequence, on every store.

Campaigns come from the roll-up tests' generated plans (trees, loose parents, refusals,
make-up, assessments); then a random sequence of further commands runs on them: sweeps,
refused and accepted moves, surveys, an adoption of version 2 (pin or migrate), registering
the loose parent late (its units then count at its new ancestors), a backfill of refusals,
a change of batch windows. After every command the counters equal the scan of the units.
"""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.records import Organisation
from campaignflow.store import MemoryStore, Store
from tests.orgtree.counters import assert_counters_match
from tests.orgtree.flows import BAD, GOOD, SUPERIOR, flow_v2
from tests.orgtree.world import CLERK, LOOSE, Plan, build, fresh_store, org_id, plans
from tests.store.conftest import StoreFactory
from tests.store.test_schema_fixtures import open_copy

EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_COUNTER_EXAMPLES", "200"))
PG_EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_COUNTER_PG_EXAMPLES", "40"))

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

OPS = ("sweep", "advance", "good", "bad", "summing_up", "adopt", "register", "backfill", "day")
Step = tuple[str, int]
steps = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 30)), max_size=10)


def _apply(camp: cf.Campaign, clock: cf.FixedClock, plan: Plan, op: str, n: int) -> None:
    units = [u.id for u, _ in camp.units()]
    unit = units[n % len(units)] if units else None
    with suppress(cf.TransitionRejected, cf.ValidationError):
        if op == "sweep":
            camp.advance_all(actor=CLERK)
        elif op == "day":
            clock.set(clock.now().date() + timedelta(days=n * 7))
        elif op == "adopt":
            policy = "migrate" if n % 2 else "pin"
            stage_map = {"review": "appraisal"} if policy == "migrate" else None
            leader = cf.Actor(id="group", roles={"leading_group"})
            camp.adopt(flow_v2(), policy=policy, stage_map=stage_map, actor=leader)
        elif op == "register":
            parent = org_id(n % len(plan.org_parents))
            camp.add_organisations([Organisation(LOOSE, "后登记", "branch", parent)])
        elif op == "backfill":
            camp.backfill_overview()
        elif unit is None:
            return
        elif op == "advance":
            camp.advance(unit, actor=CLERK)
        elif op in ("good", "bad"):
            camp.record(unit, GOOD if op == "good" else BAD, actor=SUPERIOR)
        elif op == "summing_up":
            camp.record(unit, cf.Milestone("summing_up"), actor=CLERK)


def _counters_property(factory: StoreFactory, plan: Plan, script: list[Step]) -> None:
    store, cid = fresh_store(factory)
    camp, clock = build(plan, store, cid)
    camp.progress(under=org_id(0))  # sets the batch windows the on-time counts use
    assert_counters_match(store)
    for op, n in script:
        _apply(camp, clock, plan, op, n)
        assert_counters_match(store)
    # A campaign-wide progress reads the same figures as the recount's total.
    with store.transaction(write=False) as tx:
        assert camp.progress().total == sum(1 for _ in tx.iter_units())


@pytest.mark.sized(default=8)
@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_counters_equal_a_recount_after_any_commands(
    backend: str, tmp_path: Path, size: int | None
) -> None:
    """For generated campaigns and command sequences, every counter equals the recount."""
    factory = StoreFactory(backend, tmp_path)
    if size:  # the default run: PostgreSQL's round trips make its examples the dear ones
        examples = max(1, size // 4) if backend == "postgres" else size
    else:
        examples = PG_EXAMPLES if backend == "postgres" else EXAMPLES
    try:
        run = given(plan=plans(), script=steps)(_counters_property)
        settings(PROPERTY, max_examples=examples)(run)(factory)
    finally:
        factory.close()


def test_changed_batch_windows_recount_on_time() -> None:
    """The on-time counters follow the batch windows the campaign's workflow has."""
    store = MemoryStore()
    camp, _ = build(Plan((-1,), ((0, 1, 3, 0), (0, 1, 3, 100))), store, "windows")
    assert camp.progress(under=org_id(0)).on_time == 1
    with store.transaction() as tx:
        tx.set_batch_closes({1: date(2005, 12, 31)})
    assert_counters_match(store)
    with store.transaction(write=False) as tx:
        assert sum(g.on_time for g in tx.counted_groups([org_id(0)])) == 2
    # The campaign sets its own windows back before it answers.
    assert camp.progress(under=org_id(0)).on_time == 1


def _fail_after_a_write(store: Store) -> None:
    with store.transaction() as tx:
        unit, state = next(iter(tx.iter_units()))
        tx.update_state(
            cf.UnitState(unit_id=unit.id, stage="done", batch=state.batch, version=9),
            expected_version=state.version,
        )
        raise RuntimeError("the command fails after its write")


def test_a_failed_command_leaves_the_counters_as_they_were(store_factory: StoreFactory) -> None:
    """A write that fails part-way rolls its counter changes back with everything else."""
    store, cid = fresh_store(store_factory)
    camp, _ = build(Plan((-1, 0), ((1, 1, 0, 0), (0, 1, 0, 0))), store, cid)
    before = camp.progress(under=org_id(0))
    with pytest.raises(RuntimeError):
        _fail_after_a_write(store)
    assert camp.progress(under=org_id(0)) == before
    assert_counters_match(store)


def test_a_refused_roll_up_writes_no_batch_closes(store_factory: StoreFactory) -> None:
    """progress(under=) of an unknown node is refused, and the first roll-up's write of the
    batch windows' closes goes with the refusal (found by the fuzzed calls)."""
    store, cid = fresh_store(store_factory)
    camp, _ = build(Plan((-1, 0), ((1, 1, 0, 0), (0, 1, 0, 0))), store, cid)
    with pytest.raises(cf.ValidationError, match="under"):
        camp.progress(under="no-such-node")
    with store.transaction(write=False) as tx:
        assert tx.batch_closes() == {}
    camp.progress(under=org_id(0))
    with store.transaction(write=False) as tx:
        assert tx.batch_closes() == {b.number: b.closes for b in camp.workflow.batches}


@pytest.mark.parametrize("version", range(1, 8))
def test_the_migration_fills_the_counters_of_a_released_database(
    version: int, tmp_path: Path
) -> None:
    """Opening a database of each released schema fills counters equal to a recount."""
    camp, _ = open_copy(version, tmp_path)
    try:
        assert assert_counters_match(camp.store) >= 1
        camp.backfill_overview()  # refusals of old releases: kept through the write methods
        total = camp.progress().total
        assert total == len(camp.units())
        for org in camp.organisations():
            camp.progress(under=org.id)  # sets the batch windows: on-time counts refilled
        assert assert_counters_match(camp.store) >= 1
    finally:
        camp.close()
