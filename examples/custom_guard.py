"""A custom guard: attendance rate (出勤率) over a custom fact type, used from a TOML workflow.

A branch may leave 学习动员 (study and mobilisation) only when, over its recorded study
sessions, at least 80 % of members were present. The guard explains a refusal in zh_CN and en.

Run: python examples/custom_guard.py
"""

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import attrs

import campaignflow as cf


@cf.fact_type("attendance")
@attrs.frozen
class Attendance:
    """Members present at one concentrated study session (出勤)."""

    present: int
    members: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.present <= self.members:
            raise cf.ValidationError(
                f"Attendance.present: must be between 0 and members ({self.members}), "
                f"got {self.present}"
            )


def check_rate(params: Mapping[str, Any]) -> Iterable[str]:
    """Load-time check of the guard's params: one problem per bad param."""
    if "rate" in params and not 0 <= params["rate"] <= 1:
        yield f"rate: must be a share between 0 and 1, got {params['rate']!r}"


@cf.guard(
    "attendance_rate",
    check=check_rate,
    messages={
        "attendance_rate.enough": {
            "zh_CN": "出勤率 {actual:.1%}（{sessions} 次学习），不低于 {required:.0%}",
            "en": "attendance {actual:.1%} over {sessions} session(s), at least {required:.0%} required",
        },
        "attendance_rate.low": {
            "zh_CN": "出勤率不足：{actual:.1%}（{sessions} 次学习），要求不低于 {required:.0%}",
            "en": "attendance too low: {actual:.1%} over {sessions} session(s), at least {required:.0%} required",
        },
        "attendance_rate.missing": {
            "zh_CN": "尚未登记出勤情况（要求出勤率不低于 {required:.0%}）",
            "en": "no attendance recorded yet (at least {required:.0%} required)",
        },
    },
)
def attendance_rate(ctx: cf.GuardContext, *, rate: float = 0.9) -> cf.Verdict:
    """Members present over members expected, across the stage's study sessions."""
    sessions = ctx.facts(Attendance)
    expected = sum(a.members for a in sessions)
    if not expected:
        return cf.Verdict("attendance_rate", False, "attendance_rate.missing", {"required": rate})
    actual = sum(a.present for a in sessions) / expected
    passed = actual >= rate
    return cf.Verdict(
        "attendance_rate",
        passed,
        "attendance_rate.enough" if passed else "attendance_rate.low",
        {"actual": actual, "required": rate, "sessions": len(sessions)},
    )


WORKFLOW = """
name = "attendance_demo"
title = "出勤率示例"
title_en = "Attendance example"
initial = "pending"

[[batches]]
number = 1
opens = 2005-01-01
closes = 2005-06-30

[[stages]]
id = "pending"
kind = "waiting"

[[stages]]
id = "study_mobilization"
title = "学习动员"
title_en = "Study and mobilisation"

[[stages]]
id = "accepted"
kind = "final"
title = "验收通过"
title_en = "Accepted"

[[transitions]]
trigger = "start"
source = "pending"
dest = "study_mobilization"
guards = [{ guard = "within_batch_window" }]

[[transitions]]
source = "study_mobilization"
dest = "accepted"
guards = [
    { guard = "attendance_rate", rate = 0.8 },
    { guard = "min_study_hours", hours = 8 },
]
"""


def main() -> None:
    """Run one branch through the attendance gate: refused first, then passing."""
    # The guard's params are checked when the workflow loads: a rate of 80 is caught now,
    # not on the day a unit reaches the gate.
    problems: tuple[str, ...] = ()
    try:
        cf.Workflow.from_dict(tomllib.loads(WORKFLOW.replace("rate = 0.8", "rate = 80")))
    except cf.DefinitionError as error:
        problems = error.problems
    assert problems == (
        "$.transitions[1].guards[0].rate: must be a share between 0 and 1, got 80",
    ), problems

    workflow = cf.Workflow.from_dict(tomllib.loads(WORKFLOW))
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = cf.Campaign(workflow, clock=clock)
    camp.add_units(
        [cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=20)]
    )
    assert [
        o.advanced
        for o in camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    ] == [True]

    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
    clock.set(date(2005, 1, 20))
    camp.record("fin-01", cf.StudySession(hours=4, guided=True), actor=clerk)
    camp.record("fin-01", Attendance(present=14, members=20), actor=clerk)
    camp.record("fin-01", cf.StudySession(hours=4, guided=True), actor=clerk)
    camp.record("fin-01", Attendance(present=15, members=20), actor=clerk)

    # 29 of 40 expected attendances: 72.5 %, below the 80 % the workflow asks for.
    decision = camp.check("fin-01")
    print(decision.explain(locale="zh_CN"))
    print(decision.explain(locale="en"))
    assert not decision.allowed
    assert [v.code for v in decision.failures()] == ["attendance_rate.low"]
    assert decision.failures()[0].params == {"actual": 0.725, "required": 0.8, "sessions": 2}

    refusal: cf.Decision | None = None
    try:
        camp.advance("fin-01", actor=clerk, request_id="adv-1")
    except cf.TransitionRejected as refused:
        refusal = refused.decision
    assert refusal is not None, "the attendance gate should hold"
    assert refusal.failures()[0].code == "attendance_rate.low"
    assert camp.state("fin-01").stage == "study_mobilization"

    # A further session with everyone present lifts the rate to 81.7 % (49 of 60).
    camp.record("fin-01", Attendance(present=20, members=20), actor=clerk)
    decision = camp.check("fin-01")
    print(decision.explain(locale="zh_CN"))
    print(decision.explain(locale="en"))
    assert decision.allowed
    assert decision.target == "accepted"

    record = camp.advance("fin-01", actor=clerk, request_id="adv-2")
    print(f"{record.unit_id}: {record.source} -> {record.dest} on {record.on}")
    assert camp.state("fin-01").stage == "accepted"

    # The audit trail keeps the custom fact under its registered name, and the chain holds.
    facts = [a.payload["fact"] for a in camp.history("fin-01") if a.command == "record"]
    assert {"kind": "attendance", "present": 14, "members": 20} in facts
    assert camp.verify_audit().ok


if __name__ == "__main__":
    main()
