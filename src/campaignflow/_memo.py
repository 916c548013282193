"""Bounded memos for values that recur from record to record (encoded texts, decoded dates).

A memo is a plain dict the caller reads with ``get`` on its hot path; on a miss it stores the
new value through :func:`remember`, which empties the memo when it is full. Emptying (rather
than evicting one entry) keeps the hit path a single lookup and memory bounded, and the few
values that recur are back after one miss each.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["MEMO_LIMIT", "remember"]

K = TypeVar("K")
V = TypeVar("V")

#: Entries a memo holds before it is emptied: far more than the distinct stage ids, dates or
#: roles of a campaign, few enough to stay small.
MEMO_LIMIT = 4096


def remember(memo: dict[K, V], key: K, value: V) -> V:
    """Store ``value`` under ``key`` (emptying ``memo`` first when full) and return it."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value
