"""A district, a city and a province each get their own roll-up from one database.

Registers a small province (two cities, three districts), adds 24 branch units under them,
runs a few weeks of the 2005 district preset, and prints, from the same SQLite file:
the province's roll-up as a table and as an indented tree, a city's, a district's, and the
stuck list ("who is stuck, on which gate, for how long").

Run: ``python examples/rollup.py``
"""

from __future__ import annotations

import tempfile
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path

import campaignflow as cf
from campaignflow import Organisation, OrgProgress

START = date(2005, 1, 10)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county-org", roles={"superior_org"})

ORGANISATIONS = [
    Organisation("prov", "某省委", "province"),
    Organisation("city-a", "甲市委", "city", "prov"),
    Organisation("city-b", "乙市委", "city", "prov"),
    Organisation("dist-a1", "甲市东区委", "district", "city-a"),
    Organisation("dist-a2", "甲市西区委", "district", "city-a"),
    Organisation("dist-b1", "乙市南区委", "district", "city-b"),
]
STUDY_EVIDENCE = ("mobilization_meeting", "advanced_standards_adopted", "transition_application")


def build(path: Path) -> cf.Campaign:
    """The province's campaign in ``path``: 24 units, some through study, some stuck."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(cf.presets.district_2005(), store=f"sqlite:///{path}", clock=clock)
    camp.add_organisations(ORGANISATIONS)
    districts = ["dist-a1", "dist-a2", "dist-b1"]
    camp.add_units(
        cf.Unit(
            id=f"{districts[i % 3]}-{i:02d}",
            name=f"第{i}党支部",
            kind="organ",
            batch=1,
            members=20 + i,
            parent=districts[i % 3],
        )
        for i in range(24)
    )
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    for i, (unit, _) in enumerate(camp.units()):
        for name in ("implementation_plan", "leading_group_established"):
            camp.record(unit.id, cf.Milestone(name), actor=CLERK)
        camp.advance(unit.id, actor=CLERK)  # preparation → study_mobilization
        camp.record(unit.id, cf.StudySession(hours=16 + 3 * i, guided=True), actor=CLERK)
        if i % 4 == 0:
            for name in STUDY_EVIDENCE:
                camp.record(unit.id, cf.Milestone(name), actor=CLERK)
            camp.approve(unit.id, actor=INSPECTOR)
            ballots = (26, 4, 2) if i % 12 == 0 else (8, 6, 18)
            camp.record(
                unit.id,
                cf.Survey(
                    satisfied=ballots[0], basically_satisfied=ballots[1], dissatisfied=ballots[2]
                ),
                actor=SUPERIOR,
            )
    clock.set(START + timedelta(days=35))
    for unit, _ in camp.units():
        with suppress(cf.TransitionRejected):
            camp.advance(unit.id, actor=CLERK)
    clock.set(START + timedelta(days=60))
    return camp


def table(node: OrgProgress, stages: list[str]) -> str:
    """The node and its children as rows: units per stage, stuck, remedial, satisfaction."""
    width = max(len(s) for s in stages) + 2
    head = f"{'organisation':<14}{'units':>6}" + "".join(f"{s:>{width}}" for s in stages)
    lines = [head + f"{'stuck':>7}{'remedial':>10}{'satisfied':>11}"]
    for row in (node, *node.children):
        counts = row.by_stage()
        rate = row.satisfaction.satisfied_rate
        lines.append(
            f"{row.name:<14}{row.total:>6}"
            + "".join(f"{counts.get(s, 0):>{width}}" for s in stages)
            + f"{row.stuck:>7}{row.remedial:>10}"
            + (f"{rate:>11.1%}" if rate is not None else f"{'-':>11}")
        )
    return "\n".join(lines)


def tree(node: OrgProgress) -> str:
    """The roll-up as an indented list, one organisation a line."""
    return "\n".join(
        f"{'  ' * n.depth}- {n.name} ({n.level}): {n.total} units, {n.stuck} stuck, "
        f"{n.finished} finished"
        for n in node.walk()
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        camp = build(Path(tmp) / "province.db")
        stages = [s.id for s in camp.workflow.stages if camp.progress().by_stage().get(s.id)]

        province = camp.progress(under="prov")
        print("== province ==")
        print(table(province, stages))
        print(tree(province))
        assert province.total == 24
        assert province.total == sum(c.total for c in province.children)

        city = camp.progress(under="city-a", depth=1)
        print("\n== city ==")
        print(table(city, stages))
        assert city.total == 16

        district = camp.progress(under="dist-b1")
        print("\n== district ==")
        print(table(district, stages))
        print("gates holding units:", ", ".join(f"{c} ×{n}" for c, n in district.blocking))
        assert district.total == district.own == 8

        page = camp.stuck(under="prov", longer_than=30, limit=5)
        print(f"\n== stuck longer than 30 days: {page.total} units, first {len(page.units)} ==")
        for entry in page.units:
            failing = "; ".join(v.message("en") for v in entry.refusal.failures)
            print(f"{entry.unit.id} ({entry.state.stage}, {entry.days_in_stage} days): {failing}")
        assert page.total > 0
        camp.close()


if __name__ == "__main__":
    main()
