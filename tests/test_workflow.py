"""Workflows load from data, round-trip, compile once, and report every problem at once."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transitions import Machine

import campaignflow as cf
from tests.strategies import workflow_dicts


@pytest.mark.sized(default=30)
@given(workflow_dicts())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_random_valid_workflows_round_trip_through_to_dict_and_json(data: dict[str, Any]) -> None:
    """from_dict(to_dict(w)) == w, also through JSON text, and to_dict is a fixed point."""
    wf = cf.Workflow.from_dict(data)
    again = cf.Workflow.from_dict(wf.to_dict())
    assert again == wf
    assert again.to_dict() == wf.to_dict()
    assert cf.Workflow.from_dict(json.loads(wf.to_json())) == wf
    assert again.content_hash == wf.content_hash


@pytest.mark.sized(default=30)
@given(workflow_dicts())
@settings(max_examples=100)
def test_compiled_table_keeps_the_written_candidate_order(data: dict[str, Any]) -> None:
    """Candidates per (source, trigger) come out in the order the definition wrote them."""
    wf = cf.Workflow.from_dict(data)
    expected: dict[tuple[str, str], list[str]] = {}
    for t in wf.transitions:
        for source in t.source:
            expected.setdefault((source, t.trigger), []).append(t.dest)
    for (source, trigger), dests in expected.items():
        assert [c.dest for c in wf.candidates(source, trigger)] == dests


def _valid() -> dict[str, Any]:
    return cf.presets.district_2005().to_dict()


def _mutations() -> list[tuple[str, Any]]:
    def unknown_dest(d: dict[str, Any]) -> None:
        d["transitions"][3]["dest"] = "nowhere"

    def unknown_source(d: dict[str, Any]) -> None:
        d["transitions"][2]["source"] = "limbo"

    def unknown_guard(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][0]["guard"] = "no_such_guard"

    def bad_param_type(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][1]["hours"] = "forty"

    def negative_hours(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][1]["hours"] = -1

    def unknown_param(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][1]["minutes"] = 5

    def missing_required_param(d: dict[str, Any]) -> None:
        del d["transitions"][2]["guards"][0]["names"]

    def unreachable_stage(d: dict[str, Any]) -> None:
        d["stages"].append({"id": "island", "kind": "final"})

    def no_way_out(d: dict[str, Any]) -> None:
        d["stages"].append({"id": "dead_end"})
        d["transitions"].append({"source": "closing", "dest": "dead_end"})

    def no_final_stage(d: dict[str, Any]) -> None:
        for s in d["stages"]:
            if s.get("kind") == "final":
                s["kind"] = "stage"

    def duplicate_stage(d: dict[str, Any]) -> None:
        d["stages"].append(dict(d["stages"][1]))

    def unknown_key(d: dict[str, Any]) -> None:
        d["stages"][0]["colour"] = "red"

    def missing_name(d: dict[str, Any]) -> None:
        del d["name"]

    def future_schema(d: dict[str, Any]) -> None:
        d["schema_version"] = 99

    def bad_kind(d: dict[str, Any]) -> None:
        d["stages"][1]["kind"] = "limbo"

    def remedial_without_target(d: dict[str, Any]) -> None:
        for s in d["stages"]:
            if s.get("kind") == "remedial":
                s.pop("remedial_of", None)
                break

    def stages_not_a_list(d: dict[str, Any]) -> None:
        d["stages"] = "preparation"

    def guard_not_a_table(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][0] = "min_study_hours"

    def empty_all_of(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"].append({"all_of": []})

    def bad_rate(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][5]["rate"] = 1.5

    def bad_batch_dates(d: dict[str, Any]) -> None:
        d["batches"][0]["closes"] = "2004-01-01"

    def unknown_initial(d: dict[str, Any]) -> None:
        d["initial"] = "nowhere"

    def bool_for_hours(d: dict[str, Any]) -> None:
        d["transitions"][3]["guards"][1]["hours"] = True

    return [
        (f.__name__, f)
        for f in [
            unknown_dest,
            unknown_source,
            unknown_guard,
            bad_param_type,
            negative_hours,
            unknown_param,
            missing_required_param,
            unreachable_stage,
            no_way_out,
            no_final_stage,
            duplicate_stage,
            unknown_key,
            missing_name,
            future_schema,
            bad_kind,
            remedial_without_target,
            stages_not_a_list,
            guard_not_a_table,
            empty_all_of,
            bad_rate,
            bad_batch_dates,
            unknown_initial,
            bool_for_hours,
        ]
    ]


MUTATIONS = _mutations()


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[n for n, _ in MUTATIONS])
def test_each_kind_of_bad_definition_raises_definition_error(name: str, mutate: Any) -> None:
    """Every kind of broken definition is a DefinitionError naming the problem's path."""
    data = _valid()
    mutate(data)
    with pytest.raises(cf.DefinitionError) as info:
        cf.Workflow.from_dict(data)
    assert info.value.problems
    assert all(p.startswith("$") or "schema" in p for p in info.value.problems), info.value.problems


@pytest.mark.sized(default=30)
@given(st.lists(st.sampled_from(range(len(MUTATIONS))), min_size=1, max_size=6, unique=True))
@settings(max_examples=150)
def test_random_combinations_of_defects_always_raise_definition_error(picks: list[int]) -> None:
    """Any combination of defects raises DefinitionError, never another exception."""
    data = _valid()
    for i in picks:
        # An earlier defect may have removed what this one edits: the data is still broken.
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            MUTATIONS[i][1](data)
    with pytest.raises(cf.DefinitionError):
        cf.Workflow.from_dict(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.sampled_from(["name", "stages", "transitions", "initial", "batches", "version", "x"]),
        json_values,
        max_size=6,
    )
)
@pytest.mark.sized(default=30)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_data_raises_only_definition_error(data: dict[str, Any]) -> None:
    """Garbage in gives DefinitionError (or, rarely, a valid workflow), never a crash."""
    problems: tuple[str, ...] = ("loaded",)
    try:
        cf.Workflow.from_dict(data)
    except cf.DefinitionError as exc:
        problems = exc.problems
    assert problems


def test_all_problems_are_reported_at_once() -> None:
    """A definition with four defects lists all four, each with its path."""
    data = _valid()
    data["transitions"].append({"source": "closing", "dest": "nowhere"})
    data["transitions"][3]["guards"][0]["guard"] = "no_such_guard"
    data["transitions"][3]["guards"][1]["hours"] = -3
    data["stages"].append({"id": "island", "kind": "final"})
    with pytest.raises(cf.DefinitionError) as info:
        cf.Workflow.from_dict(data)
    text = "\n".join(info.value.problems)
    assert "$.transitions[15].dest: unknown stage 'nowhere'" in text
    assert "$.transitions[3].guards[0].guard: unknown guard 'no_such_guard'" in text
    assert "$.transitions[3].guards[1].hours: must be >= 0, got -3" in text
    assert "'island' is unreachable" in text
    assert len(info.value.problems) == 4


def test_one_transitions_machine_per_workflow_with_no_models() -> None:
    """The workflow compiles into exactly one transitions Machine, with no unit attached."""
    wf = cf.presets.district_2005()
    assert isinstance(wf.machine, Machine)
    assert wf.machine.models == []
    assert set(wf.machine.states) == {s.id for s in wf.stages}


def test_from_file_reads_toml_and_json(tmp_path: Path) -> None:
    """The same definition loads from TOML and JSON files and compares equal."""
    wf = cf.presets.no_stages_2019()
    json_file = tmp_path / "flow.json"
    json_file.write_text(wf.to_json(), encoding="utf-8")
    toml_file = tmp_path / "flow.toml"
    toml_file.write_text(
        """
name = "no_stages_2019"
version = "2019.1"
initial = "pending"
title = "“不忘初心、牢记使命”主题教育（2019）"
title_en = "'Stay true to our founding mission' education (2019)"
[[batches]]
number = 1
opens = 2019-05-31
closes = 2019-08-31
title = "第一批"
[[batches]]
number = 2
opens = 2019-09-01
closes = 2020-01-31
title = "第二批"
[fact_roles]
survey = "superior_org"
[[stages]]
id = "pending"
kind = "waiting"
title = "未开始"
title_en = "Not started"
[[stages]]
id = "in_progress"
title = "主题教育"
title_en = "Education under way"
[[stages]]
id = "completed"
kind = "final"
title = "完成"
title_en = "Completed"
[[transitions]]
trigger = "start"
source = "pending"
dest = "in_progress"
guards = [{ guard = "within_batch_window" }]
[[transitions]]
trigger = "defer"
source = "pending"
dest = "pending"
by = ["leading_group"]
[[transitions]]
source = "in_progress"
dest = "completed"
guards = [{ guard = "min_concentrated_days", days = 90 }, { guard = "milestones_done", names = ["summing_up"] }]
""",
        encoding="utf-8",
    )
    assert cf.Workflow.from_file(json_file) == wf
    assert cf.Workflow.from_file(toml_file) == wf


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("flow.toml", "name = [", "not valid TOML"),
        ("flow.json", "{", "not valid JSON"),
        ("flow.yaml", "name: x", "unsupported file type"),
    ],
)
def test_unreadable_files_raise_definition_error(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    """Broken or unsupported files are DefinitionErrors that name the file."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(cf.DefinitionError, match=expected) as info:
        cf.Workflow.from_file(path)
    assert str(path) in str(info.value)


def test_missing_file_raises_definition_error(tmp_path: Path) -> None:
    """A missing file is a DefinitionError, not an OSError."""
    with pytest.raises(cf.DefinitionError, match="cannot read"):
        cf.Workflow.from_file(tmp_path / "absent.toml")


def test_with_params_changes_every_use_of_a_guard() -> None:
    """with_params rewrites the guard's params everywhere and leaves the original alone."""
    wf = cf.presets.district_2005()
    stricter = wf.with_params("satisfaction_rate_at_least", rate=0.7)
    rates = {
        g.params["rate"]
        for t in stricter.transitions
        for spec in (*t.guards, *t.unless)
        for g in _leaves(spec)
        if g.name == "satisfaction_rate_at_least"
    }
    assert rates == {0.7}
    assert stricter != wf
    assert cf.presets.district_2005(satisfaction_rate=0.7) == stricter
    with pytest.raises(cf.ValidationError):
        wf.with_params("no_such_guard", x=1)
    with pytest.raises(cf.DefinitionError):
        wf.with_params("min_study_hours", hours=-1)


def _leaves(spec: cf.GuardSpec) -> list[cf.GuardSpec]:
    if not spec.children:
        return [spec]
    return [leaf for child in spec.children for leaf in _leaves(child)]


def test_presets_are_data_files_that_differ_in_their_rules() -> None:
    """The district preset gates every stage on satisfaction; the national one only at the end."""
    district = cf.presets.district_2005()
    national = cf.presets.advanced_nature_2005()
    stageless = cf.presets.no_stages_2019()

    def gated(wf: cf.Workflow) -> set[str]:
        return {
            t.source[0]
            for t in wf.transitions
            if any(
                g.name == "satisfaction_rate_at_least" for spec in t.guards for g in _leaves(spec)
            )
        }

    assert gated(district) == {"study_mobilization", "analysis_review", "rectification", "closing"}
    assert gated(national) == set()
    assert {s.kind for s in stageless.stages} == {"waiting", "stage", "final"}
    assert len([s for s in stageless.stages if s.kind == "stage"]) == 1
    assert district.batch(3) is not None
    assert national.batch(3) is not None
    assert str(district.batch(3).opens) == "2006-01-01"
    assert str(national.batch(3).opens) == "2005-11-25"


def test_diagram_mermaid_names_every_stage_and_guard() -> None:
    """The mermaid diagram, drawn by transitions, shows every stage and the guards as labels."""
    wf = cf.presets.district_2005()
    text = wf.diagram("mermaid")
    assert text.splitlines()[3] == "stateDiagram-v2"
    for stage in wf.stages:
        assert f"as {stage.id}" in text
    assert "min_study_hours(hours=40)" in text
    assert "study_mobilization --> analysis_review" in text


def test_diagram_rejects_unknown_format() -> None:
    """An unknown diagram format is a ValidationError listing the known ones."""
    with pytest.raises(cf.ValidationError, match="mermaid, dot"):
        cf.presets.district_2005().diagram("png")  # type: ignore[arg-type]


def test_definition_is_not_changed_by_mutating_the_input() -> None:
    """Changing the dict after loading does not change the workflow (it is immutable)."""
    data = _valid()
    wf = cf.Workflow.from_dict(data)
    before = copy.deepcopy(wf.to_dict())
    data["stages"].clear()
    data["transitions"][0]["dest"] = "x"
    assert wf.to_dict() == before


def test_diagram_dot_is_graphviz_source_with_every_edge() -> None:
    """The dot diagram is graphviz source naming every stage and edge."""
    text = cf.presets.no_stages_2019().diagram("dot")
    assert text.startswith("digraph")
    assert "pending -> in_progress" in text
    assert "in_progress -> completed" in text
    assert "min_concentrated_days(days=90)" in text


def test_diagram_dot_without_graphviz_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the graphviz package, asking for dot names the extra to install."""
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(cf.ValidationError, match=r"pip install 'campaignflow\[diagram\]'"):
        cf.presets.no_stages_2019().diagram("dot")
