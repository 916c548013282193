"""Racers for tests/store/test_races.py: many campaigns fire the same command at one unit per round.

The same code runs in threads of the test process and in worker processes started with
multiprocessing's ``spawn`` method (:func:`process_main`). Each racer has its own ``Campaign``
on the shared store, waits at a barrier before each round, fires the round's command at the
round's unit, and reports what happened as plain, picklable tuples (:func:`fire`).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any, Protocol

import campaignflow as cf
from campaignflow.store import Store

START = date(2005, 3, 1)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})

#: Seconds a racer waits at a barrier before the round is declared hung.
BARRIER_TIMEOUT = 120

#: One racer's report of one round: (round, racer, kind, *details).
Outcome = tuple[Any, ...]


class Waitable(Protocol):
    """A threading or multiprocessing barrier."""

    def wait(self, timeout: float | None = None) -> int:
        """Block until every party has arrived."""
        ...

    def abort(self) -> None:
        """Break the barrier: every waiting and later party gets BrokenBarrierError."""
        ...


def race_workflow() -> cf.Workflow:
    """``work`` → ``mid`` → ``done``; the way out of each working stage needs its own ``ready``.

    ``work`` also asks the supervision group's approval (either gate opens it), so approvals
    can race there; a unit that has moved to ``mid`` has no evidence there, so a racer that
    comes second is refused with a decision judged in ``mid``.
    """
    ready = cf.use("milestones_done", names=["ready"])
    return cf.Workflow(
        name="race",
        stages=[cf.Stage(id="work"), cf.Stage(id="mid"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(
                source="work",
                dest="mid",
                guards=[cf.any_of(ready, cf.use("approved_by", role="supervision_group"))],
            ),
            cf.Transition(source="mid", dest="done", guards=[ready]),
        ],
    )


def unit_id(action: str, round_: int) -> str:
    """The unit the racers fight over in ``round_`` of ``action``."""
    return f"{action}-{round_:05d}"


def open_campaign(store: Store | str, campaign_id: str) -> cf.Campaign:
    """A racer's own campaign on the shared store (a URL opens a new store object)."""
    return cf.Campaign(
        race_workflow(), store=store, clock=cf.FixedClock(START), campaign_id=campaign_id
    )


def fire(camp: cf.Campaign, action: str, round_: int, racer: int) -> Outcome:
    """Fire the round's command and say how it ended.

    ``advance``: each racer its own request id; ``approve``: the same approval (one request
    id) delivered by every racer at once. Kinds: ``won`` (a transition record), ``fact`` (the
    approval's fact record), ``conflict``, ``rejected`` (with the decision's source stage and
    whether it allowed the move), ``error`` (anything else: a test failure).
    """
    uid = unit_id(action, round_)
    try:
        if action == "advance":
            record = camp.advance(uid, actor=CLERK, request_id=f"adv-{round_}-{racer}")
            return (round_, racer, "won", record.seq, record.source, record.dest, record.version)
        fact = camp.approve(uid, actor=INSPECTOR, request_id=f"appr-{round_}")
        return (round_, racer, "fact", fact.seq, fact.stage, fact.version)
    except cf.ConcurrencyConflict as exc:
        return (round_, racer, "conflict", exc.unit_id, exc.expected_version)
    except cf.TransitionRejected as exc:
        return (round_, racer, "rejected", exc.decision.source, exc.decision.allowed)
    except Exception as exc:  # reported, and failed by the test
        return (round_, racer, "error", type(exc).__name__, str(exc))


def run_racer(
    camp: cf.Campaign, action: str, rounds: int, racer: int, barrier: Waitable
) -> list[Outcome]:
    """Meet the other racers at ``barrier`` before each round, then fire; every round's outcome."""
    outcomes: list[Outcome] = []
    for round_ in range(rounds):
        barrier.wait(BARRIER_TIMEOUT)
        outcomes.append(fire(camp, action, round_, racer))
    return outcomes


def run_threads(
    camps: list[cf.Campaign], action: str, rounds: int, first_racer: int, barrier: Waitable
) -> list[Outcome]:
    """One thread per campaign, each a racer numbered from ``first_racer``; all their outcomes.

    A racer that dies (a broken barrier, a hang) reports an ``error`` outcome instead of
    its remaining rounds, so the test fails with what happened.
    """
    results: list[list[Outcome]] = [[] for _ in camps]

    def racer(i: int) -> None:
        try:
            results[i] = run_racer(camps[i], action, rounds, first_racer + i, barrier)
        except Exception as exc:  # a broken barrier: report it, do not hang the others
            results[i] = [(-1, first_racer + i, "error", type(exc).__name__, str(exc))]

    threads = [threading.Thread(target=racer, args=(i,), daemon=True) for i in range(len(camps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_TIMEOUT * 2)
    hung = [i for i, thread in enumerate(threads) if thread.is_alive()]
    if hung:
        return [(-1, first_racer + i, "error", "Hung", "racer thread still running") for i in hung]
    return [outcome for outcomes in results for outcome in outcomes]


def process_main(
    url: str,
    campaign_id: str,
    action: str,
    rounds: int,
    proc: int,
    threads: int,
    barrier: Waitable,
    queue: Any,
) -> None:
    """A worker process: ``threads`` racers on their own campaigns; puts its outcomes on ``queue``."""
    camps: list[cf.Campaign] = []
    try:
        camps = [open_campaign(url, campaign_id) for _ in range(threads)]
        outcomes = run_threads(camps, action, rounds, proc * threads, barrier)
    except Exception as exc:  # reported to the test, which fails with it
        barrier.abort()  # the other processes stop at once instead of timing out
        outcomes = [(-1, proc * threads, "error", type(exc).__name__, str(exc))]
    finally:
        for camp in camps:
            camp.close()
    queue.put((proc, outcomes))
