"""Run one benchmark against two source trees, alternately, and print after ÷ before per figure.

``python benchmarks/compare_trees.py SCRIPT --before DIR --after DIR [--pairs N] -- [ARGS...]``

Each side runs its own ``DIR/benchmarks/SCRIPT --json ARGS`` with ``PYTHONPATH=DIR/src``. The
runs alternate (before, after, before, after, ...), so a slow spell of a shared machine falls on
both sides of a pair alike, and each figure is the median over the pairs of after ÷ before.

Figures are those the script reports (listed in ``FIGURES`` below), plus ``process CPU s``: the
user + system CPU time of the whole child process (setup included), from ``getrusage``. A
figure's kind says how to read its ratio: ``time`` (lower is better, the 15 % limit is a ratio
of at most 1.15) or ``rate`` (higher is better, at least 0.87); its clock says whether the
script measured it in wall-clock or CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Figure = tuple[str, float, str, str]  # name, value, kind ("time" | "rate"), clock ("wall" | "CPU")


def _advance_throughput(data: dict[str, Any]) -> Iterator[Figure]:
    for row in data["rows"]:
        if row["name"].startswith("campaignflow"):
            yield f"{row['name']} median s", row["median_s"], "time", "wall"


def _durable_advance(data: list[dict[str, Any]]) -> Iterator[Figure]:
    for row in data:
        engine = row["engine"]
        yield f"{engine} single p50 ms", row["single_p50_ms"], "time", "wall"
        yield f"{engine} advance_all units/s", row["advance_all_units_per_s"], "rate", "wall"
        yield f"{engine} advance_all ÷ floor", row["ratio_to_floor"], "rate", "wall"


def _simulate_fast(data: dict[str, Any]) -> Iterator[Figure]:
    summary = data["summary"]
    yield "fast mode s", summary["fast_seconds"], "time", "wall"
    yield "fast mode CPU s (all processes)", summary["fast_cpu_seconds"], "time", "CPU"
    for row in data["rows"][1:]:
        yield f"{row['name']} median s", row["median_s"], "time", "wall"


def _simulate_exact(data: dict[str, Any]) -> Iterator[Figure]:
    for row in data["rows"]:
        yield f"{row['name']} median s", row["median_s"], "time", "wall"
    yield "re-hash audit records s", data["sealing_s"], "time", "wall"


def _rollup(data: dict[str, Any]) -> Iterator[Figure]:
    for row in data["rows"]:
        yield f"{row['engine']} {row['query']} ms", row["ms"], "time", "wall"


FIGURES: dict[str, Callable[[Any], Iterator[Figure]]] = {
    "advance_throughput.py": _advance_throughput,
    "durable_advance.py": _durable_advance,
    "simulate_fast.py": _simulate_fast,
    "simulate_exact.py": _simulate_exact,
    "rollup.py": _rollup,
}


def run_once(tree: Path, script: str, args: list[str]) -> dict[str, Figure]:
    """One run of ``tree``'s own copy of ``script``: its figures and the process CPU time."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [sys.executable, str(tree / "benchmarks" / script), "--json", *args]
    start = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    end = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit code {child.returncode}")
    figures = {f[0]: f for f in FIGURES[script](json.loads(child.stdout))}
    cpu = end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime
    figures["process CPU s"] = ("process CPU s", cpu, "time", "CPU")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", choices=sorted(FIGURES), help="a script of benchmarks/")
    parser.add_argument("--before", type=Path, required=True, help="the tree measured first")
    parser.add_argument("--after", type=Path, required=True, help="the tree compared with it")
    parser.add_argument("--pairs", type=int, default=5, help="before/after pairs (default 5)")
    parser.add_argument("--json", action="store_true", help="print every run as JSON too")
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1 :]  # after --: the script's options
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    runs: dict[str, list[dict[str, Figure]]] = {"before": [], "after": []}
    for pair in range(1, args.pairs + 1):
        for side, tree in (("before", args.before), ("after", args.after)):
            print(f"  pair {pair}/{args.pairs}: {side} ...", file=sys.stderr, flush=True)
            runs[side].append(run_once(tree.resolve(), args.script, extra))
    print(f"{args.script} {' '.join(extra)}: median of {args.pairs} per-pair after ÷ before")
    head = f"{'figure':<44} {'clock':<5} {'before':>11} {'after':>11} {'after÷before':>13}  range"
    print(head)
    print("-" * len(head))
    for name, (_, _, kind, clock) in runs["after"][0].items():
        before = [run[name][1] for run in runs["before"]]
        after = [run[name][1] for run in runs["after"]]
        ratios = [a / b for a, b in zip(after, before, strict=True) if b]
        ratio = statistics.median(ratios)
        over = ratio > 1.15 if kind == "time" else ratio < 0.87
        print(
            f"{name:<44} {clock:<5} {statistics.median(before):>11.4g} "
            f"{statistics.median(after):>11.4g} {ratio:>12.3f}{'!' if over else ' '}  "
            f"{min(ratios):.2f}–{max(ratios):.2f}"
        )
    print(
        "\ntime figures: lower is better (limit 1.15); rate figures (/s, ÷ floor): higher is "
        "better (limit 0.87); '!' marks a figure past its limit.\nwall = the script's own "
        "wall-clock figure; CPU = CPU time (process CPU s: the whole child, setup included)."
    )
    if args.json:
        print(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
