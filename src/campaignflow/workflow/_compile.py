"""Compiling a workflow onto one ``transitions`` machine, read back into plain tables; diagrams.

The bound guards are the machine's conditions, so the machine *is* the rules: the tables of
:class:`CompiledTransition` are read back out of it, preserving its candidate order and
semantics (ordered candidates, conditions, unless). Diagrams come from transitions' graph
support (mermaid text needs no graphviz).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from transitions import Machine

from campaignflow._words.verdicts import Candidate, Verdict
from campaignflow.errors import ValidationError
from campaignflow.guards import BoundGuard, GuardContext
from campaignflow.workflow._parts import Stage, Transition

__all__ = ["FORMATS", "CompiledTransition", "build_machine", "compile_table", "render"]

#: The diagram formats :func:`render` draws.
FORMATS = ("mermaid", "dot")


@attrs.frozen
class CompiledTransition:
    """A transition ready to judge: its guards bound (``unless`` folded in as ``not_``)."""

    trigger: str
    source: str
    dest: str
    guards: tuple[BoundGuard, ...]
    by: frozenset[str]
    # The guards' judging callables, unwrapped once: judging is on every advance's path.
    _judges: tuple[Callable[[GuardContext], Verdict], ...] = attrs.field(
        init=False, eq=False, repr=False
    )

    #: The names of this candidate's guards that read the host's data, each once.
    host_guards: tuple[str, ...] = attrs.field(init=False, eq=False)

    @_judges.default
    def _unwrap(self) -> tuple[Callable[[GuardContext], Verdict], ...]:
        return tuple(g.judge for g in self.guards)

    @host_guards.default
    def _host_readers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for g in self.guards for name in g.host_guards))

    @property
    def reads_host(self) -> bool:
        """Whether judging this candidate reads the host's data: it is judged afresh each time."""
        return bool(self.host_guards)

    def judge(self, ctx: GuardContext) -> Candidate:
        """Every verdict of this candidate for ``ctx``; passes when all pass."""
        judges = self._judges
        if len(judges) == 1:  # the common gate of one guard, without the loops
            verdict = judges[0](ctx)
            return Candidate(dest=self.dest, passed=bool(verdict.passed), verdicts=(verdict,))
        verdicts = tuple([judge(ctx) for judge in judges])
        passed = True
        for verdict in verdicts:  # all(...) without a generator per judgement
            if not verdict.passed:
                passed = False
                break
        return Candidate(dest=self.dest, passed=passed, verdicts=verdicts)


def build_machine(
    *,
    name: str,
    stages: Sequence[Stage],
    initial: str,
    transitions: Sequence[Transition],
    bound: Mapping[int, tuple[BoundGuard, ...]],
) -> Machine:
    """The one ``transitions`` machine of a workflow: ``bound`` holds each transition's guards.

    No model is attached: units are records moved through the tables read out of it.
    """
    return Machine(
        model=None,
        states=[s.id for s in stages],
        initial=initial,
        transitions=[
            {
                "trigger": t.trigger,
                "source": list(t.source),
                "dest": t.dest,
                "conditions": list(bound[i]),
            }
            for i, t in enumerate(transitions)
        ],
        auto_transitions=False,
        send_event=True,
        name=name,
    )


def compile_table(
    machine: Machine, definitions: Sequence[Transition]
) -> dict[tuple[str, str], tuple[CompiledTransition, ...]]:
    """The candidates of each ``(source, trigger)``, in order, read out of ``machine``."""
    # transitions keeps, per (trigger, source), the candidates in the order they were added,
    # which is the definition's order: zip them back to recover each one's roles.
    origin: dict[tuple[str, str], list[Transition]] = {}
    for t in definitions:
        for source in t.source:
            origin.setdefault((t.trigger, source), []).append(t)
    table: dict[tuple[str, str], tuple[CompiledTransition, ...]] = {}
    for trigger, event in machine.events.items():
        for source, candidates in event.transitions.items():
            written = origin[(trigger, source)]
            table[(source, trigger)] = tuple(
                CompiledTransition(
                    trigger=trigger,
                    source=source,
                    dest=definition.dest,
                    guards=tuple(_bound(c.func) for c in candidate.conditions),
                    by=definition.by,
                )
                for candidate, definition in zip(candidates, written, strict=True)
            )
    return table


def _bound(condition: object) -> BoundGuard:
    # Every condition this module gives the machine is a BoundGuard; say so to the type checker.
    assert isinstance(condition, BoundGuard)
    return condition


def render(
    *,
    stages: Sequence[Stage],
    transitions: Sequence[Transition],
    initial: str,
    title: str,
    format: str,
) -> str:
    """The diagram text of a workflow in ``format``; see :meth:`Workflow.diagram`."""
    if format not in FORMATS:
        raise ValidationError(
            code="validation.one_of",
            params={"field": "format", "choices": list(FORMATS), "value": repr(format)},
        )
    if format == "dot":
        try:
            import graphviz  # type: ignore[import-untyped]  # noqa: F401  (is the extra installed?)
        except ImportError:
            raise ValidationError(code="diagram.needs_graphviz") from None
    # Loaded on demand: drawing is rare, and the graph extension is heavy to import.
    from transitions.extensions.diagrams import GraphMachine

    # Guard labels are the specs' reprs: data, not callables, so the diagram machine needs
    # no model and resolves nothing.
    edges: list[dict[str, Any]] = [
        {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": [repr(g) for g in t.guards] + [f"not_({g!r})" for g in t.unless],
        }
        for t in transitions
    ]
    machine = GraphMachine(
        states=[{"name": s.id} for s in stages],
        transitions=edges,
        initial=initial,
        auto_transitions=False,
        show_conditions=True,
        title=title,
        graph_engine="mermaid" if format == "mermaid" else "graphviz",
    )
    graph = machine.get_graph()
    if format == "dot":
        return str(graph.source)
    return str(graph.draw(None))
