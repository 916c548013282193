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
counters (schema migration 8, and again when the batch windows change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from campaignflow._words.overview import COUNTED as COUNTED_FIGURES
from campaignflow._words.overview import GroupCounts
from campaignflow._words.records import Organisation
from campaignflow.store._queries import ORG_COLUMNS
from campaignflow.store._rows import OrgRow, org_of

__all__ = [
    "CAMPAIGN_ROW",
    "COUNTED",
    "CountMemo",
    "CountQueries",
    "Recount",
    "fill_statements",
]

#: The org key of the counter rows that count every unit of the campaign.
CAMPAIGN_ROW = ""

#: The counter columns, in the order the contribution query yields them.
COUNTED = (*COUNTED_FIGURES, "own")

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


#: The state columns a unit's contribution is made of (see :func:`_count_row`).
_STATE_COUNTED = (
    "s.unit_id, s.parent, s.batch, s.stage, s.entered_on, s.remedial, s.remedial_round, "
    "s.a_satisfied, s.a_fairly, s.a_basically, s.a_dissatisfied, s.refused_version, "
    "s.version, s.refused_codes"
)


def _count_row(
    row: Sequence[Any],
    closes: Mapping[int, str],
    ancestors: Mapping[str, list[str]],
    counts: dict[Key, list[int]],
    stuck: dict[StuckKey, int],
) -> None:
    """Add one state row's contribution (columns :data:`_STATE_COUNTED`)."""
    (_, parent, batch, stage, entered, remedial, rounds, sat, fair, basic, dis, refused,
     version, codes) = row  # fmt: skip
    batch = int(batch)
    close = closes.get(batch)
    on_time = int(entered is not None and close is not None and str(entered) <= close)
    if sat is None:
        ballots = (0, 0, 0, 0, 0, 0)
    else:
        sat, fair, basic, dis = int(sat), int(fair or 0), int(basic or 0), int(dis or 0)
        ballots = (1, sat, fair, basic, dis, int(2 * dis > sat + fair + basic + dis))
    is_stuck = refused is not None and int(refused) == int(version)
    vector = (1, on_time, int(remedial), int(rounds), *ballots, int(is_stuck))
    if parent is None:
        orgs = [(CAMPAIGN_ROW, 1)]
    else:
        above = ancestors.get(parent) or [parent]
        orgs = [(CAMPAIGN_ROW, 0), *((org, int(org == parent)) for org in above)]
    for org, own in orgs:
        kept = counts.get((org, batch, stage))
        if kept is None:
            counts[(org, batch, stage)] = [*vector, own]
        else:
            for i, n in enumerate(vector):
                kept[i] += n
            kept[-1] += own
        if is_stuck:
            skey = (org, batch, stage, str(codes or ""))
            stuck[skey] = stuck.get(skey, 0) + 1


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


@attrs.define
class CountMemo:
    """What a session's counter upkeep read, kept for the session: the batch closes, and the
    ancestors of each parent asked about ([] for an unregistered one)."""

    closes: dict[int, str] | None = None
    ancestors: dict[str, list[str]] = attrs.field(factory=dict)


class CountQueries:
    """Counter upkeep and reads of a session's campaign (the session provides the stubs)."""

    __slots__ = ()

    _cid: str
    _count_memo: CountMemo

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

        Reads the rows' counted columns and their parents' ancestors, and counts in Python
        as :func:`contribution_sql` does in SQL (that query fills the counters). ``batched``:
        read as the rows stand, without sending the batched writes first (a flush's reads).
        """
        read = self._count_rows if batched else self._rows
        cid = self._cid
        rows = read(
            f"SELECT {_STATE_COUNTED} FROM cf_states s WHERE s.campaign_id = ? AND ({where})",
            (cid, *params),
        )
        counts: dict[Key, list[int]] = {}
        stuck: dict[StuckKey, int] = {}
        if not rows:
            return counts, stuck
        memo = self._count_memo
        if memo.closes is None:
            memo.closes = {
                int(batch): str(day)
                for batch, day in read(
                    "SELECT batch, closes FROM cf_batch_closes WHERE campaign_id = ?", (cid,)
                )
            }
        closes = memo.closes
        ancestors = memo.ancestors
        parents = sorted({row[1] for row in rows if row[1] is not None} - ancestors.keys())
        for chunk in (parents[i : i + 500] for i in range(0, len(parents), 500)):
            for parent in chunk:
                ancestors[parent] = []
            for descendant, ancestor in read(
                "SELECT t.descendant, t.ancestor FROM cf_org_tree t WHERE t.campaign_id = ? "
                f"AND t.descendant IN ({', '.join('?' for _ in chunk)})",
                (cid, *chunk),
            ):
                ancestors[descendant].append(ancestor)
        for row in rows:
            _count_row(row, closes, ancestors, counts, stuck)
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
        if recount.wheres and recount.wheres[0][0] == "s.parent = ?":
            self._count_memo.ancestors.clear()  # an organisation was registered
        after = _summed(
            self._contributions(w, p, batched=recount.batched) for w, p in recount.wheres
        )
        self._add_counts(recount.before, after)

    def _count_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a write once per row of params, in one driver call (no batched writes sent)."""
        raise NotImplementedError

    def _add_counts(self, before: Counts, after: Counts) -> None:
        """Add ``after`` - ``before`` to the counter rows (a few batched statements)."""
        old, old_stuck = before
        new, new_stuck = after
        zero = [0] * len(COUNTED)
        deltas: dict[tuple[Any, ...], list[int]] = {}
        for key in old.keys() | new.keys():
            delta = [n - o for n, o in zip(new.get(key, zero), old.get(key, zero), strict=True)]
            if any(delta):
                deltas[key] = delta
        self._apply_deltas("cf_counts", ("org", "batch", "stage"), COUNTED, deltas)
        stuck_deltas: dict[tuple[Any, ...], list[int]] = {}
        for skey in old_stuck.keys() | new_stuck.keys():
            d = new_stuck.get(skey, 0) - old_stuck.get(skey, 0)
            if d:
                stuck_deltas[skey] = [d]
        self._apply_deltas(
            "cf_stuck_counts", ("org", "batch", "stage", "codes"), ("units",), stuck_deltas
        )

    def _apply_deltas(
        self,
        table: str,
        keys: tuple[str, ...],
        values: tuple[str, ...],
        deltas: Mapping[tuple[Any, ...], list[int]],
    ) -> None:
        if not deltas:
            return
        cid = self._cid
        existing: set[tuple[Any, ...]] = set()
        orgs = sorted({key[0] for key in deltas})
        for chunk in (orgs[i : i + 500] for i in range(0, len(orgs), 500)):
            for org, batch, *rest in self._count_rows(
                f"SELECT {', '.join(keys)} FROM {table} "
                f"WHERE campaign_id = ? AND org IN ({', '.join('?' for _ in chunk)})",
                (cid, *chunk),
            ):
                existing.add((org, int(batch), *rest))
        ordered = sorted(deltas.items())
        key_where = " AND ".join(f"{k} = ?" for k in ("campaign_id", *keys))
        sets = ", ".join(f"{name} = {name} + ?" for name in values)
        self._count_many(
            f"UPDATE {table} SET {sets} WHERE {key_where}",
            [(*delta, cid, *key) for key, delta in ordered if key in existing],
        )
        marks = ", ".join("?" for _ in range(1 + len(keys) + len(values)))
        self._count_many(
            f"INSERT INTO {table} (campaign_id, {', '.join(keys)}, {', '.join(values)}) "
            f"VALUES ({marks})",
            [(cid, *key, *delta) for key, delta in ordered if key not in existing],
        )
        self._count_many(
            f"DELETE FROM {table} WHERE {key_where} AND units = 0",
            [(cid, *key) for key, delta in ordered if key in existing and delta[0] < 0],
        )

    def batch_closes(self) -> dict[int, date]:
        rows = self._rows(
            "SELECT batch, closes FROM cf_batch_closes WHERE campaign_id = ?", (self._cid,)
        )
        return {int(batch): date.fromisoformat(str(closes)) for batch, closes in rows}

    def set_batch_closes(self, closes: Mapping[int, date]) -> None:
        cid = self._cid
        self._count_memo.closes = None
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
