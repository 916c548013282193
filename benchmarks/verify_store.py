"""Whole-store verification (``Campaign.verify``) at scale: time and peak memory, on SQLite.

Builds a campaign of ``--units`` units (10,000 by default) through the real commands: the
units added, every ``--facts-every``-th (2nd by default) given a milestone (a fact) and
moved on by one sweep, so the trail holds about two records per unit. Then a fresh process opens the database and runs
``Campaign.verify(checkpoints=[head])``; it reports the wall time and its own peak resident
memory (``ru_maxrss``), so building the campaign does not count.

Run: ``python benchmarks/verify_store.py [--units N] [--db PATH] [--json]``. ``--db`` keeps
the database (and reuses it when it exists: build once, measure again).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import campaignflow as cf

CLERK = cf.Actor(id="li", roles={"branch_committee"})
CHUNK = 5_000


def workflow() -> cf.Workflow:
    """work -> done once the milestone ``ready`` is filed."""
    return cf.Workflow(
        name="verify_bench",
        stages=[cf.Stage(id="work"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(
                source="work", dest="done", guards=[cf.use("milestones_done", names=["ready"])]
            )
        ],
    )


def build(path: Path, units: int, every: int = 2) -> float:
    """The campaign written to ``path`` through the commands; returns the seconds it took."""
    start = time.perf_counter()
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = cf.Campaign(workflow(), store=f"sqlite:///{path}", clock=clock)
    for first in range(0, units, CHUNK):
        camp.add_units(
            [
                cf.Unit(id=f"u{i:07d}", name=f"支部 {i}", kind="organ", batch=1)
                for i in range(first, min(first + CHUNK, units))
            ]
        )
        print(f"added {min(first + CHUNK, units):,} units", file=sys.stderr)
    clock.set(date(2005, 2, 1))
    for i in range(0, units, every):
        camp.record(f"u{i:07d}", cf.Milestone("ready"), actor=CLERK)
        if i % (25_000 * every) == 0:
            print(f"recorded {i:,}", file=sys.stderr)
    for _ in camp.advance_all(actor=CLERK):
        pass
    camp.close()
    return time.perf_counter() - start


def _peak_kb() -> int:
    """This process's peak resident memory in KiB, since it started this program.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``exec``, so a child forked from
    a big parent (the builder) would report the parent's size as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def measure(path: Path) -> dict[str, object]:
    """Run in the child: open the database, verify it whole, report time and peak memory."""
    camp = cf.Campaign(workflow(), store=f"sqlite:///{path}")
    head = camp.audit_checkpoint()
    start = time.perf_counter()
    result = camp.verify(checkpoints=[head])
    seconds = time.perf_counter() - start
    camp.close()
    peak_kb = _peak_kb()
    return {
        "ok": result.ok,
        "units": result.units,
        "states": result.states,
        "facts": result.facts,
        "records": result.chain.checked,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="keep (or reuse) the database here")
    parser.add_argument(
        "--facts-every", type=int, default=2, help="a milestone for every Nth unit (default 2)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    folder = Path(tempfile.mkdtemp())
    path = args.db or folder / "verify.db"
    built = None
    if not path.exists():
        built = round(build(path, args.units, args.facts_every), 1)
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = {"build_seconds": built, **json.loads(child.stdout)}
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"Campaign.verify of {figures['units']:,} units ({figures['records']:,} records, "
        f"{figures['facts']:,} facts): {figures['seconds']} s, peak RSS "
        f"{figures['peak_rss_mb']} MB, ok={figures['ok']}"
        + (f" (built in {built} s)" if built is not None else "")
    )


if __name__ == "__main__":
    main()
