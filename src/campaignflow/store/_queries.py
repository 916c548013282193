"""The SQL store's statements and column lists, as text (``?`` placeholders; see Dialect),
and the base of the session's query mixins that run them.

Column lists are made from the row types of ``_rows`` (and the audit package's AuditRow), so
a statement selects exactly the columns its row type names, in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from campaignflow.audit import AUDIT_ROW_FIELDS
from campaignflow.store._dialect import ANY_FAILURE, Failure
from campaignflow.store._rows import FactRow, OrgRow, RefusalRow, StateRow, UnitRow

__all__ = [
    "AUDIT_COLUMNS",
    "DIRTY_ON",
    "FACT_COLUMNS",
    "INSERT_AUDIT",
    "INSERT_FACT",
    "INSERT_STATE",
    "INSERT_UNIT",
    "ORG_COLUMNS",
    "REFUSAL_COLUMNS",
    "STATE_COLUMNS",
    "STUCK_ORDER",
    "UNIT_COLUMNS",
    "UNIT_STATE_FROM",
    "UPDATE_STATE",
    "SessionStatements",
]


def _columns(alias: str, names: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{name}" for name in names)


UNIT_COLUMNS = _columns("u", UnitRow._fields)
STATE_COLUMNS = _columns("s", StateRow._fields)
FACT_COLUMNS = _columns("f", FactRow._fields)
ORG_COLUMNS = _columns("o", OrgRow._fields)
REFUSAL_COLUMNS = _columns("r", RefusalRow._fields)

# The audit table names two columns apart from the record's fields ("at", "on" are SQL words).
_AUDIT_COLUMN_OF = {"at": "at_time", "on": "on_date"}
AUDIT_COLUMNS = ", ".join(_AUDIT_COLUMN_OF.get(name, name) for name in AUDIT_ROW_FIELDS)

#: A unit joined to its state (aliases ``u`` and ``s``).
UNIT_STATE_FROM = (
    "cf_units u JOIN cf_states s ON s.campaign_id = u.campaign_id AND s.unit_id = u.unit_id"
)

#: How stuck units are ordered, by StuckOrder.
STUCK_ORDER = {
    "days_in_stage": "s.stage_since, s.ordinal",
    "refused": "s.refused_seq DESC, s.ordinal",
    "added": "s.ordinal",
}

#: The ``due_on`` of a dirty unit (``date.min``): judge it in the next sweep. A state write
#: (UPDATE_STATE, INSERT_STATE) leaves the unit dirty, in the same statement.
DIRTY_ON = "0001-01-01"

#: Params: rows.state_values(state), campaign, unit, expected version. Leaves the unit dirty.
UPDATE_STATE = (
    "UPDATE cf_states SET stage = ?, batch = ?, version = ?, entered_on = ?, "
    "stage_since = ?, started_on = ?, remedial = ?, remedial_round = ?, "
    "resume_since = ?, workflow = ?, due_on = '0001-01-01' "
    "WHERE campaign_id = ? AND unit_id = ? AND version = ?"
)

#: Params: campaign, the AuditRow's columns, transition_version.
INSERT_AUDIT = (
    f"INSERT INTO cf_audit (campaign_id, {AUDIT_COLUMNS}, transition_version) "
    f"VALUES ({', '.join('?' * (len(AUDIT_ROW_FIELDS) + 2))})"
)

INSERT_UNIT = (
    "INSERT INTO cf_units (campaign_id, unit_id, ordinal, name, kind, batch, members, "
    "parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

#: Params: campaign, unit, rows.state_values(state), parent, ordinal.
INSERT_STATE = (
    "INSERT INTO cf_states (campaign_id, unit_id, stage, batch, version, entered_on, "
    "stage_since, started_on, remedial, remedial_round, resume_since, workflow, "
    "parent, ordinal, due_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '0001-01-01')"
)

# n is the next number in the unit's stage; writers are serial, and a racing writer on a
# host's connection hits the primary key instead (a conflict).
INSERT_FACT = (
    "INSERT INTO cf_facts (campaign_id, unit_id, stage, n, version, seq, kind, data, "
    "on_date, at_time, actor_id, request_id) "
    "SELECT ?, ?, ?, COALESCE(MAX(n), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM cf_facts "
    "WHERE campaign_id = ? AND unit_id = ? AND stage = ?"
)


class SessionStatements:
    """How the session's query mixins (``_audit_sql``, ``_overview_sql``) run these statements.

    :class:`~campaignflow.store._session.Session` implements every method stubbed here.
    """

    __slots__ = ()

    _cid: str

    def _rows(self, sql: str, params: Sequence[Any], failure: Failure = ANY_FAILURE) -> list[Any]:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any], failure: Failure = ANY_FAILURE) -> int:
        raise NotImplementedError

    def _writable(self) -> None:
        raise NotImplementedError
