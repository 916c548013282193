"""Roll-ups and stuck lists at province scale: indexed queries against a full scan, SQLite and PostgreSQL.

A province of ``--units`` units (200,000 by default) under 10 cities, 100 districts and one
street committee per 100 units, in the ``district_2005`` preset's stages; a third of the
started units hold a current refusal, two fifths an assessment. Rows, for each engine:

* ``progress(under=province|city|district)``: ``Campaign.progress(under=...)``, the roll-up
  over the organisation tree, median latency in ms over ``--repeats`` runs;
* ``stuck(under=..., longer_than=30, limit=50)``: one page of the stuck list, median ms;
* ``full scan``: what answering the same without the overview tables costs — read every
  unit, find those under the organisation, read their facts and judge their gates again
  (``decide``, a dry run of ``advance`` per unit, in chunks as sweeps do); median ms, timed
  once for the province (it reads every unit whichever organisation is asked about);
* ``ratio``: full scan / indexed query.

Setup writes the rows the commands would have written (units, states, facts, latest refusals,
assessments; organisations through ``Campaign.add_organisations``) in bulk with the driver, so
a province loads in seconds rather than replaying 200,000 commands; a sanity check compares
the roll-up's totals with the generated data before anything is timed.

Run: ``python benchmarks/rollup.py [--units N] [--repeats R] [--scan-repeats S] [--baseline-repeats B] [--counters-only] [--pg DSN]
[--skip-pg] [--json]`` (``--json``: the rows as JSON on stdout, progress on stderr). PostgreSQL needs a DSN (``CAMPAIGNFLOW_PG_DSN`` by default); its rows are
deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import campaignflow as cf
from campaignflow._words.records import Organisation
from campaignflow.audit import canonical_json, verdict_to_data
from campaignflow.store import PostgresStore, SQLiteStore
from campaignflow.workflow._engine import decide, workflow_ref

TODAY = date(2005, 5, 20)
TABLES = (
    "cf_counts",
    "cf_stuck_counts",
    "cf_batch_closes",
    "cf_refusals",
    "cf_facts",
    "cf_states",
    "cf_units",
    "cf_org_tree",
    "cf_orgs",
    "cf_workflows",
    "cf_audit",
    "cf_campaigns",
)
FAILURES = (
    ("min_study_hours", "study_hours.insufficient", {"actual": 32.0, "required": 40}),
    ("approved_by", "approval.missing", {"role": "supervision_group"}),
    ("min_days_in_stage", "days_in_stage.too_few", {"actual": 12, "required": 30}),
    ("satisfaction_rate_at_least", "survey.missing", {"required": 0.6}),
)


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``run`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def tree(units: int) -> tuple[list[Organisation], list[str]]:
    """The province's organisations (parents first) and each unit's street committee."""
    orgs = [Organisation("prov", "某省", "province")]
    streets: list[str] = []
    n_streets = max(1, units // 100)
    for c in range(10):
        orgs.append(Organisation(f"city-{c}", f"市{c}", "city", "prov"))
        for d in range(10):
            orgs.append(Organisation(f"dist-{c}-{d}", f"区{c}-{d}", "district", f"city-{c}"))
    for s in range(n_streets):
        district = f"dist-{s % 10}-{(s // 10) % 10}"
        orgs.append(Organisation(f"street-{s}", f"街道{s}", "branch", district))
        streets.append(f"street-{s}")
    return orgs, streets


def rows(units: int, streets: list[str], ref: str, seed: int = 7) -> Iterator[dict[str, Any]]:
    """One generated unit at a time: unit, state, fact, refusal and assessment rows."""
    wf = cf.presets.district_2005()
    working = [s.id for s in wf.stages if s.kind not in ("waiting", "final")]
    final = next(s.id for s in wf.stages if s.kind == "final")
    rng = random.Random(seed)
    for i in range(units):
        unit_id = f"u{i:07d}"
        batch = 1 + i % 3
        roll = rng.random()
        since = TODAY - timedelta(days=rng.randrange(0, 120))
        if roll < 0.1:
            stage, version, since_ = wf.initial, 0, None
        elif roll < 0.2:
            stage, version, since_ = final, 5, since
        else:
            stage, version, since_ = rng.choice(working), rng.randrange(1, 5), since
        started = since_ is not None
        yield {
            "unit": (unit_id, i + 1, f"支部{i}", "organ", batch, 30, streets[i % len(streets)]),
            "state": (
                unit_id,
                stage,
                batch,
                version,
                None if since_ is None else since_.isoformat(),
                None if since_ is None else since_.isoformat(),
                None if since_ is None else (since_ - timedelta(days=40)).isoformat(),
                int(stage.endswith("_remedial")),
                int(stage.endswith("_remedial")),
                None,
                ref,
            ),
            "fact": None
            if not started or stage == final
            else (
                unit_id,
                stage,
                1,
                version,
                i + 1,
                "study_session",
                canonical_json({"kind": "study_session", "hours": 32.0, "guided": True}),
                since.isoformat(),
                f"{since.isoformat()}T09:00:00+00:00",
                "clerk",
                None,
            ),
            "refusal": started and stage != final and rng.random() < 1 / 3,
            "failures": rng.sample(FAILURES, 2),
            "assessment": started and rng.random() < 0.4,
            "since": since_,
            "version": version,
            "stage": stage,
            "ballots": (rng.randrange(10, 30), rng.randrange(0, 10), rng.randrange(0, 8)),
        }


def load(conn: Any, mark: str, cid: str, units: int, streets: list[str], ref: str) -> Counter[str]:
    """Bulk-write the generated rows through the driver in one transaction; what was written."""
    counts: Counter[str] = Counter()

    def q(sql: str) -> str:
        return sql.replace("?", mark)

    buffers: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("u", "s", "f", "r")}
    sql = {
        "u": "INSERT INTO cf_units (campaign_id, unit_id, ordinal, name, kind, batch, members, "
        "parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "s": "INSERT INTO cf_states (campaign_id, unit_id, stage, batch, version, entered_on, "
        "stage_since, started_on, remedial, remedial_round, resume_since, workflow, parent, "
        "ordinal, refused_version, refused_seq, refused_codes, a_satisfied, a_fairly, "
        "a_basically, a_dissatisfied) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "f": "INSERT INTO cf_facts (campaign_id, unit_id, stage, n, version, seq, kind, data, "
        "on_date, at_time, actor_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "r": "INSERT INTO cf_refusals (campaign_id, unit_id, version, stage, trigger_name, "
        "target, on_date, seq, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    }

    def flush() -> None:
        cur = conn.cursor()
        for key in ("u", "s", "f", "r"):
            if buffers[key]:
                cur.executemany(q(sql[key]), buffers[key])
                buffers[key].clear()
        cur.close()

    for i, row in enumerate(rows(units, streets, ref)):
        unit_id = row["unit"][0]
        buffers["u"].append((cid, *row["unit"]))
        refused: tuple[Any, ...] = (None, None, None)
        assessed: tuple[Any, ...] = (None, None, None, None)
        counts["units"] += 1
        if row["fact"] is not None:
            buffers["f"].append((cid, *row["fact"]))
        if row["refusal"]:
            failures = [
                verdict_to_data(cf.Verdict(guard, False, code, params))
                for guard, code, params in row["failures"]
            ]
            buffers["r"].append(
                (
                    cid,
                    unit_id,
                    row["version"],
                    row["stage"],
                    "advance",
                    "next",
                    row["since"].isoformat(),
                    i + 1,
                    canonical_json(failures),
                )
            )
            refused = (row["version"], i + 1, " ".join(sorted({f["code"] for f in failures})))
            counts["stuck"] += 1
            if (TODAY - row["since"]).days > 30:
                counts["stuck_30"] += 1
        if row["assessment"]:
            sat, basic, dis = row["ballots"]
            assessed = (sat, None, basic, dis)
            counts["assessed"] += 1
        buffers["s"].append((cid, *row["state"], row["unit"][-1], i + 1, *refused, *assessed))
        if len(buffers["u"]) >= 5000:
            flush()
    flush()
    return counts


def full_scan(camp: cf.Campaign, parents: dict[str, str | None], under: str) -> tuple[int, int]:
    """Units under ``under`` and how many cannot move, by reading and judging every unit."""
    today = camp.clock.now().date()
    wf = camp.workflow
    total = held = 0
    with camp.store.transaction(write=False) as tx:
        batch: list[tuple[cf.Unit, cf.UnitState]] = []

        def judge() -> None:
            nonlocal total, held
            tx.prefetch([u.id for u, _ in batch])
            for unit, state in batch:
                total += 1
                if wf.stage(state.stage).kind in ("waiting", "final"):
                    continue
                facts = tx.get_facts(unit.id, state.stage)
                held += not decide(wf, unit, state, facts, today).allowed
            batch.clear()

        for unit, state in tx.iter_units():
            node = unit.parent
            while node is not None and node != under:
                node = parents.get(node)
            if node == under:
                batch.append((unit, state))
                if len(batch) >= 500:
                    judge()
        judge()
    return total, held


def bench_engine(
    name: str, camp: cf.Campaign, conn: Any, mark: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Time the rows of one engine; print them as they come and return them for ``--json``."""
    out = sys.stderr if args.json else sys.stdout
    rows: list[dict[str, Any]] = []
    orgs, streets = tree(args.units)
    t0 = time.perf_counter()
    camp.add_organisations(orgs)
    counts = load(conn, mark, camp.campaign_id, args.units, streets, workflow_ref(camp.workflow))
    conn.commit()
    # The rows were bulk-written past the store: fill the counters from them, as schema
    # migration 7 does for an existing database (and the campaign does when windows change).
    t_fill = time.perf_counter()
    with camp.store.transaction() as tx:
        tx.set_batch_closes({b.number: b.closes for b in camp.workflow.batches})
    fill_s = time.perf_counter() - t_fill
    if name == "sqlite":
        conn.execute("ANALYZE")
        conn.commit()
    else:
        # VACUUM sets the visibility map, without which PostgreSQL cannot scan an index only.
        conn.autocommit = True
        for table in (
            "cf_states",
            "cf_units",
            "cf_facts",
            "cf_refusals",
            "cf_org_tree",
            "cf_counts",
            "cf_stuck_counts",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.autocommit = False
    print(
        f"{name}: loaded {counts['units']:,} units, {len(orgs):,} organisations in "
        f"{time.perf_counter() - t0:.1f} s (counters filled in {fill_s:.1f} s)",
        file=out,
        flush=True,
    )
    top = camp.progress(under="prov")
    assert top.total == counts["units"], (top.total, counts)
    assert top.stuck == counts["stuck"], (top.stuck, counts)
    assert top.satisfaction.assessed == counts["assessed"]
    page = camp.stuck(under="prov", longer_than=30, limit=50)
    assert page.total == counts["stuck_30"]
    assert len(page.units) == min(50, counts["stuck_30"])
    parents = {o.id: o.parent for o in orgs}
    nodes = (("province", "prov"), ("city", "city-0"), ("district", "dist-0-0"))
    # Without the overview every question reads every unit: the full scan costs about the
    # same whichever organisation is asked about, so it is timed once, for the province.
    # --scan-repeats 0 skips it (a PostgreSQL province takes tens of minutes to scan).
    scan = (
        median_ms(lambda: full_scan(camp, parents, "prov"), args.scan_repeats)
        if args.scan_repeats
        else float("nan")
    )
    rows += counter_rows(name, camp, nodes, scan, args, out)
    if args.counters_only:
        return rows
    for level, node in nodes:
        under_n = camp.progress(under=node, depth=1).total
        indexed = median_ms(lambda node=node: camp.progress(under=node), args.repeats)
        print(
            f"{name:7} progress(under={level:8}) {under_n:>8,} units  {indexed:9.1f} ms   "
            f"full scan {scan:10.1f} ms   ratio {scan / indexed:7.1f}x",
            file=out,
            flush=True,
        )
        rows.append({"engine": name, "query": f"progress(under={level})", "ms": indexed})
        stuck = median_ms(
            lambda node=node: camp.stuck(under=node, longer_than=30, limit=50), args.repeats
        )
        print(
            f"{name:7} stuck(under={level:8})    {under_n:>8,} units  {stuck:9.1f} ms   "
            f"full scan {scan:10.1f} ms   ratio {scan / stuck:7.1f}x",
            file=out,
            flush=True,
        )
        rows.append({"engine": name, "query": f"stuck(under={level})", "ms": stuck})
    rows.append({"engine": name, "query": "full scan", "ms": scan})
    return rows


#: The issue-18 target for progress() at 1 M units, nation-wide or under any node.
TARGET_MS = 100.0


def subtree_scan(camp: cf.Campaign, node: str | None) -> None:
    """What progress(under=node) read before the counters: the overview index of every unit
    under ``node`` (per-organisation counts and blocking codes), the same sub-tree."""
    closes = {b.number: b.closes for b in camp.workflow.batches}
    with camp.store.transaction(write=False) as tx:
        tx.rollup_counts(node, closes=closes)  # type: ignore[arg-type]  # None: every unit
        tx.blocking_counts(node)


def counter_rows(
    name: str,
    camp: cf.Campaign,
    nodes: tuple[tuple[str, str], ...],
    scan: float,
    args: argparse.Namespace,
    out: Any,
) -> list[dict[str, Any]]:
    """progress() nation-wide and progress(under=node, depth=0/1) from the counters, against
    the target and against a scan of the same units (like for like)."""
    rows: list[dict[str, Any]] = []
    total = camp.progress().total
    counted = median_ms(camp.progress, args.repeats)
    index = median_ms(lambda: subtree_scan(camp, None), args.baseline_repeats)
    verdict = "ok" if counted <= TARGET_MS else "MISSED"
    print(
        f"{name:7} progress() nation-wide   {total:>9,} units  {counted:8.1f} ms  "
        f"(target <= {TARGET_MS:.0f} ms: {verdict})   index scan of every unit {index:9.1f} ms   "
        f"re-judging every unit (before) {scan:10.1f} ms",
        file=out,
        flush=True,
    )
    rows.append(
        {"engine": name, "query": "progress() nation-wide", "ms": counted, "scan_ms": index}
    )
    for level, node in nodes:
        under_n = camp.progress(under=node, depth=0).total
        for depth in (0, 1):
            counted = median_ms(
                lambda node=node, depth=depth: camp.progress(under=node, depth=depth),
                args.repeats,
            )
            index = median_ms(lambda node=node: subtree_scan(camp, node), args.baseline_repeats)
            verdict = "ok" if counted <= TARGET_MS else "MISSED"
            print(
                f"{name:7} progress(under={level:8}, depth={depth}) {under_n:>9,} units  "
                f"{counted:8.1f} ms  (target <= {TARGET_MS:.0f} ms: {verdict})   "
                f"index scan of the same sub-tree {index:9.1f} ms   ratio {index / counted:7.1f}x",
                file=out,
                flush=True,
            )
            rows.append(
                {
                    "engine": name,
                    "query": f"progress(under={level}, depth={depth})",
                    "ms": counted,
                    "scan_ms": index,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200_000, help="units in the province")
    parser.add_argument("--repeats", type=int, default=7, help="runs per indexed query")
    parser.add_argument("--scan-repeats", type=int, default=3, help="runs per full scan")
    parser.add_argument("--pg", default=os.environ.get("CAMPAIGNFLOW_PG_DSN", ""))
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON on stdout")
    parser.add_argument(
        "--baseline-repeats", type=int, default=3, help="runs per index scan of a sub-tree"
    )
    parser.add_argument(
        "--counters-only",
        action="store_true",
        help="only the issue-18 rows (progress from counters against the target and the scan)",
    )
    args = parser.parse_args(argv)
    clock = cf.FixedClock(TODAY)
    print(
        f"rollup benchmark: {args.units:,} units; medians of {args.repeats} (indexed) and "
        f"{args.scan_repeats} (full scan) runs",
        file=sys.stderr if args.json else sys.stdout,
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    if not args.skip_sqlite:
        rows += _sqlite(args, clock)
    if not args.skip_pg:
        rows += _postgres(args, clock)
    if args.json:
        print(json.dumps({"units": args.units, "repeats": args.repeats, "rows": rows}, indent=2))
    return 0


def _sqlite(args: argparse.Namespace, clock: cf.FixedClock) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "province.db"
        cid = f"bench-{uuid.uuid4().hex[:8]}"
        store = SQLiteStore(path, campaign_id=cid, synchronous="NORMAL")
        camp = cf.Campaign(cf.presets.district_2005(), store=store, clock=clock, campaign_id=cid)
        conn = sqlite3.connect(path)
        try:
            return bench_engine("sqlite", camp, conn, "?", args)
        finally:
            conn.close()
            camp.close()


def _postgres(args: argparse.Namespace, clock: cf.FixedClock) -> list[dict[str, Any]]:
    if not args.pg:
        print(
            "postgresql: skipped (no DSN; set CAMPAIGNFLOW_PG_DSN or pass --pg)",
            file=sys.stderr if args.json else sys.stdout,
        )
        return []
    import psycopg

    cid = f"bench-{uuid.uuid4().hex[:8]}"
    store = PostgresStore(args.pg, campaign_id=cid)
    camp = cf.Campaign(cf.presets.district_2005(), store=store, clock=clock, campaign_id=cid)
    conn = psycopg.connect(args.pg)
    try:
        return bench_engine("postgres", camp, conn, "%s", args)
    finally:
        conn.rollback()
        for table in TABLES:
            conn.execute(f"DELETE FROM {table} WHERE campaign_id = %s", (cid,))
        conn.commit()
        conn.close()
        camp.close()


if __name__ == "__main__":
    sys.exit(main())
