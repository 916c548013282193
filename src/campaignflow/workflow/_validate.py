"""Checking a workflow definition: every problem at once, each with its path.

Names, ids, kinds, remedial targets, the initial and final stages, sources and
destinations, guard names and params (bound against the registry), fact roles, batches,
and reachability: every stage reachable from the initial one, none a dead end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from campaignflow._words.checks import identifier, rule_problem
from campaignflow._words.records import BatchWindow
from campaignflow.errors import Problem, ValidationError
from campaignflow.guards import BoundGuard, GuardRegistry, GuardSpec, not_
from campaignflow.workflow._parts import STAGE_KINDS, Stage, Transition

__all__ = ["Definition", "reachable", "validate"]


def _check_id(value: Any, path: str, problems: list[str]) -> bool:
    try:
        identifier(None, attrs.fields(Stage).id, value)
    except ValidationError:
        problems.append(
            rule_problem(
                path,
                value,
                "must be an id of letters, digits, '_', '-' or '.' starting with a letter or '_'",
            )
        )
        return False
    return True


class Definition(Protocol):
    """What :func:`validate` reads of a workflow under construction (set, not yet checked)."""

    @property
    def name(self) -> Any: ...
    @property
    def version(self) -> Any: ...
    @property
    def stages(self) -> Sequence[Stage]: ...
    @property
    def transitions(self) -> Sequence[Transition]: ...
    @property
    def initial(self) -> str: ...
    @property
    def fact_roles(self) -> Mapping[str, str]: ...
    @property
    def batches(self) -> Sequence[BatchWindow]: ...


def validate(
    definition: Definition, registry: GuardRegistry
) -> tuple[list[str], dict[int, tuple[BoundGuard, ...]]]:
    """Every problem of ``definition``, and the bound guards of each transition by index."""
    name, version, initial = definition.name, definition.version, definition.initial
    stages, transitions = definition.stages, definition.transitions
    fact_roles, batches = definition.fact_roles, definition.batches
    problems: list[str] = []
    if not isinstance(name, str) or not name.strip():
        problems.append(rule_problem("$.name", name, "must be non-empty text"))
    if not isinstance(version, str) or not version.strip():
        problems.append(rule_problem("$.version", version, "must be non-empty text"))
    if not stages:
        problems.append(Problem("$.stages", "definition.no_stages"))
    ids: dict[str, int] = {}
    for i, stage in enumerate(stages):
        path = f"$.stages[{i}]"
        if not isinstance(stage, Stage):
            problems.append(rule_problem(path, stage, "must be a Stage"))
            continue
        if _check_id(stage.id, f"{path}.id", problems):
            if stage.id in ids:
                problems.append(
                    Problem(
                        f"{path}.id",
                        "definition.duplicate_stage",
                        {"stage": repr(stage.id), "first": ids[stage.id]},
                    )
                )
            else:
                ids[stage.id] = i
        if stage.kind not in STAGE_KINDS:
            problems.append(
                Problem(
                    f"{path}.kind",
                    "problem.one_of",
                    {"choices": list(STAGE_KINDS), "value": repr(stage.kind)},
                )
            )
        if stage.kind == "remedial":
            if stage.remedial_of is None:
                problems.append(
                    Problem(f"{path}.remedial_of", "definition.remedial_without_target")
                )
        elif stage.remedial_of is not None:
            problems.append(Problem(f"{path}.remedial_of", "definition.remedial_of_not_remedial"))
    for i, stage in enumerate(stages):
        if (
            isinstance(stage, Stage)
            and stage.remedial_of is not None
            and stage.remedial_of not in ids
        ):
            problems.append(
                Problem(
                    f"$.stages[{i}].remedial_of",
                    "definition.unknown_stage",
                    {"stage": repr(stage.remedial_of)},
                )
            )
    if stages and initial not in ids:
        problems.append(Problem("$.initial", "definition.unknown_stage", {"stage": repr(initial)}))
    if ids and not any(s.kind == "final" for s in stages if isinstance(s, Stage)):
        problems.append(Problem("$.stages", "definition.no_final_stage"))

    bound: dict[int, tuple[BoundGuard, ...]] = {}
    edges: dict[str, set[str]] = {}
    for i, t in enumerate(transitions):
        path = f"$.transitions[{i}]"
        if not isinstance(t, Transition):
            problems.append(rule_problem(path, t, "must be a Transition"))
            continue
        if not isinstance(t.trigger, str) or not t.trigger.isidentifier():
            problems.append(
                rule_problem(f"{path}.trigger", t.trigger, "must be a Python-style name")
            )
        if not t.source:
            problems.append(Problem(f"{path}.source", "definition.source_empty"))
        for j, source in enumerate(t.source):
            where = f"{path}.source" + (f"[{j}]" if len(t.source) > 1 else "")
            if source not in ids:
                problems.append(Problem(where, "definition.unknown_stage", {"stage": repr(source)}))
            elif stages[ids[source]].kind == "final":
                problems.append(Problem(where, "definition.leaves_final", {"stage": repr(source)}))
        if t.dest not in ids:
            problems.append(
                Problem(f"{path}.dest", "definition.unknown_stage", {"stage": repr(t.dest)})
            )
        for source in t.source:
            edges.setdefault(source, set()).add(t.dest)
        guards: list[BoundGuard] = []
        for field, specs, negate in (("guards", t.guards, False), ("unless", t.unless, True)):
            for j, spec in enumerate(specs):
                spath = f"{path}.{field}[{j}]"
                if not isinstance(spec, GuardSpec):
                    problems.append(rule_problem(spath, spec, "must be a guard spec"))
                    continue
                found = registry.problems(spec, spath)
                if found:
                    problems.extend(found)
                    continue
                guards.append(registry.bind(not_(spec) if negate else spec, spath))
        bound[i] = tuple(guards)
    for fact, role in fact_roles.items():
        if not isinstance(role, str) or not role:
            problems.append(rule_problem(f"$.fact_roles.{fact}", role, "must name a role"))
    numbers: set[int] = set()
    for i, window in enumerate(batches):
        if window.number in numbers:
            problems.append(
                Problem(
                    f"$.batches[{i}].number", "definition.duplicate_batch", {"batch": window.number}
                )
            )
        numbers.add(window.number)

    if ids and initial in ids:
        reached = reachable(initial, edges)
        for stage_id, i in ids.items():
            stage = stages[i]
            if stage_id not in reached:
                problems.append(
                    Problem(
                        f"$.stages[{i}]",
                        "definition.unreachable",
                        {"stage": repr(stage_id), "initial": repr(initial)},
                    )
                )
            if stage.kind != "final" and not edges.get(stage_id):
                problems.append(
                    Problem(f"$.stages[{i}]", "definition.dead_end", {"stage": repr(stage_id)})
                )
    return problems, bound


def reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    """Every stage reachable from ``start`` along ``edges`` (source -> destinations)."""
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
