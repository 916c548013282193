"""CPU time of ``import campaignflow`` against ``import transitions``, in fresh interpreters.

Each row runs ``python -c CODE`` in a new process, rows alternated, ``--repeats`` times
(default 7), and takes the child's CPU time (user + system, from ``RUSAGE_CHILDREN``). The
interpreter's own start (``python -c pass``) is a row too, and each figure is also given
without it: the import's own cost. Rows:

* ``python -c pass``                 the interpreter alone
* ``import transitions``             the state-machine library campaignflow builds on
* ``import campaignflow``            the package: its words layer; the rest loads on first use
* ``first use``                      ``cf.Campaign`` and a preset: what a host's first request pays

Target (issue 18): ``import campaignflow`` ≤ 120 ms CPU (it was 250 ms, transitions 24 ms).
``--importtime`` also prints the ten slowest modules of ``python -X importtime``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from typing import Any

TARGET_MS = 120.0

ROWS: tuple[tuple[str, str], ...] = (
    ("python -c pass", "pass"),
    ("import transitions", "import transitions"),
    ("import campaignflow", "import campaignflow"),
    (
        "first use",
        "import campaignflow as cf; cf.Campaign; cf.presets.district_2005()",
    ),
)


def cpu_ms(code: str) -> float:
    """CPU milliseconds (user + system) of ``python -c code`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used * 1000


def measure(repeats: int) -> dict[str, Any]:
    """Every row ``repeats`` times, alternated; medians, and medians less the bare start."""
    times: dict[str, list[float]] = {name: [] for name, _ in ROWS}
    for _ in range(repeats):
        for name, code in ROWS:
            times[name].append(cpu_ms(code))
    bare = times["python -c pass"]
    rows = {}
    for name, _ in ROWS:
        own = [t - b for t, b in zip(times[name], bare, strict=True)]
        rows[name] = {
            "median_ms": round(statistics.median(times[name]), 1),
            "own_median_ms": round(statistics.median(own), 1),
            "runs_ms": [round(t, 1) for t in times[name]],
        }
    return {"repeats": repeats, "target_ms": TARGET_MS, "rows": rows}


def importtime(top: int = 10) -> list[tuple[int, str]]:
    """The ``top`` modules by cumulative microseconds under ``python -X importtime``."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import campaignflow"],
        check=True,
        capture_output=True,
        text=True,
    )
    found = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            found.append((int(parts[1]), parts[2].rstrip()))
    return sorted(found, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per row (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--importtime", action="store_true", help="also list the slowest modules")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    figures = measure(args.repeats)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"CPU of python -c CODE, fresh process, median of {args.repeats} (rows alternated)")
    print(f"{'row':<22} {'process ms':>11} {'less start':>11}")
    for name, row in figures["rows"].items():
        print(f"{name:<22} {row['median_ms']:>11.1f} {row['own_median_ms']:>11.1f}")
    rows = figures["rows"]
    ours = rows["import campaignflow"]
    theirs = rows["import transitions"]
    print()
    print(
        f"import campaignflow: {ours['median_ms']:.0f} ms CPU for the process, "
        f"{ours['own_median_ms']:.0f} ms for the import (target <= {TARGET_MS:.0f} ms); "
        f"{ours['own_median_ms'] / max(theirs['own_median_ms'], 0.1):.1f}x import transitions"
    )
    print(
        f"first use (cf.Campaign + a preset): {rows['first use']['own_median_ms']:.0f} ms "
        "beyond the interpreter's start"
    )
    if args.importtime:
        print()
        print("slowest modules under python -X importtime (cumulative us):")
        for micros, name in importtime():
            print(f"  {micros:>8} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
