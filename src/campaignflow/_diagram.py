"""Diagrams of a workflow, drawn by transitions' graph support (mermaid or graphviz dot)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from campaignflow.errors import ValidationError

if TYPE_CHECKING:
    from campaignflow.workflow import Workflow

__all__ = ["render"]

FORMATS = ("mermaid", "dot")


def render(workflow: Workflow, format: str, *, locale: str = "en") -> str:
    """The diagram text of ``workflow`` in ``format``; see :meth:`Workflow.diagram`."""
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
    from transitions.extensions.diagrams import GraphMachine

    # Guard labels are the specs' reprs: data, not callables, so the diagram machine needs
    # no model and resolves nothing.
    transitions: list[dict[str, Any]] = [
        {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
            "conditions": [repr(g) for g in t.guards] + [f"not_({g!r})" for g in t.unless],
        }
        for t in workflow.transitions
    ]
    title = (workflow.title if locale == "zh_CN" else workflow.title_en) or workflow.name
    machine = GraphMachine(
        states=[{"name": s.id} for s in workflow.stages],
        transitions=transitions,
        initial=workflow.initial,
        auto_transitions=False,
        show_conditions=True,
        title=title,
        graph_engine="mermaid" if format == "mermaid" else "graphviz",
    )
    graph = machine.get_graph()
    if format == "dot":
        return str(graph.source)
    return str(graph.draw(None))
