"""Fault injection: a driver call failing anywhere in a command leaves nothing or one whole change.

For each command, a clean run first counts the driver calls it makes (K: every ``execute``,
``BEGIN`` and ``COMMIT`` included, and ``commit()``). Then for every N in 1..K the N-th call
fails with the driver's ``OperationalError`` — transient (that call only) or persistent (the
connection is dead until replaced), before the call reaches the database or after it ran (a
``COMMIT`` that committed but whose answer was lost) — and the test asserts:

* the command raises a ``CampaignflowError``, never a raw driver error (or, for a sweep that
  retries, returns having done the whole change);
* reopened cleanly, the campaign's rows are exactly those before the command, or exactly those
  a clean run on a copy of the database leaves (for a sweep: those after a prefix of its
  chunks, each chunk whole); the chain verifies; state == replay; versions and facts match;
* the same store object still works: the command sent again (same request id) returns the
  clean run's result and leaves the clean run's rows.

Sweeps run with pages of 2 units (``campaign._sweeps._SWEEP_CHUNK``), so advance_all's moves fall in three chunks.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

import campaignflow as cf
from campaignflow.audit import replay
from campaignflow.campaign import Outcomes
from campaignflow.campaign import _sweeps as campaign_module
from campaignflow.store import Store
from tests.orgtree.counters import assert_counters_match
from tests.store.conftest import pg_dsn
from tests.store.faults import (
    Database,
    Dump,
    Injector,
    PostgresDatabase,
    Row,
    SQLiteDatabase,
)
from tests.store.helpers import INSPECTOR, LEADER, START, UNITS, clerk_of, satisfy

WORKFLOW = cf.presets.district_2005()
#: When the commands run: ten days into batch 1.
NOW = START + timedelta(days=10)
CHUNK = 2
MORE_UNITS = (
    *(
        cf.Unit(id=f"p{i}", name=f"第{i}党支部", kind="organ", batch=1, members=12)
        for i in (1, 2, 3)
    ),
    cf.Unit(id="vil-04", name="西村党支部", kind="village", batch=2, members=25),
)
NEW_UNITS = (
    cf.Unit(id="new-1", name="新党支部一", kind="school", batch=2, members=9),
    cf.Unit(id="new-2", name="新党支部二", kind="school", batch=3, members=14),
)
FAULT = "disk I/O error"


def build(camp: cf.Campaign, clock: cf.FixedClock) -> None:
    """The saved state every case starts from.

    fin-01, p1..p3 in preparation with its evidence (ready to advance), edu-02 in
    study_mobilization (asks approval, gates shut), vil-03 and vil-04 waiting for batch 2.
    """
    camp.add_units((*UNITS, *MORE_UNITS), request_id="base-add")
    camp.start_batch(1, on=START, actor=cf.Actor(id="leader", roles={"leading_group"}))
    for unit_id in ("fin-01", "edu-02", "p1", "p2", "p3"):
        satisfy(camp, clock, unit_id)
    camp.advance("edu-02", actor=clerk_of("edu-02"), request_id="base-edu")
    clock.set(NOW)


#: The commands under fault, each on the saved state; sweeps have no request id.
COMMANDS: dict[str, Callable[[cf.Campaign], Any]] = {
    "record": lambda camp: camp.record(
        "fin-01",
        cf.StudySession(hours=4, guided=True),
        actor=clerk_of("fin-01"),
        request_id="f-record",
    ),
    # The clerk files the survey, which is the superior organisation's: refused and audited.
    "record_refused": lambda camp: camp.record(
        "edu-02",
        cf.Survey(satisfied=9, basically_satisfied=1, dissatisfied=0),
        actor=clerk_of("edu-02"),
        request_id="f-survey",
    ),
    "approve": lambda camp: camp.approve(
        "edu-02", actor=INSPECTOR, comment="同意", request_id="f-approve"
    ),
    "advance": lambda camp: camp.advance(
        "fin-01", actor=clerk_of("fin-01"), request_id="f-advance"
    ),
    "advance_refused": lambda camp: camp.advance(
        "edu-02", actor=clerk_of("edu-02"), request_id="f-refused"
    ),
    "defer": lambda camp: camp.defer("vil-03", actor=LEADER, to_batch=3, request_id="f-defer"),
    "add_units": lambda camp: camp.add_units(NEW_UNITS, request_id="f-add"),
    "advance_all": lambda camp: camp.advance_all(),
    "start_batch": lambda camp: _start_batch_2(camp),
}


def _start_batch_2(camp: cf.Campaign) -> list[Any]:
    """The leading group opens batch 2 on 4 July: the commands' clock moves there (a start
    is dated today, and its window gate judges the clock's date)."""
    clock = camp.clock
    assert isinstance(clock, cf.FixedClock)
    clock.set(date(2005, 7, 4))
    return camp.start_batch(2, actor=LEADER)


#: Each sweep's chunks: pages of CHUNK units in the order they were added (of the batch, for
#: start_batch), less the units it does not try (finished, no way out for its trigger, or
#: for start_batch not waiting). vil-03 and vil-04 wait for batch 2, so advance_all's pages
#: (fin-01, edu-02), (vil-03, p1), (p2, p3), (vil-04) try these.
SWEEPS = {
    "advance_all": (("fin-01", "edu-02"), ("vil-03", "p1"), ("p2", "p3"), ("vil-04",)),
    "start_batch": (("vil-03", "vil-04"),),
}


@attrs.frozen
class Outcome:
    """What a command did: returned a value or raised an error."""

    value: Any = None
    error: BaseException | None = None

    def same_as(self, other: Outcome) -> bool:
        """The same result: an equal value, or an error of the same type."""
        if self.error is not None or other.error is not None:
            return type(self.error) is type(other.error)
        return bool(self.value == other.value)


def attempt(command: Callable[[cf.Campaign], Any], camp: cf.Campaign) -> Outcome:
    """Run the command; its value or whatever it raised."""
    try:
        value = command(camp)
        if isinstance(value, Outcomes):
            # A sweep's outcomes are read back from the store: read them while it is open.
            value = list(value)
        return Outcome(value=value)
    except Exception as exc:  # the test judges every error, raw driver errors included
        return Outcome(error=exc)


def campaign(db: Database, store: Store) -> cf.Campaign:
    """A campaign of ``db`` on ``store``, with the commands' clock."""
    return cf.Campaign(WORKFLOW, store=store, clock=cf.FixedClock(NOW), campaign_id=db.campaign_id)


@attrs.frozen
class Reference:
    """A clean run of one command on the saved state."""

    before: Dump
    after: Dump
    outcome: Outcome
    calls: tuple[str, ...]
    #: Every state a fault may leave: before, after, and (sweeps) after each whole chunk.
    allowed: tuple[Dump, ...]


def reference(db: Database, name: str) -> Reference:
    """Run ``name`` cleanly on the saved state, counting its driver calls."""
    db.restore()
    before = db.dump()
    counter = Injector(db.error, FAULT)
    camp = campaign(db, db.store(counter))
    with counter.armed_for():
        outcome = attempt(COMMANDS[name], camp)
    assert outcome.error is None or isinstance(outcome.error, cf.CampaignflowError), outcome
    after = db.dump()
    assert after != before, f"{name} changed nothing: it cannot show a partial change"
    allowed = chunk_states(before, after, SWEEPS[name]) if name in SWEEPS else (before, after)
    return Reference(before, after, outcome, tuple(counter.calls), allowed)


def chunk_states(
    before: Dump, after: Dump, chunks: tuple[tuple[str, ...], ...]
) -> tuple[Dump, ...]:
    """The states a sweep leaves after each prefix of its chunks: earlier chunks whole, later ones not begun."""
    old_audit = before["cf_audit"]
    assert after["cf_audit"][: len(old_audit)] == old_audit
    assert before["cf_units"] == after["cf_units"]
    assert before["cf_facts"] == after["cf_facts"]
    new = after["cf_audit"][len(old_audit) :]
    chunk_of = {unit_id: i for i, chunk in enumerate(chunks) for unit_id in chunk}
    assert {r["unit_id"] for r in new} <= set(chunk_of), "the sweep moved a unit of no chunk"
    states: list[Dump] = [before]
    for done in range(1, len(chunks) + 1):
        records = [r for r in new if chunk_of[r["unit_id"]] < done]
        assert records == new[: len(records)], "a sweep's records come chunk by chunk"
        head = dict(before["cf_campaigns"][0])
        if records:
            head.update(head_seq=records[-1]["seq"], head_hash=records[-1]["hash"])
        states.append(
            {
                **before,
                "cf_campaigns": [head],
                "cf_states": [
                    # A finished chunk's units are written whole: those it moved, and those
                    # it held (their due dates); later chunks' units are as before.
                    a if chunk_of.get(a["unit_id"], len(chunks)) < done else b
                    for a, b in zip(after["cf_states"], before["cf_states"], strict=True)
                ],
                "cf_audit": old_audit + records,
            }
        )
    unique: list[Dump] = []
    for state in states:
        if state not in unique:
            unique.append(state)
    assert unique[-1] == after
    return tuple(unique)


def undated(dump: Dump) -> Dump:
    """``dump`` without the units' due dates.

    A sweep sent again on the same day judges the units the first one moved (a move leaves
    a unit due) and stores the dates they may move from, where the clean run left them due:
    the same campaign, one sweep further on. That due-only sweeps move what judging every
    unit moves is tests/store/test_due_sweeps.py's property.
    """
    return {
        **dump,
        "cf_states": [{k: v for k, v in row.items() if k != "due_on"} for row in dump["cf_states"]],
    }


def same_or_more_due(left: Dump, after: Dump) -> bool:
    """``left`` is the clean run's ``after``, except that units may still be due (dirty).

    A sweep page whose commit failed is redone unit by unit, for the units it tried; a unit
    it only marked "not due" (waiting, final) keeps its dirty mark, which costs a judgement
    at the next sweep and loses nothing. The reverse — a due unit left undue — would hide it
    from sweeps, and fails here.
    """
    if undated(left) != undated(after):
        return False
    return all(
        a["due_on"] == b["due_on"] or a["due_on"] == "0001-01-01"
        for a, b in zip(left["cf_states"], after["cf_states"], strict=True)
    )


def check_invariants(db: Database) -> None:
    """A new, clean store finds the chain whole and state, versions and facts agreeing with it."""
    camp = campaign(db, db.store())
    trail = list(camp.audit_trail())
    verification = camp.verify_audit()
    assert verification.ok, verification.reason
    assert_counters_match(camp.store)  # the roll-up counters moved with the rows, or not at all
    states = {unit.id: state for unit, state in camp.units()}
    assert replay(WORKFLOW, trail) == states
    moves = Counter(
        r.unit_id for r in trail if r.outcome == "ok" and r.command in ("advance", "defer")
    )
    assert {u: s.version for u, s in states.items()} == {u: moves[u] for u in states}
    facts = [
        (r.seq, r.unit_id, r.source, r.version)
        for r in trail
        if r.outcome == "ok" and r.command in ("record", "approve")
    ]
    rows: list[Row] = db.dump()["cf_facts"]
    assert sorted((f["seq"], f["unit_id"], f["stage"], f["version"]) for f in rows) == facts


def which(ref: Reference, state: Dump) -> str:
    """Names the allowed state ``state`` is (for messages)."""
    if state == ref.before:
        return "nothing changed"
    if state == ref.after:
        return "the whole change"
    return f"chunks 1..{ref.allowed.index(state)} of the sweep"


def which_or_partial(ref: Reference, state: Dump) -> str:
    """Names ``state`` if it is allowed; otherwise says it is a partial change."""
    return which(ref, state) if state in ref.allowed else "a partial change"


def run_faults(
    db: Database,
    name: str,
    *,
    persistent: bool = False,
    after: bool = False,
    conflict: bool = False,
    strike: Callable[[Any], None] | None = None,
) -> None:
    """Every N in 1..K: fail the N-th driver call of ``name`` and check what it left."""
    ref = reference(db, name)
    assert ref.calls, f"{name} made no driver call"
    error = db.conflict_error if conflict else db.error
    message = "database is locked" if conflict else FAULT
    problems: list[str] = []
    # The rows are compared whole, so each distinct state needs its invariants checked once.
    checked: list[Dump] = []
    for at in range(1, len(ref.calls) + 1):
        call = f"call {at}/{len(ref.calls)} ({ref.calls[at - 1]})"
        db.restore()
        injector = Injector(error, message, at, persistent=persistent, after=after, strike=strike)
        store = db.store(injector)
        camp = campaign(db, store)
        with injector.armed_for():
            outcome = attempt(COMMANDS[name], camp)
        assert injector.fired, f"{call}: the fault never fired; the command's calls changed"
        left = db.dump()
        if outcome.error is not None and not outcome.same_as(ref.outcome):
            if isinstance(outcome.error, db.driver_errors) or not isinstance(
                outcome.error, cf.CampaignflowError
            ):
                problems.append(f"{call}: raised {outcome.error!r}, not a CampaignflowError")
                continue
            if left not in ref.allowed:
                problems.append(f"{call}: raised {outcome.error!r} and left a partial change")
                continue
        elif not same_or_more_due(left, ref.after) or not outcome.same_as(ref.outcome):
            # The command answered as if nothing failed: it must have done the whole change
            # and answered as the clean run did.
            problems.append(
                f"{call}: answered {outcome!r} (clean run: {ref.outcome!r}) and left "
                f"{which_or_partial(ref, left)}"
            )
            continue
        if isinstance(db, SQLiteDatabase):
            assert db.integrity() == [("ok",)], call
        if left not in checked:
            check_invariants(db)
            checked.append(left)
        # The same store object (its fault spent, a dead connection still in hand) works on.
        again = attempt(COMMANDS[name], camp)
        if name not in SWEEPS and not again.same_as(ref.outcome):
            problems.append(f"{call}: sent again, got {again!r} instead of {ref.outcome!r}")
        elif undated(db.dump()) != undated(ref.after):
            problems.append(f"{call}: sent again, did not leave the clean run's state ({again!r})")
    db.close_stores()
    assert not problems, "\n".join(problems)


# --- fixtures ----------------------------------------------------------------------------------


D = TypeVar("D", bound=Database)


def saved(db: D) -> D:
    """``db`` with the scenario built and saved."""
    clock = cf.FixedClock(START)
    camp = cf.Campaign(WORKFLOW, store=db.store(), clock=clock, campaign_id=db.campaign_id)
    build(camp, clock)
    db.save()
    return db


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A SQLite file holding the saved scenario."""
    db = saved(
        SQLiteDatabase(Path(tmp_path_factory.mktemp("faults")), f"f-{uuid.uuid4().hex[:12]}")
    )
    yield db
    db.close()


@pytest.fixture(scope="module")
def pg_db() -> Iterator[PostgresDatabase]:
    """A PostgreSQL campaign holding the saved scenario."""
    db = saved(PostgresDatabase(pg_dsn(), f"f-{uuid.uuid4().hex[:12]}"))
    yield db
    db.close()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweeps commit every 2 units, so a fault can fall between two chunks of one sweep."""
    monkeypatch.setattr(campaign_module, "_SWEEP_CHUNK", CHUNK)


MODES = [
    pytest.param(False, False, id="transient-before"),
    pytest.param(False, True, id="transient-after"),
    pytest.param(True, False, id="persistent-before"),
    pytest.param(True, True, id="persistent-after"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("persistent", "after"), MODES)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_sqlite_call_failing_anywhere_leaves_nothing_or_one_whole_change(
    sqlite_db: Database, name: str, persistent: bool, after: bool
) -> None:
    """On SQLite, an OperationalError at any driver call of a command leaves nothing or one whole change."""
    run_faults(sqlite_db, name, persistent=persistent, after=after)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_sqlite_lock_error_anywhere_leaves_nothing_or_one_whole_change(
    sqlite_db: Database, name: str
) -> None:
    """On SQLite, 'database is locked' at any call (a retryable conflict) leaves nothing or one whole change."""
    run_faults(sqlite_db, name, persistent=False, after=False, conflict=True)


@pytest.mark.slow
@pytest.mark.parametrize(("persistent", "after"), MODES)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_postgres_call_failing_anywhere_leaves_nothing_or_one_whole_change(
    pg_db: Database, name: str, persistent: bool, after: bool
) -> None:
    """On PostgreSQL, an OperationalError at any driver call of a command leaves nothing or one whole change."""
    run_faults(pg_db, name, persistent=persistent, after=after)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_postgres_connection_lost_anywhere_leaves_nothing_or_one_whole_change(
    pg_db: PostgresDatabase, name: str
) -> None:
    """The store's PostgreSQL connection cut before any call of a command (psycopg's own error) leaves nothing or one whole change."""
    run_faults(pg_db, name, strike=pg_db.drop_connection)


def test_postgres_store_recovers_when_the_server_ends_its_idle_connection(
    pg_db: PostgresDatabase,
) -> None:
    """After the server ends a pooled idle connection, the next command reconnects and works."""
    ref = reference(pg_db, "record")
    pg_db.restore()
    pg_db.backends.clear()
    camp = campaign(pg_db, pg_db.store())
    assert camp.state("fin-01").stage == "preparation"  # the store now holds an idle connection
    assert pg_db.backends
    for pid in pg_db.backends:
        pg_db.end_backend(pid)
    # BEGIN fails on the dead connection before anything could take effect, so the store
    # retries it once on a new connection: the command itself succeeds.
    assert attempt(COMMANDS["record"], camp).same_as(ref.outcome)
    assert pg_db.dump() == ref.after
    assert attempt(COMMANDS["record"], camp).same_as(ref.outcome)
    assert pg_db.dump() == ref.after
    pg_db.close_stores()


def test_counting_sees_every_statement_of_a_command(sqlite_db: Database) -> None:
    """The injector counts BEGIN, every statement and COMMIT of a command, in order."""
    ref = reference(sqlite_db, "record")
    assert ref.calls[0] == "BEGIN IMMEDIATE"
    assert ref.calls[-1] == "COMMIT"
    assert any(call.startswith("INSERT INTO cf_audit") for call in ref.calls)
    assert any(call.startswith("INSERT INTO cf_facts") for call in ref.calls)
