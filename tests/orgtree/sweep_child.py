"""The counter crash test's child: adds units and sweeps them through the mini flow until killed.

Run: ``python -m tests.orgtree.sweep_child STORE_URL CAMPAIGN_ID SEED`` (from the repository
root). Each round adds units under a small tree, starts them in one sweep, records study hours
and surveys for some, sweeps again (advance_all: a page of units per transaction), tries moves
that are refused (latest refusals) and finishes a few. It prints ``ready`` once the campaign is
open and ``round N`` after each round; the parent SIGKILLs it at a random moment.
"""

from __future__ import annotations

import contextlib
import random
import sys
from datetime import date, timedelta

import campaignflow as cf
from campaignflow._words.records import Organisation
from tests.orgtree.flows import BAD, GOOD, SUPERIOR, flow

CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
LEADER = cf.Actor(id="leader", roles={"leading_group"})
ORGS = [
    Organisation("prov", "省", "province"),
    *(Organisation(f"city-{c}", f"市{c}", "city", "prov") for c in range(2)),
    *(
        Organisation(f"dist-{c}-{d}", f"区{c}{d}", "district", f"city-{c}")
        for c in range(2)
        for d in range(2)
    ),
]
PARENTS = [o.id for o in ORGS if o.level == "district"] + ["city-1", "loose"]


def main(url: str, campaign_id: str, seed: int) -> None:
    rng = random.Random(seed)
    clock = cf.FixedClock(date(2005, 1, 20))
    camp = cf.Campaign(flow(), store=url, clock=clock, campaign_id=campaign_id)
    if not camp.organisations():
        camp.add_organisations(ORGS)
    print("ready", flush=True)
    for n in range(10**6):
        prefix = f"s{seed}-r{n}"
        camp.add_units(
            [
                cf.Unit(
                    id=f"{prefix}-{i}",
                    name=f"支部{i}",
                    kind="organ",
                    batch=1,
                    parent=rng.choice(PARENTS),
                )
                for i in range(60)
            ]
        )
        camp.advance_all(trigger="start", actor=LEADER, batch=1)
        studying = [u.id for u, s in camp.units() if s.stage == "study"]
        for unit_id in rng.sample(studying, min(8, len(studying))):
            camp.record(unit_id, cf.StudySession(hours=12), actor=CLERK)
            camp.record(unit_id, rng.choice((GOOD, GOOD, BAD)), actor=SUPERIOR)
        for unit_id in rng.sample(studying, min(4, len(studying))):
            with contextlib.suppress(cf.TransitionRejected):
                camp.advance(unit_id, actor=CLERK)
        camp.advance_all(actor=CLERK)
        for unit_id in [u.id for u, s in camp.units() if s.stage == "review"][:3]:
            camp.record(unit_id, cf.Milestone("summing_up"), actor=CLERK)
        clock.set(clock.now().date() + timedelta(days=1))
        camp.advance_all(actor=CLERK)
        print(f"round {n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
