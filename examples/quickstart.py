"""Quickstart: one branch through the district campaign's first stage transition.

Run: python examples/quickstart.py
"""

from datetime import date

import campaignflow as cf

clock = cf.FixedClock(date(2005, 1, 10))
camp = cf.Campaign(cf.presets.district_2005(), clock=clock)
camp.add_units([cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32)])
camp.start_batch(1, on=date(2005, 1, 10), actor=cf.Actor(id="leader", roles={"leading_group"}))

clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
inspector = cf.Actor(id="zhang", roles={"supervision_group"})
superior = cf.Actor(id="county-org", roles={"superior_org"})

for name in ("implementation_plan", "leading_group_established"):
    camp.record("fin-01", cf.Milestone(name), actor=clerk)
camp.advance("fin-01", actor=clerk, request_id="r-prep")

# Four weeks of study: 32 hours, 24 of them guided. Not enough yet.
clock.set(date(2005, 2, 10))
for week in range(4):
    camp.record(
        "fin-01", cf.StudySession(hours=6, guided=True), actor=clerk, request_id=f"s-{week}"
    )
    camp.record("fin-01", cf.StudySession(hours=2), actor=clerk)

decision = camp.check("fin-01")
print(decision.explain(locale="zh_CN"))
print(decision.explain(locale="en"))
assert not decision.allowed

# The branch finishes its study, files its documents, is assessed and approved.
camp.record("fin-01", cf.StudySession(hours=8), actor=clerk)
for name in ("mobilization_meeting", "advanced_standards_adopted", "transition_application"):
    camp.record("fin-01", cf.Milestone(name), actor=clerk)
camp.record(
    "fin-01", cf.Survey(satisfied=25, basically_satisfied=5, dissatisfied=2), actor=superior
)
camp.approve("fin-01", actor=inspector)

record = camp.advance("fin-01", actor=clerk, request_id="r-1")
print(f"{record.unit_id}: {record.source} -> {record.dest} on {record.on}")
assert camp.state("fin-01").stage == "analysis_review"
assert camp.verify_audit().ok
print(camp.progress(batch=1))
