"""What keeping work items in the command's transaction costs: CPU time against another tree.

Each workload is the timed part of a row of ``advance_throughput.py`` (memory: ``advance``
per unit, ``advance_all``) or ``durable_advance.py`` (SQLite: single advances, one sweep),
run in a fresh process on a tree (``--base``, e.g. a checkout of main) and on this one,
alternately, ``--pairs`` times; the row is the median of the per-pair CPU-time ratios.
This tree runs in one of three modes:

* ``off``: no inbox was ever read, so commands keep no items (they read the mark only);
* ``on``: an inbox was read first, so every command keeps the items it changes and
  audits each that appears or goes;
* ``on_read``: as ``on``, but the campaign is opened with ``work_items="on_read"``.

Run: ``python benchmarks/items_cost.py --base /path/to/main [--pairs 5]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKLOADS = {"mem_advance": 1000, "mem_sweep": 2000, "sql_single": 1000, "sql_sweep": 5000}


def _cpu(call: Any) -> float:
    gc.collect()
    start = time.process_time()
    call()
    return time.process_time() - start


def run_one(work: str, mode: str, units: int) -> float:
    """CPU seconds of the workload's timed part, in this process (its tree on sys.path)."""
    import campaignflow as cf

    if mode != "off":
        opened = cf.Campaign.__init__

        def opening(self: cf.Campaign, *args: Any, **kwargs: Any) -> None:
            if mode == "on_read":
                kwargs["work_items"] = "on_read"
            opened(self, *args, **kwargs)
            self.inbox(cf.Actor(id="x", roles={"supervision_group"}))  # the store keeps items

        cf.Campaign.__init__ = opening  # type: ignore[method-assign]
    if work.startswith("mem_"):
        import advance_throughput as at

        build = at.build_cf_advance if work == "mem_advance" else at.build_cf_advance_all
        run = build(units)
        total = 0.0
        for step in range(at.STEPS):
            run.prepare(step)
            total += _cpu(lambda s=step: run.step(s))
        run.check()
        return total
    import durable_advance as da

    from campaignflow.store import SQLiteStore

    path = Path(tempfile.mkdtemp()) / "b.db"
    store = SQLiteStore(path, campaign_id="bench", synchronous="NORMAL")
    da._campaign(store, units)
    store.close()
    store = SQLiteStore(path, campaign_id="bench", synchronous="NORMAL")
    camp = da._campaign(store)

    def single() -> None:
        for i in range(units):
            camp.advance(f"u{i:06d}", actor=da.CLERK, request_id=f"r-{i}")

    def sweep() -> None:
        assert sum(o.advanced for o in camp.advance_all(actor=da.CLERK)) == units

    total = _cpu(single if work == "sql_single" else sweep)
    store.close()
    return total


def _spawn(tree: Path, work: str, mode: str, units: int) -> float:
    code = (
        f"import sys; sys.path[:0] = [{str(tree / 'src')!r}, {str(tree / 'benchmarks')!r}]; "
        f"sys.path.append({str(HERE)!r}); import items_cost; "
        f"print(items_cost.run_one({work!r}, {mode!r}, {units}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the tree to compare with")
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    here = HERE.parent
    for work, units in WORKLOADS.items():
        for mode in ("off", "on", "on_read"):
            pairs = [
                (_spawn(args.base, work, "off", units), _spawn(here, work, mode, units))
                for _ in range(args.pairs)
            ]
            ratio = statistics.median(b / a for a, b in pairs)
            print(f"{work:12} {units:6,} {mode:8} ratio {ratio:5.2f}", flush=True)


if __name__ == "__main__":
    main()
