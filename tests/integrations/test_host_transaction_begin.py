"""Building a Campaign on a host-joined store leaves the host free to begin its own transaction.

Issue 16: ``cf.Campaign(..., store=SQLAlchemyStore(session))`` used to begin a transaction on
the session (the constructor reads the store), so a following ``with session.begin():`` raised
``InvalidRequestError``. Every case runs on SQLite and PostgreSQL: the campaign is built
first, then the host's own transaction holds the host's row and the campaign's writes, which
commit (or roll back) together. Django's ``atomic(durable=True)``, which refuses to nest, is
checked the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

import campaignflow as cf
from tests.store.helpers import clerk_of, snapshot

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.orm import Session  # noqa: E402

from campaignflow.contrib.sqlalchemy import SQLAlchemyStore  # noqa: E402
from tests.integrations.conftest import BACKENDS, backend_param  # noqa: E402
from tests.integrations.test_django_store import DjangoCase  # noqa: E402
from tests.integrations.test_sqlalchemy_store import Boom, Host  # noqa: E402

PLAN = cf.Milestone("implementation_plan")
GROUP = cf.Milestone("leading_group_established")


@pytest.fixture
def host(engine: Any, example_paths: None) -> Host:
    """The FastAPI example's tables on one backend, with a fresh campaign whose fin-01 has started."""
    made = Host(engine)
    made.started()
    return made


@pytest.fixture(params=BACKENDS)
def dj(request: pytest.FixtureRequest, django_site: None) -> DjangoCase:
    """Django on one backend, with a fresh campaign id."""
    return DjangoCase(backend_param(request))


def names(camp: cf.Campaign) -> list[str]:
    """The names of fin-01's facts in the campaign's current stage."""
    return [f.fact.name for f in camp.facts("fin-01")]


def test_session_begin_after_building_the_campaign_commits_both(host: Host) -> None:
    """Campaign(...) on a Session, then session.begin(): the host's row and the campaign's writes commit."""
    trail = len(host.snapshot()[2])
    with Session(host.engine) as session:
        camp = host.campaign(session)
        assert not session.in_transaction()
        with session.begin():
            session.add(host.row("sheet-1"))
            camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
            camp.record("fin-01", GROUP, actor=clerk_of("fin-01"))
        assert not session.in_transaction()
        assert len(names(camp)) == 2  # a read between transactions ...
        with session.begin():  # ... leaves the session free again
            moved = camp.advance("fin-01", actor=clerk_of("fin-01"))
    assert host.sheets() == ["sheet-1"]
    with host.engine.connect() as conn:
        camp = host.campaign(conn)
        assert camp.state("fin-01").stage == moved.dest != moved.source
        assert len(list(camp.audit_trail())) == trail + 3
        assert camp.verify_audit().ok


def test_session_begin_after_building_the_campaign_rolls_back_both(host: Host) -> None:
    """An exception in the host's block takes its row and the campaign's write away."""
    before = host.snapshot()

    def failing_request() -> None:
        with Session(host.engine) as session:
            camp = host.campaign(session)
            with session.begin():
                session.add(host.row("sheet-1"))
                camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
                raise Boom

    with pytest.raises(Boom):
        failing_request()
    assert host.sheets() == []
    assert host.snapshot() == before


def test_connection_begin_after_building_the_campaign_commits_both(host: Host) -> None:
    """Campaign(...) on a Core Connection, then conn.begin(): both writes commit."""
    with host.engine.connect() as conn:
        camp = host.campaign(conn)
        assert not conn.in_transaction()
        with conn.begin():
            conn.execute(sa.insert(host.log.__table__), [host.values("sheet-1")])
            camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
    assert host.sheets() == ["sheet-1"]
    with host.engine.connect() as conn:
        assert names(host.campaign(conn)) == ["implementation_plan"]


def test_session_bound_to_a_connection_may_begin_after_building_the_campaign(host: Host) -> None:
    """A Session bound to a Connection (the join-an-outer-transaction recipe) begins as well."""
    with host.engine.connect() as conn, Session(bind=conn) as session:
        camp = host.campaign(session)
        assert not session.in_transaction()
        assert not conn.in_transaction()
        with session.begin():
            session.add(host.row("sheet-1"))
            camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
    assert host.sheets() == ["sheet-1"]


def test_a_write_outside_a_transaction_still_begins_one_for_the_caller(host: Host) -> None:
    """Unchanged: a command that writes with no transaction open begins the caller's, to be ended by it."""
    before = host.snapshot()
    with Session(host.engine) as session:
        camp = host.campaign(session)
        camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
        assert session.in_transaction()
        session.rollback()
    assert host.snapshot() == before


def test_migrate_on_a_current_schema_begins_nothing(host: Host) -> None:
    """migrate=True on tables already current: building the campaign leaves the session free too."""
    with Session(host.engine) as session:
        store = SQLAlchemyStore(session, campaign_id=host.campaign_id, migrate=True)
        camp = host.campaign(session, store=store)
        assert not session.in_transaction()
        with session.begin():
            camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
    with host.engine.connect() as conn:
        assert names(host.campaign(conn)) == ["implementation_plan"]


def test_django_durable_atomic_after_building_the_campaign_commits_both(dj: DjangoCase) -> None:
    """DjangoStore: Campaign(...) leaves no atomic block open, so a durable one may follow."""
    from django.db import connections, transaction

    dj.started()
    camp = dj.campaign()
    assert not connections[dj.alias].in_atomic_block
    with transaction.atomic(using=dj.alias, durable=True):
        dj.host_write("sheet-1")
        camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
    assert dj.committed(dj.host_sheets) == ["sheet-1"]
    assert dj.committed(lambda: names(dj.campaign())) == ["implementation_plan"]


def test_django_durable_atomic_after_building_the_campaign_rolls_back_both(dj: DjangoCase) -> None:
    """An exception in the durable block takes the host's row and the campaign's write away."""
    from django.db import transaction

    dj.started()
    before = dj.committed(lambda: snapshot(dj.campaign()))

    def failing_request() -> None:
        camp = dj.campaign()
        with transaction.atomic(using=dj.alias, durable=True):
            dj.host_write("sheet-1")
            camp.record("fin-01", PLAN, actor=clerk_of("fin-01"))
            raise Boom

    with pytest.raises(Boom):
        failing_request()
    assert dj.committed(dj.host_sheets) == []
    assert dj.committed(lambda: snapshot(dj.campaign())) == before
