"""Stores keep a campaign's units, states, facts and audit trail behind one protocol."""

from campaignflow._public import publish
from campaignflow.store._dialect import Dialect
from campaignflow.store._protocol import Store, StoreSession
from campaignflow.store._sql import SQLStore
from campaignflow.store._url import open_store
from campaignflow.store.memory import MemoryStore
from campaignflow.store.postgres import PostgresStore
from campaignflow.store.sqlite import SQLiteStore

__all__ = [
    "Dialect",
    "MemoryStore",
    "PostgresStore",
    "SQLStore",
    "SQLiteStore",
    "Store",
    "StoreSession",
    "open_store",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
