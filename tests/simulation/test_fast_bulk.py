"""Bulk guards agree exactly with the scalar guards they stand for, unit by unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow._words.records import BatchWindow, FactRecord, UnitState
from campaignflow.guards._context import GuardContext
from campaignflow.guards._registry import registry as scalar_registry
from campaignflow.guards._spec import GuardSpec
from tests.strategies import guard_specs

np = pytest.importorskip("numpy")
bulk = pytest.importorskip("campaignflow.simulation._fast.bulk")

TODAY = date(2005, 6, 15)
AT = datetime(2005, 6, 15, 9, tzinfo=UTC)
WINDOWS = {
    1: BatchWindow(number=1, opens=date(2005, 1, 1), closes=date(2005, 6, 30)),
    2: BatchWindow(number=2, opens=date(2005, 7, 1), closes=date(2005, 12, 31)),
}
MILESTONES = ["plan", "meeting", "report", "filing", "talks", "reports", "remedial_completed"]
ROLES = ["supervision_group", "leading_group"]

# Hours as people log them (whole and half hours) and as a planner's model draws them.
hours = st.one_of(
    st.integers(0, 30).map(float),
    st.floats(0, 30, allow_nan=False).map(lambda x: round(x, 2)),
)


@st.composite
def survey_facts(draw: st.DrawFn) -> cf.Survey:
    s, b, d = draw(st.integers(0, 60)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    f = draw(st.one_of(st.none(), st.integers(0, 60)))
    if s + b + d + (f or 0) == 0:
        d = 1
    return cf.Survey(satisfied=s, fairly_satisfied=f, basically_satisfied=b, dissatisfied=d)


@st.composite
def milestone_facts(draw: st.DrawFn) -> cf.Milestone:
    name = draw(st.sampled_from(MILESTONES))
    if draw(st.booleans()):
        total = draw(st.integers(0, 40))
        return cf.Milestone(name, done=draw(st.integers(0, total)), total=total)
    return cf.Milestone(name)


facts = st.one_of(
    st.builds(cf.StudySession, hours=hours, guided=st.booleans()),
    survey_facts(),
    milestone_facts(),
    st.builds(
        cf.Approval,
        role=st.sampled_from(ROLES),
        decision=st.sampled_from(["approved", "rejected"]),
    ),
)


@st.composite
def contexts(draw: st.DrawFn) -> GuardContext:
    """One unit's context on TODAY: random dates, batch, and facts from this and older visits."""
    version = draw(st.integers(0, 4))
    started = draw(st.one_of(st.none(), st.integers(0, 200)))
    since = draw(st.one_of(st.none(), st.integers(0, 120)))
    batch = draw(st.sampled_from([1, 2, 3]))
    state = UnitState(
        unit_id="u",
        stage="s",
        batch=batch,
        version=version,
        stage_since=None if since is None else TODAY - timedelta(days=since),
        started_on=None if started is None else TODAY - timedelta(days=started),
    )
    records = tuple(
        FactRecord(
            unit_id="u",
            stage="s",
            version=draw(st.integers(0, version)),
            fact=fact,
            on=TODAY,
            at=AT,
            actor_id=draw(st.sampled_from(["zhang", "li"])),
            seq=i,
        )
        for i, fact in enumerate(draw(st.lists(facts, max_size=8)))
    )
    return GuardContext(
        unit=cf.Unit(id="u", name="支部", kind="organ", batch=batch),
        state=state,
        today=TODAY,
        records=records,
        batch_window=WINDOWS.get(batch),
    )


def _judge_both(spec_data: dict[str, Any], ctxs: list[GuardContext]) -> None:
    spec = GuardSpec.from_data(spec_data)
    bound = scalar_registry.bind(spec)
    judged = bulk.compile_bulk(spec)(bulk.bulk_facts_from(ctxs))
    failures = judged.failures()
    for i, ctx in enumerate(ctxs):
        verdict = bound(ctx)
        assert bool(judged.passed[i]) == verdict.passed, (spec, ctx, verdict)
        bulk_codes = {code for code, mask, _ in failures if mask[i]}
        assert bulk_codes == {f.code for f in verdict.failures()}, (spec, ctx, verdict)
        # Time gates say how long until they pass, exactly as the scalar verdict's numbers.
        waits = {
            (code, int(wait[i])) for code, mask, wait in failures if mask[i] and wait is not None
        }
        scalar_waits = {
            (f.code, int(f.params["required"]) - int(f.params["actual"]))  # type: ignore[arg-type]
            for f in verdict.failures()
            if f.code in ("days_in_stage.too_few", "concentrated_days.too_few")
        }
        assert waits == scalar_waits, (spec, ctx, verdict)


@pytest.mark.sized(default=30)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=guard_specs, ctxs=st.lists(contexts(), min_size=1, max_size=6))
def test_every_builtin_and_combination_agrees_with_the_scalar_guard(
    spec: dict[str, Any], ctxs: list[GuardContext]
) -> None:
    """Random guard trees over random facts: same pass/fail and same failing codes per unit."""
    _judge_both(spec, ctxs)


@settings(max_examples=120, deadline=None)
@given(
    ctxs=st.lists(contexts(), min_size=1, max_size=6),
    rate=st.one_of(
        st.sampled_from([0.0, 0.5, 0.6, 0.95, 1.0, 1 / 3, 0.123456789012345]),
        st.floats(0, 1, allow_nan=False),
    ),
    which=st.sampled_from(["satisfaction_rate_at_least", "dissatisfied_rate_at_most"]),
)
@pytest.mark.sized(default=30)
def test_rate_gates_agree_at_every_rate_including_long_decimals(
    ctxs: list[GuardContext], rate: float, which: str
) -> None:
    """Rates with many digits take the exact big-integer path and still agree."""
    _judge_both({"guard": which, "rate": rate}, ctxs)
    _judge_both({"guard": "coverage_at_least", "milestone": "talks", "rate": rate}, ctxs)


@pytest.mark.parametrize(
    ("satisfied", "dissatisfied", "passes"),
    [(3, 2, True), (59, 41, False), (60, 40, True), (0, 1, False)],
)
def test_the_sixty_percent_gate_boundary_holds_exactly(
    satisfied: int, dissatisfied: int, passes: bool
) -> None:
    """60 of 100 satisfied passes a 0.6 gate in bulk (3/5 exactly, no float rounding)."""
    survey = cf.Survey(satisfied=satisfied, basically_satisfied=0, dissatisfied=dissatisfied)
    ctx = GuardContext(
        unit=cf.Unit(id="u", name="支部", kind="organ", batch=1),
        state=UnitState(unit_id="u", stage="s", batch=1),
        today=TODAY,
        records=(FactRecord("u", "s", 0, survey, TODAY, AT, "zhang", 1),),
    )
    judged = bulk.compile_bulk(cf.use("satisfaction_rate_at_least", rate=0.6))(
        bulk.bulk_facts_from([ctx])
    )
    assert bool(judged.passed[0]) is passes


def test_every_builtin_guard_has_a_bulk_form() -> None:
    """Each guard the library registers can be judged in fast mode."""
    builtins = {
        "approved_by",
        "coverage_at_least",
        "dissatisfied_rate_at_most",
        "milestones_done",
        "min_concentrated_days",
        "min_days_in_stage",
        "min_guided_hours",
        "min_study_hours",
        "satisfaction_rate_at_least",
        "survey_recorded",
        "within_batch_window",
    }
    assert builtins <= scalar_registry.names()
    assert builtins <= bulk.bulk_registry.names()


def test_a_custom_guard_gets_a_bulk_form_in_its_own_registry() -> None:
    """register_bulk on a copied registry gives a custom guard a bulk form there only."""
    reg = bulk.bulk_registry.copy()

    def enough_members(facts: Any, *, at_least: int = 3) -> Any:
        return bulk.BulkVerdict.from_passed(
            facts.days_in_stage >= at_least, "members.enough", "members.few"
        )

    bulk.register_bulk("enough_members", enough_members, registry=reg)
    spec = cf.all_of(cf.use("survey_recorded"), GuardSpec("enough_members", {"at_least": 2}))
    assert bulk.guards_without_bulk([spec]) == ("enough_members",)
    assert bulk.guards_without_bulk([spec], reg) == ()
    with pytest.raises(cf.ValidationError, match="already has a bulk form"):
        bulk.register_bulk("enough_members", lambda f: f, registry=reg)
    with pytest.raises(cf.ValidationError, match="combinator"):
        bulk.register_bulk("all_of", enough_members, registry=reg)
