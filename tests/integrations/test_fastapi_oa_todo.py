"""The FastAPI OA example's 待办 endpoint, acting from it, and its notification consumer (SQLite, PostgreSQL).

Three units under two districts: fin-01 (east) and vil-03 (west) await the supervision
group's approval, edu-02 (east) may advance. Each test has its own campaign.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import campaignflow as cf
from tests.integrations.conftest import fresh_campaign_id
from tests.store.helpers import START, clerk_of, satisfy

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
sa = pytest.importorskip("sqlalchemy")
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient
from sqlalchemy.orm import Session  # noqa: E402

from campaignflow.contrib.sqlalchemy import SQLAlchemyStore  # noqa: E402

EAST = {"X-OA-User": "zhang", "X-OA-Roles": "supervision_group", "X-OA-Organisation": "east"}
WEST = {"X-OA-User": "wang", "X-OA-Roles": "supervision_group", "X-OA-Organisation": "west"}
EDU_CLERK = {"X-OA-User": "clerk-edu", "X-OA-Roles": "branch_committee", "X-OA-Unit": "edu-02"}
FIN_CLERK = {"X-OA-User": "clerk-fin", "X-OA-Roles": "branch_committee", "X-OA-Unit": "fin-01"}


class TodoApi:
    """The example API on one engine, with a committed campaign of three units."""

    def __init__(self, engine: Any, client: TestClient, clock: cf.FixedClock) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.campaign_id = fresh_campaign_id()
        with Session(engine) as session, session.begin():
            camp = self.campaign(session)
            camp.add_organisations(
                [
                    cf.Organisation("east", "东区", "district"),
                    cf.Organisation("west", "西区", "district"),
                ]
            )
            camp.add_units(
                [
                    cf.Unit(
                        id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, parent="east"
                    ),
                    cf.Unit(
                        id="edu-02", name="区教育局机关党支部", kind="organ", batch=1, parent="east"
                    ),
                    cf.Unit(id="vil-03", name="西村党支部", kind="village", batch=1, parent="west"),
                ]
            )
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
            for unit_id in ("fin-01", "edu-02", "vil-03"):
                satisfy(camp, clock, unit_id)
            for unit_id in ("fin-01", "vil-03"):
                camp.advance(unit_id, actor=clerk_of(unit_id))

    def campaign(self, bind: Any) -> cf.Campaign:
        return cf.Campaign(
            cf.presets.district_2005(),
            store=SQLAlchemyStore(bind, campaign_id=self.campaign_id),
            clock=self.clock,
            campaign_id=self.campaign_id,
        )

    def todo(self, headers: dict[str, str], **params: Any) -> Any:
        return self.client.get(
            f"/campaigns/{self.campaign_id}/todo", params=params, headers=headers
        )

    def shown(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        answer = self.todo(headers)
        assert answer.status_code == 200, answer.text
        return [(i["unit"], i["kind"]) for i in answer.json()["items"]]

    def act(self, unit_id: str, kind: str, headers: dict[str, str]) -> Any:
        return self.client.post(
            f"/campaigns/{self.campaign_id}/todo/act",
            json={"unit": unit_id, "kind": kind, "comment": "同意"},
            headers=headers,
        )

    def read(self, fn: Any) -> Any:
        with Session(self.engine) as session:
            return fn(self.campaign(session), session)

    def notifications(self) -> list[tuple[str, str]]:
        from oa_api import Notification

        def rows(camp: cf.Campaign, session: Session) -> list[tuple[str, str]]:
            query = (
                sa.select(Notification.event_id, Notification.recipient)
                .where(Notification.campaign_id == self.campaign_id)
                .order_by(Notification.cursor, Notification.recipient)
            )
            return [(e, r) for e, r in session.execute(query)]

        return list(self.read(rows))

    def expected(self) -> list[tuple[str, str]]:
        from oa_notify import recipients

        def feed(camp: cf.Campaign, session: Session) -> list[tuple[str, str]]:
            page = camp.events(after=0, limit=10_000)
            assert not page.more
            return sorted(
                ((e.id, r) for e in page.events for r in recipients(e)),
                key=lambda m: (int(m[0].rpartition(":")[2]), m[1]),
            )

        return list(self.read(feed))


@pytest.fixture
def api(engine: Any, example_paths: None) -> Iterator[TodoApi]:
    """The example's app on one backend (its lifespan creates the tables), day fixed in 2005."""
    from oa_api import create_app

    clock = cf.FixedClock(START)
    with TestClient(create_app(engine, clock=clock)) as client:
        yield TodoApi(engine, client, clock)


def test_the_list_shows_exactly_the_askers_items(api: TodoApi) -> None:
    """Each asker sees its sub-tree's approvals or its own unit's items, nothing of another sub-tree."""
    assert api.shown(EAST) == [("fin-01", "approval")]
    assert api.shown(WEST) == [("vil-03", "approval")]
    assert api.shown(EDU_CLERK) == [("edu-02", "advance")]
    (item,) = api.todo(EAST).json()["items"]
    assert item == {
        "unit": "fin-01",
        "unit_name": "区财政局机关党支部",
        "kind": "approval",
        "role": "supervision_group",
        "awaited": "待督导组审批转段",
        "stage": "study_mobilization",
        "stage_name": "学习动员",
        "since": "2005-01-10",
        "deadline": "2005-06-30",
        "gates": [
            {
                "code": "approval.missing",
                "params": item["gates"][0]["params"],
                "message": "尚未经督导组批准转段",
            }
        ],
        "action": "approve",
    }


def test_the_list_is_paged_by_cursor(api: TodoApi) -> None:
    """One item a page for the whole district's inspector: fin-01, then vil-03, then the end."""
    everyone = {"X-OA-User": "chen", "X-OA-Roles": "supervision_group"}
    first = api.todo(everyone, limit=1).json()
    assert ([i["unit"] for i in first["items"]], first["more"]) == (["fin-01"], True)
    second = api.todo(everyone, limit=1, after=first["cursor"]).json()
    assert ([i["unit"] for i in second["items"]], second["more"]) == (["vil-03"], False)
    assert api.todo(everyone, after="forged").status_code == 400


def test_approving_from_the_list_records_it_and_the_item_goes(api: TodoApi) -> None:
    """The east inspector approves fin-01: the approval and a notice commit, the item leaves the list."""
    answer = api.act("fin-01", "approval", EAST)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "unit": "fin-01",
        "stage": "study_mobilization",
        "decision": "approved",
    }
    assert api.shown(EAST) == []
    facts = api.read(lambda camp, _: camp.facts("fin-01", "study_mobilization"))
    assert [(f.fact.role, f.actor_id) for f in facts] == [("supervision_group", "zhang")]


def test_acting_outside_ones_scope_is_refused(api: TodoApi) -> None:
    """Another district's unit, another unit's advance, a clerk's approval: refused, nothing recorded."""
    assert api.act("fin-01", "approval", WEST).status_code == 403
    assert api.act("edu-02", "advance", FIN_CLERK).status_code == 403
    assert api.act("fin-01", "approval", FIN_CLERK).status_code == 403  # the library: own unit
    assert api.act("fin-01", "facts", EAST).status_code == 400
    assert api.read(lambda camp, _: camp.facts("fin-01", "study_mobilization")) == ()
    history = api.read(lambda camp, _: camp.history("fin-01"))
    assert [(r.outcome, r.actor_id) for r in history if r.command == "approve"] == [
        ("denied", "clerk-fin")
    ]


def test_the_clerk_advances_the_unit_from_the_list(api: TodoApi) -> None:
    """edu-02's advance item moves it to study; the item goes."""
    answer = api.act("edu-02", "advance", EDU_CLERK)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"unit": "edu-02", "stage": "study_mobilization", "from": "preparation"}
    assert ("edu-02", "advance") not in api.shown(EDU_CLERK)


def test_the_consumer_delivers_each_event_once_when_run_twice(api: TodoApi) -> None:
    """A second run writes nothing; every event's messages are there once."""
    from oa_notify import send_reminders_and_deliver

    api.shown(EAST)  # the inbox's catch-up writes the work-item events
    written = send_reminders_and_deliver(api.engine, api.campaign_id, clock=api.clock)
    assert written == len(api.expected()) > 5
    assert send_reminders_and_deliver(api.engine, api.campaign_id, clock=api.clock) == 0
    assert api.notifications() == api.expected()


def test_the_consumer_delivers_each_event_once_after_a_crash_before_commit(
    api: TodoApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after writing a page's messages, before its commit, loses and repeats nothing."""
    import oa_notify

    pages = {"n": 0}
    real_add_all = Session.add_all

    def crashing_add_all(self: Session, rows: Any) -> None:
        real_add_all(self, rows)
        pages["n"] += 1
        if pages["n"] == 2:  # the second page's messages are in the session, not committed
            self.flush()
            raise RuntimeError("the consumer's process died")

    monkeypatch.setattr(Session, "add_all", crashing_add_all)
    with pytest.raises(RuntimeError, match="died"):
        oa_notify.deliver(api.engine, api.campaign_id, clock=api.clock, page_size=2)
    first_page = api.notifications()
    assert 0 < len(first_page) < len(api.expected())
    oa_notify.deliver(api.engine, api.campaign_id, clock=api.clock, page_size=2)
    oa_notify.deliver(api.engine, api.campaign_id, clock=api.clock, page_size=2)
    assert api.notifications() == api.expected()


def test_the_scheduled_job_runs_from_the_command_line(
    api: TodoApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python oa_notify.py CAMPAIGN`` delivers on the engine OA_DATABASE_URL names; again, nothing."""
    import oa_notify

    monkeypatch.setattr(oa_notify, "engine_from_env", lambda: api.engine)
    monkeypatch.setenv("OA_TODAY", START.isoformat())
    assert oa_notify.main([api.campaign_id]) == 0
    assert oa_notify.main([api.campaign_id]) == 0
    assert oa_notify.main([]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"{api.campaign_id}: 0 notifications"
    assert int(out[0].split(": ")[1].split()[0]) == len(api.notifications()) > 0
