"""Adopting a new workflow version mid-campaign: pin, migrate, from_batch; dry runs; refusals; reopening."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.records import Organisation
from campaignflow.audit import replay_versions
from campaignflow.workflow._engine import workflow_ref
from campaignflow.workflow._versions import POLICIES
from tests.orgtree.flows import GOOD, START, SUPERIOR, flow, flow_v2
from tests.orgtree.world import CLERK, Plan, build, fresh_store, plans
from tests.store.conftest import StoreFactory

V1, V2 = flow(), flow_v2()
REF1, REF2 = workflow_ref(V1), workflow_ref(V2)
EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_VERSIONS_EXAMPLES", "100"))
PG_EXAMPLES = int(os.environ.get("CAMPAIGNFLOW_VERSIONS_PG_EXAMPLES", "25"))


def snapshot(camp: cf.Campaign) -> tuple[Any, ...]:
    """Everything an adoption could change: states, facts, the trail, the versions kept."""
    units = camp.units()
    known = [cf.Workflow.from_dict(v.definition) for v in camp.workflow_versions()]
    stages = {s.id for w in known for s in w.stages}
    facts = {(u.id, stage): camp.facts(u.id, stage) for u, _ in units for stage in stages}
    return (units, facts, list(camp.audit_trail()), camp.workflow_versions(), camp.workflow)


def consistent(camp: cf.Campaign) -> None:
    """State equals the replay of the history across versions, and the chain verifies."""
    kept = camp.workflow_versions()
    known = {v.ref: cf.Workflow.from_dict(v.definition) for v in kept}
    replayed = replay_versions(known, camp.audit_trail(), first=kept[0].ref)
    assert replayed == {u.id: s for u, s in camp.units()}
    assert camp.verify_audit().ok


def district(factory: StoreFactory) -> tuple[cf.Campaign, cf.FixedClock]:
    """Six units: batch 1 started (one in review, one refused in study), batches 2 and 3 waiting."""
    store, cid = fresh_store(factory)
    clock = cf.FixedClock(START)
    camp = cf.Campaign(V1, store=store, clock=clock, campaign_id=cid)
    camp.add_organisations([Organisation("d", "区", "district")])
    camp.add_units(
        [
            cf.Unit(id=f"b{batch}-{i}", name=f"支部{i}", kind="organ", batch=batch, parent="d")
            for batch in (1, 2, 3)
            for i in range(2)
        ]
    )
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    camp.record("b1-0", cf.StudySession(hours=12), actor=CLERK)
    camp.record("b1-0", GOOD, actor=SUPERIOR)
    camp.record("b1-0", cf.Milestone("summing_up"), actor=CLERK)
    camp.advance("b1-0", actor=CLERK)
    camp.record("b1-0", cf.Milestone("summing_up"), actor=CLERK)
    camp.record("b1-1", cf.StudySession(hours=8), actor=CLERK)
    camp.record("b1-1", GOOD, actor=SUPERIOR)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("b1-1", actor=CLERK)
    clock.set(START + timedelta(days=7))
    return camp, clock


def refs(camp: cf.Campaign) -> dict[str, str]:
    return {u.id: s.workflow for u, s in camp.units()}


def test_pin_keeps_units_in_flight_on_their_version(store_factory: StoreFactory) -> None:
    """Started units finish on version 1 and are judged by it; waiting and new units take version 2."""
    camp, _ = district(store_factory)
    adoption = camp.adopt(V2, policy="pin", actor=cf.Actor(id="city", roles={"leading_group"}))
    assert adoption.seq is not None
    assert [(c.unit_id, c.reason) for c in adoption.changes] == [
        ("b2-0", "not_started"),
        ("b2-1", "not_started"),
        ("b3-0", "not_started"),
        ("b3-1", "not_started"),
    ]
    assert adoption.kept == 2
    assert refs(camp) == {
        "b1-0": REF1,
        "b1-1": REF1,
        **{f"b{b}-{i}": REF2 for b in (2, 3) for i in (0, 1)},
    }
    camp.add_units([cf.Unit(id="late", name="新支部", kind="organ", batch=1, parent="d")])
    assert camp.state("late").workflow == REF2
    # b1-1 logged 8 hours: version 1 (10 hours) still judges it, and says so.
    decision = camp.check("b1-1")
    assert decision.judged_by == REF1
    assert "study_hours.insufficient" in [f.code for f in decision.failures()]
    assert f"(judged by workflow version {REF1})" in decision.explain("en")
    assert f"依据流程版本 {REF1}" in decision.explain("zh_CN")
    assert camp.workflow_of("b1-1") == V1
    assert camp.workflow_of("b2-0") == V2
    [record] = [r for r in camp.audit_trail() if r.command == "adopt"]
    assert (record.workflow, record.payload["policy"], record.actor_id) == (REF2, "pin", "city")
    consistent(camp)


def test_migrate_moves_every_unit_through_the_stage_map(store_factory: StoreFactory) -> None:
    """A dry run lists every move and writes nothing; the adoption then makes exactly those moves."""
    camp, _ = district(store_factory)
    before = snapshot(camp)
    dry = camp.adopt(V2, policy="migrate", stage_map={"review": "appraisal"}, dry_run=True)
    assert snapshot(camp) == before
    assert dry.seq is None
    moves = {c.unit_id: (c.from_stage, c.to_stage, c.reason) for c in dry.changes}
    assert moves["b1-0"] == ("review", "appraisal", "stage_mapped")
    assert moves["b1-1"] == ("study", "study", "migrated")
    assert moves["b3-1"] == ("pending", "pending", "migrated")
    assert len(moves) == 6
    assert dry.kept == 0
    assert "would adopt" in dry.explain("en")
    assert "review → appraisal" in dry.explain("en")

    done = camp.adopt(V2, policy="migrate", stage_map={"review": "appraisal"})
    assert done.changes == dry.changes
    assert not done.dry_run
    assert set(refs(camp).values()) == {REF2}
    assert camp.state("b1-0").stage == "appraisal"
    # The renamed stage keeps its evidence; the lower hour minimum now judges b1-1.
    assert [f.fact for f in camp.facts("b1-0")][-1] == cf.Milestone("summing_up")
    assert camp.advance("b1-0", actor=CLERK).dest == "done"
    assert camp.advance("b1-1", actor=CLERK).dest == "appraisal"
    assert camp.check("b1-1").judged_by == REF2
    consistent(camp)


def test_a_refused_migration_lists_every_problem_and_changes_nothing(
    store_factory: StoreFactory,
) -> None:
    """Units left without a stage or mapped to a missing stage: one error listing each; nothing written."""
    camp, _ = district(store_factory)
    before = snapshot(camp)
    with pytest.raises(cf.ValidationError) as refused:
        camp.adopt(V2, policy="migrate")
    assert refused.value.problems == (
        f"unit 'b1-0': its stage 'review' is not in the new version {REF2} and stage_map does "
        "not map it: the unit would be left without a stage",
    )
    with pytest.raises(cf.ValidationError) as refused:
        camp.adopt(V2, policy="migrate", stage_map={"review": "appraise", "reviews": "appraisal"})
    problems = refused.value.problems
    assert "stage_map: 'reviews' is not a stage of any version the campaign knows" in problems
    assert any("has no stage 'appraise'" in p for p in problems)
    assert any(
        p.startswith("unit 'b1-0': stage_map maps its stage 'review' to 'appraise'")
        for p in problems
    )
    assert snapshot(camp) == before
    consistent(camp)


def test_from_batch_applies_from_that_batch_on(store_factory: StoreFactory) -> None:
    """Batches before N keep version 1 (also for units added later); N and later take version 2."""
    camp, _ = district(store_factory)
    adoption = camp.adopt(V2, policy="from_batch", from_batch=3)
    assert [c.unit_id for c in adoption.changes] == ["b3-0", "b3-1"]
    assert refs(camp)["b2-0"] == REF1
    camp.add_units(
        [
            cf.Unit(id="new-2", name="二批新支部", kind="organ", batch=2),
            cf.Unit(id="new-3", name="三批新支部", kind="organ", batch=3),
        ]
    )
    assert camp.state("new-2").workflow == REF1
    assert camp.state("new-3").workflow == REF2
    consistent(camp)


def test_a_reopened_database_keeps_its_versions(sql_factory: StoreFactory) -> None:
    """After reopening, the campaign knows every version, which units each judges, and the current one."""
    camp, clock = district(sql_factory)
    camp.adopt(V2, policy="pin", request_id="adopt-v2")
    cid = camp.campaign_id
    again = cf.Campaign(V1, store=sql_factory.open(campaign_id=cid), clock=clock, campaign_id=cid)
    kept = again.workflow_versions()
    assert [(v.number, v.ref, v.policy) for v in kept] == [(1, REF1, "base"), (2, REF2, "pin")]
    assert again.workflow == V2
    assert again.check("b1-1").judged_by == REF1
    assert again.adopt(V2, policy="pin", request_id="adopt-v2").seq == kept[1].seq
    consistent(again)
    v3 = flow(version="3", hours=4)
    with pytest.raises(cf.ValidationError, match="is not a version this campaign adopted"):
        cf.Campaign(v3, store=sql_factory.open(campaign_id=cid), clock=clock, campaign_id=cid)


def test_adopt_refuses_bad_arguments() -> None:
    """Unknown policies, from_batch without its policy, the current version again: refused by name."""
    camp = cf.Campaign(V1, clock=cf.FixedClock(START))
    with pytest.raises(cf.ValidationError, match="policy"):
        camp.adopt(V2, policy="later")  # type: ignore[arg-type]
    with pytest.raises(cf.ValidationError, match="from_batch: policy 'from_batch' needs"):
        camp.adopt(V2, policy="from_batch")
    with pytest.raises(cf.ValidationError, match="from_batch: only with policy"):
        camp.adopt(V2, policy="pin", from_batch=2)
    with pytest.raises(cf.ValidationError, match="stage_map"):
        camp.adopt(V2, stage_map={"review": 3})  # type: ignore[dict-item]
    with pytest.raises(cf.ValidationError, match="already the campaign's current workflow"):
        camp.adopt(V1)
    with pytest.raises(cf.ValidationError, match="workflow: must be a Workflow"):
        camp.adopt("v2")  # type: ignore[arg-type]
    assert list(camp.audit_trail()) == []


def _adoption_property(
    factory: StoreFactory, plan: Plan, policy: str, from_batch: int, after: list[int]
) -> None:
    store, cid = fresh_store(factory)
    camp, clock = build(plan, store, cid)
    options: dict[str, Any] = {"policy": policy}
    if policy == "from_batch":
        options["from_batch"] = from_batch
    if policy == "migrate":
        options["stage_map"] = {"review": "appraisal"}
    before = snapshot(camp)
    dry = camp.adopt(V2, dry_run=True, **options)
    assert snapshot(camp) == before
    done = camp.adopt(V2, **options)
    assert done.changes == dry.changes
    for change in done.changes:
        assert camp.state(change.unit_id).stage == change.to_stage
    consistent(camp)
    # Commands after the adoption move units on their own version; state stays the replay.
    clock.set(clock.now() + timedelta(days=30))
    for i in after:
        unit_id = f"u{i % max(len(plan.units), 1)}"
        if plan.units:
            camp.advance_all()
            camp.add_units(
                [
                    cf.Unit(
                        id=f"late-{i}-{len(camp.units())}", name="新", kind="organ", batch=1 + i % 3
                    )
                ]
            )
            if camp.workflow_of(unit_id).stage(camp.state(unit_id).stage).kind not in (
                "waiting",
                "final",
            ):
                camp.record(unit_id, cf.StudySession(hours=7), actor=CLERK)
    consistent(camp)


@pytest.mark.sized(default=20)
@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_adoption_keeps_state_equal_to_replay_and_the_chain_valid(
    backend: str, tmp_path: Path, size: int | None
) -> None:
    """Any generated campaign, any policy, commands after: state == replay(history) and the chain holds."""
    factory = StoreFactory(backend, tmp_path)
    property_ = given(
        plan=plans(max_units=6),
        policy=st.sampled_from(POLICIES),
        from_batch=st.integers(1, 3),
        after=st.lists(st.integers(0, 20), max_size=3),
    )(_adoption_property)
    try:
        settings(
            max_examples=size or (PG_EXAMPLES if backend == "postgres" else EXAMPLES),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )(property_)(factory)
    finally:
        factory.close()
