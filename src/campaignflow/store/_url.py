"""Opening a store from a URL: ``memory://``, ``sqlite:///path.db``, ``postgresql://...``."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from campaignflow._words.checks import refuse
from campaignflow._words.facts import FactTypes
from campaignflow.errors import ValidationError
from campaignflow.store._protocol import Store
from campaignflow.store.memory import MemoryStore
from campaignflow.store.postgres import PostgresStore
from campaignflow.store.sqlite import SQLiteStore

__all__ = ["open_store"]

_SQLITE_OPTIONS = {"synchronous", "busy_timeout_ms"}


def open_store(
    url: str, *, campaign_id: str = "default", fact_types: FactTypes | None = None
) -> Store:
    """The store a URL names, holding the campaign ``campaign_id``.

    ``memory://``; ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (three
    slashes then the path, as SQLAlchemy writes them), optionally with
    ``?synchronous=NORMAL&busy_timeout_ms=5000``; ``postgresql://user:password@host:port/db``
    (or ``postgres://``; needs the ``pg`` extra). ``fact_types`` is the registry that loads
    stored facts (the default one unless given).

    Raises:
        ValidationError: an unknown scheme, bad options, or a store this installation cannot
            open (psycopg missing: ``pip install 'campaignflow[pg]'``).
    """
    if not isinstance(url, str):
        refuse("store", url, "must be a URL string")
    scheme, sep, rest = url.partition("://")
    if not sep:
        refuse("store", url, "must be a URL like 'memory://' or 'sqlite:///campaign.db'")
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        return _sqlite(url, rest, campaign_id, fact_types)
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(url, campaign_id=campaign_id, fact_types=fact_types)
    raise ValidationError(
        code="store.url_scheme", params={"scheme": repr(scheme), "url": repr(url)}
    )


def _sqlite(url: str, rest: str, campaign_id: str, fact_types: FactTypes | None) -> Store:
    location, _, query = rest.partition("?")
    if not location.startswith("/") or len(location) < 2:
        refuse("store", url, "a SQLite URL is 'sqlite:///relative.db' or 'sqlite:////absolute.db'")
    path = unquote(location[1:])  # 'sqlite:///a.db' -> 'a.db'; 'sqlite:////x/a.db' -> '/x/a.db'
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - _SQLITE_OPTIONS)
    if unknown:
        raise ValidationError(
            code="store.url_options",
            params={
                "allowed": sorted(_SQLITE_OPTIONS),
                "unknown": list(unknown),
                "url": repr(url),
            },
        )
    timeout = options.get("busy_timeout_ms", "10000")
    if not timeout.isdigit():
        refuse("store", timeout, "busy_timeout_ms must be a whole number")
    return SQLiteStore(
        path,
        campaign_id=campaign_id,
        synchronous=options.get("synchronous", "FULL"),
        busy_timeout_ms=int(timeout),
        fact_types=fact_types,
    )
