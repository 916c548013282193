"""The check that a store's roll-up counters equal a recount of its units.

The recount is the stores' scan of the state rows (``rollup_counts`` / ``blocking_counts``,
which read every unit under an organisation): an independent path from the counters, which
the write methods keep. Checked for the whole campaign, every registered organisation and
every unregistered parent a unit names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from campaignflow._words.overview import COUNTED, GroupCounts
from campaignflow.store import Store

#: The counted figures compared (every GroupCounts count).
FIGURES = COUNTED


def _by_stage(
    groups: Iterable[GroupCounts], own_of: str | None = None, *, recount: bool = False
) -> dict[tuple[int, str], dict[str, int]]:
    """Counts summed per (batch, stage); a recount's ``own`` are its groups of ``own_of``."""
    summed: dict[tuple[int, str], Counter[str]] = {}
    for group in groups:
        counts = summed.setdefault((group.batch, group.stage), Counter())
        for name in FIGURES:
            counts[name] += getattr(group, name)
        if recount:
            counts["own"] += group.units if group.parent == own_of else 0
        else:
            counts["own"] += group.own
    return {key: {n: c for n, c in counts.items() if c} for key, counts in summed.items()}


def _by_code(rows: Iterable[tuple[Any, str, int]]) -> dict[str, int]:
    summed: Counter[str] = Counter()
    for _, code, n in rows:
        summed[code] += n
    return {code: n for code, n in summed.items() if n}


def assert_counters_match(store: Store) -> int:
    """Counters == recount for the campaign and every organisation; how many were checked."""
    with store.transaction(write=False) as tx:
        closes = tx.batch_closes()
        registered = [org.id for org in tx.iter_organisations()]
        loose = {
            unit.parent
            for unit, _ in tx.iter_units()
            if unit.parent is not None and tx.get_organisation(unit.parent) is None
        }
        keys: list[str | None] = [None, *registered, *sorted(loose)]
        for key in keys:
            orgs = None if key is None else [key]
            counted = _by_stage(tx.counted_groups(orgs))
            every = tx.rollup_counts(key, closes=closes)  # type: ignore[arg-type]
            recount = _by_stage(every, key, recount=True)
            assert counted == recount, f"counters of {key!r}"
            blocking = _by_code(tx.counted_blocking(orgs))
            assert blocking == _by_code(tx.blocking_counts(key)), f"blocking of {key!r}"
    return len(keys)
