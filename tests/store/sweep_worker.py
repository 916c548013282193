"""A worker process for the scale-out test: sweeps a campaign with advance_due until done.

Run: python sweep_worker.py STORE_URL CAMPAIGN_ID SWEEP LIMIT GATE
Prints one JSON line: the ids of the units this worker advanced and of those it held.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import campaignflow as cf
from tests.store.test_scale_out import sweep_workflow


def main(url: str, campaign_id: str, sweep: str, limit: int, gate: str) -> None:
    camp = cf.Campaign(
        sweep_workflow(gate),
        store=url,
        clock=cf.FixedClock(date(2005, 3, 1)),
        campaign_id=campaign_id,
    )
    advanced: list[str] = []
    held: list[str] = []
    while True:
        outcomes = camp.advance_due(sweep=sweep, limit=limit)
        if not outcomes:
            break
        for outcome in outcomes:
            (advanced if outcome.advanced else held).append(outcome.unit_id)
    camp.close()
    print(json.dumps({"advanced": advanced, "held": held}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
