"""Strategies for guard specs, workflows (as dicts or loaded) and simulation scenarios."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from campaignflow.simulation.scenario import Scenario
from campaignflow.testing._strategy_tools import (
    named,
    problem,
)
from campaignflow.workflow import Workflow

__all__ = ["guard_specs", "scenarios", "workflow_dicts", "workflows"]


# --- workflows --------------------------------------------------------------------------

_BUILTIN_SPECS: list[st.SearchStrategy[dict[str, Any]]] = [
    st.builds(lambda h: {"guard": "min_study_hours", "hours": h}, st.integers(0, 80)),
    st.builds(
        lambda h: {"guard": "min_guided_hours", "hours": h},
        st.floats(0, 40).map(lambda x: round(x, 1)),
    ),
    st.builds(lambda d: {"guard": "min_days_in_stage", "days": d}, st.integers(0, 60)),
    st.builds(lambda d: {"guard": "min_concentrated_days", "days": d}, st.integers(0, 120)),
    st.just({"guard": "within_batch_window"}),
    st.just({"guard": "survey_recorded"}),
    st.builds(
        lambda names: {"guard": "milestones_done", "names": names},
        st.lists(
            st.sampled_from(["plan", "meeting", "report", "filing"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),
    st.builds(
        lambda m, r: {"guard": "coverage_at_least", "milestone": m, "rate": r},
        st.sampled_from(["talks", "reports"]),
        st.sampled_from([0.5, 0.9, 0.95, 1.0]),
    ),
    st.builds(
        lambda r: {"guard": "approved_by", "role": r},
        st.sampled_from(["supervision_group", "leading_group"]),
    ),
    st.builds(
        lambda r: {"guard": "satisfaction_rate_at_least", "rate": r},
        st.sampled_from([0.5, 0.6, 0.7]),
    ),
    st.builds(
        lambda r: {"guard": "dissatisfied_rate_at_most", "rate": r}, st.sampled_from([0.3, 0.5])
    ),
]


def guard_specs(*, max_leaves: int = 5) -> st.SearchStrategy[dict[str, Any]]:
    """Guard specs as workflow files write them: built-in guards nested in all_of/any_of/not.

    Shrinks to ``{"guard": "min_study_hours", "hours": 0}``.
    """
    if isinstance(max_leaves, bool) or not isinstance(max_leaves, int) or max_leaves < 1:
        raise problem("guard_specs: max_leaves", "must be a whole number >= 1", max_leaves)
    leaves = st.one_of(*_BUILTIN_SPECS)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all_of": xs}),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any_of": xs}),
            children.map(lambda x: {"not": x}),
        ),
        max_leaves=max_leaves,
    )


def workflow_dicts(
    *, max_stages: int = 7, guards: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid workflow definitions as plain data (what a TOML or JSON file holds).

    A chain of stages from the initial one to a final one, with optional guards, ``unless``
    gates, role restrictions, remedial loops, extra edges, batches and fact roles. Shrinks to
    two stages joined by one unguarded transition.

    Args:
        max_stages: the longest chain (at least 2).
        guards: draw guards on transitions (False: every transition is unguarded).
    """
    if isinstance(max_stages, bool) or not isinstance(max_stages, int) or max_stages < 2:
        raise problem("workflow_dicts: max_stages", "must be a whole number >= 2", max_stages)
    return _workflow_dicts(max_stages=max_stages, guards=guards)


@named("workflow_dicts")
def _workflow_dicts(draw: st.DrawFn, *, max_stages: int, guards: bool) -> dict[str, Any]:
    specs = guard_specs()
    n = draw(st.integers(2, max_stages))
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
        if guards:
            chosen = draw(st.lists(specs, max_size=3))
            if chosen:
                t["guards"] = chosen
            unless = draw(st.lists(specs, max_size=1))
            if unless:
                t["unless"] = unless
        if draw(st.integers(0, 4)) == 4:
            t["by"] = draw(
                st.lists(st.sampled_from(["leading_group", "unit_head"]), min_size=1, unique=True)
            )
        transitions.append(t)
    # Remedial loops (补课) for some working stages.
    for i in range(n - 1):
        if stages[i]["kind"] == "stage" and draw(st.integers(0, 3)) == 3:
            rid = f"{ids[i]}_remedial"
            stages.append({"id": rid, "kind": "remedial", "remedial_of": ids[i]})
            transitions.append(
                {"source": ids[i], "dest": rid, "guards": [{"guard": "survey_recorded"}]}
            )
            transitions.append(
                {
                    "source": rid,
                    "dest": ids[i],
                    "guards": [{"guard": "milestones_done", "names": ["remedial_completed"]}],
                }
            )
    # Extra edges, forwards or backwards, from any stage but the final one.
    extra = draw(st.lists(st.tuples(st.integers(0, n - 2), st.integers(0, n - 1)), max_size=3))
    for a, b in extra:
        transitions.append(
            {
                "source": ids[a],
                "dest": ids[b],
                "trigger": draw(st.sampled_from(["advance", "skip_ahead"])),
            }
        )
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


def workflows(*, max_stages: int = 7, guards: bool = True) -> st.SearchStrategy[Workflow]:
    """Random valid :class:`~campaignflow.Workflow` objects (loaded by ``Workflow.from_dict``).

    Shrinks to the smallest workflow: ``s0`` → ``s1`` (final), one unguarded transition.
    Options as for :func:`workflow_dicts`.
    """
    return workflow_dicts(max_stages=max_stages, guards=guards).map(Workflow.from_dict)


# --- scenarios --------------------------------------------------------------------------


def scenarios(
    *,
    workflow: str = "district_2005",
    max_units: int = 12,
    start: date = date(2005, 1, 1),
) -> st.SearchStrategy[Any]:
    """Valid :class:`campaignflow.simulation.Scenario` objects, small enough to simulate.

    Batches follow the workflow's (three half-year windows for the 2005 presets), the roster
    is generated from counts per kind, and the behaviour models are drawn within the ranges
    the scenario format accepts. Shrinks to one organ in batch 1 with default behaviour.

    Args:
        workflow: a preset name or a workflow file path (as a scenario names it).
        max_units: the most units in the roster.
        start: the scenario's first day (batch windows are laid out from it).
    """
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise problem("scenarios: max_units", "must be a whole number >= 1", max_units)
    if not isinstance(workflow, str) or not workflow:
        raise problem("scenarios: workflow", "must be a preset name or a file path", workflow)
    return _scenarios(workflow=workflow, max_units=max_units, start=start)


@named("scenarios")
def _scenarios(draw: st.DrawFn, *, workflow: str, max_units: int, start: date) -> Any:
    n_batches = draw(st.integers(1, 3))
    kinds_by_batch = [["organ"], ["community", "school", "enterprise"], ["village"]]
    batches: list[dict[str, Any]] = []
    for i in range(n_batches):
        opens = start + timedelta(days=182 * i)
        batches.append(
            {
                "number": i + 1,
                "opens": opens.isoformat(),
                "closes": (opens + timedelta(days=180)).isoformat(),
                "kinds": kinds_by_batch[i],
            }
        )
    allowed = [k for b in batches for k in b["kinds"]]
    counts = draw(st.dictionaries(st.sampled_from(allowed), st.integers(0, max_units), min_size=1))
    if sum(counts.values()) > max_units or not any(counts.values()):
        counts = {next(iter(counts)): 1}
    low = draw(st.integers(1, 40))
    behaviour: dict[str, Any] = {}
    if draw(st.booleans()):
        hours_low = draw(st.floats(0, 20).map(lambda x: round(x, 1)))
        behaviour["study"] = {
            "hours_per_week": [hours_low, hours_low + draw(st.integers(0, 10))],
            "guided_share": draw(st.sampled_from([0.0, 0.5, 0.6, 1.0])),
        }
    if draw(st.booleans()):
        behaviour["survey"] = {
            "failure_rate": draw(st.sampled_from([0.0, 0.02, 0.1, 0.5, 1.0])),
            "retry_failure_rate": draw(st.sampled_from([0.0, 0.005, 0.1])),
        }
    if draw(st.booleans()):
        delay = draw(st.integers(0, 20))
        behaviour["approval_delay_days"] = [delay, delay + draw(st.integers(0, 10))]
    if n_batches > 1 and draw(st.booleans()):
        behaviour["late_start"] = {"share": draw(st.sampled_from([0.0, 0.1, 0.5]))}
    data: dict[str, Any] = {
        "name": draw(st.sampled_from(["district", "pilot", "batch-two"])),
        "seed": draw(st.integers(0, 2**32)),
        "workflow": workflow,
        "start": start.isoformat(),
        "batches": batches,
        "roster": {
            "counts": counts,
            "members": {
                "distribution": "uniform",
                "min": low,
                "max": low + draw(st.integers(0, 20)),
            },
        },
        "behaviour": behaviour,
    }
    if workflow == "district_2005" and draw(st.booleans()):
        data["workflow_overrides"] = {
            "satisfaction_rate_at_least": {"rate": draw(st.sampled_from([0.5, 0.6, 0.7]))}
        }
    return Scenario.from_dict(data, source="<scenarios()>")
