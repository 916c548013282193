"""Every interleaving of two sessions' load → check → write on one unit, on every store.

Sessions A and B each *load* the unit (state and facts), *check* the workflow's gate against
what they loaded (``engine.decide``), and *write* the transition (``update_state`` with the
loaded version as ``expected_version``, plus its audit record) through the StoreSession API,
each in its own thread on its own store object (its own connections on SQLite and PostgreSQL;
memory has one store). A controller steps them with events through all 20 orders of the six
steps that keep each session's own order. Two ways to bracket the steps in transactions:

* ``optimistic``: load in a read transaction, check outside any, write in a write transaction
  of its own. Nothing blocks on any engine. A session that loaded before the other's write
  has stale data: its write raises ``ConcurrencyConflict`` (memory compares the version under
  its lock; SQLite and PostgreSQL run ``UPDATE … WHERE version = ?`` and find no row). One that
  loaded after it re-checks the moved unit.
* ``one-transaction`` (how ``Campaign`` runs a command): load, check and write in one write
  transaction. The second session cannot begin while the first is open: memory waits for the
  store's lock, SQLite for ``BEGIN IMMEDIATE`` (up to ``busy_timeout``), PostgreSQL for the
  campaign's chain-head row (``SELECT … FOR UPDATE`` at BEGIN). It then loads the committed
  state and re-checks against it; it never conflicts. Where the schedule asks the waiting
  session to go on, the controller lets the other one finish first, as the database does.

Two workflows decide what the re-check finds: after ``work → mid`` the way on to ``done`` is
``open`` (the second session moves the unit on, to version 2) or ``held`` (its check refuses).
In every case: the steps ran in the order the engine allows, each session's outcome is the one
the serial model predicts, no update is lost (final version == number of successful writes,
no version written twice), and the audit trail has one transition record per write.
"""

from __future__ import annotations

import itertools
import threading
from datetime import date

import pytest

import campaignflow as cf
from campaignflow.audit import AuditRecord, decision_to_data, replay
from campaignflow.store import Store, StoreSession
from campaignflow.workflow._engine import decide, next_state
from tests.store.conftest import StoreFactory

TIMEOUT = 30  # seconds any step may take; a correct engine never comes close
DAY = date(2005, 3, 1)
STEPS = ("load", "check", "write")
OPTIMISTIC = "optimistic"
ONE_TRANSACTION = "one-transaction"

#: The 20 orders of A's and B's three steps that keep each session's own order.
SCHEDULES = sorted({"".join(p) for p in itertools.permutations("AAABBB")})


def interleaving_workflow(gate: str) -> cf.Workflow:
    """``work`` → ``mid`` → ``done``; the way out of ``mid`` is open, or held by missing evidence."""
    held = [cf.use("milestones_done", names=["ready"])] if gate == "held" else []
    return cf.Workflow(
        name=f"interleave_{gate}",
        stages=[cf.Stage(id="work"), cf.Stage(id="mid"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(source="work", dest="mid"),
            cf.Transition(source="mid", dest="done", guards=held),
        ],
    )


class Session:
    """One session's load → check → write in its own thread, each step released by the controller."""

    def __init__(
        self,
        name: str,
        store: Store,
        mode: str,
        workflow: cf.Workflow,
        campaign_id: str,
        log: list[tuple[str, str]],
    ) -> None:
        self.name = name
        self.store = store
        self.mode = mode
        self.workflow = workflow
        self.campaign_id = campaign_id
        self.log = log
        self.go = {step: threading.Event() for step in STEPS}
        self.done = {step: threading.Event() for step in STEPS}
        self.next_step = 0
        self.unit: cf.Unit | None = None
        self.seen: cf.UnitState | None = None
        self.facts: tuple[cf.FactRecord, ...] = ()
        self.decision: cf.Decision | None = None
        self.result: int | str | None = None  # the version written, "refused" or "conflict"
        self.conflict: cf.ConcurrencyConflict | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"session-{name}", daemon=True)

    def release(self) -> str:
        """Let the session take its next step; returns that step's name."""
        step = STEPS[self.next_step]
        self.next_step += 1
        self.go[step].set()
        return step

    def _wait(self, step: str) -> None:
        if not self.go[step].wait(TIMEOUT):
            raise AssertionError(f"session {self.name} was never released to {step}")

    def _finish(self, step: str, *, logged: bool = False) -> None:
        if not logged:
            self.log.append((self.name, step))
        self.done[step].set()

    def _load(self, tx: StoreSession) -> None:
        self.unit = tx.get_unit("u1")
        self.seen = tx.get_state("u1")
        assert self.seen is not None
        self.facts = tuple(tx.get_facts("u1", self.seen.stage))

    def _check(self) -> None:
        assert self.unit is not None
        assert self.seen is not None
        self.decision = decide(self.workflow, self.unit, self.seen, self.facts, DAY)

    def _write(self, tx: StoreSession) -> None:
        assert self.seen is not None
        assert self.decision is not None
        if not self.decision.allowed:
            self.result = "refused"
            return
        assert self.decision.target is not None
        new = next_state(self.workflow, self.seen, self.decision.target, DAY)
        tx.update_state(new, expected_version=self.seen.version)
        seq, prev = tx.audit_head()
        tx.append_audit(
            AuditRecord.seal(
                seq=seq + 1,
                at=cf.FixedClock(DAY).now(),
                on=DAY,
                campaign=self.campaign_id,
                command="advance",
                actor_id=f"session-{self.name}",
                actor_roles=(),
                outcome="ok",
                unit_id="u1",
                source=self.seen.stage,
                dest=new.stage,
                version=new.version,
                workflow=self.workflow.name,
                payload={"trigger": "advance", "batch": new.batch},
                decision=decision_to_data(self.decision),
                prev_hash=prev,
            )
        )
        self.result = new.version

    def _run(self) -> None:
        try:
            if self.mode == ONE_TRANSACTION:
                self._wait("load")
                with self.store.transaction() as tx:
                    self._load(tx)
                    self._finish("load")
                    self._wait("check")
                    self._check()
                    self._finish("check")
                    self._wait("write")
                    self._write(tx)
                    # Logged before the commit, because a waiting session may load (and log)
                    # the moment the commit releases it; done is signalled after the commit.
                    self.log.append((self.name, "write"))
                self._finish("write", logged=True)
                return
            self._wait("load")
            with self.store.transaction(write=False) as tx:
                self._load(tx)
            self._finish("load")
            self._wait("check")
            self._check()
            self._finish("check")
            self._wait("write")
            try:
                with self.store.transaction() as tx:
                    self._write(tx)
            except cf.ConcurrencyConflict as exc:
                self.result, self.conflict = "conflict", exc
            self._finish("write")
        except BaseException as exc:  # reported by the test; never leave the controller hanging
            self.error = exc
            for event in self.done.values():
                event.set()


def drive(schedule: str, sessions: dict[str, Session], mode: str) -> None:
    """Release the steps in ``schedule`` order; a session the engine makes wait goes on when it can.

    In one-transaction mode a load while the other session's transaction is open waits for
    its commit: the controller releases the waiting session's later steps at their turn but
    drives the other session to its commit meanwhile (it needs nothing from the waiter).
    """
    holder: str | None = None
    parked: set[str] = set()
    for name in schedule:
        session = sessions[name]
        step = session.release()
        if name in parked:
            continue
        if mode == ONE_TRANSACTION and step == "load" and holder is not None:
            parked.add(name)
            continue
        assert session.done[step].wait(TIMEOUT), f"session {name} hung at {step}"
        assert session.error is None, f"session {name} failed at {step}: {session.error!r}"
        if mode == ONE_TRANSACTION:
            holder = name if step == "load" else (None if step == "write" else holder)
    for session in sessions.values():
        session.thread.join(TIMEOUT)
        assert not session.thread.is_alive(), f"session {session.name} hung"


def serial_model(
    schedule: str, mode: str, gate: str
) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """The order the engine runs the steps in, and each session's outcome, from a serial model."""
    if mode == ONE_TRANSACTION:
        first = schedule[0]
        second = "B" if first == "A" else "A"
        schedule = first * 3 + second * 3
    order: list[tuple[str, str]] = []
    taken = {"A": 0, "B": 0}
    version, stage = 0, "work"
    seen: dict[str, tuple[int, str]] = {}
    allowed: dict[str, bool] = {}
    result: dict[str, object] = {}
    for name in schedule:
        step = STEPS[taken[name]]
        taken[name] += 1
        order.append((name, step))
        if step == "load":
            seen[name] = (version, stage)
        elif step == "check":
            allowed[name] = seen[name][1] == "work" or (seen[name][1] == "mid" and gate == "open")
        elif not allowed[name]:
            result[name] = "refused"
        elif seen[name][0] != version:
            result[name] = "conflict"
        else:
            version += 1
            stage = {"work": "mid", "mid": "done"}[seen[name][1]]
            result[name] = version
    return order, result


@pytest.mark.parametrize("gate", ["open", "held"])
@pytest.mark.parametrize("mode", [OPTIMISTIC, ONE_TRANSACTION])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_two_sessions_interleaved_never_lose_an_update(
    store_factory: StoreFactory, schedule: str, mode: str, gate: str
) -> None:
    """Two sessions' load/check/write in this order: the engine's order and outcomes match the serial model, nothing is lost."""
    workflow = interleaving_workflow(gate)
    camp = cf.Campaign(
        workflow,
        store=store_factory.open(),
        clock=cf.FixedClock(DAY),
        campaign_id=store_factory.campaign_id,
    )
    camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)])
    log: list[tuple[str, str]] = []
    sessions = {
        name: Session(name, store_factory.open(), mode, workflow, store_factory.campaign_id, log)
        for name in "AB"
    }
    for session in sessions.values():
        session.thread.start()
    try:
        drive(schedule, sessions, mode)
    finally:
        for session in sessions.values():  # unblock a session the controller left waiting
            for event in session.go.values():
                event.set()
    for session in sessions.values():
        assert session.error is None, f"session {session.name}: {session.error!r}"

    order, predicted = serial_model(schedule, mode, gate)
    assert log == order
    outcome = {name: s.result for name, s in sessions.items()}
    assert outcome == predicted
    written = sorted(v for v in outcome.values() if isinstance(v, int))
    assert written == list(range(1, len(written) + 1)), "a version was written twice"
    state = camp.state("u1")
    assert state.version == len(written)
    assert state.stage == ["work", "mid", "done"][len(written)]
    for session in sessions.values():
        if session.result == "conflict":
            assert session.conflict is not None
            assert (session.conflict.unit_id, session.conflict.expected_version) == ("u1", 0)
    if mode == ONE_TRANSACTION:
        # The session that waited loaded what the first one committed, and judged that.
        second = sessions[order[3][0]]
        assert second.seen is not None
        assert second.seen.version == 1
        assert second.decision is not None
        assert second.decision.source == "mid"
    trail = list(camp.audit_trail())
    moves = [(r.actor_id, r.version or 0) for r in trail if r.command == "advance"]
    assert sorted(v for _, v in moves) == written
    assert dict(moves) == {f"session-{n}": v for n, v in outcome.items() if isinstance(v, int)}
    assert {u.id: s for u, s in camp.units()} == replay(workflow, trail)
    assert camp.verify_audit().ok
