"""Hypothesis strategies for the library's own tests: random valid workflow definitions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

BUILTIN_SPECS: list[st.SearchStrategy[dict[str, Any]]] = [
    st.builds(lambda h: {"guard": "min_study_hours", "hours": h}, st.integers(0, 80)),
    st.builds(lambda h: {"guard": "min_guided_hours", "hours": h}, st.floats(0, 40).map(lambda x: round(x, 1))),
    st.builds(lambda d: {"guard": "min_days_in_stage", "days": d}, st.integers(0, 60)),
    st.builds(lambda d: {"guard": "min_concentrated_days", "days": d}, st.integers(0, 120)),
    st.just({"guard": "within_batch_window"}),
    st.just({"guard": "survey_recorded"}),
    st.builds(
        lambda names: {"guard": "milestones_done", "names": names},
        st.lists(st.sampled_from(["plan", "meeting", "report", "filing"]), min_size=1, max_size=3, unique=True),
    ),
    st.builds(
        lambda m, r: {"guard": "coverage_at_least", "milestone": m, "rate": r},
        st.sampled_from(["talks", "reports"]),
        st.sampled_from([0.5, 0.9, 0.95, 1.0]),
    ),
    st.builds(lambda r: {"guard": "approved_by", "role": r}, st.sampled_from(["supervision_group", "leading_group"])),
    st.builds(lambda r: {"guard": "satisfaction_rate_at_least", "rate": r}, st.sampled_from([0.5, 0.6, 0.7])),
    st.builds(lambda r: {"guard": "dissatisfied_rate_at_most", "rate": r}, st.sampled_from([0.3, 0.5])),
]

leaf_specs = st.one_of(*BUILTIN_SPECS)

guard_specs: st.SearchStrategy[dict[str, Any]] = st.recursive(
    leaf_specs,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all_of": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any_of": xs}),
        children.map(lambda x: {"not": x}),
    ),
    max_leaves=5,
)


@st.composite
def workflow_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid workflow definition: a chain of stages plus random extra edges and remedial loops."""
    n = draw(st.integers(2, 7))
    ids = [f"s{i}" for i in range(n)]
    stages: list[dict[str, Any]] = []
    for i, sid in enumerate(ids):
        kind = "final" if i == n - 1 else ("waiting" if i == 0 and draw(st.booleans()) else "stage")
        stage: dict[str, Any] = {"id": sid, "kind": kind}
        if draw(st.booleans()):
            stage["title"] = draw(st.sampled_from(["学习动员", "分析评议", "整改提高", "准备"]))
        stages.append(stage)
    transitions: list[dict[str, Any]] = []
    for i in range(n - 1):
        t: dict[str, Any] = {"source": ids[i], "dest": ids[i + 1]}
        if i == 0 and stages[0]["kind"] == "waiting":
            t["trigger"] = "start"
        guards = draw(st.lists(guard_specs, max_size=3))
        if guards:
            t["guards"] = guards
        unless = draw(st.lists(guard_specs, max_size=1))
        if unless:
            t["unless"] = unless
        if draw(st.integers(0, 4)) == 0:
            t["by"] = draw(st.lists(st.sampled_from(["leading_group", "unit_head"]), min_size=1, unique=True))
        transitions.append(t)
    # Remedial loops for some working stages.
    for i in range(n - 1):
        if stages[i]["kind"] == "stage" and draw(st.integers(0, 3)) == 0:
            rid = f"{ids[i]}_remedial"
            stages.append({"id": rid, "kind": "remedial", "remedial_of": ids[i]})
            transitions.append({"source": ids[i], "dest": rid, "guards": [{"guard": "survey_recorded"}]})
            transitions.append({"source": rid, "dest": ids[i], "guards": [{"guard": "milestones_done", "names": ["remedial_completed"]}]})
    # Extra edges between non-final stages and anywhere.
    extra = draw(st.lists(st.tuples(st.integers(0, n - 2), st.integers(0, n - 1)), max_size=3))
    for a, b in extra:
        transitions.append({"source": ids[a], "dest": ids[b], "trigger": draw(st.sampled_from(["advance", "skip_ahead"]))})
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": draw(st.sampled_from(["wf", "district_variant", "campaign_2013"])),
        "version": draw(st.sampled_from(["1", "2013.2"])),
        "initial": ids[0],
        "stages": stages,
        "transitions": transitions,
    }
    if draw(st.booleans()):
        data["batches"] = [
            {"number": 1, "opens": "2005-01-01", "closes": "2005-06-30"},
            {"number": 2, "opens": "2005-07-01", "closes": "2005-12-31"},
        ]
    if draw(st.booleans()):
        data["fact_roles"] = {"survey": "superior_org"}
    return data
