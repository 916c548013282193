"""Fast mode plays the same campaign as exact mode: identical where the model is deterministic,
the same distribution of outcomes where it is random, independent of the shard count, and
judging a guard without a bulk form by its own function, and falling back to exact mode
(with a warning naming the reason) for a workflow shape it does not model.

``CF_FAST_UNITS`` (default 360) sizes the distribution comparison; CI may raise it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.simulation import Scenario, SimulationResult, load_scenario
from campaignflow.simulation.exact import simulate_exact

fast = pytest.importorskip("campaignflow.simulation._fast")
bulk = pytest.importorskip("campaignflow.simulation._fast.bulk")
fast_roster = pytest.importorskip("campaignflow.simulation._fast.roster")

DISTRICT = Path(__file__).resolve().parents[2] / "examples" / "district_2005.toml"
UNITS = int(os.environ.get("CF_FAST_UNITS", "360"))


def scenario(
    *,
    counts: dict[str, int] | None = None,
    late: float = 0.0,
    mobile: float = 0.0,
    failure: float = 0.0,
    retired: float = 0.0,
    fixed: bool = True,
    seed: int = 7,
    workflow: str | None = None,
) -> Scenario:
    """A district-shaped scenario; ``fixed`` makes every draw but the named shares constant."""
    data = load_scenario(DISTRICT).to_dict()
    data["seed"] = seed
    # One closed enterprise: which community it joins is random, what happens is not.
    data["roster"]["counts"] = counts or {
        "organ": 20,
        "community": 10,
        "closed_enterprise": 1,
        "village": 10,
    }
    data["roster"].pop("members_by_kind", None)
    b = data["behaviour"]
    b["late_start"] = {"share": late, "batches": [2]}
    b["mobile_members"] = {"share": mobile, "makeup_delay_days": [10, 10] if fixed else [7, 30]}
    # 25 members, all retired or frail at share 1: study counts ceil(25 / 4) = 7 days late.
    b["retired_members"] = {"share": retired, "home_visits_per_day": 4}
    b["survey"].update({"failure_rate": failure, "retry_failure_rate": 0.0 if fixed else 0.1})
    if fixed:
        data["roster"]["members"] = {"distribution": "fixed", "mean": 25, "min": 3, "max": 200}
        b["study"] = {"hours_per_week": [8.0, 8.0], "guided_share": 0.6}
        days = {"preparation": 10, "study_mobilization": 33, "analysis_review": 30}
        days |= {"rectification": 36, "closing": 20}
        b["stage_days"] = {k: [v, v] for k, v in days.items()}
        b["approval_delay_days"] = [2, 2]
        b["remedial_days"] = [20, 20]
        b["reassess_days"] = [7, 7]
        b["survey"]["troubled_dissatisfied"] = [0.5, 0.5]
        levels = b["survey"]["levels"]
        levels["satisfied"] += levels["dissatisfied"]
        levels["dissatisfied"] = 0.0
    if workflow is not None:
        data["workflow"] = workflow
    return Scenario.from_dict(data, source="test_fast", base_dir=DISTRICT.parent)


def _comparable(result: SimulationResult) -> dict[str, Any]:
    data = result.to_dict()
    data.pop("mode")
    data.pop("audit_head")
    return data


@pytest.mark.parametrize(
    ("late", "mobile", "failure", "retired"),
    [
        (0.0, 0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0, 0.0),
        (0.0, 1.0, 1.0, 0.0),
        (1.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 1.0),
        (1.0, 1.0, 1.0, 1.0),
    ],
)
def test_deterministic_model_gives_identical_results_in_both_modes(
    late: float, mobile: float, failure: float, retired: float
) -> None:
    """Constant draws (every assessment failing or none): fast == exact, record for record."""
    sc = scenario(late=late, mobile=mobile, failure=failure, retired=retired)
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc)
    assert result.mode == "fast"
    assert result.audit_head is None
    assert _comparable(result) == _comparable(exact)
    if failure:
        assert result.remedial.units == result.units  # every unit went to make-up
    if late:
        assert any(b.deferred_out for b in result.batches)
    if retired:
        # Home visits hold the study gate 7 days longer: the campaign ends later.
        without, campaign = simulate_exact(scenario(late=late, mobile=mobile, failure=failure))
        campaign.close()
        assert result.end > without.end
        assert (
            result.time_in_stage["study_mobilization"].median_days
            > without.time_in_stage["study_mobilization"].median_days
        )


def _completion_days(result: SimulationResult) -> list[int]:
    """Each accepted unit's completion day, read from the timeline's accepted counts."""
    days: list[int] = []
    last: dict[int, int] = {}
    for point in result.timeline:
        now = point.counts["accepted"]
        days.extend([point.day.toordinal()] * (now - last.get(point.batch, 0)))
        last[point.batch] = now
    return days


def _ks(a: list[int], b: list[int]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic."""
    a, b = sorted(a), sorted(b)
    values = sorted(set(a) | set(b))
    i = j = 0
    worst = 0.0
    for v in values:
        while i < len(a) and a[i] <= v:
            i += 1
        while j < len(b) and b[j] <= v:
            j += 1
        worst = max(worst, abs(i / len(a) - j / len(b)))
    return worst


def _chi2_critical(df: int, z: float = 3.09) -> float:
    """Upper critical value of chi-square at the normal quantile ``z`` (Wilson-Hilferty)."""
    h = 2 / (9 * df)
    return df * (1 - h + z * math.sqrt(h)) ** 3


@pytest.mark.sized(default=360)
def test_fast_and_exact_agree_in_distribution(size: int | None) -> None:
    """Random behaviour: completion days, make-up by stage and on-time shares agree within
    bounds a correct simulator fails with probability about 0.001 each."""
    per = max(4, (size or UNITS) // 6)
    counts = {"organ": 2 * per, "community": 2 * per, "closed_enterprise": 3, "village": 2 * per}
    sc = scenario(counts=counts, late=0.1, mobile=0.05, failure=0.2, retired=0.15, fixed=False)
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc, seed=sc.seed + 1)
    n = result.units
    assert n == exact.units
    # Completion days: two-sample KS at alpha = 0.001 (ties make it conservative).
    a, b = _completion_days(exact), _completion_days(result)
    assert len(a) == len(b) == n  # every unit finishes in both modes
    c_alpha = math.sqrt(-0.5 * math.log(0.001 / 2))
    assert _ks(a, b) <= c_alpha * math.sqrt((len(a) + len(b)) / (len(a) * len(b)))
    # Make-up rounds by stage: a 2 x k contingency chi-square.
    stages = sorted(set(exact.remedial.by_stage) | set(result.remedial.by_stage))
    rows = [[r.remedial.by_stage.get(s, 0) for s in stages] for r in (exact, result)]
    total = sum(map(sum, rows))
    chi2 = 0.0
    for row in rows:
        for k in range(len(stages)):
            expected = sum(row) * (rows[0][k] + rows[1][k]) / total
            chi2 += (row[k] - expected) ** 2 / expected
    assert chi2 <= _chi2_critical(len(stages) - 1)
    # Units sent to make-up at least once: two-proportion z-test.
    p1, p2 = exact.remedial.units / n, result.remedial.units / n
    pooled = (p1 + p2) / 2
    assert abs(p1 - p2) <= 3.29 * math.sqrt(2 * pooled * (1 - pooled) / n)
    # Both modes find the same blocking reasons at the top (codes, not counts).
    assert {r.code for r in exact.blocking[:3]} == {r.code for r in result.blocking[:3]}


@pytest.fixture
def small_blocks() -> Iterator[None]:
    """Blocks of 64 units, so a few hundred units make several random-stream blocks."""
    old = fast_roster.BLOCK
    fast_roster.BLOCK = 64
    try:
        yield
    finally:
        fast_roster.BLOCK = old


@pytest.mark.slow
def test_result_does_not_depend_on_the_shard_count(small_blocks: None) -> None:
    """shards=1 and 3 give byte-identical JSON (random streams are per block, not shard)."""
    counts = {"organ": 90, "community": 70, "closed_enterprise": 4, "village": 80}
    sc = scenario(counts=counts, late=0.1, mobile=0.05, failure=0.2, fixed=False)
    texts = {shards: fast.simulate_fast(sc, shards=shards).to_json() for shards in (1, 3)}
    assert texts[1] == texts[3]
    # And a different seed does change it: the streams are really drawn from.
    assert fast.simulate_fast(sc, seed=sc.seed + 1).to_json() != texts[1]


@pytest.mark.slow
def test_progress_is_reported_once_per_day_sharded_or_not(small_blocks: None) -> None:
    """progress(day, done, total): consecutive days, done never falls, ends with every unit."""
    sc = scenario(counts={"organ": 100, "village": 100}, failure=0.1, fixed=False)
    for shards in (1, 2):
        calls: list[tuple[date, int, int]] = []

        def record(day: date, done: int, total: int, calls: list[Any] = calls) -> None:
            calls.append((day, done, total))

        result = fast.simulate_fast(sc, shards=shards, progress=record)
        days = [c[0] for c in calls]
        assert days[0] == result.start
        assert days[-1] == result.end
        assert all((b - a).days == 1 for a, b in pairwise(days))
        done = [c[1] for c in calls]
        assert done == sorted(done)
        assert done[-1] == result.units == calls[0][2]


def _custom_workflow(tmp_path: Path, guard_name: str) -> str:
    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if t["source"] == "rectification" and t["dest"] == "closing":
            t["guards"].append({"guard": guard_name, "at_least": 1})
    path = tmp_path / "flow.json"
    import json

    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_custom_guard_without_a_bulk_form_is_judged_unit_by_unit(tmp_path: Path) -> None:
    """Fast mode runs it by its own function (no fallback), as exact mode and a bulk form do."""
    name = "test_fast_members_present"

    # The gate reads the roster, not facts: its passing recipe records nothing.
    @cf.guard(
        name,
        messages={"members.ok": {"zh_CN": "有", "en": "ok"}},
        recipe=lambda params, passing: cf.Recipe() if passing else None,
    )
    def members_present(ctx: cf.GuardContext, *, at_least: int = 1) -> cf.Verdict:
        return cf.Verdict(name, ctx.unit.members >= at_least, "members.ok", {})

    sc = scenario(workflow=_custom_workflow(tmp_path, name))
    assert fast.fast_blockers(sc.load_workflow()) == ()
    result = fast.simulate_fast(sc)
    assert result.mode == "fast"
    exact, campaign = simulate_exact(sc)
    campaign.close()
    assert _comparable(result) == _comparable(exact)

    # Given a bulk form, the same workflow runs with it, with the same outcome.
    calls: list[int] = []

    def members_present_bulk(facts: Any, *, at_least: int = 1) -> Any:
        import numpy as np

        calls.append(facts.size)
        return bulk.BulkVerdict.from_passed(
            np.ones(facts.size, dtype=np.bool_), "members.ok", "members.few"
        )

    bulk.register_bulk(name, members_present_bulk, replace=True)
    again = fast.simulate_fast(sc)
    assert calls
    assert again.mode == "fast"
    assert _comparable(again) == _comparable(result)


def test_workflow_shapes_fast_mode_does_not_model_are_named() -> None:
    """A working stage re-entered through other stages is reported, not mis-simulated."""
    wf = cf.Workflow(
        name="loop",
        stages=[cf.Stage("a"), cf.Stage("b"), cf.Stage("done", kind="final")],
        transitions=[
            cf.Transition(source="a", dest="b"),
            cf.Transition(source="b", dest="a", guards=[cf.use("survey_recorded")]),
            cf.Transition(source="b", dest="done"),
        ],
    )
    assert any("re-entered" in r for r in fast.fast_blockers(wf))
    assert fast.fast_blockers(cf.presets.district_2005()) == ()
    assert fast.fast_blockers(cf.presets.no_stages_2019()) == ()


def test_bad_seed_and_shards_are_refused() -> None:
    """A negative seed or zero shards is a ValidationError naming the argument."""
    sc = scenario()
    with pytest.raises(cf.ValidationError, match="seed"):
        fast.simulate_fast(sc, seed=-1)
    with pytest.raises(cf.ValidationError, match="shards"):
        fast.simulate_fast(sc, shards=0)


PRESET_BATCHES = {
    "no_stages_2019": [("2019-05-31", "2019-08-31"), ("2019-09-01", "2020-01-31")],
    "advanced_nature_2005": [
        ("2005-01-01", "2005-06-30"),
        ("2005-07-01", "2005-12-31"),
        ("2005-11-25", "2006-06-30"),
    ],
}


@pytest.mark.parametrize("preset", sorted(PRESET_BATCHES))
def test_every_other_preset_is_identical_in_both_modes_when_deterministic(preset: str) -> None:
    """The central-rules and stage-less presets too: late starts, make-up, mobile members."""
    batches = PRESET_BATCHES[preset]
    data = load_scenario(DISTRICT).to_dict()
    kinds = [["organ"], ["community"], ["village"]]
    data["workflow"] = preset
    data["start"] = batches[0][0]
    data["batches"] = [
        {"number": i + 1, "opens": opens, "closes": closes, "kinds": kinds[i]}
        for i, (opens, closes) in enumerate(batches)
    ]
    data["roster"]["counts"] = dict(
        list({"organ": 20, "community": 10, "village": 10}.items())[: len(batches)]
    )
    data["roster"]["members"] = {"distribution": "fixed", "mean": 25, "min": 3, "max": 200}
    data["roster"].pop("members_by_kind", None)
    b = data["behaviour"]
    b["late_start"] = {"share": 1.0, "batches": [1]}
    b["study"] = {"hours_per_week": [8.0, 8.0], "guided_share": 0.6}
    stages = {s.id for s in cf.presets.load(preset).stages}
    days = {"preparation": 10, "study_mobilization": 33, "analysis_review": 30}
    days |= {"rectification": 36, "closing": 20, "in_progress": 60}
    b["stage_days"] = {k: [v, v] for k, v in days.items() if k in stages}
    b["approval_delay_days"] = [2, 2]
    b["remedial_days"] = [20, 20]
    b["reassess_days"] = [7, 7]
    b["mobile_members"] = {"share": 1.0, "makeup_delay_days": [10, 10]}
    b["retired_members"] = {"share": 1.0, "home_visits_per_day": 10}
    b["survey"].update(
        {"failure_rate": 1.0, "retry_failure_rate": 0.0, "troubled_dissatisfied": [0.6, 0.6]}
    )
    levels = b["survey"]["levels"]
    levels["satisfied"] += levels["dissatisfied"]
    levels["dissatisfied"] = 0.0
    sc = Scenario.from_dict(data, source=preset)
    exact, campaign = simulate_exact(sc)
    campaign.close()
    assert _comparable(fast.simulate_fast(sc)) == _comparable(exact)
    assert sum(b.deferred_out for b in exact.batches) == 20


def test_without_numpy_the_error_names_the_extra() -> None:
    """Importing fast mode without numpy says ``pip install 'campaignflow[sim]'``."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "try:\n"
        "    import campaignflow.simulation._fast\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "pip install 'campaignflow[sim]'" in out


READY = "test_sim_ready_from"


@pytest.fixture(scope="module")
def ready_guard() -> str:
    """A start gate that holds from a given day on, with its bulk form (both modes run it)."""
    if READY not in cf.guards.registry:
        messages = {
            "ready.yes": {"zh_CN": "可以开始", "en": "ready"},
            "ready.not_yet": {"zh_CN": "尚未到开始日期", "en": "not yet"},
        }

        @cf.guard(READY, messages=messages)
        def ready_from(ctx: cf.GuardContext, *, on: str) -> cf.Verdict:
            passed = ctx.today >= date.fromisoformat(on)
            return cf.Verdict(READY, passed, "ready.yes" if passed else "ready.not_yet", {})

        def ready_from_bulk(facts: Any, *, on: str) -> Any:
            import numpy as np

            passed = np.full(facts.size, facts.today >= date.fromisoformat(on).toordinal())
            return bulk.BulkVerdict.from_passed(passed, "ready.yes", "ready.not_yet")

        bulk.register_bulk(READY, ready_from_bulk, replace=True)
    return READY


def _gated_scenario(tmp_path: Path, on: str, defer_batches: list[int]) -> Scenario:
    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if t.get("trigger") == "start":
            t["guards"].append({"guard": READY, "on": on})
    path = tmp_path / "gated.json"
    import json

    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    sc = scenario(counts={"organ": 6, "community": 4, "village": 4}, workflow=str(path))
    raw = sc.to_dict()
    raw["behaviour"]["late_start"] = {"share": 0.0, "batches": defer_batches}
    return Scenario.from_dict(raw, source="gated", base_dir=DISTRICT.parent)


def _started_on(result: SimulationResult, batch: int) -> date | None:
    """The first day the batch's pending count fell to 0 (every unit of it started)."""
    for point in result.timeline:
        if point.batch == batch and point.counts["pending"] == 0:
            return point.day
    return None


@pytest.mark.parametrize(
    ("on", "defer_batches", "started", "deferred", "pending"),
    [
        # Fails at batch 1's opening, holds from 10 January: retried daily, started then.
        ("2005-01-10", [1, 2], {1: "2005-01-10", 2: "2005-07-01", 3: "2006-01-01"}, {}, 0),
        # Holds only after batch 1's window: deferred on its last day to batch 2 (already
        # waiting there when it opens), and started with batch 2's own units on 15 July.
        ("2005-07-15", [1, 2], {2: "2005-07-15", 3: "2006-01-01"}, {1: 6}, 0),
        # Batch 1 does not defer late units: its units stay pending, never started.
        ("2005-07-15", [2], {2: "2005-07-15", 3: "2006-01-01"}, {}, 6),
        # Never holds: deferred batch to batch, then left pending when the last batch closes.
        ("2007-01-01", [1, 2], {}, {1: 6, 2: 10}, 14),
    ],
)
def test_a_failed_start_gate_is_retried_daily_in_both_modes(
    ready_guard: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    on: str,
    defer_batches: list[int],
    started: dict[int, str],
    deferred: dict[int, int],
    pending: int,
) -> None:
    """A unit whose start gate fails when its batch opens tries again each day until the
    window closes, then is deferred (if its batch defers late units) or stays pending."""
    sc = _gated_scenario(tmp_path, on, defer_batches)
    exact, campaign = simulate_exact(sc)
    campaign.close()
    result = fast.simulate_fast(sc)
    assert result.mode == "fast"
    assert _comparable(result) == _comparable(exact)
    # Retries and deferrals in shards of 4-unit blocks: the same result.
    monkeypatch.setattr(fast_roster, "BLOCK", 4)
    assert fast.simulate_fast(sc, shards=3).to_json() == result.to_json()
    for batch, day in started.items():
        assert _started_on(exact, batch) == date.fromisoformat(day)
    assert {b.batch: b.deferred_out for b in exact.batches if b.deferred_out} == deferred
    finals = exact.final_counts()
    assert finals["pending"] == pending
    assert finals["accepted"] == exact.units - pending
    # A batch left with units never started does not complete.
    last = {p.batch: p.counts["pending"] for p in exact.timeline}
    for b in exact.batches:
        if b.units:
            assert (b.completed_on is None) == (last.get(b.batch, 0) > 0)


RECIPE_READY = "test_sim_ready_by_recipe"


def test_a_custom_start_gate_whose_recipe_would_be_needed_is_named_in_both_modes(
    tmp_path: Path,
) -> None:
    """The simulator plays no recipe on a start way: a custom gate there that has one is
    named before the run (``recipes.not_played``), in both modes, not left to hold units
    silently; a start gate without a recipe (one on the date, say) is not named."""
    if RECIPE_READY not in cf.guards.registry:

        def _recipe(params: Any, passing: bool) -> cf.Recipe:
            return cf.Recipe(facts=[cf.Milestone("roster_ready")] if passing else [])

        @cf.guard(
            RECIPE_READY,
            messages={"ready.roster": {"zh_CN": "名册已就绪", "en": "roster ready"}},
            recipe=_recipe,
        )
        def ready_by_recipe(ctx: cf.GuardContext) -> cf.Verdict:
            return cf.Verdict(RECIPE_READY, True, "ready.roster", {})

    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if t.get("trigger") == "start":
            t["guards"].append({"guard": RECIPE_READY})
    path = tmp_path / "recipe_gated.json"
    import json

    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    sc = scenario(counts={"organ": 2, "community": 1, "village": 1}, workflow=str(path))
    for run in (lambda: simulate_exact(sc)[1].close(), lambda: fast.simulate_fast(sc)):
        with pytest.warns(cf.NoRecipeWarning) as caught:
            run()
        named = [w.message for w in caught if isinstance(w.message, cf.NoRecipeWarning)]
        assert [(w.code, w.params["guard"], w.params["dest"]) for w in named] == [
            ("recipes.not_played", RECIPE_READY, "preparation")
        ]
        assert "启动或推迟转换" in named[0].message("zh_CN")
