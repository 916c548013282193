"""Roll-up counters of the SQL store: kept in the write transaction, read in O(stages).

``cf_counts`` holds, per (organisation, batch, stage), what a roll-up reports of the units
*under* that organisation: each unit is counted at every ancestor of its parent (the closure
rows, itself included), at its parent alone when that is not registered, and at the campaign
row ``''``. ``cf_stuck_counts`` holds the units whose latest refusal is current, per
(organisation, batch, stage, failing codes). So any node's answer reads its own few rows,
whatever the number of units under it; a write changes tree depth + 2 rows per side.

Every write that changes a counted column goes between :meth:`CountQueries._counts_before` and ``_counts_after``: the
changed units' contributions are read before and after the write (one grouped query each) and
the difference is added to the counter rows. The same query, over all units, fills the
counters (schema migration 7, and again when the batch windows change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from campaignflow._words.overview import GroupCounts
from campaignflow._words.records import Organisation
from campaignflow.store._queries import ORG_COLUMNS
from campaignflow.store._rows import OrgRow, org_of

__all__ = ["CAMPAIGN_ROW", "COUNTED", "CountQueries", "Recount", "fill_statements"]

#: The org key of the counter rows that count every unit of the campaign.
CAMPAIGN_ROW = ""

#: The counter columns, in the order the contribution query yields them.
COUNTED = (
    "units",
    "on_time",
    "remedial",
    "remedial_rounds",
    "assessed",
    "satisfied",
    "fairly_satisfied",
    "basically_satisfied",
    "dissatisfied",
    "majority_dissatisfied",
    "stuck",
    "own",
)

_BALLOTS = "s.a_satisfied + COALESCE(s.a_fairly, 0) + s.a_basically + s.a_dissatisfied"
_SUMS = (
    "COUNT(*), SUM(CASE WHEN s.entered_on <= c.closes THEN 1 ELSE 0 END), "
    "SUM(s.remedial), SUM(s.remedial_round), COUNT(s.a_satisfied), "
    "SUM(COALESCE(s.a_satisfied, 0)), SUM(COALESCE(s.a_fairly, 0)), "
    "SUM(COALESCE(s.a_basically, 0)), SUM(COALESCE(s.a_dissatisfied, 0)), "
    f"SUM(CASE WHEN 2 * s.a_dissatisfied > {_BALLOTS} THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN s.refused_version = s.version THEN 1 ELSE 0 END), "
)
_CLOSES = "LEFT JOIN cf_batch_closes c ON c.campaign_id = s.campaign_id AND c.batch = s.batch"
_TREE = "JOIN cf_org_tree t ON t.campaign_id = s.campaign_id AND t.descendant = s.parent"
_UNREGISTERED = (
    "s.parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cf_org_tree t "
    "WHERE t.campaign_id = s.campaign_id AND t.descendant = s.parent)"
)


#: Per part of :func:`_by_org`: whether a unit counted there is the org's own (its parent).
_OWN = (
    "SUM(CASE WHEN s.parent IS NULL THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN t.depth = 0 THEN 1 ELSE 0 END)",
    "COUNT(*)",
)


def _by_org(select: str, extra_from: str, where: str, group: str) -> str:
    """``select`` grouped per counter org: the campaign row, ancestors, unregistered parents.

    ``{own}`` in ``select`` becomes the part's count of the org's own units.
    """
    parts = (
        ("'' AS org", "", where),
        ("t.ancestor AS org", _TREE, where),
        ("s.parent AS org", "", f"({where}) AND {_UNREGISTERED}"),
    )
    org_group = ("", "t.ancestor, ", "s.parent, ")
    return " UNION ALL ".join(
        f"SELECT s.campaign_id, {org}, {select.replace('{own}', own)} FROM cf_states s "
        f"{tree} {extra_from} WHERE {cond} GROUP BY s.campaign_id, {g}{group}"
        for (org, tree, cond), g, own in zip(parts, org_group, _OWN, strict=True)
    )


def contribution_sql(where: str) -> str:
    """Counter contributions of the state rows ``where`` selects (alias ``s``)."""
    return _by_org(f"s.batch, s.stage, {_SUMS}{{own}}", _CLOSES, where, "s.batch, s.stage")


def stuck_sql(where: str) -> str:
    """Stuck-counter contributions of the state rows ``where`` selects (alias ``s``)."""
    codes = "COALESCE(s.refused_codes, '')"
    return _by_org(
        f"s.batch, s.stage, {codes}, COUNT(*)",
        "",
        f"({where}) AND s.refused_version = s.version",
        f"s.batch, s.stage, {codes}",
    )


_COUNT_COLUMNS = "campaign_id, org, batch, stage, " + ", ".join(COUNTED)
_STUCK_COLUMNS = "campaign_id, org, batch, stage, codes, units"


def fill_statements(where: str = "1 = 1") -> tuple[str, str]:
    """The two INSERT … SELECT statements that fill the counters from the state rows."""
    return (
        f"INSERT INTO cf_counts ({_COUNT_COLUMNS}) {contribution_sql(where)}",
        f"INSERT INTO cf_stuck_counts ({_STUCK_COLUMNS}) {stuck_sql(where)}",
    )


Key = tuple[str, int, str]
StuckKey = tuple[str, int, str, str]
Counts = tuple[dict[Key, list[int]], dict[StuckKey, int]]


@attrs.frozen
class Recount:
    """Which units a write changes and what they counted before it (see ``_counts_before``)."""

    wheres: list[tuple[str, tuple[Any, ...]]]
    before: Counts
    batched: bool


class CountQueries:
    """Counter upkeep and reads of a session's campaign (the session provides the stubs)."""

    __slots__ = ()

    _cid: str

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any]) -> int:
        raise NotImplementedError

    # --- upkeep ---------------------------------------------------------------------------

    def _count_rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of a read that does not send the session's batched writes first."""
        raise NotImplementedError

    def _contributions(self, where: str, params: Sequence[Any], *, batched: bool) -> Counts:
        """What the state rows ``where`` selects (of this campaign) add to the counters.

        ``batched``: read as the rows stand, without sending the batched writes first (the
        read of a flush of those writes).
        """
        read = self._count_rows if batched else self._rows
        scoped = f"s.campaign_id = ? AND ({where})"
        counts: dict[Key, list[int]] = {}
        for _, org, batch, stage, *numbers in read(
            contribution_sql(scoped), _thrice(self._cid, params)
        ):
            counts[(org, int(batch), stage)] = [int(n or 0) for n in numbers]
        stuck: dict[StuckKey, int] = {}
        for _, org, batch, stage, codes, n in read(stuck_sql(scoped), _thrice(self._cid, params)):
            stuck[(org, int(batch), stage, codes)] = int(n)
        return counts, stuck

    def _counts_before(
        self,
        unit_ids: Iterable[str] | None = None,
        *,
        parent: str | None = None,
        batched: bool = False,
    ) -> Recount:
        """The counter contributions of some units before a write: ``unit_ids``' (any number)
        or those naming ``parent``; hand the result to :meth:`_counts_after` after it."""
        if unit_ids is None:
            wheres: list[tuple[str, tuple[Any, ...]]] = [("s.parent = ?", (parent,))]
        else:
            ids = sorted(set(unit_ids))
            wheres = [
                (f"s.unit_id IN ({', '.join('?' for _ in chunk)})", tuple(chunk))
                for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500))
            ]
        before = _summed(self._contributions(w, p, batched=batched) for w, p in wheres)
        return Recount(wheres, before, batched)

    def _counts_after(self, recount: Recount) -> None:
        """Add to the counters what the write since :meth:`_counts_before` changed."""
        after = _summed(
            self._contributions(w, p, batched=recount.batched) for w, p in recount.wheres
        )
        self._add_counts(recount.before, after)

    def _add_counts(self, before: Counts, after: Counts) -> None:
        old, old_stuck = before
        new, new_stuck = after
        zero = [0] * len(COUNTED)
        sets = ", ".join(f"{name} = {name} + ?" for name in COUNTED)
        key_where = "campaign_id = ? AND org = ? AND batch = ? AND stage = ?"
        for key in sorted(old.keys() | new.keys()):
            delta = [n - o for n, o in zip(new.get(key, zero), old.get(key, zero), strict=True)]
            if not any(delta):
                continue
            params = (self._cid, *key)
            if not self._run(f"UPDATE cf_counts SET {sets} WHERE {key_where}", (*delta, *params)):
                marks = ", ".join("?" for _ in range(4 + len(COUNTED)))
                self._run(
                    f"INSERT INTO cf_counts ({_COUNT_COLUMNS}) VALUES ({marks})", (*params, *delta)
                )
            elif delta[0] < 0:
                self._run(f"DELETE FROM cf_counts WHERE {key_where} AND units = 0", params)
        stuck_where = f"{key_where} AND codes = ?"
        for skey in sorted(old_stuck.keys() | new_stuck.keys()):
            d = new_stuck.get(skey, 0) - old_stuck.get(skey, 0)
            if not d:
                continue
            sparams = (self._cid, *skey)
            if not self._run(
                f"UPDATE cf_stuck_counts SET units = units + ? WHERE {stuck_where}", (d, *sparams)
            ):
                self._run(
                    f"INSERT INTO cf_stuck_counts ({_STUCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (*sparams, d),
                )
            elif d < 0:
                self._run(f"DELETE FROM cf_stuck_counts WHERE {stuck_where} AND units = 0", sparams)

    def batch_closes(self) -> dict[int, date]:
        rows = self._rows(
            "SELECT batch, closes FROM cf_batch_closes WHERE campaign_id = ?", (self._cid,)
        )
        return {int(batch): date.fromisoformat(str(closes)) for batch, closes in rows}

    def set_batch_closes(self, closes: Mapping[int, date]) -> None:
        cid = self._cid
        self._run("DELETE FROM cf_batch_closes WHERE campaign_id = ?", (cid,))
        for batch, day in sorted(closes.items()):
            self._run(
                "INSERT INTO cf_batch_closes (campaign_id, batch, closes) VALUES (?, ?, ?)",
                (cid, batch, day.isoformat()),
            )
        self._run("DELETE FROM cf_counts WHERE campaign_id = ?", (cid,))
        self._run("DELETE FROM cf_stuck_counts WHERE campaign_id = ?", (cid,))
        for statement in fill_statements("s.campaign_id = ?"):
            self._run(statement, (cid, cid, cid))

    # --- reads ----------------------------------------------------------------------------

    def counted_groups(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[GroupCounts]:
        where, params = self._org_filter(orgs, batch)
        rows = self._rows(
            f"SELECT org, batch, stage, {', '.join(COUNTED)} FROM cf_counts WHERE {where}",
            params,
        )
        return [
            GroupCounts(
                parent=org or None,
                batch=int(group_batch),
                stage=stage,
                **{name: int(n) for name, n in zip(COUNTED, numbers, strict=True)},
            )
            for org, group_batch, stage, *numbers in rows
        ]

    def counted_blocking(
        self, orgs: Sequence[str] | None, *, batch: int | None = None
    ) -> list[tuple[str | None, str, int]]:
        where, params = self._org_filter(orgs, batch)
        totals: dict[tuple[str | None, str], int] = {}
        for org, codes, n in self._rows(
            f"SELECT org, codes, SUM(units) FROM cf_stuck_counts WHERE {where} GROUP BY org, codes",
            params,
        ):
            for code in str(codes).split():
                key = (org or None, code)
                totals[key] = totals.get(key, 0) + int(n)
        return [(org, code, n) for (org, code), n in totals.items()]

    def organisations_within(self, under: str, depth: int | None) -> list[Organisation]:
        deeper, params = ("", ()) if depth is None else (" AND t.depth <= ?", (depth,))
        rows = self._rows(
            f"SELECT {ORG_COLUMNS} FROM cf_orgs o JOIN cf_org_tree t "
            "ON t.campaign_id = o.campaign_id AND t.descendant = o.org_id "
            f"WHERE o.campaign_id = ? AND t.ancestor = ?{deeper} ORDER BY o.ordinal",
            (self._cid, under, *params),
        )
        return [org_of(OrgRow._make(row)) for row in rows]

    def _org_filter(
        self, orgs: Sequence[str] | None, batch: int | None
    ) -> tuple[str, tuple[Any, ...]]:
        keys = [CAMPAIGN_ROW] if orgs is None else list(orgs)
        where = f"campaign_id = ? AND org IN ({', '.join('?' for _ in keys)})"
        params: tuple[Any, ...] = (self._cid, *keys)
        if batch is not None:
            where += " AND batch = ?"
            params = (*params, batch)
        return where, params


def _summed(parts: Iterable[Counts]) -> Counts:
    """The contributions of several disjoint sets of units, added up."""
    counts: dict[Key, list[int]] = {}
    stuck: dict[StuckKey, int] = {}
    for part_counts, part_stuck in parts:
        for key, numbers in part_counts.items():
            kept = counts.setdefault(key, [0] * len(COUNTED))
            kept[:] = [a + b for a, b in zip(kept, numbers, strict=True)]
        for skey, n in part_stuck.items():
            stuck[skey] = stuck.get(skey, 0) + n
    return counts, stuck


def _thrice(cid: str, params: Sequence[Any]) -> tuple[Any, ...]:
    """The params of a by-org query: the scoped filter is repeated in each of its parts."""
    one = (cid, *params)
    return (*one, *one, *one)
