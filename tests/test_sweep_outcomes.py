"""A sweep's outcomes: kept small (no decision held per unit), rebuilt exactly when read."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

import attrs
import pytest

import campaignflow as cf
from campaignflow.campaign import Outcomes, SweepSummary
from campaignflow.store import MemoryStore, SQLiteStore

DAY = date(2005, 3, 1)
CLERK = cf.Actor(id="clerk", roles={"branch_committee"})
LEADER = cf.Actor(id="leader", roles={"leading_group"})


@cf.fact_type("outcomes_roll_call")
@attrs.frozen
class RollCall:
    """A custom fact: members present at a meeting."""

    present: int


@cf.guard("outcomes_quorum", earliest=cf.guards.waits_for(RollCall))
def quorum(ctx: cf.GuardContext, *, present: int = 5) -> cf.Verdict:
    """A custom gate: the latest roll call had at least ``present`` members."""
    latest = ctx.latest(RollCall, current=False)
    got = latest.present if latest is not None else 0
    return cf.Verdict("outcomes_quorum", got >= present, "quorum.x", {"got": got})


def _workflow() -> cf.Workflow:
    stages = [
        cf.Stage(id="pending", kind="waiting"),
        cf.Stage(id="study"),
        cf.Stage(id="done", kind="final"),
    ]
    return cf.Workflow(
        name="outcomes",
        stages=stages,
        transitions=[
            cf.Transition(source=("pending",), dest="study", trigger="start"),
            cf.Transition(
                source=("study",),
                dest="done",
                guards=(cf.use("outcomes_quorum", present=5), cf.use("min_days_in_stage", days=0)),
            ),
        ],
    )


def _campaign(store: object, units: int) -> cf.Campaign:
    camp = cf.Campaign(_workflow(), store=store, clock=cf.FixedClock(DAY))  # type: ignore[arg-type]
    camp.add_units(
        cf.Unit(id=f"u{i:04d}", name=f"unit {i}", kind="organ", batch=1) for i in range(units)
    )
    return camp


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    return MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "o.db")


def test_outcomes_read_back_as_the_sweep_made_them(store: object) -> None:
    """Moves read back with their sealed decision and record; refusals with the same decision."""
    camp = _campaign(store, 6)
    started = camp.start_batch(1, actor=LEADER)
    assert isinstance(started, Outcomes)
    assert [o.advanced for o in started] == [True] * 6
    for i in range(0, 6, 2):
        camp.record(f"u{i:04d}", RollCall(present=7), actor=CLERK)
    before = {u.id: camp.check(u.id) for u, _ in camp.units()}
    swept = camp.advance_all(actor=CLERK)
    assert len(swept) == 6
    assert [o.unit_id for o in swept] == [f"u{i:04d}" for i in range(6)]
    assert [o.advanced for o in swept] == [True, False] * 3
    for outcome in swept:
        decision = before[outcome.unit_id]
        assert outcome.decision == decision
        assert outcome.decision.explain("zh_CN") == decision.explain("zh_CN")
        if outcome.advanced:
            assert outcome.record is not None
            assert outcome.record.dest == camp.state(outcome.unit_id).stage == "done"
            assert outcome.record.seq == camp.history(outcome.unit_id)[-1].seq
        else:
            assert outcome.record is None
            assert outcome.decision.needs == ("outcomes_roll_call",)
    assert list(swept.unit_ids(advanced=True)) == ["u0000", "u0002", "u0004"]
    assert list(swept.unit_ids(advanced=False)) == ["u0001", "u0003", "u0005"]
    assert list(swept.unit_ids()) == [o.unit_id for o in swept]
    assert swept[1] == list(swept)[1]
    assert swept[-1].unit_id == "u0005"
    assert [o.unit_id for o in swept[1:4]] == ["u0001", "u0002", "u0003"]
    with pytest.raises(IndexError):
        swept[6]
    assert swept.summary == SweepSummary(
        trigger="advance", on=DAY, moved={("study", "done"): 3}, held={"study": 3}
    )
    assert camp.advance_all(actor=CLERK, batch=1) == list(camp.advance_all(actor=CLERK, batch=1))
    assert repr(swept) == "<Outcomes advance: 3 advanced, 3 refused>"
    camp.close()


@pytest.mark.slow
def test_a_sweep_holds_no_decision_per_unit(store: object) -> None:
    """After a 300-unit sweep, no Decision is alive: the outcomes keep ids and seqs only."""
    camp = _campaign(store, 300)
    gc.collect()
    # Decisions other tests of the session left alive are not this sweep's: count the new.
    # type(), not isinstance(): the latter asks a lazy object (Django's) for __class__.
    before = sum(type(o) is cf.Decision for o in gc.get_objects())
    outcomes = camp.start_batch(1, actor=LEADER)
    gc.collect()
    alive = sum(type(o) is cf.Decision for o in gc.get_objects()) - before
    assert len(outcomes) == 300
    assert alive < 10
    assert outcomes.summary.advanced == 300
    camp.close()


def test_a_worker_loop_stops_on_empty_outcomes(store: object) -> None:
    """advance_due's outcomes are falsy when nothing was claimed, as the empty list was."""
    camp = _campaign(store, 3)
    camp.start_batch(1, actor=LEADER)
    for unit_id in ("u0000", "u0001", "u0002"):
        camp.record(unit_id, RollCall(present=9), actor=CLERK)
    moved = []
    while outcomes := camp.advance_due(sweep="s1", limit=2):
        moved += [o.unit_id for o in outcomes if o.advanced]
    assert moved == ["u0000", "u0001", "u0002"]
    assert camp.advance_due(sweep="s1") == []
    camp.close()
