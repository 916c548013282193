"""Fast mode, part 1: the workflow compiled into tables for bulk judging.

Stage kinds and ``remedial_of`` as index arrays, the candidate transitions of every
(stage, trigger, actor roles) in order with each guard compiled to its bulk form
(:mod:`.bulk`; a guard without one judged by its own function, unit by unit), which fact
columns those guards read, the custom gates whose recipes the units play, and the bit of
every milestone name. :func:`fast_blockers` says why a workflow cannot be compiled (fast mode
then falls back to exact mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from campaignflow.guards import GuardRegistry, GuardSpec, Recipe
from campaignflow.guards import registry as default_registry
from campaignflow.simulation._fast.bulk import (
    BoolArray,
    BulkRegistry,
    IntArray,
    Judge,
    bulk_registry,
    compile_bulk,
)
from campaignflow.simulation.behaviour import StageNeeds, stage_needs
from campaignflow.workflow import Workflow

__all__ = ["fast_blockers"]

_KINDS = ("waiting", "stage", "remedial", "final")
_WAITING, _WORKING, _REMEDIAL_KIND, _FINAL = range(4)

_CLERK = frozenset({"branch_committee"})
_SYSTEM = frozenset({"system"})
_LEADING = frozenset({"leading_group"})


@attrs.frozen(eq=False)
class _Candidate:
    dest: int
    judges: tuple[Judge, ...]
    #: The host-reading guards of this candidate (``guard.host_missing`` without host data).
    host_guards: tuple[str, ...] = ()
    source: str = ""
    dest_id: str = ""


# Which columns each built-in guard reads; a guard not listed (a custom one) gets them all.
_READS: dict[str, frozenset[str]] = {
    "min_study_hours": frozenset({"hours"}),
    "min_guided_hours": frozenset({"hours"}),
    "milestones_done": frozenset({"bits"}),
    "coverage_at_least": frozenset({"coverage"}),
    "approved_by": frozenset({"approvals"}),
    "satisfaction_rate_at_least": frozenset({"survey"}),
    "dissatisfied_rate_at_most": frozenset({"survey"}),
    "survey_recorded": frozenset({"survey"}),
    "min_days_in_stage": frozenset(),
    "min_concentrated_days": frozenset({"started"}),
    "within_batch_window": frozenset({"batch"}),
}
_ALL_READS = frozenset({"hours", "bits", "coverage", "approvals", "survey", "started", "batch"})
#: What a guard without a bulk form reads: each unit's GuardContext.
_CONTEXT = frozenset({"context"})


@attrs.frozen(eq=False)
class _Tables:
    """The workflow compiled for bulk judging."""

    stages: tuple[str, ...]
    kind: tuple[str, ...]
    remedial_of: tuple[int, ...]
    candidates: Mapping[tuple[int, str, frozenset[str]], tuple[_Candidate, ...]]
    reads: Mapping[tuple[int, str, frozenset[str]], frozenset[str]]
    needs: tuple[StageNeeds, ...]
    bits: Mapping[str, int]
    coverage: tuple[str, ...]
    roles: tuple[str, ...]
    #: The roles of the actor who defers late units (the workflow's defer roles).
    deferrer: frozenset[str]
    #: Per stage: kind code (see _KINDS), remedial_of index (-1), whether it asks approval.
    kind_code: IntArray
    rem_of: IntArray
    asks_approval: BoolArray
    #: The custom gates whose passing recipes units play (``StageNeeds.custom``), each once,
    #: and their passing recipes (None: no recipe, named by a NoRecipeWarning).
    custom: tuple[GuardSpec, ...] = ()
    recipes: tuple[Recipe | None, ...] = ()
    #: Per stage: whether a way forward (``advance``) reads host data.
    reads_host: tuple[bool, ...] = ()
    workflow: str = ""


def fast_blockers(workflow: Workflow, registry: BulkRegistry | None = None) -> tuple[str, ...]:
    """Why fast mode cannot run ``workflow`` (empty when it can), one reason per problem.

    Reasons name the workflow shapes fast mode does not model. A guard without a bulk form
    is no reason: it is judged by its own function, unit by unit (``registry`` is kept for
    callers that pass one).
    """
    reasons: list[str] = []
    kinds = {s.id: s.kind for s in workflow.stages}
    rem_of = {s.id: s.remedial_of for s in workflow.stages}
    # Facts of a stage count over every visit; fast mode keeps one stage's facts plus the
    # stage being made up, so a working stage may be re-entered only from its own make-up.
    edges: dict[str, set[str]] = {}
    for t in workflow.transitions:
        if t.trigger != "advance":
            continue
        for src in t.source:
            if kinds.get(src) in ("waiting", "final"):
                continue
            if kinds.get(src) == "remedial":
                if t.dest != rem_of.get(src):
                    reasons.append(
                        f"make-up stage {src!r} leads to {t.dest!r}, not back to {rem_of.get(src)!r}"
                    )
                continue
            if t.dest != src and kinds.get(t.dest) == "stage":
                edges.setdefault(src, set()).add(t.dest)
    for start in sorted(edges):
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            nxt = todo.pop()
            if nxt == start:
                reasons.append(f"stage {start!r} can be re-entered through other stages")
                break
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(edges.get(nxt, ()))
    names = {n for needs in stage_needs(workflow).values() for n in needs.milestones}
    names |= {n for needs in stage_needs(workflow).values() for n in needs.coverage}
    if len(names) > 62:
        reasons.append(f"more than 62 milestone names ({len(names)})")
    return tuple(reasons)


def guard_registry(workflow: Workflow) -> GuardRegistry:
    """The guard registry ``workflow`` was loaded with (the default one, else)."""
    found = getattr(workflow, "_registry", None)
    return found if isinstance(found, GuardRegistry) else default_registry


def _compile(workflow: Workflow, registry: BulkRegistry | None) -> _Tables:
    guards = guard_registry(workflow)
    bulk = registry or bulk_registry
    stages = tuple(s.id for s in workflow.stages)
    index = {s: i for i, s in enumerate(stages)}
    needs_by = stage_needs(workflow)
    names: list[str] = []
    coverage: list[str] = []
    roles: list[str] = []
    for sid in stages:
        n = needs_by[sid]
        for name in (*n.milestones, *n.coverage):
            if name not in names:
                names.append(name)
        for name in n.coverage:
            if name not in coverage:
                coverage.append(name)
        for role in n.approvals:
            if role not in roles:
                roles.append(role)
    for t in workflow.transitions:
        for spec in (*t.guards, *t.unless):
            for leaf in _leaves(spec):
                if leaf.name == "milestones_done":
                    for name in leaf.params.get("names", ()):
                        if name not in names:
                            names.append(name)
    custom_specs: list[GuardSpec] = []
    for sid in stages:
        custom_specs.extend(s for s in needs_by[sid].custom if s not in custom_specs)
    custom = tuple(custom_specs)
    # Exact mode defers with an actor holding the initial stage's defer roles (leading group).
    deferrer = frozenset(r for c in workflow.candidates(workflow.initial, "defer") for r in c.by)
    deferrer = deferrer or _LEADING
    candidates: dict[tuple[int, str, frozenset[str]], tuple[_Candidate, ...]] = {}
    reads: dict[tuple[int, str, frozenset[str]], frozenset[str]] = {}
    for sid in stages:
        for trigger in workflow.triggers(sid):
            compiled = workflow.candidates(sid, trigger)
            for roles_of in (_CLERK, _SYSTEM, deferrer):
                kept = [c for c in compiled if not c.by or c.by & roles_of]
                candidates[(index[sid], trigger, roles_of)] = tuple(
                    _Candidate(
                        index[c.dest],
                        tuple(compile_bulk(g.spec, bulk, scalar=guards.bind) for g in c.guards),
                        c.host_guards,
                        sid,
                        c.dest,
                    )
                    for c in kept
                )
                reads[(index[sid], trigger, roles_of)] = frozenset().union(
                    *(
                        _READS.get(leaf.name, _ALL_READS if leaf.name in bulk else _CONTEXT)
                        for c in kept
                        for g in c.guards
                        for leaf in _leaves(g.spec)
                    )
                )
    return _Tables(
        stages=stages,
        kind=tuple(s.kind for s in workflow.stages),
        remedial_of=tuple(
            -1 if s.remedial_of is None else index[s.remedial_of] for s in workflow.stages
        ),
        candidates=candidates,
        reads=reads,
        needs=tuple(needs_by[s] for s in stages),
        bits={name: i for i, name in enumerate(names)},
        coverage=tuple(coverage),
        roles=tuple(roles),
        deferrer=deferrer,
        kind_code=np.array([_KINDS.index(s.kind) for s in workflow.stages], dtype=np.int64),
        rem_of=np.array(
            [-1 if s.remedial_of is None else index[s.remedial_of] for s in workflow.stages],
            dtype=np.int64,
        ),
        asks_approval=np.array([bool(needs_by[sid].approvals) for sid in stages], dtype=np.bool_),
        custom=custom,
        recipes=tuple(guards.recipe_for(spec, True) for spec in custom),
        reads_host=tuple(
            any(c.host_guards for c in workflow.candidates(sid, "advance")) for sid in stages
        ),
        workflow=workflow.name,
    )


def _leaves(spec: Any) -> Any:
    if spec.children:
        for child in spec.children:
            yield from _leaves(child)
    else:
        yield spec


def _present(values: IntArray) -> list[int]:
    """The distinct small non-negative ints in ``values``, ascending (cheaper than unique)."""
    if values.shape[0] == 0:
        return []
    found: list[int] = np.flatnonzero(np.bincount(values)).tolist()
    return found
