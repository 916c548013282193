"""Authority and replay are exact (issue 17, Deliver 4), on memory, SQLite and PostgreSQL.

Each probe the outside tester ran is a test here: a deferral through ``advance`` or a sweep
keeps ``defer``'s batch rules; an ``add_units`` redelivery compares every unit; a request id
repeated by another actor is refused; ``start_batch`` needs the leading group, is audited,
dates no start after today and only the records office dates one before it, and its gates
judge the clock's date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from tests.store.conftest import BACKENDS, StoreFactory
from tests.store.helpers import INSPECTOR, LEADER, clerk_of

JAN = date(2005, 1, 10)
OFFICE = cf.Actor(id="zhao", roles={"leading_group", "records_office"})
NOBODY = cf.Actor(id="anon")
UNITS = [
    cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=30),
    cf.Unit(id="vil-02", name="东村党支部", kind="village", batch=2, members=41),
    cf.Unit(id="sch-03", name="一中党支部", kind="organ", batch=3, members=12),
]


@pytest.fixture(params=BACKENDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """One backend of the three, with a fresh campaign id."""
    made = StoreFactory(request.param, tmp_path)
    yield made
    made.close()


def _campaign(factory: StoreFactory, on: date = JAN) -> tuple[cf.Campaign, cf.FixedClock]:
    clock = cf.FixedClock(on)
    camp = factory.campaign(clock)
    camp.add_units(UNITS)
    return camp, clock


# --- deferral: defer()'s batch rules on every path ---------------------------------------


def test_advance_with_trigger_defer_moves_the_unit_to_the_next_batch(
    factory: StoreFactory,
) -> None:
    """advance(trigger="defer") is a deferral: the unit lands in the next batch, never back in its own."""
    camp, _ = _campaign(factory)
    record = camp.advance("fin-01", actor=LEADER, trigger="defer")
    assert (record.dest, record.batch) == ("pending", 2)
    assert camp.state("fin-01").batch == 2
    assert [r.command for r in camp.history("fin-01")][-1] == "defer"
    assert camp.verify_audit().ok


def test_a_last_batch_unit_cannot_be_deferred_by_any_command(factory: StoreFactory) -> None:
    """Neither defer() nor advance(trigger="defer") moves a unit of the last batch; nothing changes."""
    camp, _ = _campaign(factory)
    before = camp.state("sch-03")
    for call in (
        lambda: camp.defer("sch-03", actor=LEADER),
        lambda: camp.advance("sch-03", actor=LEADER, trigger="defer"),
    ):
        with pytest.raises(cf.ValidationError) as refused:
            call()
        assert refused.value.code == "campaign.to_batch_unknown"
    assert camp.state("sch-03") == before


def test_check_on_defer_judges_the_batch_rules_as_defer_does(factory: StoreFactory) -> None:
    """check(unit, "defer") says no for a last-batch unit, naming the rule, and yes before it."""
    camp, _ = _campaign(factory)
    assert camp.check("vil-02", "defer", actor=LEADER).allowed
    decision = camp.check("sch-03", "defer", actor=LEADER)
    assert not decision.allowed
    assert decision.target is None
    assert [v.code for v in decision.failures()] == ["defer.no_later_batch"]
    assert "最后一批" in decision.explain("zh_CN")
    assert "no later batch" in decision.explain("en")


def test_sweeps_cannot_defer(factory: StoreFactory) -> None:
    """advance_all and advance_due refuse the defer trigger (deferral is one unit's), writing nothing."""
    camp, _ = _campaign(factory)
    head = camp.audit_checkpoint()
    with pytest.raises(cf.ValidationError) as refused:
        camp.advance_all(actor=LEADER, trigger="defer")
    assert refused.value.code == "campaign.sweep_cannot_defer"
    with pytest.raises(cf.ValidationError):
        camp.advance_due(sweep="s", actor=LEADER, trigger="defer")
    assert camp.audit_checkpoint() == head
    assert {s.batch for _, s in camp.units()} == {1, 2, 3}


# --- add_units redelivery compares every unit ---------------------------------------------


def test_an_add_units_redelivery_with_a_longer_list_is_a_conflict(factory: StoreFactory) -> None:
    """The same request id with one more unit is refused, and the extra unit is not added."""
    camp, _ = _campaign(factory)
    extra = cf.Unit(id="new-04", name="新支部", kind="organ", batch=1)
    first = [cf.Unit(id="new-01", name="支部一", kind="organ", batch=1)]
    assert camp.add_units(first, request_id="r") == 1
    assert camp.add_units(first, request_id="r") == 1  # a true redelivery
    changed = cf.Unit(id="new-01", name="支部一", kind="organ", batch=1, members=9)
    for other in ([*first, extra], [changed]):
        with pytest.raises(cf.ValidationError) as refused:
            camp.add_units(other, request_id="r")
        assert refused.value.code in (
            "campaign.request_id_other_units",
            "campaign.request_id_reused_unit",
        )
    with pytest.raises(cf.UnknownUnit):
        camp.unit("new-04")


def test_an_add_units_redelivery_differing_after_the_first_unit_is_a_conflict(
    factory: StoreFactory,
) -> None:
    """Units 1.. are compared too: a changed second unit or a shorter list is refused."""
    camp, _ = _campaign(factory)
    a = cf.Unit(id="new-01", name="支部一", kind="organ", batch=1)
    b = cf.Unit(id="new-02", name="支部二", kind="organ", batch=1)
    c = cf.Unit(id="new-03", name="支部三", kind="organ", batch=1)
    camp.add_units([a, b], request_id="r2")
    assert camp.add_units([a, b], request_id="r2") == 2  # the same list: a redelivery
    for other in ([a, c], [a]):
        with pytest.raises(cf.ValidationError) as refused:
            camp.add_units(other, request_id="r2")
        assert refused.value.code == "campaign.request_id_other_units"
    with pytest.raises(cf.UnknownUnit):
        camp.unit("new-03")


# --- a replay by another actor is refused -------------------------------------------------


def test_a_replay_by_another_actor_is_refused_for_every_command(factory: StoreFactory) -> None:
    """record, approve, advance, defer, add_units, add_organisations and adopt refuse another actor's request id."""
    camp, _ = _campaign(factory)
    camp.start_batch(1, actor=LEADER)
    clerk = clerk_of("fin-01")
    camp.record("fin-01", cf.Milestone("implementation_plan"), actor=clerk, request_id="rec")
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=clerk)
    camp.advance("fin-01", actor=clerk, request_id="adv")
    camp.approve("fin-01", actor=INSPECTOR, request_id="app")
    camp.defer("vil-02", actor=LEADER, request_id="def")
    unit = cf.Unit(id="new-01", name="支部一", kind="organ", batch=1)
    camp.add_units([unit], actor=LEADER, request_id="add")
    org = cf.Organisation(id="district", name="区委", level="district")
    camp.add_organisations([org], actor=LEADER, request_id="org")
    adopted = cf.presets.district_2005(satisfaction_rate=0.5)
    camp.adopt(adopted, actor=LEADER, request_id="ado")
    head = camp.audit_checkpoint()
    role_less = cf.Actor(id="mallory", roles={"leading_group", "supervision_group"})
    replays = [
        lambda: camp.record(
            "fin-01", cf.Milestone("implementation_plan"), actor=NOBODY, request_id="rec"
        ),
        lambda: camp.advance("fin-01", actor=NOBODY, request_id="adv"),
        lambda: camp.approve("fin-01", actor=role_less, request_id="app"),
        lambda: camp.defer("vil-02", actor=role_less, request_id="def"),
        lambda: camp.add_units([unit], actor=NOBODY, request_id="add"),
        lambda: camp.add_organisations([org], actor=NOBODY, request_id="org"),
        lambda: camp.adopt(adopted, actor=NOBODY, request_id="ado"),
    ]
    for replay in replays:
        with pytest.raises(cf.NotAuthorized) as refused:
            replay()
        assert refused.value.rule == "not_authorized.request_of_other"
    assert camp.audit_checkpoint() == head  # nothing written
    # The first actor still gets the first result.
    assert camp.advance("fin-01", actor=clerk, request_id="adv").dest == "study_mobilization"


def test_a_replay_of_a_refusal_by_another_actor_is_refused_too(factory: StoreFactory) -> None:
    """A request id whose first command was refused is no one else's either."""
    camp, _ = _campaign(factory)
    camp.start_batch(1, actor=LEADER)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("fin-01", actor=clerk_of("fin-01"), request_id="early")
    with pytest.raises(cf.NotAuthorized):
        camp.advance("fin-01", actor=NOBODY, request_id="early")
    with pytest.raises(cf.TransitionRejected):  # the first actor gets the first refusal
        camp.advance("fin-01", actor=clerk_of("fin-01"), request_id="early")


# --- start_batch: role, audit, dates ------------------------------------------------------


def test_start_batch_needs_the_leading_group_and_audits_the_refusal(
    factory: StoreFactory,
) -> None:
    """A role-less actor cannot start a batch; the denial is audited and no unit moves."""
    camp, _ = _campaign(factory)
    with pytest.raises(cf.NotAuthorized) as refused:
        camp.start_batch(1, actor=clerk_of("fin-01"))
    assert refused.value.rule == "not_authorized.missing_role"
    assert camp.state("fin-01").stage == "pending"
    last = list(camp.audit_trail())[-1]
    assert (last.command, last.outcome, last.actor_id) == ("start_batch", "denied", "clerk-fin-01")
    assert camp.verify_audit().ok
    outcomes = camp.start_batch(1, actor=LEADER)
    assert [o.advanced for o in outcomes] == [True]
    assert outcomes[0].record is not None
    assert outcomes[0].record.actor_id == LEADER.id


def test_every_start_path_needs_the_leading_group(factory: StoreFactory) -> None:
    """advance(trigger="start"), advance_all(trigger="start") and advance_due(trigger="start") need it too."""
    camp, _ = _campaign(factory)
    with pytest.raises(cf.NotAuthorized):
        camp.advance("fin-01", actor=clerk_of("fin-01"), trigger="start")
    with pytest.raises(cf.NotAuthorized):
        camp.advance_all(trigger="start")  # the default actor, SYSTEM, is not the leading group
    with pytest.raises(cf.NotAuthorized):
        camp.advance_due(sweep="s", trigger="start")
    assert camp.state("fin-01").stage == "pending"
    # check, the dry run, says the same to each of them.
    assert not camp.check("fin-01", "start", actor=clerk_of("fin-01")).allowed
    assert camp.check("fin-01", "start", actor=LEADER).allowed
    assert camp.advance("fin-01", actor=LEADER, trigger="start").dest == "preparation"


def test_the_start_transitions_by_names_who_starts(factory: StoreFactory) -> None:
    """A workflow whose start transition names ``by`` is started by those roles, not the leading group."""
    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if t["trigger"] == "start":
            t["by"] = ["organisation_dept"]
    workflow = cf.Workflow.from_dict(data)
    camp = cf.Campaign(
        workflow, store=factory.open(), clock=cf.FixedClock(JAN), campaign_id=factory.campaign_id
    )
    camp.add_units(UNITS[:1])
    with pytest.raises(cf.NotAuthorized):
        camp.start_batch(1, actor=LEADER)
    dept = cf.Actor(id="org", roles={"organisation_dept"})
    assert [o.advanced for o in camp.start_batch(1, actor=dept)] == [True]


def test_nobody_dates_a_start_in_the_future(factory: StoreFactory) -> None:
    """Batch 2 cannot be opened in January by dating it July, not even by the records office."""
    camp, _ = _campaign(factory)
    head = camp.audit_checkpoint()
    for actor in (LEADER, OFFICE):
        with pytest.raises(cf.ValidationError) as refused:
            camp.start_batch(2, on=date(2005, 7, 1), actor=actor)
        assert refused.value.code == "campaign.start_in_future"
    assert camp.state("vil-02").stage == "pending"
    assert camp.audit_checkpoint() == head


def test_the_batch_window_judges_the_clocks_date(factory: StoreFactory) -> None:
    """Started today in January, batch 2's window gate holds the unit: the clock's date is judged."""
    camp, _ = _campaign(factory)
    [outcome] = camp.start_batch(2, actor=LEADER)
    assert not outcome.advanced
    assert [f.code for f in outcome.decision.failures()] == ["batch_window.closed"]
    assert outcome.decision.failures()[0].params["today"] == JAN.isoformat()


def test_only_the_records_office_back_dates_a_start(factory: StoreFactory) -> None:
    """The leading group alone may not date a start before today; with records_office it may, and the state says so."""
    camp, _ = _campaign(factory, on=date(2005, 2, 14))
    with pytest.raises(cf.NotAuthorized) as refused:
        camp.start_batch(1, on=JAN, actor=LEADER)
    assert refused.value.params["roles"] == ["records_office"]
    assert camp.state("fin-01").stage == "pending"
    [outcome] = camp.start_batch(1, on=JAN, actor=OFFICE)
    assert outcome.advanced
    assert camp.state("fin-01").started_on == JAN
    assert outcome.decision.verdicts[0].params["today"] == "2005-02-14"
    assert camp.verify_audit().ok


def test_start_batch_without_an_actor_is_a_type_error() -> None:
    """The actor is required: leaving it out fails at the call, before anything is read."""
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(JAN))
    with pytest.raises(TypeError):
        camp.start_batch(1)  # type: ignore[call-arg]


# --- a host's own gate on start, and its own fact type on a deferral ----------------------

MINE = cf.guards.GuardRegistry()


@cf.guard(
    "plan_filed_by_today",
    registry=MINE,
    messages={
        "plan_filed_by_today.yes": {"zh_CN": "{today} 已备案", "en": "plan filed as of {today}"},
        "plan_filed_by_today.no": {"zh_CN": "{today} 未备案", "en": "no plan as of {today}"},
    },
)
def plan_filed_by_today(ctx: cf.GuardContext, *, after: str) -> cf.Verdict:
    """A host's start gate: the district's plan is filed once ``after`` has passed."""
    passed = ctx.today > date.fromisoformat(after)
    code = "plan_filed_by_today.yes" if passed else "plan_filed_by_today.no"
    return cf.Verdict(
        guard="plan_filed_by_today", passed=passed, code=code, params={"today": str(ctx.today)}
    )


def test_a_custom_start_gate_judges_the_clocks_date_even_when_the_start_is_back_dated(
    factory: StoreFactory,
) -> None:
    """A host's own gate on start sees the clock's date, not the back-dated ``on``; the move still dates from ``on``."""
    workflow = cf.Workflow(
        name="own_gate",
        stages=[
            cf.Stage("pending", kind="waiting"),
            cf.Stage("work"),
            cf.Stage("done", kind="final"),
        ],
        transitions=[
            cf.Transition(
                source=("pending",),
                dest="work",
                trigger="start",
                guards=(cf.use("plan_filed_by_today", after="2005-02-01"),),
            ),
            cf.Transition(source=("work",), dest="done"),
        ],
        registry=MINE,
    )
    camp = cf.Campaign(
        workflow,
        store=factory.open(),
        clock=cf.FixedClock(date(2005, 2, 14)),
        campaign_id=factory.campaign_id,
    )
    camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)])
    [outcome] = camp.start_batch(1, on=JAN, actor=OFFICE)  # on=JAN would fail the gate
    assert outcome.advanced
    assert outcome.decision.verdicts[0].params == {"today": "2005-02-14"}
    assert camp.state("u1").started_on == JAN
