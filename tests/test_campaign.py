"""The Campaign API: validation without side effects, idempotency, authority and the audit chain."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import textwrap
from datetime import date
from pathlib import Path

import attrs
import pytest
import transitions

import campaignflow as cf
from campaignflow.audit import replay, verdict_from_data
from campaignflow.guards import GuardRegistry
from campaignflow.store import MemoryStore

CLERK = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")
INSPECTOR = cf.Actor(id="zhang", roles={"supervision_group"})
SUPERIOR = cf.Actor(id="county", roles={"superior_org"})


def started_campaign() -> cf.Campaign:
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_units(
        [
            cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32),
            cf.Unit(id="edu-02", name="区教育局机关党支部", kind="organ", batch=1, members=20),
        ]
    )
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    return camp


def snapshot(camp: cf.Campaign) -> tuple[object, ...]:
    return (
        camp.units(),
        [camp.facts(u.id) for u, _ in camp.units()],
        [r.hash for r in camp.audit_trail()],
    )


# --- validation: typed errors, nothing written ---------------------------------------------


def test_fact_constructors_name_field_value_and_rule() -> None:
    """Bad facts cannot be built, and the message names the field, the value and the rule."""
    with pytest.raises(cf.ValidationError, match=r"StudySession.hours: must be >= 0, got -3"):
        cf.StudySession(hours=-3)
    with pytest.raises(cf.ValidationError, match=r"Survey.dissatisfied: must be >= 0, got -1"):
        cf.Survey(satisfied=3, basically_satisfied=0, dissatisfied=-1)
    with pytest.raises(
        cf.ValidationError, match=r"ballots: must equal the sum of the counts \(10\), got 11"
    ):
        cf.Survey(satisfied=5, basically_satisfied=3, dissatisfied=2, ballots=11)
    with pytest.raises(cf.ValidationError, match="at least one valid ballot"):
        cf.Survey(satisfied=0, basically_satisfied=0, dissatisfied=0)
    with pytest.raises(cf.ValidationError, match="done must be <= total"):
        cf.Milestone("heart_to_heart_talks", done=33, total=32)
    with pytest.raises(cf.ValidationError, match=r"Unit\.batch: must be >= 1, got 0"):
        cf.Unit(id="x", name="x", kind="organ", batch=0)
    with pytest.raises(TypeError):
        cf.Survey(3, 0, 1)  # type: ignore[misc]  # counts are keyword-only


def test_add_units_is_all_or_nothing_and_lists_every_problem() -> None:
    """One bad unit in a call adds none of them, and every problem is named."""
    camp = started_campaign()
    before = snapshot(camp)
    with pytest.raises(cf.ValidationError) as info:
        camp.add_units(
            [
                cf.Unit(id="new-01", name="新单位", kind="organ", batch=1),
                cf.Unit(id="new-01", name="重复", kind="organ", batch=1),
                cf.Unit(id="late-09", name="第九批", kind="village", batch=9),
                "not a unit",  # type: ignore[list-item]
            ]
        )
    assert len(info.value.problems) == 3
    assert snapshot(camp) == before
    with pytest.raises(cf.ValidationError, match="already exists"):
        camp.add_units(
            [
                cf.Unit(id="new-02", name="新", kind="organ", batch=1),
                cf.Unit(id="fin-01", name="重复", kind="organ", batch=1),
            ]
        )
    assert snapshot(camp) == before


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.record("ghost", cf.StudySession(hours=1), actor=CLERK),
        lambda c: c.approve("ghost", actor=INSPECTOR),
        lambda c: c.advance("ghost", actor=CLERK),
        lambda c: c.defer("ghost", actor=CLERK),
        lambda c: c.check("ghost"),
        lambda c: c.state("ghost"),
        lambda c: c.history("ghost"),
    ],
)
def test_unknown_unit_is_a_typed_error_on_every_entry_point(command: object) -> None:
    """Every entry point answers an unknown unit with UnknownUnit (a ValidationError and KeyError)."""
    camp = started_campaign()
    before = snapshot(camp)
    with pytest.raises(cf.UnknownUnit) as info:
        command(camp)  # type: ignore[operator]
    assert isinstance(info.value, cf.ValidationError)
    assert isinstance(info.value, KeyError)
    assert info.value.unit_id == "ghost"
    assert str(info.value) == "unit 'ghost': no such unit in this campaign"
    assert snapshot(camp) == before


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda c: c.record("fin-01", object(), actor=CLERK), "not a registered fact type"),
        (lambda c: c.record("fin-01", cf.StudySession(hours=1), actor="li"), "actor: must be"),
        (
            lambda c: c.record("fin-01", cf.StudySession(hours=1), actor=CLERK, request_id="a b"),
            "request_id",
        ),
        (
            lambda c: c.record("fin-01", cf.StudySession(hours=1), actor=CLERK, request_id=""),
            "request_id",
        ),
        (lambda c: c.advance("fin-01", actor=CLERK, trigger="jump"), "no 'jump' transition"),
        (lambda c: c.defer("fin-01", actor=CLERK, to_batch=1), "later than its batch"),
        (lambda c: c.approve("fin-01", actor=INSPECTOR), "stage 'preparation' asks no approval"),
        (lambda c: c.facts("fin-01", stage="nowhere"), "stage: must be one of"),
        (
            lambda c: c.start_batch(0, actor=cf.Actor(id="leader", roles={"leading_group"})),
            "batch: must be a whole number from 1",
        ),
        (
            lambda c: c.start_batch(7, actor=cf.Actor(id="leader", roles={"leading_group"})),
            "no batch 7",
        ),
    ],
)
def test_malformed_commands_raise_validation_error_and_write_nothing(
    command: object, message: str
) -> None:
    """Malformed input raises ValidationError naming the problem, and writes nothing at all."""
    camp = started_campaign()
    before = snapshot(camp)
    with pytest.raises(cf.ValidationError, match=message):
        command(camp)  # type: ignore[operator]
    assert snapshot(camp) == before


def test_facts_are_refused_before_the_batch_starts_and_after_acceptance() -> None:
    """A unit that has not started or has finished takes no facts."""
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 7, 2)))
    camp.add_units([cf.Unit(id="com-01", name="社区党支部", kind="community", batch=2)])
    with pytest.raises(cf.ValidationError, match="has not started"):
        camp.record("com-01", cf.StudySession(hours=2), actor=CLERK)


def test_campaign_rejects_non_workflow_and_bad_store() -> None:
    """Constructor arguments are checked with clear errors."""
    with pytest.raises(cf.ValidationError, match="workflow: must be a Workflow"):
        cf.Campaign("district_2005")  # type: ignore[arg-type]
    with pytest.raises(cf.ValidationError, match="store"):
        cf.Campaign(cf.presets.district_2005(), store="ftp://nowhere")
    with pytest.raises(cf.ValidationError, match="store"):
        cf.Campaign(cf.presets.district_2005(), store=object())  # type: ignore[arg-type]


# --- idempotency ---------------------------------------------------------------------------


def test_repeated_request_id_returns_the_first_result_and_writes_nothing() -> None:
    """Redelivered record and advance commands return the first result; the audit grows once."""
    camp = started_campaign()
    first_fact = camp.record(
        "fin-01", cf.Milestone("implementation_plan"), actor=CLERK, request_id="f-1"
    )
    assert (
        camp.record("fin-01", cf.Milestone("implementation_plan"), actor=CLERK, request_id="f-1")
        == first_fact
    )
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=CLERK)
    first = camp.advance("fin-01", actor=CLERK, request_id="a-1")
    before = snapshot(camp)
    again = camp.advance("fin-01", actor=CLERK, request_id="a-1")
    assert again == first
    assert snapshot(camp) == before
    assert camp.state("fin-01").stage == "study_mobilization"
    assert len(camp.facts("fin-01", stage="preparation")) == 2


def test_repeated_refused_command_raises_the_same_refusal_again() -> None:
    """A refused advance redelivered raises the same decision again and adds no record."""
    camp = started_campaign()
    with pytest.raises(cf.TransitionRejected) as first:
        camp.advance("fin-01", actor=CLERK, request_id="a-1")
    before = snapshot(camp)
    # The facts change meanwhile, but the redelivery answers what the command got then.
    with pytest.raises(cf.TransitionRejected) as again:
        camp.advance("fin-01", actor=CLERK, request_id="a-1")
    assert again.value.decision == first.value.decision
    assert snapshot(camp) == before


def test_repeated_unauthorized_approval_raises_not_authorized_again() -> None:
    """A denied approval redelivered is denied again, with one denial record in all."""
    camp = started_campaign()
    insider = cf.Actor(id="insider", roles={"supervision_group"}, unit="fin-01")
    camp.record("fin-01", cf.Milestone("implementation_plan"), actor=CLERK)
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=CLERK)
    camp.advance("fin-01", actor=CLERK)
    for _ in range(2):
        with pytest.raises(cf.NotAuthorized) as info:
            camp.approve("fin-01", actor=insider, request_id="ap-1")
        assert info.value.rule == "not_authorized.own_unit"
    denials = [r for r in camp.history("fin-01") if r.outcome == "denied"]
    assert len(denials) == 1
    assert denials[0].reason == {
        "code": "not_authorized.own_unit",
        "params": {"actor": "insider", "unit": "fin-01", "action": "approve"},
    }


def test_request_id_reused_for_another_command_is_refused() -> None:
    """One request id, one command: reusing it for something else is a ValidationError."""
    camp = started_campaign()
    camp.record("fin-01", cf.Milestone("implementation_plan"), actor=CLERK, request_id="r-1")
    before = snapshot(camp)
    with pytest.raises(cf.ValidationError, match="already used for another command"):
        camp.record("fin-01", cf.Milestone("summing_up"), actor=CLERK, request_id="r-1")
    with pytest.raises(cf.ValidationError, match="already used"):
        camp.record("edu-02", cf.Milestone("implementation_plan"), actor=CLERK, request_id="r-1")
    assert snapshot(camp) == before


# --- authority ------------------------------------------------------------------------------


def _fork_workflow() -> cf.Workflow:
    """Stage a has a fast way out reserved for the supervision group and a slow one for all."""
    return cf.Workflow(
        name="fork",
        stages=[
            cf.Stage(id="a"),
            cf.Stage(id="fast", kind="final"),
            cf.Stage(id="slow", kind="final"),
        ],
        transitions=[
            cf.Transition(
                source="a",
                dest="fast",
                guards=[cf.use("milestones_done", names=["x"])],
                by={"supervision_group"},
            ),
            cf.Transition(
                source="a", dest="slow", guards=[cf.use("milestones_done", names=["x", "y"])]
            ),
        ],
    )


def test_transition_reserved_for_a_role_is_no_candidate_for_other_actors() -> None:
    """A clerk cannot take the way out reserved (by) for the supervision group; check agrees."""
    camp = cf.Campaign(_fork_workflow(), clock=cf.FixedClock(date(2005, 3, 1)))
    camp.add_units([cf.Unit(id="u1", name="u1", kind="organ", batch=1)])
    clerk = cf.Actor(id="clerk", roles={"branch_committee"})
    camp.record("u1", cf.Milestone("x"), actor=clerk)
    assert not camp.check("u1", actor=clerk).allowed
    with pytest.raises(cf.TransitionRejected) as info:
        camp.advance("u1", actor=clerk)
    assert info.value.decision.target == "slow"
    assert camp.check("u1", actor=INSPECTOR).target == "fast"
    assert camp.advance("u1", actor=INSPECTOR).dest == "fast"


def test_transition_only_for_roles_the_actor_lacks_is_not_authorized_and_audited() -> None:
    """When every way out is reserved for other roles, the command is denied and audited."""
    camp = started_campaign()
    before_states = camp.units()
    with pytest.raises(cf.NotAuthorized) as info:
        camp.defer("fin-01", actor=CLERK)
    assert info.value.rule == "not_authorized.missing_role"
    assert camp.units() == before_states
    last = list(camp.audit_trail())[-1]
    assert (last.command, last.outcome, last.unit_id) == ("defer", "denied", "fin-01")


# --- audit ----------------------------------------------------------------------------------


def _full_campaign() -> cf.Campaign:
    camp = started_campaign()
    camp.record("fin-01", cf.Milestone("implementation_plan"), actor=CLERK)
    camp.record("fin-01", cf.Milestone("leading_group_established"), actor=CLERK)
    camp.advance("fin-01", actor=CLERK, request_id="a-1")
    camp.record("fin-01", cf.StudySession(hours=12, guided=True), actor=CLERK)
    with pytest.raises(cf.TransitionRejected):
        camp.advance("fin-01", actor=CLERK)
    return camp


def test_state_is_the_replay_of_the_audit_trail() -> None:
    """Replaying the audit trail alone rebuilds every unit's state."""
    camp = _full_campaign()
    assert replay(camp.workflow, camp.audit_trail()) == {u.id: s for u, s in camp.units()}


def _tamper(camp: cf.Campaign, seq: int, **changes: object) -> None:
    assert isinstance(camp.store, MemoryStore)
    record = camp.store._audit_record(seq - 1)  # a transition is kept as its row until read
    camp.store._audit[seq - 1] = attrs.evolve(record, **changes)


def test_audit_chain_flags_an_edited_record_by_its_seq() -> None:
    """Changing any stored field breaks verification at exactly that record."""
    camp = _full_campaign()
    assert camp.verify_audit().ok
    _tamper(camp, 5, actor_id="someone-else")
    result = camp.verify_audit()
    assert not result.ok
    assert result.broken_at == 5
    with pytest.raises(cf.AuditTampered, match="record 5"):
        result.raise_if_broken()


def test_audit_chain_flags_a_deleted_record() -> None:
    """Deleting a record shows as a sequence gap where it was."""
    camp = _full_campaign()
    del camp.store._audit[3]  # type: ignore[attr-defined]
    result = camp.verify_audit()
    assert (result.ok, result.broken_at) == (False, 5)


def test_audit_chain_flags_truncation_against_a_checkpoint() -> None:
    """A truncated tail verifies on its own but fails against an exported checkpoint."""
    camp = _full_campaign()
    head = camp.audit_checkpoint()
    assert camp.verify_audit(checkpoints=[head]).ok
    del camp.store._audit[-2:]  # type: ignore[attr-defined]
    assert camp.verify_audit().ok
    result = camp.verify_audit(checkpoints=[head])
    assert not result.ok
    assert "truncated" in result.reason


def test_audit_records_hold_codes_and_numbers_never_rendered_text() -> None:
    """Decisions and reasons in the audit are codes and params: no message text in any language."""
    camp = _full_campaign()
    texts = [
        verdict_from_data(v).message(locale)
        for r in camp.audit_trail()
        if r.decision
        for c in r.decision["candidates"]
        for v in c["verdicts"]
        for locale in ("zh_CN", "en")
    ]
    assert texts
    for record in camp.audit_trail():
        if record.command == "add_unit":
            continue  # the unit's own name is data, not a message
        text = json.dumps(record.to_data(), ensure_ascii=False)
        assert not re.search(r"[\u4e00-\u9fff]", text), text
        for message in texts:
            assert message not in text


def test_audit_hash_follows_the_documented_formula() -> None:
    """hash = SHA-256(prev_hash ‖ canonical JSON of the record without its hash)."""
    camp = _full_campaign()
    for record in camp.audit_trail():
        body = {k: v for k, v in record.to_data().items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert record.hash == hashlib.sha256((record.prev_hash + canonical).encode()).hexdigest()


# --- guards from entry points ----------------------------------------------------------------


def test_guard_named_in_a_workflow_file_loads_from_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party package's guard, declared in campaignflow.guards, resolves by name."""
    (tmp_path / "oa_guards.py").write_text(
        textwrap.dedent('''
        import campaignflow as cf

        def party_fees_paid(ctx, *, months: int = 12):
            """Party fees paid for the last ``months`` months."""
            return cf.Verdict("party_fees_paid", True, "party_fees.paid", {"months": months})
    '''),
        encoding="utf-8",
    )
    dist = tmp_path / "oa_guards-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: oa-guards\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[campaignflow.guards]\nparty_fees_paid = oa_guards:party_fees_paid\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = GuardRegistry()
    assert "party_fees_paid" in registry
    wf = cf.Workflow.from_dict(
        {
            "name": "fees",
            "stages": [{"id": "a"}, {"id": "b", "kind": "final"}],
            "transitions": [
                {"source": "a", "dest": "b", "guards": [{"guard": "party_fees_paid", "months": 6}]}
            ],
        },
        registry=registry,
    )
    camp = cf.Campaign(wf, clock=cf.FixedClock(date(2005, 3, 1)))
    camp.add_units([cf.Unit(id="u1", name="u1", kind="organ", batch=1)])
    assert camp.check("u1").verdicts[0].params == {"months": 6}
    monkeypatch.delitem(sys.modules, "oa_guards", raising=False)


# --- scale -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_hundred_thousand_units_advance_without_a_machine_per_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """100,000 units move through a workflow; transitions builds no Machine for any of them."""
    built: list[object] = []
    original = transitions.Machine.__init__

    def counting_init(self: transitions.Machine, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    wf = cf.Workflow(
        name="two_steps",
        stages=[cf.Stage(id="study"), cf.Stage(id="review"), cf.Stage(id="done", kind="final")],
        transitions=[
            cf.Transition(
                source="study", dest="review", guards=[cf.use("min_study_hours", hours=0)]
            ),
            cf.Transition(source="review", dest="done"),
        ],
    )
    assert len(built) == 1  # the workflow's own machine
    camp = cf.Campaign(wf, clock=cf.FixedClock(date(2005, 3, 1)))
    n = 100_000
    camp.add_units(cf.Unit(id=f"u{i:06d}", name="支部", kind="village", batch=1) for i in range(n))
    first = camp.advance_all()
    second = camp.advance_all()
    assert len(built) == 1
    assert sum(o.advanced for o in first) == n
    assert sum(o.advanced for o in second) == n
    assert all(s.stage == "done" and s.version == 2 for _, s in camp.units())


def test_refusal_survives_pickling_with_its_decision_and_text() -> None:
    """Hosts hand refusals to task queues and worker processes: pickled, nothing is lost."""
    import pickle

    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1, members=3)])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    with pytest.raises(cf.TransitionRejected) as refused:
        camp.advance("u1", actor=cf.Actor(id="clerk", roles={"branch_committee"}))
    copy = pickle.loads(pickle.dumps(refused.value))
    assert copy.decision == refused.value.decision
    assert str(copy) == str(refused.value)
    assert "implementation plan" in str(copy)
    assert copy.message("zh_CN") == refused.value.message("zh_CN")
    assert copy.decision.explain("zh_CN") == refused.value.decision.explain("zh_CN")
    assert copy.code == "transition.rejected"


@pytest.mark.parametrize("name", ["workflow", "store", "clock", "campaign_id", "fact_types"])
def test_the_campaigns_core_attributes_are_read_only_and_documented(name: str) -> None:
    """Each shows the campaign's own value, refuses assignment and keeps its docstring."""
    camp = started_campaign()
    before = getattr(camp, name)
    assert before is getattr(camp._core, name)
    with pytest.raises(AttributeError, match=f"Campaign.{name} is read-only"):
        setattr(camp, name, None)
    assert getattr(camp, name) is before
    assert getattr(cf.Campaign, name).__doc__
