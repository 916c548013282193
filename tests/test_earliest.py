"""Earliest-move dates: a refusal says the first day the unit may move if only the date changes.

The property: for random gates (built-in time and fact gates, a custom time gate, a custom
gate over a custom fact type, nested in all_of / any_of / not_, over one or two candidate
transitions), judging day by day from the refusal finds the first passing day exactly on
``Decision.earliest``, and no day at all when the decision says it needs facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow.guards import Earliest, registry, waits_for
from campaignflow.workflow._engine import decide

START = date(2005, 1, 1)
#: Every date a random gate names falls before this many days after START, so a unit that
#: does not pass by then passes on no later date either.
HORIZON = 260


@cf.fact_type("earliest_roll_call")
@attrs.frozen
class RollCall:
    """A custom fact: members present at a branch meeting."""

    present: int


def _quorum(ctx: cf.GuardContext, *, present: int = 10) -> cf.Verdict:
    """A custom fact gate: some roll call had at least ``present`` members."""
    best = max((r.present for r in ctx.facts(RollCall)), default=0)
    return cf.Verdict("earliest_quorum", best >= present, "quorum.x", {"best": best})


def _not_before(ctx: cf.GuardContext, *, day: int = 0) -> cf.Verdict:
    """A custom time gate: open from ``day`` days after the campaign's start."""
    return cf.Verdict("earliest_not_before", ctx.today >= START + timedelta(days=day), "nb.x", {})


def _not_before_dates(ctx: cf.GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
    return Earliest.on_and_after(START + timedelta(days=params.get("day", 0)))


def _blackout(ctx: cf.GuardContext, *, first: int = 0, last: int = 0) -> cf.Verdict:
    """A custom time gate: closed between two days (a holiday), open otherwise."""
    closed = START + timedelta(days=first) <= ctx.today <= START + timedelta(days=last)
    return cf.Verdict("earliest_blackout", not closed, "bo.x", {})


def _blackout_dates(ctx: cf.GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
    first = START + timedelta(days=params["first"])
    last = START + timedelta(days=params["last"])
    return Earliest(
        passes=((date.min, first - timedelta(days=1)), (last + timedelta(days=1), date.max))
    )


def _moody(ctx: cf.GuardContext) -> cf.Verdict:
    """A custom gate that declares no dates: judged afresh on any change."""
    return cf.Verdict("earliest_moody", ctx.today.day % 2 == 0, "moody.x", {})


REG = registry.copy()
REG.register("earliest_quorum", _quorum, earliest=waits_for(RollCall))
REG.register("earliest_not_before", _not_before, earliest=_not_before_dates)
REG.register("earliest_blackout", _blackout, earliest=_blackout_dates)
REG.register("earliest_moody", _moody)

days = st.integers(min_value=0, max_value=120)
leaves = st.one_of(
    days.map(lambda d: {"guard": "min_days_in_stage", "days": d}),
    days.map(lambda d: {"guard": "min_concentrated_days", "days": d}),
    st.just({"guard": "within_batch_window"}),
    st.sampled_from([0, 4, 8]).map(lambda h: {"guard": "min_study_hours", "hours": h}),
    st.sampled_from([5, 10]).map(lambda p: {"guard": "earliest_quorum", "present": p}),
    days.map(lambda d: {"guard": "earliest_not_before", "day": d}),
    st.tuples(days, days).map(
        lambda ab: {"guard": "earliest_blackout", "first": min(ab), "last": max(ab)}
    ),
)
specs = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all_of": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any_of": cs}),
        inner.map(lambda c: {"not": c}),
    ),
    max_leaves=5,
)


def _workflow(gates: list[list[dict[str, Any]]], window: tuple[int, int]) -> cf.Workflow:
    opens, closes = (START + timedelta(days=d) for d in window)
    data: dict[str, Any] = {
        "name": "earliest",
        "version": "1",
        "initial": "pending",
        "batches": [{"number": 1, "opens": opens, "closes": closes}],
        "stages": [
            {"id": "pending", "kind": "waiting"},
            {"id": "study"},
            {"id": "review"},
            {"id": "done", "kind": "final"},
        ],
        "transitions": [
            {"trigger": "start", "source": "pending", "dest": "study"},
            {"trigger": "skip", "source": "pending", "dest": "review"},
            {"source": "review", "dest": "done"},
            *(
                {"source": "study", "dest": dest, "guards": guards}
                for dest, guards in zip(("done", "review"), gates, strict=False)
            ),
        ],
    }
    return cf.Workflow.from_dict(data, registry=REG)


def _records(hours: float, present: int) -> list[cf.FactRecord]:
    at = datetime(2005, 1, 1, tzinfo=UTC)
    facts: list[object] = [cf.StudySession(hours=hours), RollCall(present=present)]
    return [
        cf.FactRecord(
            unit_id="u", stage="study", version=1, fact=f, on=START, at=at, actor_id="c", seq=i
        )
        for i, f in enumerate(facts)
    ]


UNIT = cf.Unit(id="u", name="unit", kind="organ", batch=1, members=10)


@settings(max_examples=150, deadline=None)
@given(
    gates=st.lists(st.lists(specs, min_size=1, max_size=2), min_size=1, max_size=2),
    window=st.tuples(days, days).map(sorted),
    since=days,
    started=st.none() | days,
    today=days,
    hours=st.sampled_from([0, 5]),
    present=st.sampled_from([0, 7, 12]),
)
def test_earliest_is_the_first_day_day_by_day_judging_passes(
    gates: list[list[dict[str, Any]]],
    window: list[int],
    since: int,
    started: int | None,
    today: int,
    hours: float,
    present: int,
) -> None:
    """Judging on Decision.earliest passes, and judging on every day before it does not."""
    workflow = _workflow(gates, (window[0], window[1]))
    state = cf.UnitState(
        unit_id="u",
        stage="study",
        batch=1,
        version=1,
        stage_since=START + timedelta(days=since),
        started_on=None if started is None else START + timedelta(days=started),
    )
    records = _records(hours, present)
    day = START + timedelta(days=today)
    decision = decide(workflow, UNIT, state, records, day)
    first = None
    for offset in range(HORIZON + 1):
        later = day + timedelta(days=offset)
        if decide(workflow, UNIT, state, records, later).allowed:
            first = later
            break
    assert decision.earliest == first
    assert not decision.rejudge
    if decision.allowed:
        assert decision.earliest == day
    if first is None:
        # No date will do: only new facts can, and the decision names their kinds if any gate
        # reads facts.
        assert set(decision.needs) <= {"study_session", "earliest_roll_call"}


def test_an_undeclared_custom_gate_asks_to_be_judged_again() -> None:
    """A gate declaring no dates makes a refusal say "re-judge", never a date."""
    workflow = _workflow([[{"guard": "earliest_moody"}, {"guard": "min_days_in_stage"}]], (0, 9))
    state = cf.UnitState(unit_id="u", stage="study", batch=1, version=1, stage_since=START)
    decision = decide(workflow, UNIT, state, [], START + timedelta(days=3))
    assert not decision.allowed
    assert decision.rejudge
    assert decision.earliest is None
    assert "2005" not in decision.explain("en")


def test_a_custom_fact_gate_needs_its_kind() -> None:
    """A failing gate over a custom fact type says the unit waits for that kind of fact."""
    workflow = _workflow([[{"guard": "earliest_quorum", "present": 10}]], (0, 9))
    state = cf.UnitState(unit_id="u", stage="study", batch=1, version=1, stage_since=START)
    decision = decide(workflow, UNIT, state, _records(0, 3), START)
    assert (decision.earliest, decision.needs, decision.rejudge) == (
        None,
        ("earliest_roll_call",),
        False,
    )
    # No date to give: explain lists the failing gate (what is missing) and no date line.
    assert "may move from" not in decision.explain("en")
    assert "后转段" not in decision.explain("zh_CN")


def test_a_campaign_refusal_says_the_date_in_both_languages() -> None:
    """2019 preset: 90 concentrated days from 2019-06-01, so a refusal names 2019-08-30."""
    clerk = cf.Actor(id="clerk", roles={"branch_committee"})
    leader = cf.Actor(id="leader", roles={"leading_group", "records_office"})  # back-dates
    clock = cf.SimulatedClock(date(2019, 6, 10))
    camp = cf.Campaign(cf.presets.no_stages_2019(), clock=clock)
    camp.add_units([cf.Unit(id="u1", name="一支部", kind="organ", batch=1, members=12)])
    camp.start_batch(1, on=date(2019, 6, 1), actor=leader)
    held = camp.check("u1")
    assert (held.earliest, held.needs) == (None, ("milestone",))
    camp.record("u1", cf.Milestone(name="summing_up"), actor=clerk)
    held = camp.check("u1")
    assert not held.allowed
    assert held.earliest == date(2019, 8, 30)
    assert "可于 2019-08-30 后转段" in held.explain("zh_CN")
    assert "may move from 2019-08-30" in held.explain("en")
    clock.set(date(2019, 8, 29))
    assert not camp.check("u1").allowed
    clock.set(date(2019, 8, 30))
    assert camp.check("u1").allowed


def test_declarations_are_checked_with_the_field_and_the_rule() -> None:
    """Bad dates, no kinds, or a declaration returning something else raise ValidationError."""
    with pytest.raises(cf.ValidationError, match=r"Earliest\.passes"):
        Earliest(passes=((START + timedelta(days=2), START),))
    with pytest.raises(cf.ValidationError, match=r"Earliest\.facts"):
        Earliest(facts="survey")
    with pytest.raises(cf.ValidationError, match="waits_for"):
        waits_for()
    assert Earliest(passes=[(START, START), (START + timedelta(days=1), date.max)]).passes == (
        (START, date.max),
    )
    reg = registry.copy()
    reg.register("earliest_sloppy", _moody, earliest=lambda ctx, params, passed: None)  # type: ignore[arg-type,return-value]
    sloppy = cf.Workflow.from_dict(
        {
            "name": "sloppy",
            "version": "1",
            "initial": "study",
            "stages": [{"id": "study"}, {"id": "done", "kind": "final"}],
            "transitions": [
                {"source": "study", "dest": "done", "guards": [{"guard": "earliest_sloppy"}]}
            ],
        },
        registry=reg,
    )
    state = cf.UnitState(unit_id="u", stage="study", batch=1, version=0)
    with pytest.raises(cf.ValidationError, match="must return an Earliest"):
        decide(sloppy, UNIT, state, [], START)  # an odd day: the gate fails
