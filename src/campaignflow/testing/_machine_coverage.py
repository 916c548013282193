"""``require_coverage``: the transitions a :class:`CampaignMachine`'s runs must take together."""

from __future__ import annotations

from collections.abc import Sequence

from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.i18n import messages
from campaignflow.testing._coverage import Coverage
from campaignflow.testing._recipes import Edge

__all__ = ["check_required"]


def check_required(found: Coverage, required: object, workflow: str) -> Coverage:
    """``found`` when it took every transition ``required`` asks for (``False``: none,
    ``True``: every transition, or a list of ``(source, trigger, dest)``).

    Raises:
        AssertionError: listing the required transitions never taken.
        ValidationError: ``required`` is of another kind, or names no transition of
            ``workflow``.
    """
    if required is False:
        return found
    if required is True:
        wanted: Sequence[Edge] = found.transitions
    elif isinstance(required, list | tuple):
        wanted = required
    else:
        refuse(
            "require_coverage",
            required,
            "must be True, False or a list of (source, trigger, dest)",
        )
    for edge in wanted:
        if not isinstance(edge, list | tuple) or tuple(edge) not in found.transitions:
            raise ValidationError(
                code="recipes.not_an_edge",
                params={"edge": repr(edge), "workflow": repr(workflow)},
            )
    missing = [tuple(e) for e in wanted if tuple(e) not in found.covered]
    if missing:
        edges = "; ".join(f"{s} -{t}-> {d}" for s, t, d in missing)
        raise AssertionError(
            messages.render("recipes.not_covered", {"count": len(missing), "edges": edges}, "en")
        )
    return found
