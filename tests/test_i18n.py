"""Messages: every verdict code the library produces renders in zh_CN and en with its real params.

The samples are not made up: each built-in guard is driven to each of its codes, the
combinators are judged, and the campaign's own refusals are read back from its audit trail.
"""

from __future__ import annotations

import ast
import contextlib
import math
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import campaignflow as cf
from campaignflow import guards as g
from campaignflow.audit import verify_chain
from campaignflow.i18n import GLOSSARY, LOCALES, VALIDATION_RULES, MessageCatalog, messages
from campaignflow.simulation import Scenario
from campaignflow.store import open_store
from campaignflow.testing import strategies as cfst
from tests.events.test_items import DEFER_FLOW

TODAY = date(2005, 3, 1)
UNIT = cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32)
B1 = cf.BatchWindow(number=1, opens=date(2005, 1, 1), closes=date(2005, 6, 30))


def _ctx(
    *facts: object, today: date = TODAY, window: cf.BatchWindow | None = B1, **state: Any
) -> cf.GuardContext:
    fields: dict[str, Any] = {
        "unit_id": UNIT.id,
        "stage": "study_mobilization",
        "batch": 1,
        "version": 1,
        "stage_since": date(2005, 2, 1),
        "started_on": date(2005, 1, 10),
    }
    fields.update(state)
    records = tuple(
        cf.FactRecord(
            unit_id=UNIT.id,
            stage=fields["stage"],
            version=fields["version"],
            fact=fact,
            on=today,
            at=datetime(2005, 3, 1, tzinfo=UTC),
            actor_id="zhang",
            seq=i + 1,
        )
        for i, fact in enumerate(facts)
    )
    return cf.GuardContext(
        unit=UNIT, state=cf.UnitState(**fields), today=today, records=records, batch_window=window
    )


def _survey(satisfied: int, dissatisfied: int, fairly: int | None = None) -> cf.Survey:
    return cf.Survey(
        satisfied=satisfied,
        basically_satisfied=0,
        dissatisfied=dissatisfied,
        fairly_satisfied=fairly,
    )


_STUDY = (cf.StudySession(hours=24, guided=True), cf.StudySession(hours=16))


def guard_verdicts() -> Iterator[cf.Verdict]:
    """Every built-in guard on contexts that pass, fail and lack evidence."""
    empty = _ctx()
    for facts in ((), _STUDY, (cf.StudySession(hours=23.5, guided=True),)):
        c = _ctx(*facts)
        yield g.min_study_hours(c, hours=40)
        yield g.min_guided_hours(c, hours=24)
    for today in (date(2005, 2, 20), date(2005, 3, 3), date(2005, 4, 10)):
        c = _ctx(today=today)
        yield g.min_days_in_stage(c, days=30)
        yield g.min_concentrated_days(c, days=90)
    yield g.min_concentrated_days(_ctx(started_on=None), days=90)
    for today in (date(2004, 12, 31), TODAY):
        yield g.within_batch_window(_ctx(today=today))
    yield g.within_batch_window(_ctx(window=None, batch=4))
    names = ("rectification_plan_reviewed", "transition_application")
    yield g.milestones_done(empty, names=names)
    yield g.milestones_done(_ctx(cf.Milestone("transition_application")), names=names)
    yield g.milestones_done(_ctx(*(cf.Milestone(n) for n in names)), names=names)
    for facts in (
        (),
        (cf.Milestone("heart_to_heart_talks", done=18, total=20),),
        (cf.Milestone("heart_to_heart_talks", done=19, total=20),),
    ):
        yield g.coverage_at_least(_ctx(*facts), milestone="heart_to_heart_talks", rate=0.95)
    yield g.coverage_at_least(
        _ctx(cf.Milestone("party_spirit_report", done=31, total=32)),
        milestone="party_spirit_report",
        rate=1.0,
    )
    for facts in (
        (),
        (cf.Approval("supervision_group"),),
        (cf.Approval("supervision_group", "rejected", "整改方案不具体"),),
        (cf.Approval("supervision_group", "rejected"),),
    ):
        yield g.approved_by(_ctx(*facts), role="supervision_group")
    for facts in ((), (_survey(600, 400),), (_survey(599, 401),), (_survey(300, 400, fairly=300),)):
        c = _ctx(*facts)
        yield g.satisfaction_rate_at_least(c, rate=0.6)
        yield g.dissatisfied_rate_at_most(c, rate=0.5)
        yield g.survey_recorded(c)
    yield g.dissatisfied_rate_at_most(_ctx(_survey(49, 51)), rate=0.5)


def combinator_verdicts() -> Iterator[cf.Verdict]:
    """all_of, any_of and not_, passing and failing, bound by the default registry."""
    c = _ctx(*_STUDY)
    passing, failing = cf.use("min_study_hours", hours=40), cf.use("approved_by")
    for spec in (
        cf.all_of(passing, passing),
        cf.all_of(passing, failing),
        cf.any_of(passing, failing),
        cf.any_of(failing, failing),
        cf.not_(passing),
        cf.not_(failing),
    ):
        yield g.registry.bind(spec)(c)


def campaign_samples() -> Iterator[tuple[str, dict[str, Any]]]:
    """The codes and params of a campaign's refusals, as its audit trail records them."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = cf.Campaign(cf.presets.district_2005(), clock=clock)
    camp.add_units([UNIT])
    camp.start_batch(1, on=date(2005, 1, 10), actor=cf.Actor(id="leader", roles={"leading_group"}))
    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit=UNIT.id)
    insider = cf.Actor(id="self", roles={"superior_org", "supervision_group"}, unit=UNIT.id)
    refusals = (cf.NotAuthorized, cf.TransitionRejected)
    for attempt in (
        lambda: camp.defer(UNIT.id, actor=clerk),
        lambda: camp.advance(UNIT.id, actor=clerk),
    ):
        with contextlib.suppress(refusals):
            attempt()
    for name in ("implementation_plan", "leading_group_established"):
        camp.record(UNIT.id, cf.Milestone(name), actor=clerk)
    camp.advance(UNIT.id, actor=clerk)
    for attempt in (
        lambda: camp.approve(UNIT.id, actor=clerk),
        lambda: camp.approve(UNIT.id, actor=insider),
        lambda: camp.record(UNIT.id, _survey(30, 2), actor=insider),
    ):
        with contextlib.suppress(refusals):
            attempt()
    last = cf.Unit(id="last-01", name="末批支部", kind="organ", batch=3, members=9)
    camp.add_units([last])
    leader = cf.Actor(id="leader", roles={"leading_group"})
    for verdict in camp.check(last.id, "defer", actor=leader).failures():
        yield verdict.code, dict(verdict.params)
    for audit in camp.history(UNIT.id):
        if audit.reason is not None:
            yield str(audit.reason["code"]), dict(audit.reason.get("params", {}))
    yield from deferral_samples()


def deferral_samples() -> Iterator[tuple[str, dict[str, Any]]]:
    """The leading group's deferral item: a unit of batch 1 with its window closing soon."""
    flow = cf.Workflow.from_dict(tomllib.loads(DEFER_FLOW))
    clock = cf.FixedClock(date(2005, 3, 25))
    camp = cf.Campaign(flow, clock=clock)
    camp.add_units([cf.Unit(id="late-01", name="迟批支部", kind="organ", batch=1, members=9)])
    leader = cf.Actor(id="leader", roles={"leading_group"})
    camp.start_batch(1, actor=leader)
    items = camp.inbox(leader, kind="deferral").items
    assert items, "a unit six days before its window closes has a deferral item"
    for verdict in items[0].verdicts:
        yield verdict.code, dict(verdict.params)



def _caught(action: Callable[[], object]) -> cf.CampaignflowError:
    try:
        action()
    except cf.CampaignflowError as error:
        return error
    raise AssertionError(f"{action} raised nothing")


def error_samples() -> Iterator[cf.CampaignflowError]:
    """One real error of every kind, raised by the library where it can be provoked."""
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_units([UNIT])
    camp.start_batch(1, on=date(2005, 1, 10), actor=cf.Actor(id="leader", roles={"leading_group"}))
    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit=UNIT.id)
    yield _caught(lambda: camp.state("nobody"))
    yield _caught(lambda: cf.StudySession(hours=-3))
    yield _caught(lambda: cf.presets.load("district"))
    yield _caught(lambda: g.survey_recorded(_ctx()).message("fr"))
    yield _caught(lambda: camp.advance(UNIT.id, actor=clerk))
    yield _caught(lambda: camp.defer(UNIT.id, actor=clerk))
    for name in ("implementation_plan", "leading_group_established"):
        camp.record(UNIT.id, cf.Milestone(name), actor=clerk)
    camp.advance(UNIT.id, actor=clerk, request_id="moved")
    insider = cf.Actor(id="self", roles={"supervision_group"}, unit=UNIT.id)
    # Another actor repeating the clerk's request id (authority and replay, issue 17).
    yield _caught(lambda: camp.advance(UNIT.id, actor=insider, request_id="moved"))
    yield _caught(lambda: camp.approve(UNIT.id, actor=insider))
    yield _caught(
        lambda: cf.Workflow.from_dict(
            {"name": "x", "initial": "b", "stages": [{"id": "a"}], "transitions": []}
        )
    )
    yield _caught(lambda: cf.Workflow.from_dict({"name": "x", "stages": [], "transitions": []}))
    yield _caught(
        lambda: cf.Workflow.from_dict({"name": "x", "colour": 1, "stages": [], "transitions": []})
    )
    bad = cf.presets.no_stages_2019().to_dict()
    bad["transitions"][0]["dest"] = "nowhere"
    yield _caught(lambda: cf.Workflow.from_dict(bad, source="workflow 'x'"))
    yield _caught(
        lambda: cf.Workflow.from_dict(
            {"name": "x", "stages": [{"id": "a", "kind": "final"}], "colour": 1, "transitions": []},
            source="workflow 'x'",
        )
    )
    records = list(camp.audit_trail())
    point = camp.audit_checkpoint()
    tampered = [records[0], attrs.evolve(records[1], actor_id="someone-else"), *records[2:]]
    yield _caught(lambda: verify_chain(tampered).raise_if_broken())
    yield _caught(lambda: verify_chain(records[:1], checkpoints=[point]).raise_if_broken())
    # Raised by the stores under a real race, or by a host; their constructors are public API.
    yield cf.ConcurrencyConflict(UNIT.id, expected_version=3, detail="UNIQUE constraint failed")
    yield cf.ConcurrencyConflict(None, expected_version=3, detail="the audit chain moved on")
    yield cf.NotAuthorized("li may not do this", actor_id="li", unit_id=UNIT.id, rule="host.rule")
    yield cf.CampaignflowError("store (sqlite): disk I/O error")
    yield cf.ValidationError("order 7: amount must be positive, got -1")
    # Raised when an extra's package is missing (Campaign.export_xlsx without openpyxl).
    yield cf.MissingExtra(extra="xlsx", package="openpyxl")


ERRORS = list(error_samples())


def samples() -> dict[str, list[dict[str, Any]]]:
    """Every code the library produced above, with each params it came with."""
    found: dict[str, list[dict[str, Any]]] = {}
    verdicts = [*guard_verdicts(), *combinator_verdicts()]
    for verdict in verdicts:
        for v in (verdict, *verdict.children):
            found.setdefault(v.code, []).append(dict(v.params))
    for code, params in campaign_samples():
        found.setdefault(code, []).append(params)
    for error in ERRORS:
        found.setdefault(error.code, []).append(dict(error.params))
        if isinstance(error, cf.DefinitionError):
            one = "_one" if len(error.problems) == 1 else ""
            code = f"{error.code}{one}{'_in' if error.source else ''}"
            found.setdefault(code, []).append(dict(error.params))
    return found


SAMPLES = samples()


def library_codes() -> frozenset[str]:
    """The codes the library registers on import, read in a fresh interpreter.

    Other tests may register codes of their own in this process; those are not the library's.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import campaignflow; from campaignflow.i18n import messages; "
            "print('\\n'.join(sorted(messages.codes())))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(out.stdout.split())


@pytest.fixture(scope="module")
def registered() -> frozenset[str]:
    return library_codes()


def test_every_registered_code_is_produced_by_the_library(registered: frozenset[str]) -> None:
    """Each registered code has a sample above or a raise site in the package.

    The rendering test covers the sampled ones with real params; the raise-site scan below
    checks that every other one is passed exactly the params its templates name. The
    report's words (``report.*``) are neither: the report renders them (tests/report).
    """
    words = {code for code in registered if code.startswith(("report.", "cli."))}
    assert sorted(registered - SAMPLES.keys() - raised_codes() - words) == []


def test_every_code_a_builtin_guard_returns_is_registered(registered: frozenset[str]) -> None:
    """Every code the built-in guards, combinators and refusals produced has templates."""
    assert sorted(SAMPLES.keys() - registered) == []
    assert SAMPLES.keys() <= messages.codes()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_code_renders_with_real_params(code: str, locale: str) -> None:
    """The code renders non-empty text with no leftover {placeholder} or Python list repr."""
    for params in SAMPLES[code]:
        text = messages.render(code, params, locale)
        assert text.strip(), (code, params)
        for leftover in ("{", "}", "['", "None"):
            assert leftover not in text, text
        assert text != code


def test_list_and_term_params_read_as_prose() -> None:
    """Missing milestones and roles show as their glossary terms, joined as prose."""
    verdict = g.milestones_done(
        _ctx(), names=("rectification_plan_reviewed", "transition_application")
    )
    assert verdict.message("zh_CN") == "尚有规定事项未完成：整改方案经审核、转段申请"
    assert verdict.message("en") == (
        "required steps not done yet: rectification plan reviewed, transition application"
    )
    assert g.approved_by(_ctx()).message("zh_CN") == "尚未经督导组批准转段"


def test_rates_render_as_percentages() -> None:
    """Rates render as percentages, not as raw fractions."""
    verdict = g.satisfaction_rate_at_least(_ctx(_survey(599, 401)), rate=0.6)
    assert "59.9%" in verdict.message("en")
    assert "60%" in verdict.message("zh_CN")


@pytest.mark.parametrize("locale", ["fr", "zh", "EN", "zh-CN", ""])
def test_unknown_locale_raises_validation_error(locale: str) -> None:
    """Rendering in a locale other than zh_CN or en is bad input."""
    verdict = g.survey_recorded(_ctx())
    with pytest.raises(cf.ValidationError, match="locale"):
        messages.render(verdict.code, verdict.params, locale)
    with pytest.raises(cf.ValidationError, match="locale"):
        verdict.message(locale)
    decision = cf.Decision(
        unit_id=UNIT.id,
        trigger="advance",
        source="study_mobilization",
        target="analysis_review",
        allowed=False,
        candidates=(cf.Candidate("analysis_review", False, (verdict,)),),
        judged_on=TODAY,
    )
    with pytest.raises(cf.ValidationError, match="locale"):
        decision.explain(locale)


def test_catalog_needs_text_in_both_locales() -> None:
    """A template that is empty in either locale is refused."""
    catalog = MessageCatalog()
    with pytest.raises(cf.ValidationError):
        catalog.register("x.empty", zh_CN="", en="text")
    with pytest.raises(cf.ValidationError):
        catalog.register("x.blank", zh_CN="文字", en="  ")
    assert "x.empty" not in catalog


def test_catalog_refuses_to_change_a_registered_text_silently() -> None:
    """Re-registering a code with other text needs replace=True."""
    catalog = MessageCatalog()
    catalog.register("x.ok", zh_CN="好", en="ok")
    catalog.register("x.ok", zh_CN="好", en="ok")
    with pytest.raises(cf.ValidationError, match="replace=True"):
        catalog.register("x.ok", zh_CN="好", en="fine")
    catalog.register("x.ok", zh_CN="好", en="fine", replace=True)
    assert catalog.render("x.ok", {}, "en") == "fine"


@pytest.mark.parametrize("preset", cf.presets.PRESETS)
def test_every_stage_and_milestone_of_the_presets_has_both_terms(preset: str) -> None:
    """Each stage id and milestone name a shipped preset uses is in the glossary."""
    workflow = cf.presets.load(preset)
    names = {stage.id for stage in workflow.stages}
    for transition in workflow.transitions:
        for spec in (*transition.guards, *transition.unless):
            stack = [spec]
            while stack:
                current = stack.pop()
                stack.extend(current.children)
                names.update(current.params.get("names", ()))
                if "milestone" in current.params:
                    names.add(current.params["milestone"])
    assert sorted(names - GLOSSARY.keys()) == []
    for name in names:
        assert messages.term(name, "zh_CN") == GLOSSARY[name]["zh_CN"]
        assert messages.term(name, "en") == GLOSSARY[name]["en"]


def test_own_unit_refusal_reads_in_chinese() -> None:
    """The zh_CN text of an own-unit refusal names the refused action in Chinese."""
    for params in SAMPLES["not_authorized.own_unit"]:
        text = messages.render("not_authorized.own_unit", params, "zh_CN")
        assert str(params["action"]) not in text, text


def _error_kinds(root: type[cf.CampaignflowError]) -> Iterator[type[cf.CampaignflowError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _error_kinds(sub)


def test_every_error_kind_is_sampled_and_has_both_texts() -> None:
    """Each error class (the library's, and any a module adds) has a code in both locales."""
    import campaignflow.errors

    kinds = set(_error_kinds(cf.CampaignflowError))
    library = {
        kind
        for kind in (getattr(campaignflow.errors, n) for n in campaignflow.errors.__all__)
        if isinstance(kind, type) and issubclass(kind, cf.CampaignflowError)
    }
    assert {type(e) for e in ERRORS} >= library
    for kind in kinds:
        assert kind.default_code in messages, f"{kind.__name__}.default_code {kind.default_code!r}"


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: f"{type(e).__name__}:{e.code}")
def test_error_message_in_both_locales(error: cf.CampaignflowError) -> None:
    """message(locale) renders in zh_CN and en; the English one matches str() where it can."""
    zh, en = error.message("zh_CN"), error.message("en")
    assert zh.strip()
    assert en.strip()
    assert zh != en
    for leftover in ("{", "}", "['"):
        assert leftover not in zh, zh
        assert leftover not in en, en
    if not isinstance(error, cf.ConcurrencyConflict):  # str() adds the driver's detail
        assert en == str(error)
    assert error.code in messages or isinstance(error, cf.NotAuthorized)


def test_error_text_in_chinese_names_the_thing() -> None:
    """The zh_CN text of a structured error carries its data, not an English sentence."""
    unknown = next(e for e in ERRORS if isinstance(e, cf.UnknownUnit))
    assert unknown.message("zh_CN") == "单位 nobody：本次活动中没有这个单位"
    rejected = next(e for e in ERRORS if isinstance(e, cf.TransitionRejected))
    assert rejected.message("zh_CN") == rejected.decision.explain(locale="zh_CN")
    assert rejected.code == "transition.rejected"
    own = next(e for e in ERRORS if isinstance(e, cf.NotAuthorized) and e.rule.endswith("own_unit"))
    assert own.code == "not_authorized.own_unit"
    assert "不能批准本单位" in own.message("zh_CN")
    conflict = next(e for e in ERRORS if isinstance(e, cf.ConcurrencyConflict))
    assert conflict.message("zh_CN") == (
        "单位 fin-01：状态已被其他操作同时修改（预期版本 3），请重试"
    )
    with pytest.raises(cf.ValidationError, match="locale") as refused:
        unknown.message("fr")
    assert refused.value.code == "validation.locale"


def test_unstructured_validation_error_keeps_its_english_detail() -> None:
    """A host's ValidationError without a code says so in Chinese and keeps the detail.

    The library's own raise sites all pass a code (see the raise-site scan below).
    """
    error = cf.ValidationError("order 7: amount must be positive, got -1")
    assert error.code == "validation.invalid"
    assert error.message("zh_CN") == f"输入有误：{error}"
    assert error.message("en") == str(error)


def _literal_codes(node: ast.AST) -> Iterator[str]:
    """String constants a code expression can take (``"a" if ok else "b"`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literal_codes(node.body)
        yield from _literal_codes(node.orelse)


def source_codes() -> dict[str, str]:
    """Every code written literally in the package's source, with where it is written.

    Verdicts (``Verdict(guard, passed, code, ...)``), refusal reasons (``{"code": ...}``) and
    error kinds (``default_code = ...``), in every module, including ones added later.
    """
    root = Path(cf.__file__).parent
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            exprs: list[ast.AST] = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Verdict":
                exprs += node.args[2:3] + [k.value for k in node.keywords if k.arg == "code"]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_threshold":
                # The threshold-guard factory names its verdicts' codes: codes=(holds, not), missing=.
                for k in node.keywords:
                    if k.arg == "codes" and isinstance(k.value, ast.Tuple):
                        exprs += k.value.elts
                    elif k.arg == "missing":
                        exprs.append(k.value)
            elif isinstance(node, ast.Dict):
                exprs += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "code"
                ]
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", None) == "default_code" for t in targets):
                    exprs.append(node.value)  # type: ignore[arg-type]
            for expr in exprs:
                for code in _literal_codes(expr):
                    found.setdefault(code, f"{path.relative_to(root)}:{expr.lineno}")
    return found


def test_every_code_written_in_the_source_has_both_texts(registered: frozenset[str]) -> None:
    """A verdict, refusal or error code anywhere in the package is in the catalog (zh_CN + en)."""
    found = source_codes()
    assert len(found) > 30, "the scan found the library's codes"
    missing = {code: where for code, where in found.items() if code not in registered}
    assert missing == {}, "register zh_CN and en text for these codes (see docs/glossary.md)"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: cf.StudySession(hours=-3),
        lambda: cf.StudySession(hours=float("inf")),
        lambda: cf.StudySession(hours=2000),
        lambda: cf.StudySession(hours=4, guided="yes"),
        lambda: cf.Survey(satisfied=1.5, basically_satisfied=0, dissatisfied=0),
        lambda: cf.Survey(satisfied=-1, basically_satisfied=0, dissatisfied=0),
        lambda: cf.Unit(id="a b", name="x", kind="organ", batch=1),
        lambda: cf.Unit(id="a", name="", kind="organ", batch=1),
        lambda: cf.Unit(id="a", name="x\x00", kind="organ", batch=1),
        lambda: cf.Unit(id="a", name="x", kind="organ", batch=0),
        lambda: cf.Actor(id="a b"),
        lambda: cf.BatchWindow(number=1, opens="2005-01-01", closes=date(2005, 6, 30)),
    ],
    ids=lambda f: "",
)
def test_field_errors_read_in_chinese(bad: Callable[[], object]) -> None:
    """A field that fails its validator is refused with a code whose zh_CN text is Chinese."""
    error = _caught(bad)
    assert error.code == "validation.field"
    assert {"field", "rule", "value"} <= error.params.keys()
    assert error.message("en") == str(error)
    zh = error.message("zh_CN")
    assert "must" not in zh, zh
    assert zh.startswith(f"{error.params['field']}：")


# --- every raise site has a catalog code ------------------------------------------------

#: Constructors that must be given ``code=`` (their default code would show English text).
_NEEDS_CODE = {"ValidationError", "CampaignflowError"}
#: Functions whose ``rule`` argument (by position) is a glossary key of VALIDATION_RULES.
_RULE_ARG = {"refuse": 2, "field_error": 2, "rule_problem": 2, "_fail": 3, "_problem": 1, "fail": 1}
#: What a code looks like (``validation.field``, ``store.unknown_driver.async``).
_CODE = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)*$")
#: Params a ValidationError adds itself when it lists problems.
_INJECTED = {"problems", "problem_lines"}


def _placeholders(template: str) -> set[str]:
    """The field names a ``str.format`` template uses (``{value}``, ``{rate:.0%}``)."""
    import string

    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def _forwarded(node: ast.AST) -> bool:
    """A code taken from another error or problem (``exc.code``, ``*_describe(exc)``).

    It was checked where that error was raised, so the site that passes it on is fine.
    """
    return (isinstance(node, ast.Attribute) and node.attr in ("code", "reason_code")) or (
        isinstance(node, ast.Starred)
    )


def _codes_of(node: ast.AST, assigned: dict[str, set[str]]) -> set[str] | None:
    """The literal codes an expression can be; None when it is not statically known."""
    if _forwarded(node):
        return set()
    if isinstance(node, ast.Name) and node.id in assigned:
        return assigned[node.id]
    found = set(_literal_codes(node))
    if not found or isinstance(node, ast.JoinedStr | ast.BinOp | ast.Call):
        return None
    return found


def raise_site_findings(source: str, where: str) -> tuple[list[str], set[str]]:
    """Problems of the error raise sites in ``source``, and every code they use.

    A finding is a ValidationError or CampaignflowError built without ``code=`` (its
    zh_CN text would wrap English), a code that is not literal or not in the catalog, params
    that differ from the template's placeholders, a problem line given as plain text
    instead of a :class:`~campaignflow.errors.Problem`, a rule (``refuse(field, value,
    rule)``) that is computed text or has no zh_CN term, an AuditTampered without
    ``reason_code=`` or a NotAuthorized without ``params=``.
    """
    tree = ast.parse(source)
    # ``code = "store.unknown_driver.async"`` before ``ValidationError(code=code)``; and
    # ``code, params = _describe(exc)``, which hands on codes checked where they are written.
    assigned: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "code":
                codes = {c for c in _literal_codes(node.value) if _CODE.match(c)}
                assigned.setdefault("code", set()).update(codes)
            elif isinstance(target, ast.Tuple) and any(
                isinstance(e, ast.Name) and e.id == "code" for e in target.elts
            ):
                assigned.setdefault("code", set())
    findings: list[str] = []
    used: set[str] = set()

    def check_code(node: ast.AST, params: ast.AST | None, extra: set[str], line: int) -> None:
        codes = _codes_of(node, assigned)
        if codes is None:
            findings.append(f"{where}:{line}: code is not a literal: {ast.unparse(node)}")
            return
        used.update(codes)
        for code in codes:
            if code not in messages:
                findings.append(f"{where}:{line}: code {code!r} has no zh_CN/en text")
                continue
            if isinstance(params, ast.Dict) and all(
                isinstance(k, ast.Constant) for k in params.keys
            ):
                keys = {k.value for k in params.keys if isinstance(k, ast.Constant)} | extra
                wanted = set().union(
                    *(_placeholders(messages._templates[code][loc]) for loc in LOCALES)
                )
                if wanted - _INJECTED != keys - _INJECTED and not keys >= wanted - _INJECTED:
                    findings.append(
                        f"{where}:{line}: {code!r} params {sorted(keys)} != {sorted(wanted)}"
                    )

    for node in ast.walk(tree):
        # ``return "problem.required", {}``: a helper handing back a code and its params.
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            first = node.value.elts[0] if node.value.elts else None
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _CODE.match(first.value)
                and len(node.value.elts) == 2
            ):
                check_code(first, node.value.elts[1], set(), node.lineno)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        line = node.lineno
        if name in _NEEDS_CODE:
            if "code" not in kw:
                findings.append(f"{where}:{line}: {name} without code=: {ast.unparse(node)[:80]}")
            else:
                check_code(kw["code"], kw.get("params"), set(), line)
        elif name == "AuditTampered" and "reason_code" not in kw:
            findings.append(f"{where}:{line}: AuditTampered without reason_code=")
        elif name == "NotAuthorized" and "params" not in kw:
            findings.append(f"{where}:{line}: NotAuthorized without params=")
        elif name == "Problem" and len(node.args) >= 2:
            params = node.args[2] if len(node.args) > 2 else ast.Dict(keys=[], values=[])
            check_code(node.args[1], params, set(), line)
        elif name == "refuse" and isinstance(func, ast.Attribute) and len(node.args) == 4:
            check_code(node.args[1], node.args[3], {"value"}, line)  # the scenario checker
        elif name == "_Refused" and node.args:  # a structure hook's problem (_convert.py)
            params = ast.Dict(keys=[ast.Constant(k.arg) for k in node.keywords], values=[])
            check_code(node.args[0], params, set(), line)
        elif (
            name == "render"
            and isinstance(func, ast.Attribute)
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
            and _CODE.match(str(node.args[0].value))
        ):
            # ``messages.render("cli.audit_ok", {...}, lang)``: text the CLI shows, not raised.
            check_code(node.args[0], node.args[1], set(), line)
        elif name == "_broken" and len(node.args) >= 3:
            params = ast.Dict(keys=[ast.Constant(k.arg) for k in node.keywords], values=[])
            check_code(node.args[2], params, set(), line)
        if name in _RULE_ARG and len(node.args) > _RULE_ARG[name]:
            rule = node.args[_RULE_ARG[name]]
            if isinstance(rule, ast.JoinedStr | ast.BinOp):
                findings.append(f"{where}:{line}: computed rule text: {ast.unparse(rule)}")
            elif isinstance(rule, ast.Constant) and rule.value not in VALIDATION_RULES:
                findings.append(f"{where}:{line}: rule {rule.value!r} has no zh_CN term")
        # A problem line must be a Problem (code, params, path), never prose.
        problem_args: list[ast.AST] = []
        if name == "append" and isinstance(func, ast.Attribute):
            if ast.unparse(func.value).endswith("problems"):
                problem_args = list(node.args)
        elif name == "DefinitionError" and node.args and isinstance(node.args[0], ast.List):
            problem_args = list(node.args[0].elts)
        for arg in problem_args:
            if isinstance(arg, ast.Constant | ast.JoinedStr | ast.BinOp):
                findings.append(
                    f"{where}:{arg.lineno}: problem as plain text: {ast.unparse(arg)[:80]}"
                )
    return findings, used


def _source_files() -> Iterator[tuple[str, str]]:
    root = Path(cf.__file__).parent
    for path in sorted(root.rglob("*.py")):
        yield str(path.relative_to(root)), path.read_text(encoding="utf-8")


def raised_codes() -> set[str]:
    """Every code a raise site in the package passes (errors, problems, audit reasons)."""
    used: set[str] = set()
    for where, source in _source_files():
        used |= raise_site_findings(source, where)[1]
    return used


def test_every_raise_site_in_the_package_has_a_catalog_code() -> None:
    """No error or problem the library raises falls back to English inside a Chinese text."""
    findings: list[str] = []
    for where, source in _source_files():
        findings += raise_site_findings(source, where)[0]
    assert findings == []
    assert len(raised_codes()) > 150, "the scan found the raise sites"


_BAD_RAISE_SITES = """
def f(x, problems):
    raise ValidationError(f"x: must be fine, got {x!r}")
    raise ValidationError(code="no.such.code")
    raise ValidationError(code="validation.field", params={"field": "x"})
    raise ValidationError(code=f"validation.{x}")
    problems.append(f"$.a: bad, got {x!r}")
    raise DefinitionError(["$.b: also bad"])
    refuse("x", x, f"must be below {x}")
    refuse("x", x, "must be a colour nobody translated")
    raise AuditTampered(3, "bad")
    raise CampaignflowError("store: broken")
"""


def test_the_raise_site_scan_catches_uncoded_errors() -> None:
    """Each kind of bad raise site in a deliberately bad module is reported, by line."""
    findings, _ = raise_site_findings(_BAD_RAISE_SITES, "bad.py")
    lines = sorted(int(f.split(":")[1]) for f in findings)
    assert lines == list(range(3, 13)), findings
    good = 'raise ValidationError(code="store.closed")\nrefuse("x", 1, "must be text")\n'
    assert raise_site_findings(good, "good.py") == ([], {"store.closed"})


def test_catalog_templates_have_the_same_placeholders_in_both_locales() -> None:
    """A param named in one locale's text is named in the other's (none is lost in translation)."""
    import campaignflow.i18n as i18n

    tables = {**i18n.ERROR_MESSAGES, **i18n.PROBLEM_MESSAGES}
    differ = {
        code: (_placeholders(texts["zh_CN"]), _placeholders(texts["en"]))
        for code, texts in [*tables.items(), *messages._templates.items()]
        if _placeholders(texts["zh_CN"]) != _placeholders(texts["en"])
    }
    assert differ == {}
    assert len(tables) > 150


def _catalogue_file(locale: str) -> dict[str, dict[str, dict[str, str]]]:
    folder = resources.files("campaignflow").joinpath("i18n", "catalogue")
    return dict(tomllib.loads(folder.joinpath(f"{locale}.toml").read_text(encoding="utf-8")))


def test_catalogue_files_have_the_same_keys_and_placeholders_in_both_locales() -> None:
    """zh_CN.toml and en.toml list the same areas, codes and terms, with the same {params}."""
    zh, en = _catalogue_file("zh_CN"), _catalogue_file("en")
    shape = {kind: {area: sorted(entries) for area, entries in zh[kind].items()} for kind in zh}
    assert shape == {
        kind: {area: sorted(entries) for area, entries in en[kind].items()} for kind in en
    }
    differ = {
        (area, code): (_placeholders(text), _placeholders(en["messages"][area][code]))
        for area, entries in zh["messages"].items()
        for code, text in entries.items()
        if _placeholders(text) != _placeholders(en["messages"][area][code])
    }
    assert differ == {}
    assert all(
        t.strip() for locale in (zh, en) for e in locale["terms"].values() for t in e.values()
    )


def test_the_default_catalog_is_the_shipped_files(registered: frozenset[str]) -> None:
    """What the library registers on import is exactly what the data files ship."""
    shipped = {code for entries in _catalogue_file("en")["messages"].values() for code in entries}
    assert shipped == registered
    fresh = MessageCatalog.packaged()
    assert fresh.codes() == registered
    assert fresh is not messages
    assert MessageCatalog().codes() == frozenset()


def _imports_of(module: str) -> set[str]:
    """The campaignflow modules ``module``'s source imports (anywhere in it)."""
    root = Path(cf.__file__).parent
    relative = module.removeprefix("campaignflow").lstrip(".").replace(".", "/")
    path = root / f"{relative}.py"
    if not path.exists():
        path = root / relative / "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "campaignflow"}


def test_the_words_floor_imports_downward_only() -> None:
    """The catalogue core imports nothing of campaignflow; errors only the core; i18n no record.

    So errors.py renders through the catalogue without a circle, and the i18n face (which
    refuses bad input with errors' ValidationError) sits above both (``_public`` only sets
    its names' public path).
    """
    assert _imports_of("campaignflow._catalogue") == set()
    assert _imports_of("campaignflow.errors") == {"campaignflow._catalogue"}
    assert _imports_of("campaignflow.i18n._catalog") == {
        "campaignflow._catalogue",
        "campaignflow.errors",
    }
    assert _imports_of("campaignflow.i18n") <= {
        "campaignflow._catalogue",
        "campaignflow._public",
        "campaignflow.i18n._catalog",
    }


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _representative_errors() -> Iterator[cf.CampaignflowError]:
    """Errors from every part of the library, raised by bad input as a caller would give it."""
    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_units([UNIT])
    clerk = cf.Actor(id="li", roles={"branch_committee"}, unit=UNIT.id)
    for bad in (
        lambda: cf.Campaign("not a workflow"),
        lambda: cf.Campaign(cf.presets.district_2005(), store="ftp://x"),
        lambda: cf.Campaign(cf.presets.district_2005(), store="sqlite:///no/such/dir/x.db"),
        lambda: camp.add_units([UNIT]),
        lambda: camp.add_units([UNIT, UNIT]),
        lambda: camp.start_batch(9, actor=cf.Actor(id="leader", roles={"leading_group"})),
        lambda: camp.advance(UNIT.id, actor=clerk, trigger="fly"),
        lambda: camp.advance(UNIT.id, actor="li"),
        lambda: camp.record(UNIT.id, cf.Milestone("x"), actor=clerk, request_id="a b"),
        lambda: camp.purge_audit(older_than=date(2005, 1, 1), retention_days=3),
        lambda: cf.Milestone("talks", done=5, total=3),
        lambda: cf.Survey(satisfied=0, basically_satisfied=0, dissatisfied=0),
        lambda: cf.BatchWindow(number=1, opens=date(2005, 6, 1), closes=date(2005, 1, 1)),
        lambda: cf.Organisation(id="a", name="A", level="district", parent="a"),
        lambda: cf.SimulatedClock(date(2005, 1, 1)).advance(days=-1),
        lambda: cf.presets.district_2005().stage("nowhere"),
        lambda: cf.presets.district_2005().diagram("svg"),  # type: ignore[arg-type]
        lambda: g.registry.get("no_such_guard"),
        lambda: cf.all_of(),
        lambda: cf.Workflow.from_dict({"name": "x", "stages": [{"id": "a"}], "colour": 1}),
        lambda: cf.Workflow.from_dict(
            {
                "name": "x",
                "stages": [{"id": "a"}, {"id": "a", "kind": "final"}],
                "transitions": [
                    {
                        "trigger": "go",
                        "source": ["b"],
                        "dest": "a",
                        "guards": [{"guard": "min_study_hours", "hours": "x"}],
                    }
                ],
            }
        ),
        lambda: Scenario.from_dict({"name": "", "seed": -1}),
        lambda: open_store("sqlite:///x.db?colour=1"),
    ):
        try:
            bad()
        except cf.CampaignflowError as error:
            yield error
        else:  # pragma: no cover - a sample that stopped failing
            raise AssertionError(f"{bad} raised nothing")


REPRESENTATIVE = list(_representative_errors())


@pytest.mark.parametrize("error", REPRESENTATIVE, ids=lambda e: e.code)
def test_representative_error_reads_in_chinese_throughout(error: cf.CampaignflowError) -> None:
    """zh_CN text has Chinese in it and no English sentence of str(error) left over."""
    zh = error.message("zh_CN")
    assert _cjk(zh), zh
    assert str(error) not in zh
    assert error.message("en") == str(error)
    assert error.code != "validation.invalid"
    for problem in getattr(error, "problems", ()):
        if isinstance(problem, cf.errors.Problem):
            assert problem.message("en") == problem
            line = problem.message("zh_CN")
            assert line in zh
            assert _cjk(line) or problem.code in {"problem.detail"}, line


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _raised(action: Callable[[], object]) -> cf.CampaignflowError | None:
    try:
        action()
    except cf.CampaignflowError as error:
        return error
    return None


def _reads_in_chinese(error: cf.CampaignflowError) -> None:
    zh = error.message("zh_CN")
    assert _cjk(zh), zh
    assert error.message("en") == str(error)
    for problem in getattr(error, "problems", ()):
        if isinstance(problem, cf.errors.Problem):
            line = problem.message("zh_CN")
            assert line in zh
            # Python's own wording (a cattrs type error) may stay inside; ours may not.
            if problem.code not in {"problem.detail", "problem.invalid_value"}:
                assert problem.message("en") not in zh, line
                assert _cjk(line), line
    if len(getattr(error, "problems", ())) <= 1:
        assert str(error) not in zh


def _valid_study_field(field: str, value: object) -> bool:
    """Whether ``StudySession`` takes ``value`` for ``field``, by its documented rules."""
    if field == "guided":
        return isinstance(value, bool)
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1000
    )


@given(value=_JUNK, field=st.sampled_from(["hours", "guided"]))
@settings(max_examples=150, deadline=None)
def test_any_bad_field_value_reads_in_chinese(value: object, field: str) -> None:
    """Whatever a caller passes to a validated field, a bad value is refused in Chinese.

    A good value is taken; a bad one raises ``validation.field`` whose zh_CN text is exactly
    the field, the rule's Chinese term and the value (so a broken template, a rule without its
    term or a refusal that stopped happening all fail here).
    """
    fields: dict[str, Any] = {"hours": 4, "guided": False, field: value}
    error = _raised(lambda: cf.StudySession(**fields))
    if _valid_study_field(field, value):
        assert error is None, error
        return
    assert isinstance(error, cf.ValidationError), f"{field}={value!r} was taken"
    assert error.code == "validation.field"
    rule = VALIDATION_RULES[error.params["rule"]]["zh_CN"]
    shown = error.params["value"]
    assert error.message("zh_CN") == f"StudySession.{field}：{rule}，收到的是 {shown}"
    _reads_in_chinese(error)


@pytest.mark.sized(default=50)
@given(
    data=cfst.workflow_dicts(max_stages=4),
    path=st.sampled_from(
        [
            ("name",),
            ("initial",),
            ("stages", 0, "id"),
            ("stages", 0, "kind"),
            ("stages", -1, "kind"),
            ("transitions", 0, "dest"),
            ("transitions", 0, "source"),
            ("transitions", 0, "trigger"),
            ("transitions", 0, "guards"),
            ("colour",),
        ]
    ),
    junk=_JUNK,
)
@settings(max_examples=150, deadline=None)
def test_any_broken_workflow_reads_in_chinese(
    data: dict[str, Any], path: tuple[Any, ...], junk: object
) -> None:
    """A workflow broken anywhere lists every problem, with its path, in Chinese."""
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    error = _raised(lambda: cf.Workflow.from_dict(data))
    if isinstance(error, cf.DefinitionError):
        assert all(isinstance(p, cf.errors.Problem) for p in error.problems)
        _reads_in_chinese(error)
        for problem in error.problems:
            assert problem.message("zh_CN").startswith(problem.path)
    else:
        assert error is None


def test_every_error_survives_pickling_with_its_code_params_and_text() -> None:
    """Errors cross process boundaries (task queues, worker pools) whole: type, code, text."""
    import pickle
    from datetime import date

    from campaignflow import errors

    camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
    camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1, members=3)])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    clerk = cf.Actor(id="clerk", roles={"branch_committee"})
    raised: list[errors.CampaignflowError] = []
    attempts = [
        lambda: camp.record("u1", cf.StudySession(hours=-1), actor=clerk),
        lambda: camp.state("nope"),
        lambda: cf.Workflow.from_dict({"name": "x", "stages": [], "transitions": []}),
        lambda: camp.advance("u1", actor=clerk),
        lambda: camp.record(
            "u1",
            cf.Survey(satisfied=3, fairly_satisfied=0, basically_satisfied=0, dissatisfied=0),
            actor=cf.Actor(id="own", roles={"superior_org"}, unit="u1"),
        ),
    ]
    for attempt in attempts:
        try:
            attempt()
        except errors.CampaignflowError as error:
            raised.append(error)
    raised += [
        errors.ConcurrencyConflict("u1", expected_version=3, detail="the audit chain moved on"),
        errors.AuditTampered(7, "content does not match its hash (the record was altered)"),
    ]
    kinds = {type(e) for e in raised}
    assert {
        errors.ValidationError,
        errors.UnknownUnit,
        errors.DefinitionError,
        errors.TransitionRejected,
        errors.NotAuthorized,
        errors.ConcurrencyConflict,
        errors.AuditTampered,
    } <= kinds
    for error in raised:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.code == error.code
        assert copy.params == error.params
        assert copy.message("zh_CN") == error.message("zh_CN")
        assert copy.message("en") == error.message("en")
