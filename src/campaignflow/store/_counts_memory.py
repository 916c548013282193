"""Roll-up counters of the memory store: the same rows as the SQL store's ``cf_counts``.

Each unit counts at the campaign (``''``), at every ancestor of its parent, or at its parent
alone when that is not registered. A write takes the changed units' contributions before
(:func:`counts_before`) and after (:func:`counts_after`) and adds the difference, with an
list of steps that :func:`take_back` undoes if the transaction fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import attrs

from campaignflow._words.overview import COUNTED as COUNTED_FIGURES
from campaignflow._words.overview import GroupCounts
from campaignflow._words.records import Unit, UnitState
from campaignflow._words.verdicts import Refusal

__all__ = [
    "Tallies",
    "counted_blocking",
    "counted_groups",
    "counts_after",
    "counts_before",
    "refill",
    "take_back",
]

#: The counter columns, as in the SQL store.
COUNTED = (*COUNTED_FIGURES, "own")

Key = tuple[str, int, str]
StuckKey = tuple[str, int, str, str]


#: One unit's part of the counters: ``(orgs, own, batch, stage, vector, codes)``: the orgs it
#: counts at (its own among them), its batch and stage, the counted figures but ``own``, and
#: its failing codes when stuck. A plain tuple of plain values: the garbage collector stops
#: tracking it, so a sweep's page of them (kept for undo until it commits) costs it nothing.
Contribution = tuple[tuple[str, ...], str, int, str, tuple[int, ...], str | None]
#: A step :func:`counts_after` applied: a contribution added (1) or taken away (-1).
Step = tuple[Contribution, int]


@attrs.define
class Tallies:
    """The memory store's counters and the batch closes they count on-time units against."""

    # counts[org][(batch, stage)] and stuck[org][(batch, stage, codes)]: by org first, so an
    # organisation's figures are read without looking at any other's.
    counts: dict[str, dict[tuple[int, str], list[int]]] = attrs.field(factory=dict)
    stuck: dict[str, dict[tuple[int, str, str], int]] = attrs.field(factory=dict)
    closes: dict[int, date] = attrs.field(factory=dict)


class MemoryStore(Protocol):
    """What the counters read of the memory store."""

    _units: dict[str, Unit]
    _states: dict[str, UnitState]
    _refusals: dict[str, Refusal]
    _assessments: dict[str, Any]
    _ancestors: dict[str, dict[str, int]]
    _tallies: Tallies


def contribution(store: MemoryStore, unit_id: str) -> Contribution | None:
    """What one unit adds to the counters, as it stands (None: no such unit)."""
    state = store._states.get(unit_id)
    if state is None:
        return None
    close = store._tallies.closes.get(state.batch)
    entered = state.entered_on
    on_time = int(close is not None and entered is not None and entered <= close)
    assessment = store._assessments.get(unit_id)
    if assessment is None:
        ballots: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
    else:
        _, sat, fair, basic, dis = assessment
        majority = int(2 * dis > sat + (fair or 0) + basic + dis)
        ballots = (1, sat, fair or 0, basic, dis, majority)
    refusal = store._refusals.get(unit_id)
    stuck = refusal is not None and refusal.version == state.version
    vector = (1, on_time, state.remedial, state.remedial_round, *ballots, int(stuck))
    parent = store._units[unit_id].parent
    if parent is None:
        orgs: tuple[str, ...] = ("",)
    else:
        ancestors = store._ancestors.get(parent)
        orgs = ("", *(ancestors if ancestors is not None else (parent,)))
    codes = " ".join(sorted(set(refusal.codes))) if stuck and refusal is not None else None
    return (orgs, parent or "", state.batch, state.stage, vector, codes)


def counts_before(store: MemoryStore, unit_ids: Iterable[str]) -> dict[str, Contribution | None]:
    """The contributions of ``unit_ids`` before a write (for :func:`counts_after`)."""
    return {unit_id: contribution(store, unit_id) for unit_id in unit_ids}


def counts_after(store: MemoryStore, before: Mapping[str, Contribution | None]) -> tuple[Step, ...]:
    """Add what the write since :func:`counts_before` changed; the steps it applied, for
    :func:`take_back` if the transaction fails (none: nothing changed)."""
    tallies = store._tallies
    steps: list[Step] = []
    for unit_id, old in before.items():
        new = contribution(store, unit_id)
        if new != old:
            if old is not None:
                steps.append((old, -1))
            if new is not None:
                steps.append((new, 1))
    for part, sign in steps:
        _apply(tallies, part, sign)
    return tuple(steps)


def take_back(tallies: Tallies, run: Sequence[Any]) -> None:
    """Undo steps of :func:`counts_after`, kept flat in ``run`` (``*contribution, sign`` after
    another), newest first."""
    for end in range(len(run), 0, -7):
        orgs, own, batch, stage, vector, codes, sign = run[end - 7 : end]
        _apply(tallies, (orgs, own, batch, stage, vector, codes), -sign)


def _apply(tallies: Tallies, part: Contribution, sign: int) -> None:
    orgs, own, batch, stage, vector, codes = part
    key = (batch, stage)
    for org in orgs:
        rows = tallies.counts.get(org)
        if rows is None:
            rows = tallies.counts[org] = {}
        kept = rows.get(key)
        if kept is None:
            kept = rows[key] = [0] * len(COUNTED)
        for i, n in enumerate(vector):
            kept[i] += sign * n
        if org == own:
            kept[-1] += sign
        if not kept[0]:
            del rows[key]
    if codes is not None:
        skey = (batch, stage, codes)
        for org in orgs:
            stuck_rows = tallies.stuck.setdefault(org, {})
            n = stuck_rows.get(skey, 0) + sign
            if n:
                stuck_rows[skey] = n
            else:
                stuck_rows.pop(skey, None)


def refill(store: MemoryStore) -> Tallies:
    """Counters recounted from every unit (kept closes)."""
    fresh = Tallies(closes=dict(store._tallies.closes))
    for unit_id in store._states:
        part = contribution(store, unit_id)
        if part is not None:
            _apply(fresh, part, 1)
    return fresh


def _keys(orgs: Sequence[str] | None) -> list[str]:
    return [""] if orgs is None else list(dict.fromkeys(orgs))


def counted_groups(
    tallies: Tallies, orgs: Sequence[str] | None, batch: int | None
) -> list[GroupCounts]:
    """Counter rows of the units under each of ``orgs`` (None: the whole campaign)."""
    return [
        GroupCounts(
            parent=org or None,
            batch=group_batch,
            stage=stage,
            **dict(zip(COUNTED, numbers, strict=True)),
        )
        for org in _keys(orgs)
        for (group_batch, stage), numbers in tallies.counts.get(org, {}).items()
        if batch is None or group_batch == batch
    ]


def counted_blocking(
    tallies: Tallies, orgs: Sequence[str] | None, batch: int | None
) -> list[tuple[str | None, str, int]]:
    """``(org, code, units)`` of the stuck units under each of ``orgs``."""
    totals: dict[tuple[str | None, str], int] = {}
    for org in _keys(orgs):
        for (group_batch, _, codes), n in tallies.stuck.get(org, {}).items():
            if batch is None or group_batch == batch:
                for code in codes.split():
                    totals[(org or None, code)] = totals.get((org or None, code), 0) + n
    return [(org, code, n) for (org, code), n in totals.items()]
