"""The FastAPI OA example (examples/fastapi_oa) through FastAPI's TestClient, on SQLite and PostgreSQL.

The three endpoints (record study hours, approve, why blocked), what each commits, and how the
host's refusal of its own row takes the campaign's fact with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.conftest import fresh_campaign_id
from tests.store.helpers import START, SUPERIOR, clerk_of, satisfy

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
sa = pytest.importorskip("sqlalchemy")
with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its test client and warns when it finds httpx
    # (the test extra's); either works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient
from sqlalchemy.orm import Session  # noqa: E402

from campaignflow.contrib.sqlalchemy import SQLAlchemyStore  # noqa: E402

CLERK = {"X-OA-User": "clerk-fin-01", "X-OA-Roles": "branch_committee", "X-OA-Unit": "fin-01"}
INSPECTOR = {"X-OA-User": "zhang", "X-OA-Roles": "supervision_group"}


class OAApi:
    """The example API on one engine, with a fresh campaign whose unit fin-01 is at study."""

    def __init__(self, engine: Any, client: TestClient, clock: cf.FixedClock) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.campaign_id = fresh_campaign_id()

    def url(self, unit_id: str, action: str) -> str:
        return f"/campaigns/{self.campaign_id}/units/{unit_id}/{action}"

    def post(self, unit_id: str, action: str, body: Any, headers: dict[str, str]) -> Any:
        return self.client.post(self.url(unit_id, action), json=body, headers=headers)

    def why(self, unit_id: str = "fin-01", locale: str | None = None) -> Any:
        params = {"locale": locale} if locale else {}
        return self.client.get(self.url(unit_id, "why"), params=params)

    def campaign(self, bind: Any) -> cf.Campaign:
        return cf.Campaign(
            cf.presets.district_2005(),
            store=SQLAlchemyStore(bind, campaign_id=self.campaign_id),
            clock=self.clock,
            campaign_id=self.campaign_id,
        )

    def at_study(self) -> None:
        """Register fin-01, start it and take it through preparation into study (committed)."""
        with Session(self.engine) as session, session.begin():
            camp = self.campaign(session)
            camp.add_units([cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1)])
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
            satisfy(camp, self.clock, "fin-01")
            camp.advance("fin-01", actor=clerk_of("fin-01"))

    def read(self) -> tuple[list[float], list[Any], list[str], list[str]]:
        """Committed data: study hours, the audit trail, the OA's sheets and notices."""
        from oa_api import Notice, StudyLog

        with Session(self.engine) as session:
            camp = self.campaign(session)
            hours = [
                f.fact.hours for f in camp.facts("fin-01") if isinstance(f.fact, cf.StudySession)
            ]
            trail = list(camp.audit_trail())
            assert camp.verify_audit().ok
            sheets = session.scalars(
                sa.select(StudyLog.sheet).where(StudyLog.campaign_id == self.campaign_id)
            )
            notices = session.scalars(
                sa.select(Notice.text).where(Notice.campaign_id == self.campaign_id)
            )
            return hours, trail, sorted(sheets), list(notices)


@pytest.fixture
def api(engine: Any, example_paths: None) -> Iterator[OAApi]:
    """The example's app on one backend (its lifespan creates the tables), day fixed in 2005."""
    from oa_api import create_app

    clock = cf.FixedClock(START)
    with TestClient(create_app(engine, clock=clock)) as client:
        made = OAApi(engine, client, clock)
        made.at_study()
        yield made


def test_study_hours_are_recorded_with_the_attendance_sheet(api: OAApi) -> None:
    """A study session posts the campaign's fact and the OA's sheet row together."""
    answer = api.post("fin-01", "study", {"sheet": "s-1", "hours": 6, "guided": True}, CLERK)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "unit": "fin-01",
        "stage": "study_mobilization",
        "hours": 6,
        "version": 2,
    }
    hours, _, sheets, _ = api.read()
    assert (hours, sheets) == ([6.0], ["s-1"])


def test_a_sheet_logged_twice_rolls_back_the_campaign_fact_too(api: OAApi) -> None:
    """The OA's unique sheet refuses the second entry after the fact was recorded: both vanish."""
    assert api.post("fin-01", "study", {"sheet": "s-1", "hours": 6}, CLERK).status_code == 201
    _, trail, _, _ = api.read()
    answer = api.post("fin-01", "study", {"sheet": "s-1", "hours": 2}, CLERK)
    assert answer.status_code == 409
    assert answer.json() == {"error": "sheet_already_logged", "sheet": "s-1"}
    hours, after, sheets, _ = api.read()
    assert (hours, sheets) == ([6.0], ["s-1"])
    assert after == trail


def test_why_blocked_explains_the_gates_with_their_numbers(api: OAApi) -> None:
    """The why endpoint lists each holding gate's code, numbers and sentence in the asked language."""
    api.post("fin-01", "study", {"sheet": "s-1", "hours": 6, "guided": True}, CLERK)
    answer = api.why(locale="en").json()
    assert (answer["stage"], answer["target"], answer["allowed"]) == (
        "study_mobilization",
        "analysis_review",
        False,
    )
    hours = next(b for b in answer["blocking"] if b["code"] == "study_hours.insufficient")
    assert hours["params"] == {"actual": 6, "required": 40}
    assert hours["message"] == "study hours insufficient: 6 logged, at least 40 required"
    chinese = api.why().json()
    assert chinese["explain"].startswith("单位 fin-01：不能从“学习动员”转入“分析评议”")
    assert "集中学习学时不足：已学 6 学时，要求不少于 40 学时" in chinese["explain"]


def test_approval_commits_with_the_notice_and_opens_the_gate(api: OAApi) -> None:
    """The inspector's approval and the OA's notice commit together; with all evidence in, the unit may move."""
    answer = api.post("fin-01", "approve", {"comment": "同意"}, INSPECTOR)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "unit": "fin-01",
        "stage": "study_mobilization",
        "role": "supervision_group",
        "decision": "approved",
    }
    assert api.read()[3] == ["zhang: approved (study_mobilization)"]
    assert "approval.missing" not in {b["code"] for b in api.why().json()["blocking"]}

    api.post("fin-01", "study", {"sheet": "s-1", "hours": 24, "guided": True}, CLERK)
    api.post("fin-01", "study", {"sheet": "s-2", "hours": 16}, CLERK)
    with Session(api.engine) as session, session.begin():
        camp = api.campaign(session)
        for name in (
            "mobilization_meeting",
            "advanced_standards_adopted",
            "transition_application",
        ):
            camp.record("fin-01", cf.Milestone(name), actor=clerk_of("fin-01"))
        survey = cf.Survey(satisfied=28, basically_satisfied=3, dissatisfied=1)
        camp.record("fin-01", survey, actor=SUPERIOR)
    assert [b["code"] for b in api.why().json()["blocking"]] == ["days_in_stage.too_few"]
    api.clock.set(START + timedelta(days=30))
    answer = api.why(locale="en").json()
    assert answer["allowed"] is True, answer
    assert answer["explain"].startswith("unit fin-01: may move from")


def test_a_unit_approving_itself_is_refused_and_the_refusal_is_audited(api: OAApi) -> None:
    """Self-approval answers 403; its denial record commits, the OA writes no notice."""
    answer = api.post("fin-01", "approve", {}, {**INSPECTOR, "X-OA-Unit": "fin-01"})
    assert answer.status_code == 403
    assert answer.json()["error"] == "not_authorized"
    _, trail, _, notices = api.read()
    assert (trail[-1].command, trail[-1].outcome, trail[-1].actor_id) == (
        "approve",
        "denied",
        "zhang",
    )
    assert notices == []


@pytest.mark.parametrize(
    ("unit_id", "body", "headers", "status", "mentions"),
    [
        ("fin-01", {"sheet": "s", "hours": -3}, CLERK, 400, "hours"),
        ("fin-01", {"sheet": "s", "hours": "many"}, CLERK, 422, "hours"),
        ("fin-01", {"hours": 2}, CLERK, 422, "sheet"),
        ("fin-01", {"sheet": "s", "hours": 2}, {}, 400, "Actor.id"),
        ("no-such", {"sheet": "s", "hours": 2}, CLERK, 404, "no-such"),
    ],
)
def test_bad_study_requests_are_refused_and_write_nothing(
    api: OAApi, unit_id: str, body: Any, headers: dict[str, str], status: int, mentions: str
) -> None:
    """Malformed input answers 4xx naming the field; no fact, no sheet, no audit record."""
    before = api.read()
    answer = api.post(unit_id, "study", body, headers)
    assert answer.status_code == status
    assert mentions in answer.text
    assert api.read() == before


def test_why_refuses_an_unknown_locale_and_unknown_unit(api: OAApi) -> None:
    """An unsupported locale is a 400 naming the choices; an unknown unit a 404."""
    answer = api.why(locale="fr")
    assert answer.status_code == 400
    assert "zh_CN, en" in answer.json()["detail"]
    assert api.why("nobody").status_code == 404


def test_engine_from_env_uses_psycopg_3_for_postgresql(
    monkeypatch: pytest.MonkeyPatch, example_paths: None
) -> None:
    """OA_DATABASE_URL's postgresql:// URL is served by psycopg 3; unset, a SQLite file."""
    from oa_api import engine_from_env

    monkeypatch.setenv("OA_DATABASE_URL", "postgresql://oa:pw@db.local:6543/oa")
    made = engine_from_env()
    assert (made.dialect.name, made.dialect.driver) == ("postgresql", "psycopg")
    assert made.url.database == "oa"
    made.dispose()
    monkeypatch.delenv("OA_DATABASE_URL")
    made = engine_from_env()
    assert (made.dialect.name, made.url.database) == ("sqlite", "oa_api.db")
    made.dispose()
