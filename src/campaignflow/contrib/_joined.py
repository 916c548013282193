"""What the integrations share: the dialect of a host's DB-API connection, one joined store per connection.

A framework hands out a DB-API connection per thread (Django) or per request (SQLAlchemy),
and may replace it (a reconnect, a connection returned to the pool). The campaign's store
must follow: :class:`JoinedStores` keeps, per thread, the joined
:class:`~campaignflow.store.SQLStore` of the connection in use and builds a new one when the
connection changes.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from typing import Any

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.errors import ValidationError
from campaignflow.store import Dialect, SQLStore

__all__ = ["HostStore", "JoinedStores", "dialect_of", "missing_extra"]


def missing_extra(package: str, extra: str) -> ImportError:
    """The error for an integration whose framework is not installed."""
    return ImportError(
        f"campaignflow.contrib.{extra} needs {package}, which is not installed; "
        f"pip install 'campaignflow[{extra}]'"
    )


def dialect_of(raw: Any, *, where: str) -> Dialect:
    """The shipped dialect that speaks to the DB-API connection ``raw``.

    Raises:
        ValidationError: a driver no shipped dialect speaks (psycopg 2, MySQL, …); ``where``
            names the connection in the message.
    """
    if isinstance(raw, sqlite3.Connection):
        from campaignflow.store.sqlite import SQLITE

        return SQLITE
    psycopg = sys.modules.get("psycopg")  # a psycopg connection means psycopg is imported
    if psycopg is not None and isinstance(raw, psycopg.Connection):
        from campaignflow.store.postgres import postgres_dialect

        return postgres_dialect()
    driver = type(raw).__module__.partition(".")[0]
    # The hint is part of the code, so each reads in zh_CN too.
    if driver == "psycopg2":
        code = "store.unknown_driver.psycopg2"
    elif "async" in type(raw).__name__.lower():
        code = "store.unknown_driver.async"
    else:
        code = "store.unknown_driver.other"
    raise ValidationError(
        code=code,
        params={"where": where, "driver": driver, "type": type(raw).__name__},
    )


class JoinedStores:
    """Per thread, the joined store of the host connection in use (a new one when it changes).

    A store's nested transactions find each other through the store object, so every
    transaction on one connection in one thread must go through the same joined store.
    """

    def __init__(self, campaign_id: str, fact_types: FactTypes | None) -> None:
        self.campaign_id = campaign_id
        self.fact_types = fact_types
        self._local = threading.local()

    def get(self, raw: Any, dialect: Dialect, *, migrate: bool) -> tuple[SQLStore, bool]:
        """The joined store on ``raw``, and whether it was just made (the connection is new)."""
        current: tuple[Any, SQLStore] | None = getattr(self._local, "current", None)
        if current is not None and current[0] is raw:
            return current[1], False
        store = SQLStore.on_connection(
            raw,
            dialect=dialect,
            campaign_id=self.campaign_id,
            fact_types=self.fact_types,
            migrate=migrate,
        )
        self._local.current = (raw, store)
        return store, True

    def forget(self) -> None:
        """Drop this thread's joined store (the host's connection is left as it is)."""
        self._local.current = None


class HostStore:
    """What the stores on a host's connections share: their options, and closing.

    Args:
        campaign_id: the campaign this store holds; give the ``Campaign`` the same id.
        fact_types: the registry that loads stored facts (the default one unless given).
        dialect: how to speak to the database; chosen from the driver when None.
        migrate: create or upgrade the tables on a connection's first use, in the host's
            transaction.
    """

    def __init__(
        self,
        *,
        campaign_id: str,
        fact_types: FactTypes | None,
        dialect: Dialect | None,
        migrate: bool,
    ) -> None:
        if not isinstance(campaign_id, str) or not campaign_id:
            refuse("campaign_id", campaign_id, "must be non-empty text")
        if dialect is not None and not isinstance(dialect, Dialect):
            refuse("dialect", dialect, "must be a campaignflow Dialect")
        self.campaign_id = campaign_id
        self.dialect = dialect
        self.migrate = bool(migrate)
        self._stores = JoinedStores(campaign_id, fact_types)
        self._closed = False

    def close(self) -> None:
        """Make the store unusable; the host's connections stay open (the host manages them)."""
        self._closed = True
        self._stores.forget()
