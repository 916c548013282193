"""DjangoStore: the campaign's writes live and die with the caller's ``transaction.atomic()``.

Every test runs on SQLite and on PostgreSQL (psycopg 3) through Django's own connections; the
host's table is the OA example's ``StudyLog``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

import campaignflow as cf
from campaignflow.store import SQLiteStore, _schema
from tests.integrations.conftest import (
    BACKENDS,
    DJANGO_ALIAS,
    DJANGO_BARE_ALIAS,
    backend_param,
    fresh_campaign_id,
)
from tests.store.helpers import START, FailingStore, clerk_of, snapshot

T = TypeVar("T")


class Boom(Exception):
    """The host's request fails after both writes."""


class DjangoCase:
    """One backend's Django alias, a fresh campaign id, and the host's table."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.alias = DJANGO_ALIAS[kind]
        self.campaign_id = fresh_campaign_id()
        self.clock = cf.FixedClock(START)

    def store(self, **options: Any) -> Any:
        from campaignflow.contrib.django import DjangoStore

        return DjangoStore(campaign_id=self.campaign_id, using=self.alias, **options)

    def campaign(self, store: Any = None) -> cf.Campaign:
        return cf.Campaign(
            cf.presets.district_2005(),
            store=store if store is not None else self.store(),
            clock=self.clock,
            campaign_id=self.campaign_id,
        )

    def started(self) -> cf.Campaign:
        """A campaign with fin-01 started, committed."""
        camp = self.campaign()
        camp.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1)])
        camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        return camp

    def host_write(self, sheet: str) -> None:
        from oa.models import StudyLog

        StudyLog.objects.using(self.alias).create(
            campaign_id=self.campaign_id,
            unit_id="fin-01",
            sheet=sheet,
            hours=4,
            recorded_by="li",
        )

    def atomic(self) -> Any:
        from django.db import transaction

        return transaction.atomic(using=self.alias)

    def committed(self, read: Callable[[], T]) -> T:
        """``read()`` on another thread, hence another connection: it sees committed data only."""
        return in_thread(read)

    def host_sheets(self) -> list[str]:
        from oa.models import StudyLog

        rows = StudyLog.objects.using(self.alias).filter(campaign_id=self.campaign_id)
        return sorted(rows.values_list("sheet", flat=True))


def in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a new thread (Django gives it its own connections, closed after)."""
    from django.db import connections

    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture(params=BACKENDS)
def dj(request: pytest.FixtureRequest, django_site: None) -> DjangoCase:
    """Django on one backend, with a fresh campaign id."""
    return DjangoCase(backend_param(request))


def test_host_rollback_takes_the_campaign_write_with_it(dj: DjangoCase) -> None:
    """The host writes its row and records a fact in one atomic block that fails: both vanish."""
    camp = dj.started()
    before = snapshot(camp)

    def failing_request() -> None:
        with dj.atomic():
            dj.host_write("sheet-1")
            camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
            assert len(camp.facts("fin-01")) == 1  # visible inside the host's transaction
            raise Boom

    with pytest.raises(Boom):
        failing_request()
    assert dj.host_sheets() == []
    assert snapshot(camp) == before
    assert camp.verify_audit().ok


def test_host_commit_keeps_both(dj: DjangoCase) -> None:
    """The host's row and the campaign's fact, state and audit record commit together."""
    camp = dj.started()
    with dj.atomic():
        dj.host_write("sheet-1")
        record = camp.record(
            "fin-01",
            cf.Milestone("implementation_plan"),
            actor=clerk_of("fin-01"),
            request_id="r-1",
        )
    assert dj.committed(dj.host_sheets) == ["sheet-1"]
    assert dj.committed(lambda: dj.campaign().facts("fin-01")) == (record,)
    assert camp.history("fin-01")[-1].request_id == "r-1"
    assert camp.verify_audit().ok


def test_outside_an_atomic_block_each_command_commits_by_itself(dj: DjangoCase) -> None:
    """Without the caller's atomic block a command commits on its own, as an ORM save does."""
    camp = dj.started()
    record = camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
    assert dj.committed(lambda: dj.campaign().facts("fin-01")) == (record,)
    assert dj.committed(lambda: dj.campaign().state("fin-01").stage) == "preparation"


def test_an_inner_atomic_block_rolls_back_alone(dj: DjangoCase) -> None:
    """A command in a nested atomic block that fails is undone; the host's outer write commits."""
    camp = dj.started()
    before = snapshot(camp)
    with dj.atomic():
        dj.host_write("kept")

        def failing_part() -> None:
            with dj.atomic():
                camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
                raise Boom

        with pytest.raises(Boom):
            failing_part()
    assert dj.host_sheets() == ["kept"]
    assert snapshot(camp) == before


def test_a_failing_command_undoes_only_itself_in_the_host_transaction(dj: DjangoCase) -> None:
    """A command dying after its first write leaves nothing; the host's transaction goes on."""
    camp = dj.started()
    failing = dj.campaign(store=FailingStore(dj.store(), "insert_fact"))
    before = len(list(camp.audit_trail()))
    with dj.atomic():
        dj.host_write("kept")
        with pytest.raises(RuntimeError, match="injected"):
            failing.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk_of("fin-01"))
        camp.record("fin-01", cf.Milestone("leading_group_established"), actor=clerk_of("fin-01"))
    assert dj.host_sheets() == ["kept"]
    assert [f.fact.name for f in camp.facts("fin-01")] == ["leading_group_established"]
    assert len(list(camp.audit_trail())) == before + 1
    assert camp.verify_audit().ok


def test_a_refused_command_is_audited_when_the_host_commits(dj: DjangoCase) -> None:
    """A denial inside the host's block leaves the block usable, and its audit record commits with it."""
    camp = dj.started()
    survey = cf.Survey(satisfied=30, basically_satisfied=2, dissatisfied=0)
    with dj.atomic():
        with pytest.raises(cf.NotAuthorized):
            camp.record("fin-01", survey, actor=clerk_of("fin-01"))  # the unit judging itself
        dj.host_write("after-denial")
    assert dj.host_sheets() == ["after-denial"]
    last = camp.history("fin-01")[-1]
    assert (last.command, last.outcome, last.actor_id) == ("record", "denied", "clerk-fin-01")
    assert camp.facts("fin-01") == ()


def test_threads_share_one_store_on_their_own_connections(dj: DjangoCase) -> None:
    """Six threads record through one store: every fact is kept once and the chain verifies."""
    camp = dj.started()
    threads, each = 6, 4

    def work(n: int) -> None:
        for i in range(each):
            for attempt in range(20):
                try:
                    camp.record(
                        "fin-01",
                        cf.StudySession(hours=1),
                        actor=clerk_of("fin-01"),
                        request_id=f"t{n}-{i}",
                    )
                    break
                except cf.ConcurrencyConflict:
                    assert attempt < 19

    workers = [
        threading.Thread(target=lambda n=n: in_thread(lambda: work(n))) for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    records = camp.facts("fin-01")
    assert sorted(r.request_id or "" for r in records) == sorted(
        f"t{n}-{i}" for n in range(threads) for i in range(each)
    )
    assert camp.verify_audit().ok


def test_missing_tables_name_the_migrate_command_until_the_schema_is_made(
    dj: DjangoCase,
) -> None:
    """On a database never migrated the store says to run migrate; upgrade_schema makes the tables."""
    from campaignflow.contrib.django import DjangoStore, upgrade_schema

    alias = DJANGO_BARE_ALIAS[dj.kind]
    store = DjangoStore(campaign_id=dj.campaign_id, using=alias)

    def first_use() -> cf.Campaign:
        camp = dj.campaign(store=store)
        camp.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1)])
        return camp

    with pytest.raises(cf.ValidationError, match=r"missing.*manage\.py migrate campaignflow"):
        first_use()
    assert upgrade_schema(alias) == (0, _schema.latest_version())
    assert upgrade_schema(alias) == (_schema.latest_version(), _schema.latest_version())
    camp = first_use()
    assert [u.id for u, _ in camp.units()] == ["fin-01"]
    assert camp.verify_audit().ok


def test_the_migration_creates_the_library_schema(django_site: None, tmp_path: Path) -> None:
    """The Django migration's tables are column for column those SQLiteStore creates."""
    from django.db import connections

    SQLiteStore(tmp_path / "own.db").close()
    own = sqlite3.connect(tmp_path / "own.db")
    tables = [
        row[0]
        for row in own.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    assert "cf_audit" in tables
    with connections["default"].cursor() as cur:
        for table in tables:
            cur.execute(f"PRAGMA table_info({table})")
            assert cur.fetchall() == own.execute(f"PRAGMA table_info({table})").fetchall(), table
        cur.execute("SELECT version FROM cf_schema_version")
        assert cur.fetchall() == [(_schema.latest_version(),)]
    own.close()


def test_bad_arguments_name_the_field(django_site: None) -> None:
    """An unknown alias, an empty campaign id or a wrong dialect is a ValidationError saying which."""
    from campaignflow.contrib.django import DjangoStore

    with pytest.raises(cf.ValidationError, match=r"using: no Django database 'nope'.*default"):
        DjangoStore(using="nope")
    with pytest.raises(cf.ValidationError, match="campaign_id"):
        DjangoStore(campaign_id="")
    with pytest.raises(cf.ValidationError, match="dialect"):
        DjangoStore(dialect="sqlite")  # type: ignore[arg-type]


def test_a_closed_store_refuses_commands(dj: DjangoCase) -> None:
    """close() makes the store unusable and leaves Django's connection working."""
    from django.db import connections

    camp = dj.started()
    camp.close()
    with pytest.raises(cf.ValidationError, match="closed"):
        camp.state("fin-01")
    with connections[dj.alias].cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_a_driver_no_dialect_speaks_is_refused() -> None:
    """A connection of a driver campaignflow does not speak is refused with the remedy."""
    from campaignflow.contrib._joined import dialect_of

    class Psycopg2Connection:
        __module__ = "psycopg2.extensions"

    with pytest.raises(cf.ValidationError, match=r"psycopg2 connection.*psycopg 3"):
        dialect_of(Psycopg2Connection(), where="Django database 'default'")
    with pytest.raises(cf.ValidationError, match=r"pass dialect="):
        dialect_of(object(), where="the connection")

    class AsyncConnection:
        __module__ = "psycopg.connection_async"

    with pytest.raises(cf.ValidationError, match=r"synchronous engine"):
        dialect_of(AsyncConnection(), where="the SQLAlchemy connection")


def test_a_database_migrated_by_an_older_release_catches_up(django_site: None) -> None:
    """The app's newest migration runs the schema steps again, so a database whose tables
    an older release's ``0001_initial`` made gets the later steps from ``manage.py migrate``."""
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    from campaignflow.contrib.django._store import run_schema_migrations

    loader = MigrationLoader(connections["default"])
    leaves = loader.graph.leaf_nodes("campaignflow")
    assert len(leaves) == 1, leaves
    assert leaves[0][1] != "0001_initial"
    last = loader.graph.nodes[leaves[0]]
    assert [op.code for op in last.operations] == [run_schema_migrations]
    assert ("campaignflow", "0001_initial") in loader.graph.forwards_plan(leaves[0])
