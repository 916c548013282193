"""Opening a store from a URL: ``memory://``, ``sqlite:///path.db``, ``postgresql://...``."""

from __future__ import annotations

from campaignflow.errors import ValidationError
from campaignflow.store._protocol import Store
from campaignflow.store.memory import MemoryStore

__all__ = ["open_store"]


def open_store(url: str, *, campaign_id: str = "default") -> Store:
    """The store a URL names, holding the campaign ``campaign_id``.

    Raises:
        ValidationError: an unknown scheme, or a store this installation cannot open.
    """
    if not isinstance(url, str):
        raise ValidationError(f"store: must be a URL string, got {url!r}")
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ValidationError(
            f"store: must be a URL like 'memory://' or 'sqlite:///campaign.db', got {url!r}"
        )
    if scheme == "memory":
        return MemoryStore()
    raise ValidationError(
        f"store: scheme must be 'memory' (durable stores arrive with the store release), "
        f"got {scheme!r} in {url!r}"
    )
