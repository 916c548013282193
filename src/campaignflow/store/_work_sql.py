"""What the SQL store keeps of work items (待办, schema version 6): one row per unit and wait.

A mixin of :class:`~campaignflow.store._session.Session`. Rows are replaced per unit; a page
is one indexed query in key order (unit id, kind, role) after the caller's cursor, so it
costs O(page), not O(units).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from campaignflow._words.records import Organisation
from campaignflow._words.work import InboxQuery, WorkItem
from campaignflow.audit import canonical_json, verdict_from_data, verdict_to_data
from campaignflow.store._queries import SessionStatements

__all__ = ["WorkQueries"]

_COLUMNS = "w.unit_id, w.kind, w.role, w.parent, w.stage, w.since, w.deadline, w.verdicts"


class WorkQueries(SessionStatements):
    """The work items of a session's campaign (the session provides what is stubbed)."""

    __slots__ = ()

    def get_organisation(self, org_id: str) -> Organisation | None:
        raise NotImplementedError  # OverviewQueries' (before this mixin in the session's MRO)

    def work_items_through(self) -> tuple[int, date | None]:
        rows = self._rows(
            "SELECT items_seq, items_on FROM cf_campaigns WHERE campaign_id = ?", (self._cid,)
        )
        for seq, on in rows:
            return int(seq), None if on is None else date.fromisoformat(on)
        return 0, None

    def mark_work_items(self, seq: int, on: date) -> None:
        self._writable()
        self._run(
            "UPDATE cf_campaigns SET items_seq = ?, items_on = ? WHERE campaign_id = ?",
            (seq, on.isoformat(), self._cid),
        )

    def get_work_items(self, unit_id: str) -> list[WorkItem]:
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM cf_work_items w WHERE w.campaign_id = ? AND w.unit_id = ?",
            (self._cid, unit_id),
        )
        return [_item(row) for row in rows]

    def set_work_items(self, unit_id: str, items: Sequence[WorkItem]) -> None:
        self._writable()
        self._run(
            "DELETE FROM cf_work_items WHERE campaign_id = ? AND unit_id = ?",
            (self._cid, unit_id),
        )
        for item in items:
            self._run(
                "INSERT INTO cf_work_items (campaign_id, unit_id, kind, role, parent, stage, "
                "since, deadline, verdicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._cid,
                    item.unit_id,
                    item.kind,
                    item.role or "",
                    item.parent,
                    item.stage,
                    _day(item.since),
                    _day(item.deadline),
                    canonical_json([verdict_to_data(v) for v in item.verdicts]),
                ),
            )

    def page_work_items(self, query: InboxQuery) -> list[WorkItem]:
        scopes: list[str] = []
        params: list[Any] = [self._cid]
        if query.roles:
            roles = sorted(query.roles)
            where = f"w.role IN ({', '.join('?' for _ in roles)})"
            params.extend(roles)
            if query.under is not None:
                if self.get_organisation(query.under) is None:
                    where += " AND w.parent = ?"
                    params.append(query.under)
                else:
                    where += (
                        " AND w.parent IN (SELECT t.descendant FROM cf_org_tree t "
                        "WHERE t.campaign_id = ? AND t.ancestor = ?)"
                    )
                    params.extend((self._cid, query.under))
            scopes.append(f"({where})")
        if query.unit is not None:
            scopes.append("(w.role = '' AND w.unit_id = ?)")
            params.append(query.unit)
        if not scopes:
            return []
        sql = f"SELECT {_COLUMNS} FROM cf_work_items w WHERE w.campaign_id = ? AND ({' OR '.join(scopes)})"
        if query.kind is not None:
            sql += " AND w.kind = ?"
            params.append(query.kind)
        if query.due_before is not None:
            sql += " AND w.deadline < ?"
            params.append(query.due_before.isoformat())
        if query.after is not None:
            unit, kind, role = query.after
            # ``unit_id >= ?`` first: a range the indexes use, so a page deep in the list
            # starts at its cursor instead of reading every item before it.
            sql += (
                " AND w.unit_id >= ? AND (w.unit_id > ? OR (w.unit_id = ? AND (w.kind > ? OR "
                "(w.kind = ? AND w.role > ?))))"
            )
            params.extend((unit, unit, unit, kind, kind, role))
        sql += f" ORDER BY w.unit_id, w.kind, w.role LIMIT {int(query.limit)}"
        return [_item(row) for row in self._rows(sql, params)]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _item(row: Sequence[Any]) -> WorkItem:
    unit_id, kind, role, parent, stage, since, deadline, verdicts = row
    return WorkItem(
        unit_id=unit_id,
        kind=kind,
        role=role or None,
        parent=parent,
        stage=stage,
        since=None if since is None else date.fromisoformat(since),
        deadline=None if deadline is None else date.fromisoformat(deadline),
        verdicts=tuple(verdict_from_data(v) for v in json.loads(verdicts)),
    )
