"""Peak RSS of a big sweep on SQLite: ``start_batch`` then ``advance_all`` of N units.

The campaign file is built first (N units added, untimed, in its own process), then a fresh
process opens it, runs ``start_batch(1)`` and ``advance_all()`` (every unit moves in both),
reads the outcomes' summaries, and reports its RSS before the sweeps and its peak
(``ru_maxrss``) after: the peak is what the sweeps cost on top of an open campaign.

Target (issue 18): peak RSS of a 1,000,000-unit ``start_batch`` + ``advance_all`` on SQLite
≤ 200 MB (it was 957 MB when a sweep returned a list of every outcome with its decision).

Run ``python benchmarks/sweep_memory.py --units 1000000`` (the default is 100,000; CI's slow
test runs 20,000 through :func:`measure`). ``--json`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import campaignflow as cf

TARGET_MB = 200.0
DAY = date(2005, 3, 1)


def workflow() -> cf.Workflow:
    """Waiting -> work -> done, no gates: every unit moves in both sweeps."""
    return cf.Workflow(
        name="sweep_memory",
        stages=[
            cf.Stage(id="pending", kind="waiting"),
            cf.Stage(id="work"),
            cf.Stage(id="done", kind="final"),
        ],
        transitions=[
            cf.Transition(source=("pending",), dest="work", trigger="start"),
            cf.Transition(source=("work",), dest="done"),
        ],
    )


def build(path: Path, units: int) -> float:
    """Add ``units`` units to a new campaign file at ``path``; seconds taken."""
    start = time.perf_counter()
    camp = cf.Campaign(workflow(), store=f"sqlite:///{path}", clock=cf.FixedClock(DAY))
    step = 50_000
    for first in range(0, units, step):
        camp.add_units(
            cf.Unit(id=f"u{i:07d}", name=f"unit {i}", kind="organ", batch=1)
            for i in range(first, min(first + step, units))
        )
    camp.close()
    return time.perf_counter() - start


def _rss_mb() -> float:
    """This process's resident set now, in MB (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def sweep(path: Path) -> dict[str, Any]:
    """In this process: open the campaign, sweep twice, report RSS before and the peak."""
    camp = cf.Campaign(workflow(), store=f"sqlite:///{path}", clock=cf.FixedClock(DAY))
    before = _rss_mb()
    start = time.process_time()
    started = camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    advanced = camp.advance_all()
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KB on Linux
    result = {
        "started": started.summary.advanced,
        "advanced": advanced.summary.advanced,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "sweep_cpu_s": round(cpu, 2),
    }
    camp.close()
    return result


def measure(units: int) -> dict[str, Any]:
    """Build a campaign of ``units`` units, then sweep it in a fresh process; the figures."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sweep.db"
        build_s = build(path, units)
        out = subprocess.run(
            [sys.executable, __file__, "--sweep-only", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures: dict[str, Any] = json.loads(out.stdout)
    return {"units": units, "build_s": round(build_s, 1), **figures, "target_mb": TARGET_MB}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000, help="units (default 100,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sweep-only", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sweep_only:
        print(json.dumps(sweep(Path(args.sweep_only))))
        return 0
    if args.units < 1:
        parser.error("--units must be at least 1")
    figures = measure(args.units)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"start_batch + advance_all of {figures['units']:,} units on SQLite "
        f"(built in {figures['build_s']} s, untimed)"
    )
    print(f"  moved: {figures['started']:,} started, {figures['advanced']:,} advanced")
    print(f"  RSS before the sweeps: {figures['rss_before_mb']:.1f} MB")
    print(
        f"  peak RSS:              {figures['peak_rss_mb']:.1f} MB "
        f"(target <= {TARGET_MB:.0f} MB at 1,000,000 units)"
    )
    print(f"  sweep CPU:             {figures['sweep_cpu_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
