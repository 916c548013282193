"""The Store protocol: what a campaign needs from storage, in one transaction at a time.

A store hands out sessions (:meth:`Store.transaction`); everything a command reads and
writes goes through one session and commits together or not at all. Implementations:
:class:`MemoryStore` here; SQLite and PostgreSQL implement the same protocol.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Protocol

from campaignflow._words.overview import GroupCounts, StuckQuery
from campaignflow._words.records import FactRecord, Organisation, Unit, UnitState, WorkflowVersion
from campaignflow._words.verdicts import Refusal
from campaignflow._words.work import InboxQuery, WorkItem
from campaignflow.audit import AuditRecord, AuditRow, Checkpoint

__all__ = ["DIRTY", "DueKey", "Store", "StoreSession", "apply_one_by_one"]

#: A unit's due date when it is dirty: a fact, approval, assessment, move, deferral or
#: adoption touched it since it was last judged, so the next sweep judges it (before any
#: unit due by date: it sorts first).
DIRTY = date.min

#: Where a walk over due units stands: the last unit's ``(due date, ordinal)``.
DueKey = tuple[date, int]


class StoreSession(Protocol):
    """One transaction's view of the store. Writes become visible to others on commit."""

    def get_unit(self, unit_id: str) -> Unit | None:
        """The unit with ``unit_id``, or None."""
        ...

    def get_state(self, unit_id: str) -> UnitState | None:
        """The unit's current state, or None for an unknown unit."""
        ...

    def get_unit_state(self, unit_id: str) -> tuple[Unit, UnitState] | None:
        """The unit and its state in one read, or None for an unknown unit."""
        ...

    def prefetch(self, unit_ids: Sequence[str]) -> None:
        """Read these units, their states and current-stage facts ahead, in a few queries.

        A hint for sweeps: later reads of these units in this session come from what was
        fetched (kept up to date by this session's own writes). Stores without round trips
        may do nothing.
        """
        ...

    def iter_units(self, batch: int | None = None) -> Iterator[tuple[Unit, UnitState]]:
        """Every unit with its state (of the batch it is in now, when ``batch`` is given)."""
        ...

    def page_units(
        self, batch: int | None, after: int, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], int]:
        """The next ``limit`` units (of ``batch``) after position ``after``, in insertion order.

        What a sweep walks a campaign by, a page per write transaction: the units and states
        are read in this session and kept for its later reads, like :meth:`prefetch`
        (without facts). Returns them and the position to go on from; a page shorter than
        ``limit`` is the last. Start at position 0.
        """
        ...

    def page_due(
        self, batch: int | None, day: date, after: DueKey | None, limit: int
    ) -> tuple[list[tuple[Unit, UnitState]], DueKey | None]:
        """The next ``limit`` units (of ``batch``) due by ``day``, after ``after``, by an index.

        Due: dirty (:data:`DIRTY`) or with a due date on or before ``day``. In the order of
        the key ``(due date, ordinal)``; a unit that is not due is never read. Read and kept
        for this session's later reads like :meth:`page_units`. Returns the page and the key
        to go on from (None: start there). A page shorter than ``limit`` is the last.

        Every state write (:meth:`insert_unit`, :meth:`update_state`,
        :meth:`apply_transitions`), :meth:`insert_fact`, :meth:`set_assessment` and
        :meth:`add_workflow_version` (every unit) leaves the units it touches dirty, in
        the same transaction; :meth:`set_due` records a judgement.
        """
        ...

    def set_due(self, dues: Sequence[tuple[str, date | None]]) -> None:
        """Record when each judged unit next needs judging: ``(unit id, due date)``.

        The date the unit may move from if nothing changes (:data:`DIRTY`: judge it again
        in the next sweep), or None: no date will do as things stand, so it is not due
        until a write makes it dirty. Only for units judged on the state this session
        holds (a later write of theirs in the session would be forgotten).
        """
        ...

    def get_facts(self, unit_id: str, stage: str) -> Sequence[FactRecord]:
        """The unit's fact records in ``stage``, oldest first."""
        ...

    def find_request(self, request_id: str) -> AuditRecord | None:
        """The audit record of the command that carried ``request_id``, if any."""
        ...

    def audit_head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the newest audit record; ``(0, GENESIS_HASH)`` when empty."""
        ...

    def iter_audit(
        self, unit_id: str | None = None, *, after_seq: int = 0
    ) -> Iterator[AuditRecord]:
        """Audit records in seq order (only the unit's, when ``unit_id`` is given).

        ``after_seq``: start after this seq (a reader paging through a long trail).
        """
        ...

    def insert_unit(self, unit: Unit, state: UnitState) -> None:
        """Add a new unit with its initial state (the id must be new)."""
        ...

    def update_state(self, state: UnitState, *, expected_version: int) -> None:
        """Replace the unit's state if its stored version is still ``expected_version``.

        Raises:
            ConcurrencyConflict: another writer moved the unit first.
        """
        ...

    def insert_fact(self, record: FactRecord) -> None:
        """Attach a fact record to its unit and stage."""
        ...

    def append_audit(self, record: AuditRecord, row: AuditRow | None = None) -> None:
        """Append a sealed audit record whose seq follows the head.

        ``row``: the record as :meth:`AuditRecord.row` writes it, when the caller sealed that
        row (a command does): a store that writes rows writes it without encoding again.
        """
        ...

    def apply_transitions(self, moves: Sequence[tuple[UnitState, int, AuditRow]]) -> None:
        """Move units, each with its sealed audit record: ``(state, expected_version, row)``.

        For each in order, as :meth:`update_state` then :meth:`append_audit` of ``row``;
        ``row`` is :meth:`AuditRecord.row`'s form, made by ``seal_row`` without building the
        record, and is written as it is.
        """
        ...

    def claim_units(
        self,
        *,
        sweep: str,
        stages: Collection[str],
        limit: int,
        batch: int | None = None,
        due_by: date | None = None,
    ) -> list[tuple[Unit, UnitState]]:
        """Claim up to ``limit`` units in ``stages`` that ``sweep`` has not claimed yet.

        ``due_by``: only units due by that day (see :meth:`page_due`), found by its index
        in its order; without it, in insertion order.

        The claim is marked in the same transaction, so each unit is claimed by exactly one
        caller per sweep, however many workers share the store. PostgreSQL locks the claimed
        rows ``FOR UPDATE SKIP LOCKED``: concurrent workers take different units.
        """
        ...

    def audit_anchor(self) -> Checkpoint | None:
        """The last purged record ``(seq, hash)``: where verification starts; None if none."""
        ...

    def exported_through(self) -> int:
        """The seq of the newest record written to an export (0: none)."""
        ...

    def mark_exported(self, seq: int) -> None:
        """Record that every record up to ``seq`` has been exported."""
        ...

    def purge_audit(self, through_seq: int) -> int:
        """Delete audit records up to ``through_seq``; the last one becomes the anchor.

        Returns how many records were deleted.
        """
        ...

    # --- organisation tree and overview queries (schema version 3) -------------------------
    # "Under" an organisation means: units whose parent is it or any organisation below it
    # (a registered one), or only the units naming it as parent (an unregistered id); None
    # means every unit. Each query is indexed: no replay, no per-unit round trip.

    def insert_organisation(self, org: Organisation) -> None:
        """Register ``org`` (a new id, whose parent is registered) and its tree ancestry."""
        ...

    def get_organisation(self, org_id: str) -> Organisation | None:
        """The registered organisation ``org_id``, or None."""
        ...

    def iter_organisations(self, under: str | None = None) -> Iterator[Organisation]:
        """Registered organisations in registration order (``under`` and those below it)."""
        ...

    def set_refusal(self, refusal: Refusal) -> None:
        """Keep ``refusal`` as the unit's latest refused move (replacing the one before)."""
        ...

    def get_refusal(self, unit_id: str) -> Refusal | None:
        """The unit's latest refused move (current or not), or None."""
        ...

    def set_assessment(
        self, unit_id: str, seq: int, counts: tuple[int, int | None, int, int]
    ) -> None:
        """Keep the unit's latest assessment: (satisfied, fairly, basically, dissatisfied)."""
        ...

    def rollup_counts(
        self, under: str, *, batch: int | None = None, closes: Mapping[int, date]
    ) -> list[GroupCounts]:
        """Counts of the units under ``under`` per (parent, batch, stage), stuck ones included.

        ``closes``: each batch's window close, for the on-time count.
        """
        ...

    def blocking_counts(
        self, under: str | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        """``(parent, code, units)``: stuck units under ``under`` held by each failing code."""
        ...

    # Roll-up counters, kept by every write in its transaction: each unit counts at every
    # ancestor of its parent (at its parent alone when that is unregistered), and at the
    # campaign (org None). Reading any organisation's figures costs O(stages).

    def counted_groups(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[GroupCounts]:
        """Counter rows of the units under each of ``orgs`` (None: the whole campaign).

        ``parent`` of each row is the organisation counted at (None: the campaign).
        """
        ...

    def counted_blocking(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        """``(org, code, units)``: stuck units under each of ``orgs`` held by each code."""
        ...

    def organisations_within(self, under: str, depth: int | None) -> list[Organisation]:
        """``under`` and the registered organisations at most ``depth`` levels below it
        (None: all), in registration order; [] when ``under`` is not registered."""
        ...

    def batch_closes(self) -> dict[int, date]:
        """The batch window closes the on-time counters count against ({} before any)."""
        ...

    def set_batch_closes(self, closes: Mapping[int, date]) -> None:
        """Count on-time units against ``closes`` from now on (the counters are refilled)."""
        ...

    def stuck_units(self, query: StuckQuery) -> tuple[int, list[tuple[Unit, UnitState, Refusal]]]:
        """``(total, page)`` of the stuck units ``query`` asks for (see :class:`StuckQuery`)."""
        ...

    def workflow_versions(self) -> list[WorkflowVersion]:
        """Every workflow version the campaign adopted, oldest first ([] before any)."""
        ...

    def add_workflow_version(self, version: WorkflowVersion) -> None:
        """Keep ``version``, whose number follows the last one kept.

        Raises:
            ConcurrencyConflict: another adoption took that number first.
        """
        ...

    # --- work items (schema version 6) --------------------------------------------------
    # Campaign.inbox brings them up to the audit head in a write transaction, then pages.

    def work_items_through(self) -> tuple[int, date | None]:
        """The seq of the audit record the work items reflect (0: none yet), and their day."""
        ...

    def mark_work_items(self, seq: int, on: date) -> None:
        """Record that the work items reflect every audit record up to ``seq``, judged ``on``."""
        ...

    def get_work_items(self, unit_id: str) -> list[WorkItem]:
        """The unit's work items as kept (none: it awaits nothing, or was not judged yet)."""
        ...

    def set_work_items(self, unit_id: str, items: Sequence[WorkItem]) -> None:
        """Replace the unit's work items with ``items`` (none: the unit awaits nothing)."""
        ...

    def page_work_items(self, query: InboxQuery) -> list[WorkItem]:
        """The items ``query`` selects, in key order (unit id, kind, role), at most its limit."""
        ...


class Store(Protocol):
    """Durable (or not) storage of one campaign's units, states, facts and audit trail."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[StoreSession]:
        """A session that commits on normal exit and rolls back on an exception."""
        ...

    def close(self) -> None:
        """Release connections and files; the store is unusable afterwards."""
        ...


class _AppendsRows(Protocol):
    def update_state(self, state: UnitState, *, expected_version: int) -> None: ...
    def _append_row(self, row: AuditRow) -> None: ...


def apply_one_by_one(
    session: _AppendsRows, moves: Sequence[tuple[UnitState, int, AuditRow]]
) -> None:
    """:meth:`StoreSession.apply_transitions` as the protocol defines it, for a session.

    Each move in order, its state first, then its row: through the session's own
    ``update_state`` and its one way of appending an audit row, so a sweep's moves are
    written as single commands write them.
    """
    for state, expected_version, row in moves:
        session.update_state(state, expected_version=expected_version)
        session._append_row(row)
