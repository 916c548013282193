"""A small workflow for organisation-tree and version tests: every stage reachable in a few commands.

``pending`` → ``study`` (≥ ``hours`` study hours and a satisfied rate ≥ 0.6; a failed
assessment sends the unit to ``study_remedial``) → ``review`` (``summing_up`` filed) → ``done``.
Version 2 renames ``review`` to ``appraisal`` and lowers the hours: a mid-campaign policy change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import campaignflow as cf

START = date(2005, 1, 10)
CLOSES = {1: date(2005, 3, 31), 2: date(2005, 6, 30), 3: date(2005, 12, 31)}
SUPERIOR = cf.Actor(id="county", roles={"superior_org"})
GROUP = cf.Actor(id="group", roles={"leading_group"})


def flow_data(*, version: str = "1", hours: float = 10, review: str = "review") -> dict[str, Any]:
    """The definition as data (``review``: the id of the third stage)."""
    return {
        "schema_version": 1,
        "name": "mini",
        "version": version,
        "title": "小型测试流程",
        "title_en": "Mini test flow",
        "initial": "pending",
        "batches": [
            {"number": 1, "opens": "2005-01-01", "closes": "2005-03-31"},
            {"number": 2, "opens": "2005-04-01", "closes": "2005-06-30"},
            {"number": 3, "opens": "2005-07-01", "closes": "2005-12-31"},
        ],
        "fact_roles": {"survey": "superior_org"},
        "stages": [
            {"id": "pending", "kind": "waiting", "title": "未开始", "title_en": "Not started"},
            {"id": "study", "title": "学习", "title_en": "Study"},
            {
                "id": "study_remedial",
                "kind": "remedial",
                "remedial_of": "study",
                "title": "学习补课",
                "title_en": "Study make-up",
            },
            {"id": review, "title": "评议", "title_en": "Review"},
            {"id": "done", "kind": "final", "title": "完成", "title_en": "Done"},
        ],
        "transitions": [
            {
                "trigger": "start",
                "source": "pending",
                "dest": "study",
                "guards": [{"guard": "within_batch_window"}],
            },
            {"trigger": "defer", "source": "pending", "dest": "pending", "by": ["leading_group"]},
            {
                "source": "study",
                "dest": review,
                "guards": [
                    {"guard": "min_study_hours", "hours": hours},
                    {"guard": "satisfaction_rate_at_least", "rate": 0.6},
                ],
            },
            {
                "source": "study",
                "dest": "study_remedial",
                "guards": [{"guard": "survey_recorded"}],
                "unless": [{"guard": "satisfaction_rate_at_least", "rate": 0.6}],
            },
            {
                "source": "study_remedial",
                "dest": "study",
                "guards": [{"guard": "milestones_done", "names": ["remedial_completed"]}],
            },
            {
                "source": review,
                "dest": "done",
                "guards": [{"guard": "milestones_done", "names": ["summing_up"]}],
            },
        ],
    }


def flow(**options: Any) -> cf.Workflow:
    """The mini workflow (see :func:`flow_data` for the options)."""
    return cf.Workflow.from_dict(flow_data(**options))


def flow_v2() -> cf.Workflow:
    """Version 2: ``review`` renamed ``appraisal``, study hours lowered from 10 to 6."""
    return flow(version="2", hours=6, review="appraisal")


GOOD = cf.Survey(satisfied=8, basically_satisfied=1, dissatisfied=1)
BAD = cf.Survey(satisfied=2, basically_satisfied=1, dissatisfied=7)
