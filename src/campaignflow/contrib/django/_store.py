"""``DjangoStore``: the portable SQL store on Django's own database connection.

Django keeps one DB-API connection per thread and database alias (``connections[alias]``),
and may close and reopen it between requests (``CONN_MAX_AGE``). The store therefore never
holds a connection: each transaction takes the thread's current one, inside
``transaction.atomic(using=alias)``, and runs the campaign's statements on it through a
joined :class:`~campaignflow.store.SQLStore` (a savepoint per command).

So a command behaves like the ORM: inside the caller's ``atomic()`` block it commits or rolls
back with the caller's own writes; outside one it commits on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.contrib._joined import HostStore, dialect_of
from campaignflow.errors import ValidationError
from campaignflow.store import Dialect, SQLStore, StoreSession, _schema

__all__ = ["DjangoStore", "run_schema_migrations", "upgrade_schema"]


def _check_alias(using: object) -> str:
    from django.db import connections  # type: ignore[import-untyped]

    if not isinstance(using, str) or not using:
        refuse("using", using, "must be a Django database alias")
    if using not in connections.settings:
        known = ", ".join(sorted(connections.settings)) or "none"
        raise ValidationError(
            code="store.django_no_database", params={"using": repr(using), "known": known}
        )
    return using


def _raw(wrapper: Any) -> Any:
    """The DB-API connection under a Django connection wrapper (connecting if needed)."""
    wrapper.ensure_connection()
    return wrapper.connection


def upgrade_schema(using: str = "default") -> tuple[int, int]:
    """Create or upgrade campaignflow's tables in the Django database ``using``.

    What the app's migrations run; call it yourself only when the tables live in a database
    Django does not migrate. Runs inside ``transaction.atomic(using=using)``.

    Returns:
        ``(found, now)``: the schema version the database had (0: none) and has now.

    Raises:
        ValidationError: an unknown alias, a driver campaignflow does not speak, or a database
            written by a later campaignflow release.
    """
    from django.db import connections, transaction

    alias = _check_alias(using)
    with transaction.atomic(using=alias):
        wrapper = connections[alias]
        raw = _raw(wrapper)
        found = _read_version(alias)
        SQLStore.on_connection(
            raw, dialect=dialect_of(raw, where=f"Django database {alias!r}"), migrate=True
        )
    return max(found, 0), _schema.latest_version()


def run_schema_migrations(apps: Any, schema_editor: Any) -> None:
    """The ``RunPython`` step of the app's migrations: :func:`upgrade_schema` on the migrating database."""
    upgrade_schema(schema_editor.connection.alias)


def _read_version(alias: str) -> int:
    """The schema version in the database, -1 when campaignflow's tables are missing."""
    from django.db import DatabaseError, connections, transaction

    try:
        # A savepoint of its own: on PostgreSQL a failed statement would otherwise abort the
        # caller's whole transaction.
        with transaction.atomic(using=alias), connections[alias].cursor() as cur:
            cur.execute(
                "SELECT version FROM cf_schema_version WHERE component = %s", [_schema.COMPONENT]
            )
            row = cur.fetchone()
    except DatabaseError:
        return -1
    return int(row[0]) if row else 0


class DjangoStore(HostStore):
    """A campaign kept in a Django database, inside the caller's ``transaction.atomic()``.

    Each command runs in ``transaction.atomic(using=using)`` on the thread's connection, so
    within the caller's own ``atomic()`` block the campaign's writes (state, facts, audit)
    commit or roll back together with the caller's; outside one, each command commits by
    itself, as ORM writes do. A command that fails undoes only itself (a savepoint); the
    error is raised for the view to handle. One store may serve every thread and request.

    The tables come from the app's migration: add ``"campaignflow.contrib.django"`` to
    ``INSTALLED_APPS`` and run ``python manage.py migrate``. SQLite and PostgreSQL (through
    psycopg 3) are understood; pass ``dialect`` for another database a
    :class:`~campaignflow.store.Dialect` describes.

    On SQLite, set ``OPTIONS={"transaction_mode": "IMMEDIATE"}`` (Django 5.1+), so that
    concurrent writers wait for each other instead of failing with
    :class:`~campaignflow.ConcurrencyConflict`. Django's database layer is synchronous: from
    an async view, call the campaign through ``asgiref.sync.sync_to_async``.

    Args:
        campaign_id: the campaign this store holds (a database can hold several); give the
            ``Campaign`` the same id.
        using: the Django database alias.
        fact_types: the registry that loads stored facts (the default one unless given).
        dialect: how to speak to the database; chosen from the connection when None.
        migrate: create or upgrade the tables on a connection's first use, inside the
            caller's transaction, instead of leaving that to ``manage.py migrate``.

    Raises:
        ImportError: Django is not installed (``pip install 'campaignflow[django]'``).
        ValidationError: an unknown alias or a bad argument; on first use of a connection,
            tables missing or older than this release (run ``python manage.py migrate
            campaignflow``) or written by a later release.
    """

    def __init__(
        self,
        *,
        campaign_id: str = "default",
        using: str = "default",
        fact_types: FactTypes | None = None,
        dialect: Dialect | None = None,
        migrate: bool = False,
    ) -> None:
        self.using = _check_alias(using)
        super().__init__(
            campaign_id=campaign_id, fact_types=fact_types, dialect=dialect, migrate=migrate
        )

    def __repr__(self) -> str:
        return f"<DjangoStore campaign {self.campaign_id!r} on Django database {self.using!r}>"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreSession]:
        """A session inside ``transaction.atomic(using=...)`` on the thread's connection.

        Raises:
            ValidationError: the store is closed, or the tables are missing or out of date.
        """
        from django.db import connections, transaction

        if self._closed:
            raise ValidationError(code="store.closed")
        with transaction.atomic(using=self.using):
            raw = _raw(connections[self.using])
            where = f"Django database {self.using!r}"
            dialect = self.dialect or dialect_of(raw, where=where)
            store, new = self._stores.get(raw, dialect, migrate=self.migrate)
            if new and not self.migrate:
                self._check_schema()
            with store.transaction(write=write) as session:
                yield session

    def _check_schema(self) -> None:
        found, latest = _read_version(self.using), _schema.latest_version()
        if found > latest:
            raise _schema.too_new(found)
        if found < latest:
            self._stores.forget()  # look again on the next command, after the migration
            raise ValidationError(
                code="store.django_tables_missing" if found < 0 else "store.django_tables_old",
                params={"using": repr(self.using), "found": found, "latest": latest},
            )
