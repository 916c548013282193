"""The memory store at scale: bytes per unit and per-unit sweep CPU from 10k to 1 M units.

Each size runs in a fresh process: ``add_units`` of N units (each unit's ``add_unit`` record),
then ``start_batch(1)`` and ``advance_all()`` (every unit moves in both): three audit records
per unit. It reports

* bytes per unit: the process's resident set after the sweeps less before ``add_units``,
  divided by N (``--tracemalloc`` adds the bytes tracemalloc counts, slower);
* per-unit sweep CPU: process CPU seconds of the two sweeps divided by 2 N, in µs;
* the share of that CPU spent in the cyclic garbage collector (``gc.callbacks``).

Sizes run in turn, ``--repeats`` rounds, rows alternated (10k, 100k, [1M], 10k, …); the
figures are medians over the rounds. "flat" is each size's per-unit sweep CPU divided by
the smallest size's.

Targets (issue 18, point 5): ≤ 2 KB per unit at 1 M units; per-unit sweep cost flat within
± 20 % from 10k to 1 M units. Before the memory store kept compact rows (session 9) it took
3.2 KB per unit at 100k (6.7 KB once the trail had been read: read records were kept), and the
garbage collector 74 % of a 100k-unit sweep; benchmarks/README.md has the figures.

Run ``python benchmarks/memory_store.py`` (10k and 100k, 3 rounds) or
``python benchmarks/memory_store.py --million`` (adds 1 M units: about 2 GB and a few minutes).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

from sweep_memory import workflow  # the same no-gate flow (run from benchmarks/)

import campaignflow as cf

DAY = date(2005, 3, 1)
TARGET_BYTES = 2048
TARGET_FLAT = 0.20


def _rss() -> int:
    """This process's resident set now, in bytes (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def run(units: int, *, traced: bool = False, verify: bool = False) -> dict[str, Any]:
    """In this process: build ``units`` units, sweep twice; the figures."""
    gc_cpu = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_cpu[1] = time.process_time()
        else:
            gc_cpu[0] += time.process_time() - gc_cpu[1]

    camp = cf.Campaign(workflow(), store="memory://", clock=cf.FixedClock(DAY))
    gc.collect()
    if traced:
        tracemalloc.start()
    before = _rss()
    step = 50_000
    for first in range(0, units, step):
        camp.add_units(
            cf.Unit(id=f"u{i:07d}", name=f"unit {i}", kind="organ", batch=1)
            for i in range(first, min(first + step, units))
        )
    gc.callbacks.append(on_gc)
    start = time.process_time()
    started = camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    advanced = camp.advance_all()
    cpu = time.process_time() - start
    gc.callbacks.remove(on_gc)
    if verify:  # reads every record of the trail (a store that kept what it read grows)
        assert camp.verify_audit().ok
    after = _rss()
    traced_bytes = tracemalloc.get_traced_memory()[0] if traced else None
    tracemalloc.stop()
    assert started.summary.advanced == advanced.summary.advanced == units
    assert camp.audit_checkpoint().seq == 3 * units
    result = {
        "units": units,
        "bytes_per_unit": round((after - before) / units),
        "traced_bytes_per_unit": None if traced_bytes is None else round(traced_bytes / units),
        "sweep_us_per_unit": round(cpu / (2 * units) * 1e6, 2),
        "gc_share": round(gc_cpu[0] / cpu, 3) if cpu else 0.0,
    }
    camp.close()
    return result


def _in_child(units: int, traced: bool, verify: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(units)]
    if traced:
        command.append("--tracemalloc")
    if verify:
        command.append("--verify")
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout)
    return figures


def measure(
    sizes: list[int], repeats: int, traced: bool = False, verify: bool = False
) -> list[dict[str, Any]]:
    """Each size in a fresh process, ``repeats`` rounds alternated; medians per size."""
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for round_ in range(repeats):
        for size in sizes:
            print(f"round {round_ + 1}/{repeats}: {size:,} units", file=sys.stderr)
            runs[size].append(_in_child(size, traced, verify))
    rows = []
    for size in sizes:
        kept = runs[size]
        row: dict[str, Any] = {"units": size}
        for name in ("bytes_per_unit", "sweep_us_per_unit", "gc_share"):
            row[name] = statistics.median(r[name] for r in kept)
        if traced:
            row["traced_bytes_per_unit"] = statistics.median(
                r["traced_bytes_per_unit"] for r in kept
            )
        rows.append(row)
    base = rows[0]["sweep_us_per_unit"]
    for row in rows:
        row["flat"] = round(row["sweep_us_per_unit"] / base, 3)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="add the 1,000,000-unit row")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also count bytes with tracemalloc (slow)"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="read the whole trail (verify_audit) before measuring the bytes",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run(args.child, traced=args.tracemalloc, verify=args.verify)))
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    sizes = [10_000, 100_000] + ([1_000_000] if args.million else [])
    rows = measure(sizes, args.repeats, args.tracemalloc, args.verify)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    read = ", the trail read once (verify_audit)" if args.verify else ""
    print(
        f"memory store, 3 audit records per unit{read}, medians of {args.repeats} alternated rounds"
    )
    print(f"{'units':>10} {'bytes/unit':>11} {'sweep us/unit':>14} {'GC share':>9} {'flat':>6}")
    for row in rows:
        print(
            f"{row['units']:>10,} {row['bytes_per_unit']:>11,} "
            f"{row['sweep_us_per_unit']:>14.2f} {row['gc_share']:>9.1%} {row['flat']:>6.2f}"
        )
        if "traced_bytes_per_unit" in row:
            print(f"{'':>10} {row['traced_bytes_per_unit']:>11,} (tracemalloc)")
    print(
        f"targets: <= {TARGET_BYTES:,} bytes/unit at 1,000,000 units; "
        f"flat within +/-{TARGET_FLAT:.0%} from 10,000 to 1,000,000"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
