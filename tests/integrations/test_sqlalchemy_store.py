"""SQLAlchemyStore: the campaign's writes share the caller's SQLAlchemy transaction.

Every test runs on a SQLite file (``sqlite:///``) and on PostgreSQL (``postgresql+psycopg://``),
through Core connections and ORM sessions; the host's table is the FastAPI example's
``StudyLog``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.store import _schema
from tests.integrations.conftest import fresh_campaign_id
from tests.store.helpers import START, FailingStore, clerk_of, snapshot

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.orm import Session  # noqa: E402

from campaignflow.contrib.sqlalchemy import SQLAlchemyStore, upgrade_schema  # noqa: E402


class Boom(Exception):
    """The host's request fails after both writes."""


class Host:
    """An engine with the example's tables and campaignflow's, and a fresh campaign."""

    def __init__(self, engine: Any) -> None:
        from oa_api import Base, StudyLog

        self.engine = engine
        self.log = StudyLog
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            upgrade_schema(conn)
        self.campaign_id = fresh_campaign_id()
        self.clock = cf.FixedClock(START)

    def campaign(self, bind: Any, store: Any = None) -> cf.Campaign:
        return cf.Campaign(
            cf.presets.district_2005(),
            store=store or SQLAlchemyStore(bind, campaign_id=self.campaign_id),
            clock=self.clock,
            campaign_id=self.campaign_id,
        )

    def started(self) -> None:
        with Session(self.engine) as session, session.begin():
            camp = self.campaign(session)
            camp.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1)])
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))

    def values(self, sheet: str) -> dict[str, Any]:
        """The host's row for ``sheet``."""
        return {
            "campaign_id": self.campaign_id,
            "unit_id": "fin-01",
            "sheet": sheet,
            "hours": 4,
            "guided": False,
            "recorded_by": "li",
        }

    def row(self, sheet: str) -> Any:
        return self.log(**self.values(sheet))

    def sheets(self) -> list[str]:
        """The host's committed rows (a new connection)."""
        with Session(self.engine) as session:
            found = session.scalars(
                sa.select(self.log.sheet).where(self.log.campaign_id == self.campaign_id)
            )
            return sorted(found)

    def snapshot(self) -> Any:
        """The campaign's committed data (a new connection)."""
        with self.engine.connect() as conn:
            return snapshot(self.campaign(conn))


@pytest.fixture
def host(engine: Any, example_paths: None) -> Host:
    """The example's tables on one backend, with a fresh campaign whose fin-01 has started."""
    made = Host(engine)
    made.started()
    return made


def test_session_rollback_takes_the_campaign_write_with_it(host: Host) -> None:
    """An ORM session's row and a fact recorded through the store vanish together on an exception."""
    before = host.snapshot()

    def failing_request() -> None:
        with Session(host.engine) as session, session.begin():
            session.add(host.row("sheet-1"))
            camp = host.campaign(session)
            camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
            assert len(camp.facts("fin-01")) == 1  # visible inside the transaction
            raise Boom

    with pytest.raises(Boom):
        failing_request()
    assert host.sheets() == []
    assert host.snapshot() == before


def test_session_commit_keeps_both(host: Host) -> None:
    """The session's row and the campaign's fact and audit record commit together."""
    with Session(host.engine) as session, session.begin():
        session.add(host.row("sheet-1"))
        record = host.campaign(session).record(
            "fin-01",
            cf.Milestone("implementation_plan"),
            actor=clerk_of("fin-01"),
            request_id="r-1",
        )
    assert host.sheets() == ["sheet-1"]
    with host.engine.connect() as conn:
        camp = host.campaign(conn)
        assert camp.facts("fin-01") == (record,)
        assert camp.history("fin-01")[-1].request_id == "r-1"
        assert camp.verify_audit().ok


def test_core_connection_rollback_before_any_host_write(host: Host) -> None:
    """On a Connection with no transaction yet, the store's command still belongs to the caller's rollback."""
    before = host.snapshot()
    with host.engine.connect() as conn:
        assert not conn.in_transaction()
        host.campaign(conn).record(
            "fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01")
        )
        conn.execute(sa.insert(host.log.__table__), [host.values("late")])
        conn.rollback()
    assert host.sheets() == []
    assert host.snapshot() == before


def test_core_connection_commit_keeps_both(host: Host) -> None:
    """commit() on the caller's Connection keeps the campaign's write and the caller's."""
    with host.engine.connect() as conn:
        conn.execute(sa.insert(host.log.__table__), [host.values("sheet-1")])
        host.campaign(conn).record(
            "fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01")
        )
        conn.commit()
    assert host.sheets() == ["sheet-1"]
    with host.engine.connect() as conn:
        assert [f.fact.name for f in host.campaign(conn).facts("fin-01")] == ["implementation_plan"]


def test_a_failing_command_undoes_only_itself(host: Host) -> None:
    """A command dying after its first write leaves nothing; the caller's transaction commits the rest."""
    trail = len(host.snapshot()[2])
    with Session(host.engine) as session, session.begin():
        session.add(host.row("kept"))
        failing = host.campaign(
            session,
            store=FailingStore(
                SQLAlchemyStore(session, campaign_id=host.campaign_id), "insert_fact"
            ),
        )
        with pytest.raises(RuntimeError, match="injected"):
            failing.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
        host.campaign(session).record(
            "fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01")
        )
    assert host.sheets() == ["kept"]
    _, facts, audit = host.snapshot()
    assert [f.fact.name for stage in facts for f in stage] == ["leading_group_established"]
    assert len(audit) == trail + 1
    with host.engine.connect() as conn:
        assert host.campaign(conn).verify_audit().ok


def test_upgrade_schema_creates_the_tables_once(engine: Any, example_paths: None) -> None:
    """On a database without campaignflow's tables, upgrade_schema creates them; again, it changes nothing."""
    latest = _schema.latest_version()
    with engine.begin() as conn:
        found, now = upgrade_schema(conn)
    assert now == latest
    assert found in (0, latest)  # PostgreSQL's schema is shared by the run's tests
    with engine.begin() as conn:
        assert upgrade_schema(conn) == (latest, latest)
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table("cf_audit")


def test_migrate_on_first_use_makes_the_tables_in_the_callers_transaction(
    tmp_path: Any,
) -> None:
    """migrate=True creates the tables inside the caller's transaction: its rollback takes them away."""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/fresh.db")
    try:
        with engine.connect() as conn:
            camp = cf.Campaign(
                cf.presets.district_2005(),
                store=SQLAlchemyStore(conn, campaign_id="c", migrate=True),
                campaign_id="c",
            )
            assert camp.units() == []
            conn.rollback()
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("cf_audit")
    finally:
        engine.dispose()


def test_bad_arguments_name_the_field(tmp_path: Any) -> None:
    """A bind that is neither Connection nor Session, an empty campaign id, a closed connection."""
    with pytest.raises(cf.ValidationError, match="Connection or ORM Session"):
        SQLAlchemyStore("sqlite:///x.db")  # type: ignore[arg-type]
    engine = sa.create_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        with engine.connect() as conn:
            with pytest.raises(cf.ValidationError, match="campaign_id"):
                SQLAlchemyStore(conn, campaign_id="")
            with pytest.raises(cf.ValidationError, match="dialect"):
                SQLAlchemyStore(conn, dialect="sqlite")  # type: ignore[arg-type]
            store = SQLAlchemyStore(conn, migrate=True)
        with pytest.raises(cf.ValidationError, match="closed"), store.transaction():
            pass
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("module", "extra"),
    [("campaignflow.contrib.sqlalchemy", "sqlalchemy"), ("campaignflow.contrib.django", "django")],
)
def test_a_missing_framework_names_the_extra(module: str, extra: str) -> None:
    """Importing an integration without its framework says which extra to install."""
    code = (
        f"import sys; sys.modules[{extra!r}] = None\n"
        f"try:\n    import {module}\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert f"pip install 'campaignflow[{extra}]'" in done.stdout


#: What a request does inside its transaction: write the host's row, record a fact, be refused
#: (an audited denial), or run a command that dies half-way (undone, nothing kept).
STEPS = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["host", "fact", "denied", "failing"]), max_size=4),
        st.sampled_from(["commit", "rollback"]),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.sized(default=5)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(requests=STEPS)
def test_committed_data_is_exactly_that_of_committed_requests(
    engine: Any, example_paths: None, requests: list[tuple[list[str], str]]
) -> None:
    """For any mix of host writes, commands, denials and failures, what survives is what was committed."""
    host = Host(engine)  # a fresh campaign per example
    host.started()
    base = len(host.snapshot()[2])
    sheets: list[str] = []
    facts: list[str] = []
    denials = 0
    survey = cf.Survey(satisfied=30, basically_satisfied=2, dissatisfied=0)
    for n, (steps, end) in enumerate(requests):
        wrote: tuple[list[str], list[str], int] = ([], [], 0)
        with Session(host.engine) as session:
            session.begin()
            camp = host.campaign(session)
            for i, step in enumerate(steps):
                key = f"{n}-{i}"
                if step == "host":
                    session.add(host.row(key))
                    session.flush()
                    wrote[0].append(key)
                elif step == "fact":
                    camp.record(
                        "fin-01", cf.StudySession(hours=1), actor=clerk_of("fin-01"), request_id=key
                    )
                    wrote[1].append(key)
                elif step == "denied":
                    with pytest.raises(cf.NotAuthorized):
                        camp.record("fin-01", survey, actor=clerk_of("fin-01"), request_id=key)
                    wrote = (wrote[0], wrote[1], wrote[2] + 1)
                else:
                    store = FailingStore(
                        SQLAlchemyStore(session, campaign_id=host.campaign_id), "insert_fact"
                    )
                    with pytest.raises(RuntimeError, match="injected"):
                        host.campaign(session, store=store).record(
                            "fin-01", cf.StudySession(hours=1), actor=clerk_of("fin-01")
                        )
            if end == "commit":
                session.commit()
                sheets += wrote[0]
                facts += wrote[1]
                denials += wrote[2]
            else:
                session.rollback()
        assert host.sheets() == sorted(sheets)
        _, stages, audit = host.snapshot()
        assert sorted(f.request_id or "" for stage in stages for f in stage) == sorted(facts)
        assert len(audit) == base + len(facts) + denials
    with host.engine.connect() as conn:
        assert host.campaign(conn).verify_audit().ok


def test_a_writer_waiting_on_an_open_host_transaction_gets_a_retryable_conflict(
    host: Host, pg_sqlalchemy_schema: str | None
) -> None:
    """While one request's transaction holds the campaign, another with a lock timeout gets ConcurrencyConflict; its retry succeeds."""
    url = host.engine.url
    if url.get_backend_name() == "sqlite":
        impatient = sa.create_engine(url, connect_args={"timeout": 0.2})
    else:
        options = f"-c search_path={pg_sqlalchemy_schema} -c lock_timeout=200"
        impatient = sa.create_engine(url, connect_args={"options": options})
    try:
        with Session(host.engine) as first, first.begin():
            host.campaign(first).record(
                "fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01")
            )
            with Session(impatient) as second:
                second.begin()
                with pytest.raises(cf.ConcurrencyConflict, match="retry"):
                    host.campaign(second).record(
                        "fin-01",
                        cf.Milestone("leading_group_established"),
                        actor=clerk_of("fin-01"),
                    )
                second.rollback()
        with Session(impatient) as second, second.begin():
            host.campaign(second).record(
                "fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01")
            )
    finally:
        impatient.dispose()
    with host.engine.connect() as conn:
        camp = host.campaign(conn)
        assert [f.fact.name for f in camp.facts("fin-01")] == [
            "implementation_plan",
            "leading_group_established",
        ]
        assert camp.verify_audit().ok
