"""Seeded random streams: one independent stdlib stream per unit and purpose.

Exact mode and generated rosters draw from these, so a unit's draws do not depend on which
other units exist or in what order they are played.
"""

from __future__ import annotations

import hashlib
import math
import random

__all__ = ["randint", "stream_seed", "unit_stream"]


def stream_seed(seed: int, purpose: str, key: str) -> int:
    """A 128-bit seed from SHA-256 of ``seed``, ``purpose`` and ``key`` (stable everywhere)."""
    digest = hashlib.sha256(f"{seed}\x1f{purpose}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def unit_stream(seed: int, purpose: str, key: str) -> random.Random:
    """The independent random stream of one unit (``key``) for one ``purpose``."""
    return random.Random(stream_seed(seed, purpose, key))


def randint(u: float, span: tuple[int, int]) -> int:
    """``lo + floor(u * (hi - lo + 1))``: a whole number in ``span`` from one uniform draw."""
    lo, hi = span
    return lo + min(hi - lo, math.floor(u * (hi - lo + 1)))
