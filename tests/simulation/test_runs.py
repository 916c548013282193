"""simulate_runs: many seeds condensed into completion percentiles, on-time chances and bands."""

from __future__ import annotations

import itertools
import math
from datetime import date

import pytest

import campaignflow as cf
from campaignflow.simulation import RunsSummary, simulate, simulate_runs
from campaignflow.simulation._runs import percentile
from tests.simulation.conftest import small_scenario


@pytest.fixture(scope="module")
def summary() -> RunsSummary:
    """Six seeds of the 24-unit scenario in fast mode."""
    return simulate_runs(small_scenario(), runs=6, seed=11, mode="fast")


def test_nearest_rank_percentile_is_an_observed_value() -> None:
    """p10/p50/p90 of 1..10 are 1, 5 and 9; a never-finished run (inf) sorts last."""
    values = [float(v) for v in range(10, 0, -1)]
    assert [percentile(values, p) for p in (10, 50, 90)] == [1.0, 5.0, 9.0]
    assert percentile([1.0, math.inf], 90) == math.inf
    assert percentile([1.0, math.inf], 50) == 1.0


@pytest.mark.slow
def test_same_seeds_give_byte_identical_summaries(summary: RunsSummary) -> None:
    """Two calls with the same seeds, one in two worker processes, give the same JSON bytes."""
    again = simulate_runs(small_scenario(), runs=6, seed=11, mode="fast", shards=2)
    assert again.to_json().encode() == summary.to_json().encode()
    other = simulate_runs(small_scenario(), runs=6, seed=12, mode="fast")
    assert other.to_json() != summary.to_json()


def test_summary_condenses_the_individual_runs(summary: RunsSummary) -> None:
    """Percentiles and the on-time chance are those of the six runs played one by one."""
    assert summary.seeds == tuple(range(11, 17))
    assert summary.runs == 6
    assert summary.mode == "fast"
    results = [simulate(small_scenario(), seed=s, mode="fast") for s in summary.seeds]
    for spread in summary.batches:
        outcomes = [next(b for b in r.batches if b.batch == spread.batch) for r in results]
        days = sorted(b.completed_on for b in outcomes if b.completed_on is not None)
        assert len(days) == 6 - spread.unfinished_runs
        if spread.unfinished_runs == 0:
            # nearest rank of 6: p10 is the 1st, p50 the 3rd, p90 the 6th
            assert (spread.completed_p10, spread.completed_p50, spread.completed_p90) == (
                days[0],
                days[2],
                days[5],
            )
        on_time = sum(1 for b in outcomes if b.completed_on and b.completed_on <= b.window_end)
        assert spread.on_time_probability == round(on_time / 6, 6)
    remedial = sorted(r.remedial.units for r in results)
    assert (summary.remedial_units_p10, summary.remedial_units_p50, summary.remedial_units_p90) == (
        remedial[0],
        remedial[2],
        remedial[5],
    )


def test_bands_are_ordered_weekly_shares(summary: RunsSummary) -> None:
    """Each weekly point has p10 <= p50 <= p90 within [0, 1], never falling week to week."""
    assert summary.bands
    for batch in {p.batch for p in summary.bands}:
        mine = [p for p in summary.bands if p.batch == batch]
        assert all(0 <= p.p10 <= p.p50 <= p.p90 <= 1 for p in mine)
        assert all((b.day - a.day).days == 7 for a, b in itertools.pairwise(mine))
        assert all(a.p50 <= b.p50 for a, b in itertools.pairwise(mine))
        assert mine[0].day == date(2005, 1, 1)
        assert mine[-1].p50 == 1.0  # every batch of the small scenario finishes


def test_progress_is_called_after_each_run_in_order() -> None:
    """progress(done, total) counts the runs in seed order, ending at the total."""
    seen: list[tuple[int, int]] = []
    simulate_runs(small_scenario(), runs=3, mode="fast", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_a_custom_gate_without_bulk_form_runs_in_fast_mode() -> None:
    """The OA example's own gate (custom fact type, host data) has no bulk form: fast mode
    judges it unit by unit from its recipe, so the runs stay in fast mode and finish."""
    from tests.simulation.conftest import EXAMPLES

    summary = simulate_runs(EXAMPLES / "oa_custom_gate" / "scenario.toml", runs=2)
    assert summary.mode == "fast"
    assert [b.batch for b in summary.batches] == [1, 2]
    assert summary.batches[0].completed_p50 is not None


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"runs": 0}, "simulation.runs_count"),
        ({"runs": True}, "simulation.runs_count"),
        ({"runs": 10_001}, "simulation.runs_count"),
        ({"seed": -1}, "validation.field"),
        ({"seed": 2**63 - 2, "runs": 3}, "simulation.runs_seed_overflow"),
        ({"mode": "quick"}, "validation.one_of"),
        ({"shards": 0}, "validation.field"),
        ({"progress": "yes"}, "validation.field"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs: dict[str, object], code: str) -> None:
    """Each bad argument is a ValidationError with its code, before any run."""
    with pytest.raises(cf.ValidationError) as caught:
        simulate_runs(small_scenario(), **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.message("zh_CN") != caught.value.message("en")


def test_a_bad_scenario_is_refused() -> None:
    """Something that is neither a Scenario nor a path names the scenario field."""
    with pytest.raises(cf.ValidationError, match="scenario"):
        simulate_runs(42)  # type: ignore[arg-type]
