"""compare and with_settings: what-if runs with the same seed, settings by key path."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.simulation import compare, parse_setting, simulate, with_settings
from tests.simulation.conftest import EXAMPLES, small_scenario

GATE = "workflow_overrides.satisfaction_rate_at_least.rate"


def _rates(workflow: cf.Workflow) -> set[float]:
    found: set[float] = set()

    def visit(spec: Any) -> None:
        for child in spec.children:
            visit(child)
        if spec.name == "satisfaction_rate_at_least":
            found.add(spec.params["rate"])

    for t in workflow.transitions:
        for spec in t.guards:
            visit(spec)
    return found


def test_a_guard_setting_reaches_the_workflow() -> None:
    """workflow_overrides.<guard>.<param> changes that guard's param wherever it is used."""
    changed = with_settings(small_scenario(), {GATE: 0.7})
    assert _rates(changed.load_workflow()) == {0.7}
    assert _rates(small_scenario().load_workflow()) != {0.7}


def test_plain_settings_change_values_by_path() -> None:
    """Dotted paths reach nested tables and list items (counted from 1)."""
    changed = with_settings(small_scenario(), {"seed": 5, "batches.2.closes": date(2005, 11, 30)})
    assert changed.seed == 5
    assert changed.batches[1].closes == date(2005, 11, 30)
    assert changed.batches[0] == small_scenario().batches[0]


@pytest.mark.parametrize(
    ("path", "value", "code", "close"),
    [
        ("sed", 3, "scenario.set_unknown_key_close", "'seed'"),
        ("behaviour.survey.failure_rat", 0.1, "scenario.set_unknown_key_close", "'failure_rate'"),
        ("nothing_like_it", 1, "scenario.set_unknown_key", None),
        (
            "workflow_overrides.satisfaction_rate_at_lest.rate",
            0.7,
            "scenario.set_unknown_guard_close",
            "'satisfaction_rate_at_least'",
        ),
        ("workflow_overrides.no_such.rate", 0.7, "scenario.set_unknown_guard", None),
        (
            "workflow_overrides.satisfaction_rate_at_least.rat",
            0.7,
            "scenario.set_unknown_param_close",
            "'rate'",
        ),
        ("workflow_overrides.satisfaction_rate_at_least", 0.7, "scenario.set_override_shape", None),
        ("behaviour.survey.failure_rate", "often", "scenario.set_wrong_type", None),
        ("batches.4.closes", date(2005, 1, 1), "scenario.set_bad_index", None),
        ("seed.x", 1, "scenario.set_not_a_table", None),
        ("a..b", 1, "scenario.set_syntax", None),
    ],
)
def test_bad_settings_are_typed_errors(
    path: str, value: object, code: str, close: str | None
) -> None:
    """Each bad path or value has its own code; a near miss names the closest key."""
    with pytest.raises(cf.ValidationError) as caught:
        with_settings(small_scenario(), {path: value})
    error = caught.value
    assert error.code == code
    assert error.params.get("close") == close
    assert path.split(".")[0] in error.message("zh_CN")


def test_a_setting_the_scenario_rejects_is_reported_with_its_path() -> None:
    """A value of the right kind but out of range fails the scenario's own check."""
    with pytest.raises(cf.ValidationError, match="failure_rate"):
        with_settings(small_scenario(), {"behaviour.survey.failure_rate": 3.0})


def test_a_guard_parameter_the_guard_refuses_fails_at_once() -> None:
    """A parameter the guard does not take is one error naming the ones it takes."""
    with pytest.raises(cf.ValidationError) as caught:
        with_settings(small_scenario(), {"workflow_overrides.satisfaction_rate_at_least.zzz": 1})
    assert caught.value.code == "scenario.set_unknown_param"
    assert caught.value.params["known"] == "rate"
    with pytest.raises(cf.ValidationError, match="rate"):  # the guard's own check of the value
        with_settings(small_scenario(), {"workflow_overrides.satisfaction_rate_at_least.rate": 7})


def test_a_custom_guard_param_can_be_set() -> None:
    """The OA example's own gate takes a setting; a misspelt param gets a did-you-mean."""
    scenario = EXAMPLES / "oa_custom_gate" / "scenario.toml"
    changed = with_settings(scenario, {"workflow_overrides.oa_branch_attendance.percent": 100})
    assert changed.workflow_overrides == {"oa_branch_attendance": {"percent": 100}}
    with pytest.raises(cf.ValidationError, match="did you mean 'percent'"):
        with_settings(scenario, {"workflow_overrides.oa_branch_attendance.percnt": 100})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b=0.7", ("a.b", 0.7)),
        ("closes = 2005-11-30", ("closes", date(2005, 11, 30))),
        ("hours=[6.0, 9.0]", ("hours", [6.0, 9.0])),
        ("mode=reattach", ("mode", "reattach")),
        ("on=true", ("on", True)),
    ],
)
def test_parse_setting_reads_toml_values(text: str, expected: tuple[str, object]) -> None:
    """The value after '=' is TOML when it parses, plain text otherwise."""
    assert parse_setting(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=3", ""])
def test_parse_setting_refuses_text_without_a_key(text: str) -> None:
    """KEY=VALUE needs both an '=' and a key."""
    with pytest.raises(cf.ValidationError) as caught:
        parse_setting(text)
    assert caught.value.code == "scenario.set_syntax"


def test_compare_runs_both_with_the_same_seed() -> None:
    """A is the base, B the changed copy; both use A's seed; the deltas are B minus A."""
    base = small_scenario(seed=3)
    result = compare(base, settings={GATE: 0.99}, mode="fast")
    assert result.seed == 3
    assert result.a == simulate(base, seed=3, mode="fast")
    assert result.b == simulate(with_settings(base, {GATE: 0.99}), seed=3, mode="fast")
    assert result.a != result.b
    assert result.label_b.endswith(f"+ {GATE}=0.99")
    for delta in result.batches():
        a = next(b for b in result.a.batches if b.batch == delta.batch)
        b = next(b for b in result.b.batches if b.batch == delta.batch)
        assert (delta.completed_a, delta.completed_b) == (a.completed_on, b.completed_on)
        if a.completed_on and b.completed_on:
            assert delta.days_later == (b.completed_on - a.completed_on).days
    # a stricter gate holds more units on the satisfaction check
    held = [(x, y) for code, _, x, y in result.blocking(top=50) if code == "satisfaction.too_low"]
    assert sum(y for _, y in held) > sum(x for x, _ in held)
    assert result.b.remedial.rounds > result.a.remedial.rounds


def test_compare_of_a_file_with_itself_shows_no_difference() -> None:
    """Two copies of one scenario and seed: identical results, zero days apart."""
    path = EXAMPLES / "oa_custom_gate" / "scenario.toml"
    result = compare(path, path, seed=9)
    assert result.a == result.b
    assert all(d.days_later == 0 for d in result.batches())
    assert result.to_dict()["seed"] == 9


def test_b_runs_with_a_seed_unless_the_setting_is_the_seed() -> None:
    """A second file keeps A's seed; a ``seed`` setting is the one way to give B another."""
    a, b = small_scenario(seed=3), small_scenario(seed=4)
    assert compare(a, b, mode="fast").b == simulate(b, seed=3, mode="fast")
    reseeded = compare(a, settings={"seed": 4}, mode="fast")
    assert (reseeded.a.seed, reseeded.b.seed) == (3, 4)
    assert reseeded.b == simulate(b, mode="fast")


def test_compare_needs_something_to_compare() -> None:
    """No B and no settings is refused with its own code."""
    with pytest.raises(cf.ValidationError) as caught:
        compare(small_scenario())
    assert caught.value.code == "simulation.compare_nothing"
