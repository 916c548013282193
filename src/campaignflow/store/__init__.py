"""Stores keep a campaign's units, states, facts and audit trail behind one protocol."""

from campaignflow.store._protocol import Store, StoreSession
from campaignflow.store._url import open_store
from campaignflow.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "StoreSession", "open_store"]
