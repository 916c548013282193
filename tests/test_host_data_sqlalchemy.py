"""A host-reading guard inside the host's own transaction: the SQLAlchemy store on SQLite.

The host data is a roster provider bound to the request's ``Session``: the guard reads the
host's ``employees`` table through the same session the campaign's store joins, so it sees
the host's uncommitted rows, and the campaign's writes commit or roll back with the host's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from tests.test_host_data import CLERK, UNITS, Attendance, workflow

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.orm import Session  # noqa: E402

from campaignflow.contrib.sqlalchemy import SQLAlchemyStore  # noqa: E402

META = sa.MetaData()
EMPLOYEES = sa.Table(
    "employees",
    META,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("branch", sa.String, nullable=False),
)


class SessionRoster:
    """The host's roster, read through the request's session (its transaction included)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self, branch: str) -> tuple[str, ...]:
        """The branch's current employee ids, as this session sees them."""
        query = sa.select(EMPLOYEES.c.id).where(EMPLOYEES.c.branch == branch)
        return tuple(self.session.execute(query).scalars())


def test_a_guard_reads_the_host_table_through_the_joined_session(tmp_path: Path) -> None:
    """The verdict counts the host's uncommitted roster rows; a rolled-back hire leaves nothing."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'oa.db'}")
    META.create_all(engine)
    with Session(engine) as session:
        store = SQLAlchemyStore(session, campaign_id="oa", migrate=True)
        roster = SessionRoster(session)
        with session.begin():  # migrate=True makes the campaign's tables in this transaction
            camp = cf.Campaign(
                workflow(),
                store=store,
                clock=cf.FixedClock(date(2005, 3, 1)),
                campaign_id="oa",
                host=roster,
            )
            session.execute(
                sa.insert(EMPLOYEES), [{"id": f"e{i}", "branch": "b1"} for i in range(10)]
            )
            camp.add_units(UNITS[:1])
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
            for i in range(9):
                camp.record("b1", Attendance(f"e{i}"), actor=CLERK)
            assert camp.check("b1").allowed  # the uncommitted roster, read in this transaction
        with session.begin():
            session.execute(sa.insert(EMPLOYEES), [{"id": "new", "branch": "b1"}])
            held = camp.check("b1")
            assert not held.allowed
            assert held.verdicts[0].params["employees"] == 11
            with pytest.raises(cf.TransitionRejected):
                camp.advance("b1", actor=CLERK)
            session.rollback()
        assert camp.state("b1").stage == "study_mobilization"
        with session.begin():
            moved = camp.advance("b1", actor=CLERK, host=SessionRoster(session))
        assert moved.dest == "accepted"
        last = camp.history("b1")[-1]
        assert last.decision is not None
        params = last.decision["candidates"][0]["verdicts"][0]["params"]
        assert (params["attended"], params["employees"]) == (9, 10)
        assert camp.verify_audit().ok
    engine.dispose()


def test_no_host_data_is_refused_inside_the_hosts_transaction(tmp_path: Path) -> None:
    """Without host data the call raises guard.host_missing and the host may still commit."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'oa.db'}")
    META.create_all(engine)
    with Session(engine) as session:
        with session.begin():
            camp = cf.Campaign(
                workflow(),
                store=SQLAlchemyStore(session, campaign_id="oa", migrate=True),
                clock=cf.FixedClock(date(2005, 3, 1)),
                campaign_id="oa",
            )
            camp.add_units(UNITS[:1])
            camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
            with pytest.raises(cf.ValidationError, match="host"):
                camp.advance("b1", actor=CLERK)
        assert camp.state("b1").stage == "study_mobilization"
        assert [a.dest for a in camp.history("b1")] == ["pending", "study_mobilization"]
    engine.dispose()
