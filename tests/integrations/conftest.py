"""Databases for the integration tests: a SQLite file and a private PostgreSQL schema per run.

Django's test runner would create a test database, which needs CREATEDB rights the CI role
does not have. Instead each run gets a fresh PostgreSQL *schema* (``search_path``) in the
shared test database, which the role may create: Django's and the example's tables and
campaignflow's live there and are dropped at the end, so concurrent runs do not meet. Each
test still uses a fresh campaign id. PostgreSQL comes from ``CAMPAIGNFLOW_PG_DSN``: without it
the PostgreSQL cases skip locally and fail in CI, as in the store suite.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import PG_DSN_ENV, pg_dsn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BACKENDS = ("sqlite", "postgres")


def fresh_campaign_id() -> str:
    """A campaign id no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


class PgSchemas:
    """Fresh PostgreSQL schemas in the test database, dropped when the run ends."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.names: list[str] = []

    def create(self, purpose: str) -> str:
        import psycopg

        name = f"cf_it_{purpose}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        self.names.append(name)
        return name

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for name in self.names:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        self.names.clear()


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[PgSchemas | None]:
    """Makes private schemas when a PostgreSQL server is configured (None otherwise)."""
    dsn = os.environ.get(PG_DSN_ENV, "")
    if not dsn:
        yield None
        return
    schemas = PgSchemas(dsn)
    yield schemas
    schemas.drop_all()


def backend_param(request: pytest.FixtureRequest) -> str:
    """The backend of a parametrised test, failing or skipping PostgreSQL as the store suite does."""
    kind: str = request.param
    if kind == "postgres":
        pg_dsn()  # skips locally, fails in CI, when no server is configured
    return kind


@pytest.fixture(scope="session")
def example_paths() -> Iterator[None]:
    """The example projects importable as top-level packages (``oa``, ``oa_site``, ``oa_api``)."""
    added = [str(EXAMPLES / "django_oa"), str(EXAMPLES / "fastapi_oa")]
    sys.path[:0] = added
    yield
    for path in added:
        sys.path.remove(path)


# --- Django -------------------------------------------------------------------------------------

#: The Django database alias of each backend; the "bare" ones are never migrated.
DJANGO_ALIAS = {"sqlite": "default", "postgres": "postgres"}
DJANGO_BARE_ALIAS = {"sqlite": "bare_sqlite", "postgres": "bare_postgres"}


@pytest.fixture(scope="session")
def django_site(
    tmp_path_factory: pytest.TempPathFactory,
    pg_schemas: PgSchemas | None,
    example_paths: None,
) -> Iterator[None]:
    """Django configured with the example's settings on a SQLite file and a private PostgreSQL schema.

    The example project's own settings module provides everything but ``DATABASES``, which
    holds both backends here (aliases in :data:`DJANGO_ALIAS`), migrated with ``migrate``.
    """
    import django
    import oa_site.settings as base
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    folder = tmp_path_factory.mktemp("django")
    databases = {
        "default": base.database_from_url(f"sqlite:///{folder}/oa.sqlite3"),
        "bare_sqlite": base.database_from_url(f"sqlite:///{folder}/bare.sqlite3"),
    }
    if pg_schemas is not None:
        for alias, purpose in (("postgres", "dj"), ("bare_postgres", "djbare")):
            entry = base.database_from_url(pg_schemas.dsn)
            entry["OPTIONS"] = {"options": f"-c search_path={pg_schemas.create(purpose)}"}
            databases[alias] = entry
    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    settings.configure(**{**values, "DATABASES": databases})
    django.setup()
    for alias in DJANGO_ALIAS.values():
        if alias in databases:
            call_command("migrate", database=alias, verbosity=0)
    yield
    connections.close_all()


# --- SQLAlchemy ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_sqlalchemy_schema(pg_schemas: PgSchemas | None) -> str | None:
    """The private PostgreSQL schema the SQLAlchemy tests share (None without a server)."""
    return pg_schemas.create("sa") if pg_schemas is not None else None


def make_engine(kind: str, tmp_path: Path, schema: str | None) -> Any:
    """A SQLAlchemy engine on a fresh SQLite file, or on the private PostgreSQL schema."""
    import sqlalchemy as sa

    if kind == "sqlite":
        return sa.create_engine(f"sqlite:///{tmp_path}/oa_api.db")
    url = "postgresql+psycopg://" + pg_dsn().partition("://")[2]
    assert schema is not None
    return sa.create_engine(url, connect_args={"options": f"-c search_path={schema}"})


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, pg_sqlalchemy_schema: str | None
) -> Iterator[Any]:
    """A SQLAlchemy engine on one backend, disposed after the test."""
    made = make_engine(backend_param(request), tmp_path, pg_sqlalchemy_schema)
    yield made
    made.dispose()
