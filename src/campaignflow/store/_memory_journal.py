"""The memory store's undo journal: what a transaction's writes replaced, undone on an error.

Entries are plain tuples, read newest first by :func:`roll_back`, not a closure per write:

- ``("states", {unit: state})``, ``("dues", {unit: date})``: the state and due date each unit
  had before the first write of a run of writes (a sweep's page is one run);
- ``("audit", length)``: the audit log's length before the session's first append;
- ``("key", mapping, key, old)`` (``old`` is :data:`MISSING` when the key was absent),
  ``("pop", list)``, ``("attr", name, old)``: a mapping's value, a list's last item, a store
  attribute;
- ``("counts", run)``: a run of writes' roll-up counter steps, flat (``*contribution,
  sign`` after another; ``_counts_memory.take_back``);
- ``("due_all", dates)``: every unit's due date before an adoption made them all dirty;
- ``("unit", unit)``: a unit added;
- or a callable, for the rare writes that undo more (a purge, an organisation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaignflow.store import _counts_memory as counters
from campaignflow.store._due_walk import DueIndex

__all__ = ["MISSING", "Undo", "remember", "roll_back"]

#: An undo step: a tuple :func:`roll_back` reads, or a callable.
Undo = tuple[Any, ...] | Callable[[], None]
#: What a mapping held before a write, when it held nothing for the key.
MISSING: Any = object()


def remember(undo: list[Undo], mapping: dict[str, Any], key: str, value: Any) -> None:
    """Set ``mapping[key]`` to ``value``, journalling what it held."""
    undo.append(("key", mapping, key, mapping.get(key, MISSING)))
    mapping[key] = value


def roll_back(store: Any, undo: list[Undo]) -> None:
    """Undo every step of ``undo`` on the memory store ``store``, newest first."""
    for step in reversed(undo):
        match step:
            case ("states", olds):
                store._states.update(olds)
            case ("dues", olds):
                for unit_id, old in olds.items():
                    store._due.restore(unit_id, old)
            case ("audit", length):
                store._log.truncate(length)
            case ("key", mapping, key, old):
                if old is MISSING:
                    mapping.pop(key, None)
                else:
                    mapping[key] = old
            case ("counts", run):
                counters.take_back(store._tallies, run)
            case ("pop", items):
                items.pop()
            case ("attr", name, old):
                setattr(store, name, old)
            case ("due_all", old):
                store._due.restore_all(old)
            case ("unit", unit):
                store._due.restore(unit.id, DueIndex.MISSING)
                del store._units[unit.id]
                del store._states[unit.id]
                del store._ordinals[unit.id]
                # Undone last-in first-out under the store's lock: this unit is the last.
                store._order.pop()
                del store._by_parent[unit.parent][unit.id]
            case _ if callable(step):
                step()
