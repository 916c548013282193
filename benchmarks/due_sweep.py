"""``advance_all`` over due units only (issue 18, point 2): 1 % due against a sweep where all move.

Rows (SQLite, ``synchronous=NORMAL``, CPU seconds of the sweep, rows alternated, medians):

* ``all move``      ``advance_all`` over N fresh units whose open gate passes: every unit is
                    read, judged, moved and sealed.
* ``1 % due``       ``advance_all`` over N units held by a fact gate (``min_study_hours``,
                    which waits for study sessions) after one sweep judged them all, and
                    1 % of them given a study session since: the sweep reads the 1 % by the
                    due index and moves them; the other 99 % are never read.
* ``1 % judge-all`` the same campaign judged unit by unit as before (``judge_all``): every
                    unit read and judged, 1 % moved. For the before/after.

``ratio`` = ``1 % due`` / ``all move``, the median of the per-pair ratios (issue target: <= 3 %
at 1 M units). Run: ``python benchmarks/due_sweep.py [--units N] [--repeats R] [--json]``.
``--all-move-only`` prints the all-move sweep's CPU seconds alone (it runs on releases without
due units too: to compare a branch's sweep cost with main's, alternate two PYTHONPATHs).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import campaignflow as cf
from campaignflow.store import SQLiteStore

DAY = date(2005, 3, 1)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})


def _workflow(gate: cf.GuardSpec) -> cf.Workflow:
    return cf.Workflow(
        name="due_bench",
        stages=[cf.Stage(id="work"), cf.Stage(id="done", kind="final")],
        transitions=[cf.Transition(source="work", dest="done", guards=[gate])],
    )


OPEN = _workflow(cf.use("min_days_in_stage", days=0))
STUDY = _workflow(cf.use("min_study_hours", hours=1))


def _campaign(path: Path, workflow: cf.Workflow, n: int = 0) -> cf.Campaign:
    store = SQLiteStore(path, campaign_id="bench", synchronous="NORMAL")
    camp = cf.Campaign(workflow, store=store, clock=cf.FixedClock(DAY), campaign_id="bench")
    if n:
        camp.add_units(
            cf.Unit(id=f"u{i:07d}", name="支部", kind="village", batch=1) for i in range(n)
        )
    return camp


def _cpu(sweep: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.process_time()
    result = sweep()
    return time.process_time() - start, result


def all_move(path: Path, n: int) -> float:
    """CPU seconds of advance_all moving every one of n fresh units."""
    _campaign(path, OPEN, n).store.close()  # reopened: the sweep starts from a settled file
    camp = _campaign(path, OPEN)
    seconds, outcomes = _cpu(lambda: camp.advance_all(actor=CLERK))
    assert outcomes.summary.advanced == n
    camp.store.close()
    return seconds


def one_percent(path: Path, n: int, *, judge_all: bool) -> float:
    """CPU seconds of advance_all when 1 % of n held units got the fact they waited for."""
    from campaignflow.campaign import _sweeps

    camp = _campaign(path, STUDY, n)
    camp.advance_all(actor=CLERK)  # judges every unit once: each now waits for a fact
    for i in range(0, n, 100):
        camp.record(f"u{i:07d}", cf.StudySession(hours=2), actor=CLERK)
    camp.store.close()
    camp = _campaign(path, STUDY)
    seconds, outcomes = _cpu(
        lambda: _sweeps.advance_all(
            camp._core, batch=None, actor=CLERK, trigger="advance", judge_all=judge_all
        )
    )
    assert outcomes.summary.advanced == len(range(0, n, 100))
    camp.store.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000, help="units (default 100,000)")
    parser.add_argument("--repeats", type=int, default=3, help="pairs of rows (default 3)")
    parser.add_argument("--all-move-only", action="store_true", help="the all-move row alone")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    n = args.units
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**9))

        def fresh() -> Path:
            return Path(tmp) / f"due-{next(counter)}.db"

        if args.all_move_only:
            print(json.dumps([all_move(fresh(), n) for _ in range(args.repeats)]))
            return 0
        rows: list[tuple[float, float, float]] = []
        for _ in range(args.repeats):  # alternated: a noisy machine slows a pair alike
            rows.append(
                (
                    all_move(fresh(), n),
                    one_percent(fresh(), n, judge_all=False),
                    one_percent(fresh(), n, judge_all=True),
                )
            )
    result = {
        "units": n,
        "all_move_cpu_s": statistics.median(r[0] for r in rows),
        "due_cpu_s": statistics.median(r[1] for r in rows),
        "judge_all_cpu_s": statistics.median(r[2] for r in rows),
        "due_ratio": statistics.median(r[1] / r[0] for r in rows),
        "judge_all_ratio": statistics.median(r[2] / r[0] for r in rows),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"advance_all on SQLite, {n:,} units, 1 % due; CPU s, median of {args.repeats} pairs")
    print(f"{'all move':<16}{result['all_move_cpu_s']:>10.3f}")
    print(f"{'1 % due':<16}{result['due_cpu_s']:>10.3f}{result['due_ratio']:>10.2%}")
    print(
        f"{'1 % judge-all':<16}{result['judge_all_cpu_s']:>10.3f}{result['judge_all_ratio']:>10.2%}"
    )
    print("\nratio = the row / all move, per pair (target for 1 % due: <= 3 % at 1 M units).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
