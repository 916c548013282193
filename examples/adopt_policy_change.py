"""A policy change in the middle of a campaign, adopted both ways, every affected unit explained.

1. The city lowers the study-hour minimum from 40 to 32 (version 2005.2) and adopts it with
   ``pin``: units already in their concentrated activity finish on 2005.1; units of the
   batches not yet started, and units added later, take 2005.2. ``check`` says which
   version judged each unit.
2. The province then renames 学习动员 ``study_mobilization`` to ``study`` (version 2005.3) and
   moves every unit with ``migrate``. Without a stage map the adoption is refused, listing
   each unit that would be left without a stage; a dry run lists every move; then it runs.

After each step the state equals the replay of the audit trail across versions, and the
chain verifies. Run: ``python examples/adopt_policy_change.py``
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import campaignflow as cf
from campaignflow.audit import replay_versions

START = date(2005, 1, 10)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
CITY = cf.Actor(id="city-leading-group", roles={"leading_group"})


def lowered_hours() -> cf.Workflow:
    """2005.2: at least 32 study hours instead of 40."""
    data = cf.presets.district_2005().with_params("min_study_hours", hours=32).to_dict()
    return cf.Workflow.from_dict({**data, "version": "2005.2"})


def renamed_stage() -> cf.Workflow:
    """2005.3: 2005.2 with ``study_mobilization`` renamed ``study`` (and its make-up stage)."""
    text = json.dumps(lowered_hours().to_dict(), ensure_ascii=False)
    for old, new in (("study_mobilization_remedial", "study_remedial"),):
        text = text.replace(f'"{old}"', f'"{new}"')
    text = text.replace('"study_mobilization"', '"study"')
    return cf.Workflow.from_dict({**json.loads(text), "version": "2005.3"})


def consistent(camp: cf.Campaign) -> None:
    """State == replay of the trail across every version, and the chain holds."""
    kept = camp.workflow_versions()
    known = {v.ref: cf.Workflow.from_dict(v.definition) for v in kept}
    replayed = replay_versions(known, camp.audit_trail(), first=kept[0].ref)
    assert replayed == {u.id: s for u, s in camp.units()}
    assert camp.verify_audit().ok


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = cf.FixedClock(START)
        db = f"sqlite:///{Path(tmp) / 'district.db'}"
        camp = cf.Campaign(cf.presets.district_2005(), store=db, clock=clock)
        camp.add_units(
            cf.Unit(id=f"b{b}-{i}", name=f"第{b}批第{i}支部", kind="organ", batch=b, members=25)
            for b in (1, 2)
            for i in range(3)
        )
        camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
        for unit_id in ("b1-0", "b1-1", "b1-2"):
            for name in ("implementation_plan", "leading_group_established"):
                camp.record(unit_id, cf.Milestone(name), actor=CLERK)
            camp.advance(unit_id, actor=CLERK)
            camp.record(unit_id, cf.StudySession(hours=34, guided=True), actor=CLERK)
        clock.set(START + timedelta(days=40))

        print("== 1. pin: 2005.2 lowers study hours to 32 ==")
        pinned = camp.adopt(lowered_hours(), policy="pin", actor=CITY, request_id="adopt-2005.2")
        print(pinned.explain("en"))
        print(pinned.explain("zh_CN"))
        decision = camp.check("b1-0")
        print(decision.explain("en"))  # 34 hours: still short under 2005.1, which judges it
        assert decision.judged_by.startswith("district_2005@2005.1#")
        assert "study_hours.insufficient" in [f.code for f in decision.failures()]
        assert camp.state("b2-0").workflow.startswith("district_2005@2005.2#")
        consistent(camp)

        print("\n== 2. migrate: 2005.3 renames study_mobilization to study ==")
        try:
            camp.adopt(renamed_stage(), policy="migrate", actor=CITY)
        except cf.ValidationError as refused:
            print(f"refused, nothing changed ({len(refused.problems)} problems):")
            for problem in refused.problems:
                print(f"  - {problem}")
        stage_map = {
            "study_mobilization": "study",
            "study_mobilization_remedial": "study_remedial",
        }
        dry = camp.adopt(renamed_stage(), policy="migrate", stage_map=stage_map, dry_run=True)
        print(dry.explain("en"))
        done = camp.adopt(renamed_stage(), policy="migrate", stage_map=stage_map, actor=CITY)
        assert done.changes == dry.changes
        decision = camp.check("b1-0")
        print(decision.explain("en"))  # the study hours came along; 2005.3 asks 32
        assert decision.judged_by.startswith("district_2005@2005.3#")
        assert "study_hours.insufficient" not in [f.code for f in decision.failures()]
        consistent(camp)
        print("\nversions kept:")
        for version in camp.workflow_versions():
            print(f"  {version.number}. {version.ref} ({version.policy})")
        camp.close()


if __name__ == "__main__":
    main()
