"""The OA's own tests, run by Django's test runner: ``python manage.py test oa``.

Django's ``TestCase`` wraps each test in ``transaction.atomic()``; the campaign's store joins
that block, so each test's campaign writes are rolled back with its own rows.
"""

from __future__ import annotations

import json
from datetime import date

from django.test import TestCase, override_settings

import campaignflow as cf
from oa.campaigns import campaign
from oa.models import StudyLog

CLERK = {"X-OA-User": "li", "X-OA-Roles": "branch_committee", "X-OA-Unit": "fin-01"}


@override_settings(OA_TODAY=date(2005, 1, 10))
class StudyHoursTests(TestCase):
    def setUp(self) -> None:
        camp = campaign("test")
        camp.add_units([cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1)])
        camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        clerk = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
        for name in ("implementation_plan", "leading_group_established"):
            camp.record("fin-01", cf.Milestone(name), actor=clerk)
        camp.advance("fin-01", actor=clerk)

    def post_study(self, sheet: str, hours: float) -> int:
        answer = self.client.post(
            "/campaigns/test/units/fin-01/study",
            data=json.dumps({"sheet": sheet, "hours": hours, "guided": True}),
            content_type="application/json",
            headers=CLERK,
        )
        return answer.status_code

    def test_study_hours_count_towards_the_gate(self) -> None:
        assert self.post_study("s-1", 6) == 201
        answer = self.client.get("/campaigns/test/units/fin-01/why", {"locale": "en"}).json()
        hours = next(b for b in answer["blocking"] if b["code"] == "study_hours.insufficient")
        assert hours["params"] == {"actual": 6, "required": 40}

    def test_a_sheet_entered_twice_keeps_one_fact(self) -> None:
        assert self.post_study("s-1", 6) == 201
        assert self.post_study("s-1", 2) == 409
        facts = campaign("test").facts("fin-01")
        assert [f.fact.hours for f in facts] == [6]
        assert StudyLog.objects.count() == 1

    def test_each_test_starts_from_a_clean_campaign(self) -> None:
        # setUp registered fin-01 again: the previous test's campaign was rolled back.
        assert [u.id for u, _ in campaign("test").units()] == ["fin-01"]
