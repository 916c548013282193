"""Scale-out: four worker processes share one batch through ``advance_due``.

Each worker opens its own ``Campaign`` on the same database and calls ``advance_due`` in a loop
until it returns nothing. Within one sweep every unit is claimed by exactly one call, so no
unit is judged twice and none is missed, however many workers run. On PostgreSQL the claims
use ``FOR UPDATE SKIP LOCKED``, so workers never wait for each other.

Run: python examples/scale_out_workers.py [--units N] [--workers K]
Uses PostgreSQL when CAMPAIGNFLOW_PG_DSN is set (CI sets it), else a SQLite file.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import uuid
from collections import Counter
from datetime import date

import campaignflow as cf

DAY = date(2005, 1, 20)


def store_url(folder: str) -> str:
    """PostgreSQL when the environment names a server, else a SQLite file in ``folder``."""
    return os.environ.get("CAMPAIGNFLOW_PG_DSN") or f"sqlite:///{folder}/campaign.db"


def open_campaign(url: str, campaign_id: str) -> cf.Campaign:
    """What every worker process does first: its own Campaign on the shared database."""
    return cf.Campaign(
        cf.presets.district_2005(), store=url, clock=cf.FixedClock(DAY), campaign_id=campaign_id
    )


def worker(url: str, campaign_id: str, sweep: str) -> list[tuple[str, bool]]:
    """Claim and advance units until the sweep is done; return (unit, advanced) pairs."""
    seen: list[tuple[str, bool]] = []
    with open_campaign(url, campaign_id) as camp:
        while outcomes := camp.advance_due(sweep=sweep, limit=25):
            seen.extend((o.unit_id, o.advanced) for o in outcomes)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = store_url(folder)
        campaign_id = f"scale-out-{uuid.uuid4().hex[:8]}"
        with open_campaign(url, campaign_id) as camp:
            camp.add_units(
                cf.Unit(id=f"v{i:05d}", name=f"第{i}村党支部", kind="village", batch=1)
                for i in range(args.units)
            )
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))  # 领导小组
            clerk = cf.Actor(id="office", roles={"branch_committee"})
            # Two units in three have filed both documents 准备 asks for; the rest only one.
            for i in range(args.units):
                names = ["implementation_plan"]
                if i % 3:
                    names.append("leading_group_established")
                for name in names:
                    camp.record(f"v{i:05d}", cf.Milestone(name), actor=clerk)

        sweep = f"{DAY.isoformat()}-morning"
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.workers) as pool:
            results = pool.starmap(worker, [(url, campaign_id, sweep)] * args.workers)

        claims = Counter(unit for seen in results for unit, _ in seen)
        advanced = sum(moved for seen in results for _, moved in seen)
        assert len(claims) == args.units, "every started unit is claimed in the sweep"
        assert set(claims.values()) == {1}, "and claimed exactly once"
        with open_campaign(url, campaign_id) as camp:
            stages = camp.progress(batch=1).by_batch[1]
            assert camp.verify_audit().ok
        assert stages.get("study_mobilization", 0) == advanced

        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{backend}: {args.workers} workers swept {args.units} units")
        print(f"  claims per worker: {[len(seen) for seen in results]}")
        print(
            f"  advanced {advanced}, held {args.units - advanced}: {dict(sorted(stages.items()))}"
        )


if __name__ == "__main__":
    main()
