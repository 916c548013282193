"""Coverage: which transitions and gate outcomes a suite exercised, and :func:`assert_covers`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.records import TransitionRecord
from campaignflow.audit import AuditRecord
from campaignflow.campaign import Campaign
from campaignflow.testing._recipes import Edge, Path, Step, recipe, registry_of
from campaignflow.workflow import Workflow

__all__ = ["Coverage", "assert_covers", "coverage"]


@attrs.frozen
class Coverage:
    """Which transitions (and gate outcomes) a set of runs exercised, and which it never did.

    Gate outcomes are keyed ``(source, trigger, dest, guard_index, passed)`` from the
    decisions the audit trail keeps (applied and refused commands).
    """

    transitions: tuple[Edge, ...]
    covered: frozenset[Edge]
    outcomes: tuple[tuple[str, str, str, int, bool], ...]
    seen_outcomes: frozenset[tuple[str, str, str, int, bool]]

    @property
    def missing(self) -> tuple[Edge, ...]:
        """Transitions never taken, in the workflow's order."""
        return tuple(e for e in self.transitions if e not in self.covered)

    @property
    def missing_outcomes(self) -> tuple[tuple[str, str, str, int, bool], ...]:
        """Gate outcomes never seen, in the workflow's order."""
        return tuple(o for o in self.outcomes if o not in self.seen_outcomes)

    def report(self) -> str:
        """A short text report: counts, then every transition never taken."""
        lines = [
            f"transitions: {len(self.transitions) - len(self.missing)}/{len(self.transitions)} covered",
            f"gate outcomes: {len(self.outcomes) - len(self.missing_outcomes)}/{len(self.outcomes)} seen",
        ]
        lines.extend(f"  never taken: {s} -{t}-> {d}" for s, t, d in self.missing)
        return "\n".join(lines)


def _edges(workflow: Workflow) -> tuple[Edge, ...]:
    seen: dict[Edge, None] = {}
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for c in workflow.candidates(stage.id, trigger):
                seen[(stage.id, trigger, c.dest)] = None
    return tuple(seen)


def _outcome_keys(workflow: Workflow) -> tuple[tuple[str, str, str, int, bool], ...]:
    keys: list[tuple[str, str, str, int, bool]] = []
    for stage in workflow.stages:
        for trigger in workflow.triggers(stage.id):
            for c in workflow.candidates(stage.id, trigger):
                for i, bound in enumerate(c.guards):
                    for passed in (True, False):
                        if recipe(bound.spec, passed, registry=registry_of(workflow)) is not None:
                            keys.append((stage.id, trigger, c.dest, i, passed))
    return tuple(dict.fromkeys(keys))


def _runs(runs: Iterable[Any]) -> Iterable[Any]:
    for run in runs:
        if isinstance(run, Campaign):
            yield from run.audit_trail()
        elif isinstance(run, Path):
            yield from run.steps
        elif isinstance(run, list | tuple) and not (
            len(run) == 3 and all(isinstance(x, str) for x in run)
        ):
            yield from _runs(run)
        else:
            yield run


def coverage(workflow: Workflow, runs: Iterable[Any]) -> Coverage:
    """The :class:`Coverage` of ``runs``: campaigns, audit records, transition records, paths,
    steps or ``(source, trigger, dest)`` tuples, in any mix (lists are flattened)."""
    covered: set[Edge] = set()
    seen: set[tuple[str, str, str, int, bool]] = set()
    for item in _runs(runs):
        if isinstance(item, AuditRecord):
            decision = item.decision
            if decision is not None:
                _note_outcomes(decision, seen)
            if item.outcome == "ok" and item.dest is not None and item.command != "add_unit":
                trigger = str(item.payload.get("trigger", "advance"))
                covered.add((item.source or "", trigger, item.dest))
        elif isinstance(item, TransitionRecord):
            covered.add((item.source, item.trigger, item.dest))
        elif isinstance(item, Step):
            covered.add(item.edge)
        elif isinstance(item, tuple) and len(item) == 3:
            covered.add((str(item[0]), str(item[1]), str(item[2])))
        else:
            refuse(
                "coverage",
                item,
                "runs must hold campaigns, audit or transition records, paths, steps or (source, trigger, dest) tuples",
            )
    return Coverage(
        transitions=_edges(workflow),
        covered=frozenset(covered),
        outcomes=_outcome_keys(workflow),
        seen_outcomes=frozenset(seen),
    )


def _note_outcomes(decision: Mapping[str, Any], seen: set[tuple[str, str, str, int, bool]]) -> None:
    source, trigger = decision.get("source"), decision.get("trigger")
    for c in decision.get("candidates", ()):
        for i, v in enumerate(c.get("verdicts", ())):
            seen.add((str(source), str(trigger), str(c.get("dest")), i, bool(v.get("passed"))))


def assert_covers(
    workflow: Workflow, tests_run: Iterable[Any], *, outcomes: bool = False
) -> Coverage:
    """Fail unless ``tests_run`` took every transition of ``workflow`` (and, with
    ``outcomes=True``, saw every gate pass and fail where facts can make it).

    Returns the :class:`Coverage` when nothing is missing.

    Raises:
        AssertionError: listing every transition (and gate outcome) never exercised.
    """
    found = coverage(workflow, tests_run)
    problems = [f"never taken: {s} -{t}-> {d}" for s, t, d in found.missing]
    if outcomes:
        problems.extend(
            f"never seen: {s} -{t}-> {d} gate #{i} {'passing' if p else 'failing'}"
            for s, t, d, i, p in found.missing_outcomes
        )
    if problems:
        raise AssertionError(
            f"workflow {workflow.name!r}: {found.report().splitlines()[0]}\n  "
            + "\n  ".join(problems)
        )
    return found
