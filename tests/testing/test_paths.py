"""Paths through every shipped preset take every transition on a real campaign; recipes hold."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings

import campaignflow as cf
from campaignflow.testing import (
    assert_covers,
    check_guard,
    coverage,
    covering_paths,
    guard_outcomes,
    play_outcome,
    shortest_paths,
    simple_paths,
    walk,
)
from campaignflow.testing import strategies as cfst
from campaignflow.testing.paths import fires, steps

PRESETS = {name: cf.presets.load(name) for name in cf.presets.PRESETS}


def _play(workflow: cf.Workflow, path: object, store: str | None = None) -> cf.Campaign:
    clock = cf.SimulatedClock(date(2004, 12, 1))
    camp = cf.Campaign(workflow, store, clock=clock)
    camp.add_units([cf.Unit(id="u-1", name="党支部", kind="organ", batch=1, members=20)])
    walk(camp, "u-1", path, clock=clock)  # type: ignore[arg-type]
    return camp


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_covering_paths_take_every_transition_of_every_preset(name: str) -> None:
    """Walking the covering paths through a real campaign takes every transition there is."""
    workflow = PRESETS[name]
    paths = covering_paths(workflow)
    runs = [_play(workflow, p) for p in paths]
    found = assert_covers(workflow, runs)
    assert found.missing == ()
    assert {s.edge for s in steps(workflow)} == set(found.transitions)
    for camp in runs:
        assert camp.verify_audit().ok


def test_covering_paths_also_hold_on_sqlite(tmp_path: object) -> None:
    """The district preset's paths walk the same on a SQLite file."""
    workflow = PRESETS["district_2005"]
    for i, path in enumerate(covering_paths(workflow)):
        url = f"sqlite:///{tmp_path}/p{i}.db"
        camp = _play(workflow, path, url)
        assert camp.state("u-1").stage == path.end
        camp.close()


def test_district_paths_are_shortest_and_named_readably() -> None:
    """The shortest way to acceptance is six steps; ids show the stages."""
    best = shortest_paths(PRESETS["district_2005"])
    accepted = best["accepted"]
    assert len(accepted) == 6
    assert accepted.id == (
        "pending>[start]preparation>study_mobilization>analysis_review>rectification>closing>accepted"
    )
    assert best["pending"].steps == ()
    assert len(best["study_mobilization_remedial"]) == 3


def test_simple_paths_end_in_a_final_stage_without_repeats() -> None:
    """Every simple path of a preset starts at the initial stage and visits no stage twice."""
    for workflow in PRESETS.values():
        found = simple_paths(workflow)
        assert found
        for path in found:
            assert path.stages[0] == workflow.initial
            assert workflow.is_final(path.stages[-1])
            assert len(set(path.stages)) == len(path.stages)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_gate_outcome_recipe_gives_that_outcome_in_isolation(name: str) -> None:
    """Each pass/fail recipe, judged by check_guard, gives exactly the outcome it claims."""
    cases = guard_outcomes(PRESETS[name])
    assert {c.passed for c in cases} == {True, False}
    for case in cases:
        r = case.recipe
        window = cf.BatchWindow(number=1, opens=date(2005, 1, 1), closes=date(2005, 6, 30))
        today = date(2005, 7, 5) if r.outside_window else date(2005, 4, 1)
        verdict = check_guard(
            case.guard,
            r.facts,
            days_in_stage=r.days_in_stage,
            days_since_start=max(r.days_since_start, r.days_in_stage),
            today=today,
            batch_window=window,
        )
        assert verdict.passed is case.passed, case.id


def test_assert_covers_names_the_transitions_a_suite_never_took() -> None:
    """Runs that only reach study name every later transition as never taken."""
    workflow = PRESETS["district_2005"]
    camp = _play(workflow, shortest_paths(workflow)["study_mobilization"])
    with pytest.raises(AssertionError) as failure:
        assert_covers(workflow, [camp])
    message = str(failure.value)
    assert "never taken: closing -advance-> accepted" in message
    assert "pending -start-> preparation" not in message
    found = coverage(workflow, [camp])
    assert len(found.missing) == len(found.transitions) - 2
    assert found.report().startswith("transitions: 2/16 covered")


def test_assert_covers_with_outcomes_wants_every_gate_both_ways() -> None:
    """Taking every transition is not seeing every gate fail: outcomes=True says which."""
    workflow = PRESETS["no_stages_2019"]
    runs = [_play(workflow, p) for p in covering_paths(workflow)]
    assert_covers(workflow, runs)
    with pytest.raises(AssertionError, match="gate #0 failing"):
        assert_covers(workflow, runs, outcomes=True)


def test_coverage_takes_tuples_paths_and_rejects_other_things() -> None:
    """(source, trigger, dest) tuples and paths count; anything else is a ValidationError."""
    workflow = PRESETS["no_stages_2019"]
    edges = [("pending", "start", "in_progress"), ("in_progress", "advance", "completed")]
    found = coverage(workflow, [*edges, covering_paths(workflow)])
    assert found.missing == ()
    with pytest.raises(cf.ValidationError, match="runs must hold"):
        coverage(workflow, [42])


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(workflow=cfst.workflows(max_stages=5))
def test_random_workflows_every_recipe_fires_its_step(workflow: cf.Workflow) -> None:
    """On random workflows, a step's recipe makes the engine pick exactly that candidate,
    and covering paths contain every step that has one and is reachable."""
    all_steps = steps(workflow)
    batch = workflow.batches[0].number if workflow.batches else 1
    for s in all_steps:
        if s.recipe is not None:
            assert fires(workflow, s, s.recipe, batch=batch)
    reachable = shortest_paths(workflow)
    covered = {
        (x.source, x.trigger, x.dest, x.index) for p in covering_paths(workflow) for x in p.steps
    }
    for s in all_steps:
        if s.recipe is not None and s.source in reachable:
            assert (s.source, s.trigger, s.dest, s.index) in covered


@pytest.mark.parametrize("name", ["no_stages_2019", "district_2005"])
def test_playing_every_gate_outcome_covers_them_all(name: str) -> None:
    """Each gate outcome, played on a real campaign, shows in the decision and in coverage."""
    workflow = PRESETS[name]
    runs = [_play(workflow, p) for p in covering_paths(workflow)]
    for case in guard_outcomes(workflow):
        clock = cf.SimulatedClock(date(2004, 12, 1))
        camp = cf.Campaign(workflow, clock=clock)
        camp.add_units([cf.Unit(id="u-1", name="党支部", kind="organ", batch=1, members=20)])
        decision = play_outcome(camp, "u-1", case, clock=clock)
        candidate = next(c for c in decision.candidates if c.dest == case.step.dest)
        index = case.step.guards.index(next(g for g in case.step.guards if g.spec == case.guard))
        assert candidate.verdicts[index].passed is case.passed, case.id
        runs.append(camp)
    found = assert_covers(workflow, runs, outcomes=True)
    assert found.missing_outcomes == ()
