"""A campaign on a custom guard and a custom fact type, and the edits an attacker with write
access to its database can make (tests/test_tamper.py, tests/test_verify_store.py).

Every edit goes through the database's own connection, as an attacker's would: rows of
``cf_audit``, ``cf_units``, ``cf_states``, ``cf_facts`` and ``cf_campaigns`` changed, added,
deleted, reordered; the chain's tail cut; a suffix re-hashed; the purge anchor forged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

import campaignflow as cf
from campaignflow.audit import AuditRecord, seal
from campaignflow.guards import GuardRegistry
from campaignflow.i18n import MessageCatalog
from tests.store.conftest import StoreFactory

CLERK = cf.Actor(id="li", roles={"branch_committee"})
INSPECTOR = cf.Actor(id="wang", roles={"supervision_group"})


@attrs.frozen
class Inspection:
    """A host's own fact: an inspection's score out of 100."""

    score: int


def registries() -> tuple[GuardRegistry, cf.FactTypes]:
    """A guard registry with the custom ``inspection_passed`` guard, and fact types with
    ``inspection``, both apart from the defaults."""
    guards = cf.guards.registry.copy(catalog=MessageCatalog())

    @cf.guard(
        "inspection_passed",
        registry=guards,
        messages={
            "inspection.passed": {"zh_CN": "检查得分 {best}", "en": "inspection scored {best}"},
            "inspection.low": {
                "zh_CN": "检查得分 {best}，低于 {minimum}",
                "en": "inspection scored {best}, below {minimum}",
            },
        },
    )
    def inspection_passed(ctx: cf.GuardContext, *, minimum: int = 60) -> cf.Verdict:
        best = max((fact.score for fact in ctx.facts(Inspection)), default=0)
        passed = best >= minimum
        code = "inspection.passed" if passed else "inspection.low"
        return cf.Verdict("inspection_passed", passed, code, {"best": best, "minimum": minimum})

    types = cf.FactTypes()
    for name, kind in (
        ("study_session", cf.StudySession),
        ("survey", cf.Survey),
        ("milestone", cf.Milestone),
        ("approval", cf.Approval),
        ("inspection", Inspection),
    ):
        types.register(name, kind)
    return guards, types


def workflow(guards: GuardRegistry) -> cf.Workflow:
    """work -> review (an inspection scored >= 60, the custom guard) -> done (a milestone
    filed and the supervision group's approval)."""
    return cf.Workflow.from_dict(
        {
            "name": "inspected",
            "version": "1",
            "stages": [{"id": "work"}, {"id": "review"}, {"id": "done", "kind": "final"}],
            "transitions": [
                {
                    "source": "work",
                    "dest": "review",
                    "guards": [{"guard": "inspection_passed", "minimum": 60}],
                },
                {
                    "source": "review",
                    "dest": "done",
                    "guards": [
                        {"guard": "milestones_done", "names": ["filed"]},
                        {"guard": "approved_by", "role": "supervision_group"},
                    ],
                },
            ],
        },
        registry=guards,
    )


def campaign(factory: StoreFactory, clock: cf.FixedClock) -> cf.Campaign:
    """The inspected campaign on ``factory``'s store, with its own guard and fact registries."""
    guards, types = registries()
    store = factory.open(fact_types=types) if factory.kind != "memory" else factory.open()
    return cf.Campaign(
        workflow(guards),
        store=store,
        clock=clock,
        campaign_id=factory.campaign_id,
        fact_types=types,
    )


def fill(camp: cf.Campaign, clock: cf.FixedClock, units: int) -> None:
    """``units`` units: every third passes review and finishes, every third is refused once
    (a low score), the rest stay at work with a score; the trail ends with a refusal."""
    clock.set(date(2005, 1, 10))
    camp.add_units(
        [cf.Unit(id=f"u{i:04d}", name=f"支部 {i}", kind="organ", batch=1) for i in range(units)]
    )
    clock.set(date(2005, 2, 1))
    for i in range(units):
        uid = f"u{i:04d}"
        if i % 3 == 0:
            camp.record(uid, Inspection(score=80), actor=INSPECTOR)
            camp.advance(uid, actor=CLERK)
            camp.record(uid, cf.Milestone("filed"), actor=CLERK)
            camp.approve(uid, actor=INSPECTOR)
            camp.advance(uid, actor=CLERK)
        elif i % 3 == 1:
            camp.record(uid, Inspection(score=40), actor=INSPECTOR)
            _refused(camp, uid)
        else:
            camp.record(uid, Inspection(score=55), actor=INSPECTOR, request_id=f"r-{uid}")
    _refused(camp, "u0001")  # the last record changes no row


def _refused(camp: cf.Campaign, unit_id: str) -> None:
    try:
        camp.advance(unit_id, actor=CLERK)
    except cf.TransitionRejected:
        pass
    else:  # pragma: no cover - the scenario's refusal
        raise AssertionError(f"{unit_id} should have been refused")


# --- the attacker's connection ----------------------------------------------------------------


class Raw:
    """The database under the store, through a connection of its own (autocommit)."""

    def __init__(self, factory: StoreFactory) -> None:
        self.cid = factory.campaign_id
        self.pg = factory.kind == "postgres"
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(factory.dsn, autocommit=True)
        else:
            self.conn = sqlite3.connect(factory.path, timeout=30, isolation_level=None)

    def close(self) -> None:
        self.conn.close()

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.pg:
            cursor = self.conn.execute(sql.replace("?", "%s"), tuple(params))
            return list(cursor.fetchall()) if cursor.description else []
        cursor = self.conn.execute(sql, tuple(params))
        return list(cursor.fetchall())

    def head(self) -> tuple[int, str]:
        rows = self.run(
            "SELECT head_seq, head_hash FROM cf_campaigns WHERE campaign_id = ?", (self.cid,)
        )
        return int(rows[0][0]), str(rows[0][1])

    def audit_rows(self) -> list[dict[str, Any]]:
        rows = self.run("SELECT * FROM cf_audit WHERE campaign_id = ? ORDER BY seq", (self.cid,))
        names = self.columns("cf_audit")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def columns(self, table: str) -> list[str]:
        if self.pg:
            cursor = self.conn.execute(f"SELECT * FROM {table} LIMIT 0")
            return [d.name for d in cursor.description]
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})").fetchall()]

    def insert(self, table: str, row: dict[str, Any]) -> None:
        names = list(row)
        marks = ", ".join("?" * len(names))
        self.run(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", list(row.values()))

    def set_head(self, seq: int, hash_: str) -> None:
        self.run(
            "UPDATE cf_campaigns SET head_seq = ?, head_hash = ? WHERE campaign_id = ?",
            (seq, hash_, self.cid),
        )


def _record(row: dict[str, Any]) -> AuditRecord:
    return AuditRecord.from_row(
        cf.audit.AuditRow(
            **{
                name: row[{"at": "at_time", "on": "on_date"}.get(name, name)]
                for name in cf.audit.AUDIT_ROW_FIELDS
            }
        )
    )


def rehash_from(raw: Raw, seq: int) -> tuple[int, str]:
    """Re-seal every record from ``seq`` on (as an attacker with the code can), move the head."""
    rows = raw.audit_rows()
    prev = cf.audit.GENESIS_HASH
    last = (0, prev)
    for row in rows:
        record = _record(row)
        if record.seq >= seq:
            record = seal(attrs.evolve(record, prev_hash=prev))
            raw.run(
                "UPDATE cf_audit SET prev_hash = ?, hash = ? WHERE campaign_id = ? AND seq = ?",
                (record.prev_hash, record.hash, raw.cid, record.seq),
            )
        prev = record.hash
        last = (record.seq, record.hash)
    raw.set_head(*last)
    return last


# --- the named kinds ------------------------------------------------------------------------
# Each takes the raw connection and a seq in the middle of the trail; returns nothing.

Kind = Callable[[Raw, int], None]


def audit_edit(raw: Raw, seq: int) -> None:
    raw.run(
        "UPDATE cf_audit SET actor_id = 'mallory' WHERE campaign_id = ? AND seq = ?", (raw.cid, seq)
    )


def audit_insertion(raw: Raw, seq: int) -> None:
    rows = raw.audit_rows()
    # Make room after seq (two steps, so the primary key never collides), then copy it in.
    raw.run(
        "UPDATE cf_audit SET seq = seq + 1000000 WHERE campaign_id = ? AND seq > ?", (raw.cid, seq)
    )
    raw.run(
        "UPDATE cf_audit SET seq = seq - 999999 WHERE campaign_id = ? AND seq > ?", (raw.cid, seq)
    )
    copy = dict(next(r for r in rows if r["seq"] == seq))
    copy.update(seq=seq + 1, request_id=None, transition_version=None)
    raw.insert("cf_audit", copy)
    head, hash_ = raw.head()
    raw.set_head(head + 1, hash_)


def audit_deletion(raw: Raw, seq: int) -> None:
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ? AND seq = ?", (raw.cid, seq))


def audit_reordering(raw: Raw, seq: int) -> None:
    raw.run("UPDATE cf_audit SET seq = -1 WHERE campaign_id = ? AND seq = ?", (raw.cid, seq))
    raw.run(
        "UPDATE cf_audit SET seq = ? WHERE campaign_id = ? AND seq = ?", (seq, raw.cid, seq + 1)
    )
    raw.run("UPDATE cf_audit SET seq = ? WHERE campaign_id = ? AND seq = -1", (seq + 1, raw.cid))


def audit_truncation(raw: Raw, seq: int) -> None:
    """Cut the last record (a refusal, which changed no row) and move the head pointer back."""
    head, _ = raw.head()
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ? AND seq = ?", (raw.cid, head))
    rows = raw.audit_rows()
    raw.set_head(rows[-1]["seq"], rows[-1]["hash"])


def recomputed_suffix(raw: Raw, seq: int) -> None:
    """Change who acted in a refusal (a record no row copies), then re-seal the chain from it
    to the head: the trail now blames someone else, and still verifies on its own."""
    refusal = next(
        r["seq"] for r in raw.audit_rows() if r["seq"] >= seq and r["outcome"] == "denied"
    )
    audit_edit(raw, refusal)
    rehash_from(raw, refusal)


def forged_anchor(raw: Raw, seq: int) -> None:
    """The issue's attack: delete the trail, point the anchor at the old head."""
    head, hash_ = raw.head()
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ?", (raw.cid,))
    raw.run(
        "UPDATE cf_campaigns SET anchor_seq = ?, anchor_hash = ? WHERE campaign_id = ?",
        (head, hash_, raw.cid),
    )


def forged_purge(raw: Raw, seq: int) -> None:
    """The careful attack: delete the trail through ``seq``, set the anchor there, and append
    a purge record (sealed as the code would) that names it, with every unit counted."""
    rows = raw.audit_rows()
    anchor = next(r for r in rows if r["seq"] == seq)
    units = sum(
        1 for r in rows if r["seq"] <= seq and r["command"] == "add_unit" and r["outcome"] == "ok"
    )
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ? AND seq <= ?", (raw.cid, seq))
    raw.run(
        "UPDATE cf_campaigns SET anchor_seq = ?, anchor_hash = ? WHERE campaign_id = ?",
        (anchor["seq"], anchor["hash"], raw.cid),
    )
    last = _record(rows[-1])
    purge = seal(
        attrs.evolve(
            last,
            seq=last.seq + 1,
            command="purge",
            unit_id=None,
            source=None,
            dest=None,
            version=None,
            request_id=None,
            outcome="ok",
            decision=None,
            reason=None,
            payload={"from": 1, "through": seq, "hash": anchor["hash"], "units": units},
            prev_hash=last.hash,
            at=last.at + timedelta(days=400),
            on=last.on + timedelta(days=400),
        )
    )
    row = purge.row()
    data = {
        {"at": "at_time", "on": "on_date"}.get(name, name): getattr(row, name)
        for name in cf.audit.AUDIT_ROW_FIELDS
    }
    raw.insert("cf_audit", {"campaign_id": raw.cid, **data, "transition_version": None})
    raw.set_head(purge.seq, purge.hash)


def unit_edit(raw: Raw, seq: int) -> None:
    raw.run(
        "UPDATE cf_units SET name = 'renamed' WHERE campaign_id = ? AND unit_id = 'u0002'",
        (raw.cid,),
    )


def state_edit(raw: Raw, seq: int) -> None:
    raw.run(
        "UPDATE cf_states SET stage = 'done' WHERE campaign_id = ? AND unit_id = 'u0001'",
        (raw.cid,),
    )


def fact_edit(raw: Raw, seq: int) -> None:
    """A low inspection score raised to a passing one: the gate would open."""
    rows = raw.run(
        "SELECT stage, n, data FROM cf_facts WHERE campaign_id = ? AND unit_id = 'u0001'",
        (raw.cid,),
    )
    stage, n, data = rows[0]
    raised = json.dumps({**json.loads(data), "score": 99}, sort_keys=True, separators=(",", ":"))
    raw.run(
        "UPDATE cf_facts SET data = ? WHERE campaign_id = ? AND unit_id = 'u0001' AND stage = ? AND n = ?",
        (raised, raw.cid, stage, n),
    )


#: Every named kind, and whether a verification WITHOUT a checkpoint still detects it.
KINDS: dict[str, tuple[Kind, bool]] = {
    "audit edit": (audit_edit, True),
    "audit insertion": (audit_insertion, True),
    "audit deletion": (audit_deletion, True),
    "audit reordering": (audit_reordering, True),
    # A cut tail of records that changed no row, with the head pointer moved back: the
    # chain that is left is a valid chain. Only a checkpoint remembers it was longer.
    "audit truncation": (audit_truncation, False),
    # Re-sealed with the public algorithm: a valid chain of other content. Only a
    # checkpoint (signed, away from the attacker) pins the original.
    "recomputed suffix": (recomputed_suffix, False),
    "forged anchor": (forged_anchor, True),
    # A forged anchor with a forged purge record: a valid chain that starts later. Only a
    # checkpoint newer than the hidden records catches it.
    "forged purge": (forged_purge, False),
    "unit row edit": (unit_edit, True),
    "state row edit": (state_edit, True),
    "fact row edit": (fact_edit, True),
}
