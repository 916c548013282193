"""What a sweep hands back: its outcomes, kept small enough for a million units.

A sweep (``start_batch``, ``advance_all``, ``advance_due``) returns :class:`Outcomes`: a
read-only sequence of :class:`AdvanceOutcome` with a :class:`SweepSummary` (counts per
outcome and stage). It keeps per unit only the unit id (as UTF-8 bytes in one buffer),
whether it moved and its audit record's seq: about 20 bytes a unit, where an outcome with
its decision and verdicts takes about a kilobyte, so a million-unit sweep does not hold a
million decisions. An item is rebuilt
when it is read, a page of them per read transaction: a move from its sealed audit record
(the transition record and the decision as sealed), a refusal by judging the unit again
on the sweep's day (the same decision, unless the unit changed since: read the outcomes
before recording more facts, or ask ``check``).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, overload

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.records import Actor, TransitionRecord
from campaignflow._words.verdicts import Decision
from campaignflow.audit import decision_from_data
from campaignflow.campaign._core import Core
from campaignflow.campaign._records import transition_record_of
from campaignflow.workflow._engine import stage_titles

__all__ = ["AdvanceOutcome", "Outcomes", "PageOutcomes", "SweepSummary"]


@attrs.frozen
class AdvanceOutcome:
    """What ``advance_all`` did with one unit: the transition applied, or the decision that held it."""

    unit_id: str
    advanced: bool
    decision: Decision
    record: TransitionRecord | None = None


@attrs.frozen
class SweepSummary:
    """A sweep's counts: units moved per ``(source, dest)``, units held per stage."""

    trigger: str
    on: date
    moved: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    held: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def advanced(self) -> int:
        """Units the sweep moved."""
        return sum(self.moved.values())

    @property
    def refused(self) -> int:
        """Units the sweep tried and left where they were."""
        return sum(self.held.values())


class PageOutcomes:
    """What one page of a sweep did, unit by unit, as plain columns until the page commits.

    A page rolled back is dropped whole; :meth:`Outcomes.add` takes in a committed one. No
    outcome record is built per unit: the columns are all :class:`Outcomes` keeps.
    """

    __slots__ = ("dests", "seqs", "sources", "unit_ids")

    def __init__(self) -> None:
        self.unit_ids: list[str] = []
        self.sources: list[str] = []
        self.dests: list[str | None] = []  # None: held where it was
        self.seqs: list[int] = []  # the move's audit seq; 0 when held

    def moved(self, unit_id: str, source: str, dest: str, seq: int) -> None:
        """``unit_id`` moved from ``source`` to ``dest``, sealed as audit record ``seq``."""
        self.unit_ids.append(unit_id)
        self.sources.append(source)
        self.dests.append(dest)
        self.seqs.append(seq)

    def held(self, unit_id: str, source: str) -> None:
        """``unit_id`` stayed in ``source``: its gates did not hold."""
        self.unit_ids.append(unit_id)
        self.sources.append(source)
        self.dests.append(None)
        self.seqs.append(0)

    def extend(self, other: PageOutcomes) -> None:
        """Append ``other``'s units after this page's."""
        self.unit_ids += other.unit_ids
        self.sources += other.sources
        self.dests += other.dests
        self.seqs += other.seqs


class Outcomes(Sequence[AdvanceOutcome]):
    """A sweep's outcomes, in the order units were tried, and its :attr:`summary`.

    A sequence like the list sweeps used to return (``len``, indexing, iteration, ``==``
    with a list). It keeps per unit the id, whether it moved and its audit seq, and
    rebuilds an outcome when it is read: a move from its sealed audit record, a refusal by
    judging the unit again on the sweep's day (the same decision unless the unit changed
    since). Built by the sweep, never by hand. Reading one needs its campaign's store
    open: read them (``list(outcomes)``) before ``close()``; ``len`` and :attr:`summary`
    need no store.
    """

    __slots__ = ("_advanced", "_context", "_ends", "_held", "_ids", "_moved", "_seqs")

    def __init__(self, core: Core, *, trigger: str, on: date, actor: Actor, host: Any) -> None:
        self._context = (core, trigger, on, actor, host)
        # The unit ids, UTF-8 encoded end to end; ``_ends[i]`` is where the i-th one ends.
        self._ids = bytearray()
        self._ends = array("Q")
        self._advanced = bytearray()
        self._seqs = array("q")
        self._moved: Counter[tuple[str, str]] = Counter()
        self._held: Counter[str] = Counter()

    @property
    def summary(self) -> SweepSummary:
        """The sweep's counts: units moved per ``(source, dest)``, units held per stage."""
        _, trigger, on, _, _ = self._context
        return SweepSummary(trigger=trigger, on=on, moved=dict(self._moved), held=dict(self._held))

    def add(self, page: PageOutcomes) -> None:
        """Take in a committed page of the sweep's outcomes (the sweep calls this)."""
        moved, held, ids, ends = self._moved, self._held, self._ids, self._ends
        for unit_id, source, dest in zip(page.unit_ids, page.sources, page.dests, strict=True):
            if dest is None:
                held[source] += 1
            else:
                moved[(source, dest)] += 1
            ids += unit_id.encode("utf-8")
            ends.append(len(ids))
        self._advanced.extend(dest is not None for dest in page.dests)
        self._seqs.extend(page.seqs)

    def __len__(self) -> int:
        return len(self._ends)

    def unit_ids(self, *, advanced: bool | None = None) -> Iterator[str]:
        """The ids of the units tried, in order; only those moved (or held) with ``advanced``.

        Reads nothing back: where an outcome is rebuilt from the store when read (tens of
        microseconds each), an id is not.
        """
        flags = self._advanced
        for i in range(len(self._ends)):
            if advanced is None or bool(flags[i]) is advanced:
                yield self._unit_id(i)

    def _unit_id(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._ids[start : self._ends[i]].decode("utf-8")

    @overload
    def __getitem__(self, index: int) -> AdvanceOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> list[AdvanceOutcome]: ...

    def __getitem__(self, index: int | slice) -> AdvanceOutcome | list[AdvanceOutcome]:
        if isinstance(index, slice):
            return self._rebuilt(range(len(self))[index])
        if not isinstance(index, int) or isinstance(index, bool):
            refuse("index", index, "must be a whole number")
        return self._rebuilt([range(len(self))[index]])[0]

    def __iter__(self) -> Iterator[AdvanceOutcome]:
        for start in range(0, len(self), _READ_PAGE):
            yield from self._rebuilt(range(start, min(start + _READ_PAGE, len(self))))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Outcomes | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        s = self.summary
        return f"<Outcomes {s.trigger}: {s.advanced} advanced, {s.refused} refused>"

    def _rebuilt(self, indexes: Sequence[int]) -> list[AdvanceOutcome]:
        """The outcomes at ``indexes``, read back in one read transaction."""
        core, trigger, on, actor, host = self._context
        out: list[AdvanceOutcome] = []
        with core.store.transaction(write=False) as tx:
            for i in indexes:
                unit_id = self._unit_id(i)
                if self._advanced[i]:
                    out.append(_moved(core, tx.iter_audit(unit_id, after_seq=self._seqs[i] - 1)))
                    continue
                unit, state = core.load(tx, unit_id)
                # Judged again for the reader, not for the campaign: not traced or logged.
                decision = core.decide(
                    tx, unit, state, on, trigger, actor.roles, observed=False, host=host
                )
                out.append(AdvanceOutcome(unit_id=unit_id, advanced=False, decision=decision))
        return out


#: Outcomes read back per read transaction while iterating.
_READ_PAGE = 512


def _moved(core: Core, trail: Iterator[Any]) -> AdvanceOutcome:
    """The outcome of a move, from its sealed audit record (the first of ``trail``)."""
    audit = next(trail)
    judge = core.versions.get(audit.workflow, core.workflow)
    decision = decision_from_data(audit.unit_id or "", audit.decision, judge.name)
    # Titles are text, never sealed: restored from the workflow, as a replayed refusal's.
    decision = attrs.evolve(
        decision,
        titles=stage_titles(judge, decision.source, decision.target),
        judged_by=audit.workflow,
        versioned=len(core.versions) > 1,
        earliest=decision.judged_on,
    )
    return AdvanceOutcome(
        unit_id=decision.unit_id,
        advanced=True,
        decision=decision,
        record=transition_record_of(core, audit),
    )
