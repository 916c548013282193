"""Fast-mode simulation at nation scale: wall time, units·days per second, peak memory.

The issue's target: ``examples/nation_2005.toml`` (3.5 million units, the full campaign) in
at most 60 s and 4 GB peak RSS on a 2-core machine. Rows:

* ``fast mode``     ``simulate_fast(scenario, shards=S)`` on the whole roster.
* ``exact mode``    ``simulate_exact`` (in memory) on a sample of the same scenario (the same
                    kinds in the same proportions, ``--exact-sample`` units), for the ratio of
                    the two modes' throughput in units·days per second.

units·days = units × days simulated (start to the last simulated day, inclusive). Peak RSS is
``resource.getrusage``'s ``ru_maxrss`` of this process and, with shards, of the largest worker
(``RUSAGE_CHILDREN``); the two are not added (the workers run side by side, so the true peak
is at most their sum). Each row runs ``--repeats`` times; the median is reported.

Run ``python benchmarks/simulate_fast.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import campaignflow as cf
from campaignflow.simulation import Scenario, SimulationResult, load_scenario
from campaignflow.simulation._fast import BLOCK, simulate_fast
from campaignflow.simulation.exact import simulate_exact

ROOT = Path(__file__).resolve().parents[1]
NATION = ROOT / "examples" / "nation_2005.toml"
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 4096.0


@dataclass
class Row:
    """One measured row: the median of its runs."""

    name: str
    units: int
    days: int
    times_s: list[float]
    cpu_s: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def unit_days_per_s(self) -> float:
        return self.units * self.days / self.median_s


def scaled(scenario: Scenario, units: int | None) -> Scenario:
    """``scenario`` with its roster counts scaled to about ``units`` units (kinds kept)."""
    if units is None:
        return scenario
    data = scenario.to_dict()
    counts: dict[str, int] = data["roster"]["counts"]
    total = sum(counts.values())
    data["roster"]["counts"] = {k: max(1, round(v * units / total)) for k, v in counts.items()}
    return Scenario.from_dict(data, source=f"{scenario.source} (scaled to ~{units})")


def _days(result: SimulationResult) -> int:
    return (result.end - result.start).days + 1


def _cpu() -> float:
    """CPU seconds of this process and of its finished workers (user + system)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb(who: int) -> float:
    # Linux reports kilobytes (macOS bytes): this benchmark is for the CI machine.
    return resource.getrusage(who).ru_maxrss / 1024


def run_fast(scenario: Scenario, shards: int, repeats: int) -> tuple[Row, SimulationResult]:
    times: list[float] = []
    cpu: list[float] = []
    result: SimulationResult | None = None
    for _ in range(repeats):
        gc.collect()
        start, start_cpu = time.perf_counter(), _cpu()
        result = simulate_fast(scenario, shards=shards)
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - start_cpu)
    assert result is not None
    return Row("fast mode", result.units, _days(result), times, cpu, f"shards={shards}"), result


def run_exact(scenario: Scenario, repeats: int) -> tuple[Row, SimulationResult]:
    times: list[float] = []
    result: SimulationResult | None = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result, campaign = simulate_exact(scenario)
        times.append(time.perf_counter() - start)
        if not campaign.verify_audit().ok:
            raise RuntimeError("exact mode: the audit chain does not verify")
        campaign.close()
    assert result is not None
    return Row(
        "exact mode", result.units, _days(result), times, [], "in-memory store, sample"
    ), result


def _check(result: SimulationResult) -> None:
    """A row must have played the campaign: every batch has units and most finish."""
    finished = sum(b.units for b in result.batches if b.completed_on is not None)
    if result.units == 0 or not result.timeline or finished == 0:
        raise RuntimeError(f"{result.mode}: the campaign did not run ({result.batches})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=NATION, help="scenario TOML (nation)")
    parser.add_argument("--units", type=int, help="scale the roster to about this many units")
    parser.add_argument("--shards", type=int, default=2, help="fast-mode shards (default 2)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per row (default 1)")
    parser.add_argument(
        "--exact-sample", type=int, default=2000, help="units for the exact-mode row (0: skip)"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.shards < 1 or (args.units is not None and args.units < 1):
        parser.error("--repeats, --shards and --units must be at least 1")

    scenario = scaled(load_scenario(args.scenario), args.units)
    print(f"  fast mode on {scenario.unit_count():,} units ...", file=sys.stderr, flush=True)
    fast_row, fast_result = run_fast(scenario, args.shards, args.repeats)
    _check(fast_result)
    rss_self, rss_child = _peak_mb(resource.RUSAGE_SELF), _peak_mb(resource.RUSAGE_CHILDREN)
    rows = [fast_row]
    if args.exact_sample:
        sample = scaled(scenario, args.exact_sample)
        print(f"  exact mode on {sample.unit_count():,} units ...", file=sys.stderr, flush=True)
        exact_row, exact_result = run_exact(sample, args.repeats)
        _check(exact_result)
        rows.append(exact_row)

    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "campaignflow": cf.__version__,
        "numpy": version("numpy"),
        "scenario": str(args.scenario),
    }
    peak = max(rss_self, rss_child)
    summary = {
        "fast_seconds": fast_row.median_s,
        "fast_cpu_seconds": statistics.median(fast_row.cpu_s),
        "fast_unit_days_per_s": fast_row.unit_days_per_s,
        "peak_rss_mb_self": rss_self,
        "peak_rss_mb_largest_worker": rss_child,
        "target_seconds": TARGET_SECONDS,
        "target_rss_mb": TARGET_RSS_MB,
        "seconds_vs_target": fast_row.median_s / TARGET_SECONDS,
        "rss_vs_target": peak / TARGET_RSS_MB,
        "fast_over_exact_throughput": (
            fast_row.unit_days_per_s / rows[1].unit_days_per_s if len(rows) > 1 else None
        ),
    }
    if args.json:
        print(
            json.dumps(
                {
                    "environment": env,
                    "rows": [
                        {**asdict(r), "median_s": r.median_s, "unit_days_per_s": r.unit_days_per_s}
                        for r in rows
                    ],
                    "summary": summary,
                },
                indent=2,
            )
        )
        return 0
    print(
        f"fast-mode simulation: {scenario.name} ({fast_row.units:,} units, {fast_row.days} days), "
        f"median of {args.repeats} run(s)"
    )
    print(
        f"Python {env['python']} ({env['machine']}, {env['cpus']} CPUs); campaignflow "
        f"{env['campaignflow']}, numpy {env['numpy']}"
    )
    print()
    header = f"{'row':<12} {'units':>10} {'days':>5} {'median s':>9} {'units*days/s':>14}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:<12} {r.units:>10,} {r.days:>5} {r.median_s:>9.2f} "
            f"{r.unit_days_per_s:>14,.0f}  {r.note}"
        )
    print()
    # Shards run side by side only as far as there are blocks of units and cores for them.
    parallel = max(1, min(args.shards, env["cpus"] or 1, -(-fast_row.units // BLOCK)))
    print(
        f"fast mode: {fast_row.median_s:.1f} s wall = {summary['seconds_vs_target']:.2f}x the "
        f"{TARGET_SECONDS:.0f} s target; {summary['fast_cpu_seconds']:.1f} CPU-seconds over all "
        f"processes (on {env['cpus']} otherwise idle cores: about "
        f"{summary['fast_cpu_seconds'] / parallel:.0f} s wall)"
    )
    print(
        f"peak RSS: {rss_self:,.0f} MB this process, {rss_child:,.0f} MB largest worker "
        f"= {summary['rss_vs_target']:.2f}x the {TARGET_RSS_MB:,.0f} MB target"
    )
    if summary["fast_over_exact_throughput"] is not None:
        print(
            f"fast / exact throughput (units*days/s): {summary['fast_over_exact_throughput']:,.0f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
