"""The Django OA example (examples/django_oa) through Django's test client, on SQLite and PostgreSQL.

The three endpoints (record study hours, approve, why blocked), what each commits, and how the
host's refusal of its own row takes the campaign's fact with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.conftest import (
    BACKENDS,
    DJANGO_ALIAS,
    EXAMPLES,
    backend_param,
    fresh_campaign_id,
)
from tests.store.helpers import START, SUPERIOR, clerk_of, satisfy

CLERK = {"X-OA-User": "clerk-fin-01", "X-OA-Roles": "branch_committee", "X-OA-Unit": "fin-01"}
INSPECTOR_HEADERS = {"X-OA-User": "zhang", "X-OA-Roles": "supervision_group"}


class OASite:
    """The example app on one backend, with a fresh campaign whose unit fin-01 is at study."""

    def __init__(self, kind: str) -> None:
        import oa.campaigns
        from django.conf import settings
        from django.test import Client

        self.alias = DJANGO_ALIAS[kind]
        self.settings = settings
        self.campaign_id = fresh_campaign_id()
        self.client = Client()
        self.campaign = lambda: oa.campaigns.campaign(self.campaign_id)

    def url(self, unit_id: str, action: str) -> str:
        return f"/campaigns/{self.campaign_id}/units/{unit_id}/{action}"

    def post(self, unit_id: str, action: str, body: Any, headers: dict[str, str]) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(
            self.url(unit_id, action), data=data, content_type="application/json", headers=headers
        )

    def why(self, unit_id: str = "fin-01", locale: str | None = None) -> Any:
        query = {"locale": locale} if locale else {}
        return self.client.get(self.url(unit_id, "why"), query)

    def at_study(self) -> cf.Campaign:
        """Register fin-01, start it and take it through preparation into study."""
        camp = self.campaign()
        camp.add_units([cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1)])
        camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        satisfy(camp, camp.clock, "fin-01")  # type: ignore[arg-type]
        camp.advance("fin-01", actor=clerk_of("fin-01"))
        assert camp.state("fin-01").stage == "study_mobilization"
        return camp

    def sheets(self) -> list[tuple[str, float]]:
        from oa.models import StudyLog

        rows = StudyLog.objects.using(self.alias).filter(campaign_id=self.campaign_id)
        return sorted(rows.values_list("sheet", "hours"))

    def notices(self) -> list[str]:
        from oa.models import Notice

        rows = Notice.objects.using(self.alias).filter(campaign_id=self.campaign_id)
        return list(rows.values_list("text", flat=True))

    def hours(self) -> list[float]:
        return [
            f.fact.hours
            for f in self.campaign().facts("fin-01")
            if isinstance(f.fact, cf.StudySession)
        ]


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, django_site: None) -> Iterator[OASite]:
    """The OA example on one backend, its campaign's day fixed in 2005 (the preset's windows)."""
    from django.test.utils import override_settings

    kind = backend_param(request)
    with override_settings(OA_DATABASE=DJANGO_ALIAS[kind], OA_TODAY=START):
        yield OASite(kind)


def test_study_hours_are_recorded_with_the_attendance_sheet(site: OASite) -> None:
    """A study session posts the campaign's fact and the OA's sheet row together."""
    site.at_study()
    answer = site.post("fin-01", "study", {"sheet": "s-1", "hours": 6, "guided": True}, CLERK)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {
        "unit": "fin-01",
        "stage": "study_mobilization",
        "hours": 6,
        "version": 2,
    }
    assert site.sheets() == [("s-1", 6.0)]
    assert site.hours() == [6.0]


def test_a_sheet_logged_twice_rolls_back_the_campaign_fact_too(site: OASite) -> None:
    """The OA's unique sheet refuses the second entry after the fact was recorded: both vanish."""
    camp = site.at_study()
    assert site.post("fin-01", "study", {"sheet": "s-1", "hours": 6}, CLERK).status_code == 201
    trail = len(list(camp.audit_trail()))
    answer = site.post("fin-01", "study", {"sheet": "s-1", "hours": 2}, CLERK)
    assert answer.status_code == 409
    assert answer.json() == {"error": "sheet_already_logged", "sheet": "s-1"}
    assert site.sheets() == [("s-1", 6.0)]
    assert site.hours() == [6.0]
    assert len(list(camp.audit_trail())) == trail
    assert camp.verify_audit().ok


def test_why_blocked_explains_the_gates_with_their_numbers(site: OASite) -> None:
    """The why endpoint lists each holding gate's code, numbers and sentence in the asked language."""
    site.at_study()
    site.post("fin-01", "study", {"sheet": "s-1", "hours": 6, "guided": True}, CLERK)
    answer = site.why(locale="en").json()
    assert (answer["stage"], answer["target"], answer["allowed"]) == (
        "study_mobilization",
        "analysis_review",
        False,
    )
    hours = next(b for b in answer["blocking"] if b["code"] == "study_hours.insufficient")
    assert hours["params"] == {"actual": 6, "required": 40}
    assert hours["message"] == "study hours insufficient: 6 logged, at least 40 required"
    assert answer["explain"].startswith("unit fin-01: may not move from")
    chinese = site.why().json()  # zh_CN by default
    assert chinese["explain"].startswith("单位 fin-01：不能从“学习动员”转入“分析评议”")
    assert "集中学习学时不足：已学 6 学时，要求不少于 40 学时" in chinese["explain"]


def test_approval_commits_with_the_notice_and_opens_the_gate(site: OASite) -> None:
    """The inspector's approval and the OA's notice commit together; once all evidence is in, the unit may move."""
    camp = site.at_study()
    answer = site.post("fin-01", "approve", {"comment": "同意"}, INSPECTOR_HEADERS)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {
        "unit": "fin-01",
        "stage": "study_mobilization",
        "role": "supervision_group",
        "decision": "approved",
    }
    assert site.notices() == ["zhang: approved (study_mobilization)"]
    codes = {b["code"] for b in site.why().json()["blocking"]}
    assert "approval.missing" not in codes
    assert "study_hours.insufficient" in codes

    site.post("fin-01", "study", {"sheet": "s-1", "hours": 24, "guided": True}, CLERK)
    site.post("fin-01", "study", {"sheet": "s-2", "hours": 16}, CLERK)
    for name in ("mobilization_meeting", "advanced_standards_adopted", "transition_application"):
        camp.record("fin-01", cf.Milestone(name), actor=clerk_of("fin-01"))
    camp.record(
        "fin-01", cf.Survey(satisfied=28, basically_satisfied=3, dissatisfied=1), actor=SUPERIOR
    )
    assert "days_in_stage.too_few" in {b["code"] for b in site.why().json()["blocking"]}
    site.settings.OA_TODAY = START + timedelta(days=30)  # undone with the test's settings
    answer = site.why(locale="en").json()
    assert answer["allowed"] is True, answer
    assert answer["blocking"] == []


def test_a_unit_approving_itself_is_refused_and_the_refusal_is_audited(site: OASite) -> None:
    """Self-approval answers 403; its denial record commits, the OA writes no notice."""
    camp = site.at_study()
    own = {**INSPECTOR_HEADERS, "X-OA-Unit": "fin-01"}
    answer = site.post("fin-01", "approve", {}, own)
    assert answer.status_code == 403
    assert answer.json()["error"] == "not_authorized"
    last = camp.history("fin-01")[-1]
    assert (last.command, last.outcome, last.actor_id) == ("approve", "denied", "zhang")
    assert site.notices() == []
    assert camp.facts("fin-01") == ()
    assert camp.verify_audit().ok


@pytest.mark.parametrize(
    ("unit_id", "body", "headers", "status", "error", "mentions"),
    [
        ("fin-01", {"sheet": "s", "hours": -3}, CLERK, 400, "invalid", "hours"),
        ("fin-01", {"sheet": "s", "hours": "many"}, CLERK, 400, "invalid", "hours"),
        ("fin-01", "not json", CLERK, 400, "invalid", "body"),
        ("fin-01", [1, 2], CLERK, 400, "invalid", "body"),
        ("fin-01", {"sheet": "s", "hours": 2}, {}, 400, "invalid", "Actor.id"),
        ("no-such", {"sheet": "s", "hours": 2}, CLERK, 404, "unknown_unit", "no-such"),
    ],
)
def test_bad_study_requests_are_refused_and_write_nothing(
    site: OASite,
    unit_id: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    error: str,
    mentions: str,
) -> None:
    """Malformed input answers 4xx naming the field; no fact, no sheet, no audit record."""
    camp = site.at_study()
    trail = list(camp.audit_trail())
    answer = site.post(unit_id, "study", body, headers)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert mentions in answer.json()["detail"]
    assert site.sheets() == []
    assert list(camp.audit_trail()) == trail


def test_why_refuses_an_unknown_locale_and_unknown_unit(site: OASite) -> None:
    """An unsupported locale is a 400 naming the choices; an unknown unit a 404."""
    site.at_study()
    answer = site.why(locale="fr")
    assert answer.status_code == 400
    assert "zh_CN, en" in answer.json()["detail"]
    assert site.why("nobody").status_code == 404
    assert site.client.post(site.url("fin-01", "why")).status_code == 405


@pytest.mark.slow
def test_manage_py_migrates_and_sets_up_from_the_environment(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``manage.py migrate`` then ``oa_setup`` on a fresh SQLite file named by OA_DATABASE_URL."""
    env = {
        **os.environ,
        "OA_DATABASE_URL": f"sqlite:///{tmp_path}/oa.db",
        "OA_TODAY": "2005-01-10",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    manage = [sys.executable, "-W", "error", str(EXAMPLES / "django_oa" / "manage.py")]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*manage, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("migrate", "-v", "0")
    assert run("oa_setup", "demo") == "demo: 2 units added, started: fin-01, edu-03\n"
    assert run("oa_setup", "demo") == "demo: 0 units added, started: \n"
    assert "[X] 0001_initial" in run("showmigrations", "campaignflow")


@pytest.mark.slow
def test_djangos_test_runner_passes_the_examples_own_tests(tmp_path: Path) -> None:
    """``manage.py test oa``: Django's TestCase rolls the campaign back with each test (SQLite).

    PostgreSQL is left out here: Django's runner creates a test database, which needs
    CREATEDB rights the CI role does not have.
    """
    env = {
        **os.environ,
        "OA_DATABASE_URL": f"sqlite:///{tmp_path}/oa.db",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / "django_oa" / "manage.py"), "test", "oa"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Ran 3 tests" in done.stderr
    assert done.stderr.rstrip().splitlines()[-2:] == [
        "OK",
        "Destroying test database for alias 'default'...",
    ]


def test_settings_read_a_postgresql_url() -> None:
    """OA_DATABASE_URL's parts become Django's NAME, USER, PASSWORD, HOST and PORT."""
    sys.path.insert(0, str(EXAMPLES / "django_oa"))
    try:
        from oa_site.settings import database_from_url
    finally:
        sys.path.remove(str(EXAMPLES / "django_oa"))
    assert database_from_url("postgresql://oa%40x:p%3Aw@db.local:6543/oa_db") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "oa_db",
        "USER": "oa@x",
        "PASSWORD": "p:w",
        "HOST": "db.local",
        "PORT": "6543",
    }
    assert database_from_url("sqlite:////srv/oa/oa.db")["NAME"] == "/srv/oa/oa.db"
    assert database_from_url("sqlite:///oa.db")["NAME"] == "oa.db"
    with pytest.raises(ValueError, match="mysql"):
        database_from_url("mysql://x/y")
