"""What the SQL store's overview reads: the organisation tree, refusals, assessments, and the
roll-up counts, blocking reasons and stuck units made of them.

A mixin of :class:`~campaignflow.store._session.Session`: everything a roll-up counts lives on
the state row (kept there in the write transaction), so each query reads one table by one
index, and only the page of stuck units asked for is joined to its units and refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from campaignflow._words.overview import COUNTED, GroupCounts, StuckQuery
from campaignflow._words.records import Organisation, Unit, UnitState
from campaignflow._words.verdicts import Refusal
from campaignflow.audit import canonical_json, verdict_to_data
from campaignflow.errors import CampaignflowError, ValidationError
from campaignflow.store._counts_sql import Recount
from campaignflow.store._dialect import Failure
from campaignflow.store._queries import (
    DIRTY_ON,
    ORG_COLUMNS,
    REFUSAL_COLUMNS,
    STATE_COLUMNS,
    STUCK_ORDER,
    UNIT_COLUMNS,
    SessionStatements,
)
from campaignflow.store._rows import (
    DayMemo,
    OrgRow,
    RefusalRow,
    org_of,
    refusal_of,
    unit_state_refusal,
)

__all__ = ["OverviewQueries"]


class OverviewQueries(SessionStatements):
    """The overview's data of a session's campaign (the session provides what is stubbed)."""

    __slots__ = ()

    # Whether an organisation id is registered, as this session's queries asked it.
    _registered: dict[str, bool]

    def _next_ordinal(self, table: str) -> int:
        raise NotImplementedError

    def _day_memo(self) -> DayMemo:
        raise NotImplementedError

    def _counts_before(
        self, unit_ids: Iterable[str] | None = None, *, parent: str | None = None
    ) -> Recount:
        raise NotImplementedError  # CountQueries' (before this mixin in the session's MRO)

    def _counts_after(self, recount: Recount) -> None:
        raise NotImplementedError

    # --- the organisation tree, refusals and assessments ---------------------------------

    def insert_organisation(self, org: Organisation) -> None:
        def exists(_: BaseException) -> CampaignflowError:
            return ValidationError(code="store.organisation_exists", params={"org": repr(org.id)})

        self._writable()
        self._registered.pop(org.id, None)
        if self.get_organisation(org.id) is not None:
            raise exists(KeyError(org.id))
        ordinal = self._next_ordinal("cf_orgs")
        failure = Failure(None, duplicate=exists)
        self._run(
            "INSERT INTO cf_orgs (campaign_id, org_id, ordinal, name, level, parent) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self._cid, org.id, ordinal, org.name, org.level, org.parent),
            failure,
        )
        # The new organisation's closure rows: itself, and its parent's ancestors one deeper.
        # Units that named it while unregistered are now counted at its ancestors too.
        recount = self._counts_before(parent=org.id)
        self._run(
            "INSERT INTO cf_org_tree (campaign_id, ancestor, descendant, depth) "
            "VALUES (?, ?, ?, 0)",
            (self._cid, org.id, org.id),
            failure,
        )
        if org.parent is not None:
            self._run(
                "INSERT INTO cf_org_tree (campaign_id, ancestor, descendant, depth) "
                "SELECT campaign_id, ancestor, ?, depth + 1 FROM cf_org_tree "
                "WHERE campaign_id = ? AND descendant = ?",
                (org.id, self._cid, org.parent),
                failure,
            )
        self._counts_after(recount)

    def get_organisation(self, org_id: str) -> Organisation | None:
        rows = self._rows(
            f"SELECT {ORG_COLUMNS} FROM cf_orgs o WHERE o.campaign_id = ? AND o.org_id = ?",
            (self._cid, org_id),
        )
        return next((org_of(OrgRow._make(row)) for row in rows), None)

    def iter_organisations(self, under: str | None = None) -> Iterator[Organisation]:
        if under is None:
            rows = self._rows(
                f"SELECT {ORG_COLUMNS} FROM cf_orgs o WHERE o.campaign_id = ? ORDER BY o.ordinal",
                (self._cid,),
            )
        else:
            rows = self._rows(
                f"SELECT {ORG_COLUMNS} FROM cf_orgs o JOIN cf_org_tree t "
                "ON t.campaign_id = o.campaign_id AND t.descendant = o.org_id "
                "WHERE o.campaign_id = ? AND t.ancestor = ? ORDER BY o.ordinal",
                (self._cid, under),
            )
        for row in rows:
            yield org_of(OrgRow._make(row))

    def set_refusal(self, refusal: Refusal) -> None:
        self._writable()
        key = (self._cid, refusal.unit_id)
        recount = self._counts_before([refusal.unit_id])
        self._run(
            "UPDATE cf_states SET refused_version = ?, refused_seq = ?, refused_codes = ? "
            "WHERE campaign_id = ? AND unit_id = ?",
            (refusal.version, refusal.seq, " ".join(sorted(set(refusal.codes))), *key),
        )
        self._counts_after(recount)
        self._run("DELETE FROM cf_refusals WHERE campaign_id = ? AND unit_id = ?", key)
        self._run(
            "INSERT INTO cf_refusals (campaign_id, unit_id, version, stage, trigger_name, "
            "target, on_date, seq, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                refusal.version,
                refusal.stage,
                refusal.trigger,
                refusal.target,
                refusal.on.isoformat(),
                refusal.seq,
                canonical_json([verdict_to_data(v) for v in refusal.failures]),
            ),
        )

    def get_refusal(self, unit_id: str) -> Refusal | None:
        rows = self._rows(
            f"SELECT {REFUSAL_COLUMNS} FROM cf_refusals r "
            "WHERE r.campaign_id = ? AND r.unit_id = ?",
            (self._cid, unit_id),
        )
        return next((refusal_of(RefusalRow._make(row)) for row in rows), None)

    def set_assessment(
        self, unit_id: str, seq: int, counts: tuple[int, int | None, int, int]
    ) -> None:
        self._writable()
        recount = self._counts_before([unit_id])
        self._run(
            "UPDATE cf_states SET a_satisfied = ?, a_fairly = ?, a_basically = ?, "
            "a_dissatisfied = ?, due_on = ? WHERE campaign_id = ? AND unit_id = ?",
            (*counts, DIRTY_ON, self._cid, unit_id),
        )
        self._counts_after(recount)

    # --- the overview's counts ------------------------------------------------------------

    def _under(self, under: str | None) -> tuple[str, tuple[Any, ...]]:
        """The WHERE clause (on the states ``s``) and params selecting the units under ``under``."""
        if under is None:
            return "s.campaign_id = ?", (self._cid,)
        registered = self._registered.get(under)
        if registered is None:
            registered = self._registered[under] = self.get_organisation(under) is not None
        if not registered:
            # Not registered: only the units that name it as their parent.
            return "s.campaign_id = ? AND s.parent = ?", (self._cid, under)
        return (
            "s.campaign_id = ? AND s.parent IN (SELECT t.descendant FROM cf_org_tree t "
            "WHERE t.campaign_id = ? AND t.ancestor = ?)",
            (self._cid, self._cid, under),
        )

    def rollup_counts(
        self, under: str, *, batch: int | None = None, closes: Mapping[int, date]
    ) -> list[GroupCounts]:
        where, params = self._under(under)
        if batch is not None:
            where += " AND s.batch = ?"
            params = (*params, batch)
        if closes:
            whens = " ".join("WHEN ? THEN ?" for _ in closes)
            close = f"CASE s.batch {whens} END"
            close_params: tuple[Any, ...] = tuple(
                x for b, day in sorted(closes.items()) for x in (b, day.isoformat())
            )
        else:
            close, close_params = "NULL", ()
        ballots = "s.a_satisfied + COALESCE(s.a_fairly, 0) + s.a_basically + s.a_dissatisfied"
        rows = self._rows(
            "SELECT s.parent, s.batch, s.stage, COUNT(*), "
            f"SUM(CASE WHEN s.entered_on <= {close} THEN 1 ELSE 0 END), "
            "SUM(s.remedial), SUM(s.remedial_round), COUNT(s.a_satisfied), SUM(s.a_satisfied), "
            "SUM(COALESCE(s.a_fairly, 0)), SUM(s.a_basically), SUM(s.a_dissatisfied), "
            f"SUM(CASE WHEN 2 * s.a_dissatisfied > {ballots} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN s.refused_version = s.version THEN 1 ELSE 0 END) "
            f"FROM cf_states s WHERE {where} GROUP BY s.parent, s.batch, s.stage",
            (*close_params, *params),
        )
        found = []
        for parent, group_batch, stage, *counts in rows:
            counted = {name: int(n or 0) for name, n in zip(COUNTED, counts, strict=True)}
            found.append(GroupCounts(parent=parent, batch=int(group_batch), stage=stage, **counted))
        return found

    def _stuck_where(self, under: str | None, batch: int | None) -> tuple[str, tuple[Any, ...]]:
        where, params = self._under(under)
        if batch is not None:
            where += " AND s.batch = ?"
            params = (*params, batch)
        return f"{where} AND s.refused_version = s.version", params

    def blocking_counts(
        self, under: str | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        where, params = self._stuck_where(under, batch)
        rows = self._rows(
            "SELECT s.parent, s.refused_codes, COUNT(*) FROM cf_states s "
            f"WHERE {where} GROUP BY s.parent, s.refused_codes",
            params,
        )
        counts: dict[tuple[str | None, str], int] = {}
        for parent, codes, n in rows:
            for code in str(codes or "").split():
                counts[(parent, code)] = counts.get((parent, code), 0) + int(n)
        return [(parent, code, n) for (parent, code), n in counts.items()]

    def stuck_units(self, query: StuckQuery) -> tuple[int, list[tuple[Unit, UnitState, Refusal]]]:
        under, batch, stage_before = query.under, query.batch, query.stage_before
        order_by, offset, limit = query.order_by, query.offset, query.limit
        where, params = self._stuck_where(under, batch)
        if stage_before is not None:
            where += " AND s.stage_since < ?"
            params = (*params, stage_before.isoformat())
        ((total,),) = self._rows(f"SELECT COUNT(*) FROM cf_states s WHERE {where}", params)
        order = STUCK_ORDER[order_by]
        # Every supported database takes LIMIT n OFFSET m; "no limit" is the largest n.
        page = f" LIMIT {int(limit) if limit is not None else 2**63 - 1} OFFSET {int(offset)}"
        # The page's ids from the state rows alone; then the page's units and refusals.
        ids = [
            unit_id
            for (unit_id,) in self._rows(
                f"SELECT s.unit_id FROM cf_states s WHERE {where} ORDER BY {order}{page}",
                params,
            )
        ]
        day = self._day_memo()
        found: dict[str, tuple[Unit, UnitState, Refusal]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            for row in self._rows(
                f"SELECT {UNIT_COLUMNS}, {STATE_COLUMNS}, {REFUSAL_COLUMNS} FROM cf_states s "
                "JOIN cf_units u ON u.campaign_id = s.campaign_id AND u.unit_id = s.unit_id "
                "JOIN cf_refusals r ON r.campaign_id = s.campaign_id AND r.unit_id = s.unit_id "
                f"WHERE s.campaign_id = ? AND s.unit_id IN ({marks})",
                (self._cid, *part),
            ):
                unit, state, refusal = unit_state_refusal(row, day)
                found[unit.id] = (unit, state, refusal)
        return int(total), [found[unit_id] for unit_id in ids]
