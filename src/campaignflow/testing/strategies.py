"""Hypothesis strategies for campaign records, workflows and scenarios.

Every strategy generates only objects the library itself accepts (they are built through the
same constructors and loaders a host uses), and shrinks towards a small, readable example: one
unit of kind ``organ`` in batch 1, a survey of one satisfied ballot, a two-stage workflow.
Options are keyword-only; a bad option raises :class:`~campaignflow.ValidationError` at once,
never an empty strategy; the repr shows how a strategy was built::

    from hypothesis import given
    from campaignflow.testing import strategies as cfst

    @given(cfst.surveys(scale=4, satisfied_rate=(0.0, 0.59)))
    def test_low_satisfaction_is_refused(survey): ...
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from hypothesis import strategies as st

from campaignflow._public import publish
from campaignflow._words.records import Actor, Unit
from campaignflow.errors import ValidationError
from campaignflow.testing._fact_strategies import (
    MILESTONE_NAMES as MILESTONE_NAMES,
)
from campaignflow.testing._fact_strategies import (
    approvals,
    facts_for,
    milestones,
    study_sessions,
    surveys,
)
from campaignflow.testing._strategy_tools import (
    KINDS,
    ROLES,
    choices,
    named,
    problem,
    size_range,
)
from campaignflow.testing._workflow_strategies import (
    guard_specs,
    scenarios,
    workflow_dicts,
    workflows,
)

__all__ = [
    "KINDS",
    "ROLES",
    "actors",
    "approvals",
    "facts_for",
    "guard_specs",
    "milestones",
    "rosters",
    "scenarios",
    "study_sessions",
    "surveys",
    "units",
    "workflow_dicts",
    "workflows",
]

_NAMES = ("区财政局机关党支部", "东城社区党支部", "实验小学党支部", "机械厂党支部", "王庄村党支部")
_ID_CHARS = string.ascii_lowercase + string.digits + "-"


# --- units, rosters, actors -------------------------------------------------------------


def _unit_ids() -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, tail: head + tail,
        st.sampled_from("uabc"),
        st.text(_ID_CHARS, min_size=0, max_size=8),
    )


def units(
    *,
    kinds: Sequence[str] = KINDS,
    batches: Sequence[int] = (1, 2, 3),
    ids: st.SearchStrategy[str] | None = None,
    members: tuple[int, int] = (0, 60),
    parents: Sequence[str] = (),
) -> st.SearchStrategy[Unit]:
    """Valid :class:`~campaignflow.Unit` records.

    Args:
        kinds: unit kinds to draw from (shrinks to the first).
        batches: batch numbers to draw from (shrinks to the first).
        ids: a strategy for ids (default: short lowercase keys like ``u-01``).
        members: the (min, max) member count (20–41 is typical for a branch).
        parents: organisation ids a unit may name as its parent (none: no parent).
    """
    kinds_ = choices("units: kinds", kinds)
    if isinstance(batches, str) or not batches:
        raise problem("units: batches", "must list at least one batch number", batches)
    batches_ = tuple(batches)
    for b in batches_:
        if not isinstance(b, int) or isinstance(b, bool) or b < 1:
            raise problem("units: batches", "every batch must be a whole number >= 1", batches)
    low, high = size_range("units: members", members)
    parents_ = choices("units: parents", parents, allow_empty=True)
    return _units(
        kinds=kinds_,
        batches=batches_,
        ids=ids if ids is not None else _unit_ids(),
        members=(low, high),
        parents=parents_,
    )


@named("units")
def _units(
    draw: st.DrawFn,
    *,
    kinds: tuple[str, ...],
    batches: tuple[int, ...],
    ids: st.SearchStrategy[str],
    members: tuple[int, int],
    parents: tuple[str, ...],
) -> Unit:
    parent = draw(st.none() | st.sampled_from(parents)) if parents else None
    return Unit(
        id=draw(ids),
        name=draw(st.sampled_from(_NAMES)),
        kind=draw(st.sampled_from(kinds)),
        batch=draw(st.sampled_from(batches)),
        members=draw(st.integers(*members)),
        parent=parent,
    )


def rosters(
    *,
    kinds: Sequence[str] = KINDS,
    size: int | tuple[int, int] = (1, 20),
    batches: Sequence[int] = (1, 2, 3),
    members: tuple[int, int] = (0, 60),
) -> st.SearchStrategy[list[Unit]]:
    """Lists of units with distinct ids, as ``Campaign.add_units`` takes them.

    Args:
        kinds: unit kinds to draw from.
        size: how many units: a number or a (min, max) pair (shrinks to min).
        batches: batch numbers to draw from.
        members: the (min, max) member count of each unit.
    """
    low, high = size_range("rosters: size", size)
    return st.lists(
        units(kinds=kinds, batches=batches, members=members),
        min_size=low,
        max_size=high,
        unique_by=lambda u: u.id,
    )


def actors(
    *,
    roles: Sequence[str] = ROLES,
    units: Sequence[str] = (),
    min_roles: int = 0,
) -> st.SearchStrategy[Actor]:
    """Valid :class:`~campaignflow.Actor` records holding some of ``roles``.

    Args:
        roles: roles to draw from (an actor holds a subset; shrinks to none or the first).
        units: unit ids the actor may belong to (none: outside every unit).
        min_roles: the fewest roles an actor holds.
    """
    roles_ = choices("actors: roles", roles)
    units_ = choices("actors: units", units, allow_empty=True)
    if isinstance(min_roles, bool) or not isinstance(min_roles, int):
        raise problem("actors: min_roles", "must be a whole number", min_roles)
    if not 0 <= min_roles <= len(roles_):
        raise ValidationError(
            code="validation.whole_number",
            params={
                "field": "actors: min_roles",
                "minimum": 0,
                "maximum": len(roles_),
                "value": repr(min_roles),
            },
        )
    return _actors(roles=roles_, units=units_, min_roles=min_roles)


@named("actors")
def _actors(
    draw: st.DrawFn, *, roles: tuple[str, ...], units: tuple[str, ...], min_roles: int
) -> Actor:
    held = draw(st.lists(st.sampled_from(roles), min_size=min_roles, unique=True))
    while len(held) < min_roles:  # unique draws from a small pool can fall short
        held.append(next(r for r in roles if r not in held))
    unit = draw(st.none() | st.sampled_from(units)) if units else None
    return Actor(
        id=draw(st.sampled_from(("zhang", "li", "wang"))), roles=frozenset(held), unit=unit
    )


publish(__name__, globals(), [n for n in __all__ if n in globals()])
