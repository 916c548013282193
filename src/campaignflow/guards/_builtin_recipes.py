"""The recipes of the built-in guards: the facts and waits that pass each at its boundary.

Each built-in guard registers ``recipe_of(its name)`` (see :mod:`campaignflow.guards._builtin`);
passing recipes sit exactly on the threshold, failing ones just below it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow.guards._recipe import Recipe, RecipeFn

__all__ = ["recipe_of"]


def _num(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name, default)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _sessions(hours: float) -> tuple[object, ...]:
    # One session holds at most 1,000 hours (StudySession refuses more).
    out: list[object] = []
    while hours > 1000:
        out.append(StudySession(hours=1000, guided=True))
        hours -= 1000
    out.append(StudySession(hours=hours, guided=True))
    return tuple(out)


def _builtin(name: str, params: Mapping[str, Any], passing: bool) -> Recipe | None:
    if name in ("min_study_hours", "min_guided_hours"):
        hours = _num(params, "hours", 40 if name == "min_study_hours" else 24)
        if passing:
            return Recipe(facts=_sessions(hours))
        if hours <= 0:
            return None
        below = hours - 1 if hours >= 1 else hours / 2
        return Recipe(facts=_sessions(below) if below > 0 else ())
    if name in ("min_days_in_stage", "min_concentrated_days"):
        days = math.ceil(_num(params, "days", 30 if name == "min_days_in_stage" else 90))
        wait = days if passing else days - 1
        if wait < 0:
            return None
        if name == "min_days_in_stage":
            return Recipe(days_in_stage=wait)
        return Recipe(days_since_start=wait)
    if name == "within_batch_window":
        return Recipe() if passing else Recipe(outside_window=True)
    if name == "survey_recorded":
        return (
            Recipe(facts=(Survey(satisfied=1, basically_satisfied=0, dissatisfied=0),))
            if passing
            else Recipe()
        )
    if name == "milestones_done":
        names = [n for n in params.get("names", ()) if isinstance(n, str)]
        if passing:
            return Recipe(facts=tuple(Milestone(name=n) for n in names))
        return Recipe(facts=tuple(Milestone(name=n) for n in names[1:])) if names else None
    if name == "coverage_at_least":
        milestone = params.get("milestone")
        if not isinstance(milestone, str):
            return None
        rate = _num(params, "rate", 1.0)
        if passing:
            return Recipe(facts=(Milestone(name=milestone, done=20, total=20),))
        # Just below the rate (or an empty report when any share would do).
        done = max(0, math.ceil(rate * 20) - 1) if rate > 0 else 0
        total = 20 if rate > 0 else 0
        return Recipe(facts=(Milestone(name=milestone, done=done, total=total),))
    if name == "approved_by":
        role = params.get("role", "supervision_group")
        if not isinstance(role, str):
            return None
        return Recipe(facts=(Approval(role=role, decision="approved" if passing else "rejected"),))
    if name == "satisfaction_rate_at_least":
        rate = _num(params, "rate", 0.6)
        if passing:
            return Recipe(facts=(Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate <= 0:
            return None
        content = math.ceil(rate * 100) - 1
        return Recipe(
            facts=(Survey(satisfied=content, basically_satisfied=0, dissatisfied=100 - content),)
        )
    if name == "dissatisfied_rate_at_most":
        rate = _num(params, "rate", 0.5)
        if passing:
            return Recipe(facts=(Survey(satisfied=100, basically_satisfied=0, dissatisfied=0),))
        if rate >= 1:
            return None
        bad = math.floor(rate * 100) + 1
        return Recipe(facts=(Survey(satisfied=100 - bad, basically_satisfied=0, dissatisfied=bad),))
    return None


def recipe_of(name: str) -> RecipeFn:
    """The recipe function of built-in guard ``name``: ``(params, passing) -> Recipe | None``."""
    return functools.partial(_builtin, name)
