"""Guards: the gates a unit must pass, as plain functions that explain themselves."""

from campaignflow._public import publish
from campaignflow.guards._builtin import (
    approved_by,
    coverage_at_least,
    dissatisfied_rate_at_most,
    milestones_done,
    min_concentrated_days,
    min_days_in_stage,
    min_guided_hours,
    min_study_hours,
    satisfaction_rate_at_least,
    survey_recorded,
    within_batch_window,
)
from campaignflow.guards._context import GuardContext
from campaignflow.guards._earliest import Earliest, EarliestFn, waits_for
from campaignflow.guards._recipe import NoRecipeWarning, Recipe, RecipeFn
from campaignflow.guards._registry import BoundGuard, Guard, GuardRegistry, guard, registry
from campaignflow.guards._spec import GuardSpec, all_of, any_of, not_, use

__all__ = [
    "BoundGuard",
    "Earliest",
    "EarliestFn",
    "Guard",
    "GuardContext",
    "GuardRegistry",
    "GuardSpec",
    "NoRecipeWarning",
    "Recipe",
    "RecipeFn",
    "all_of",
    "any_of",
    "approved_by",
    "coverage_at_least",
    "dissatisfied_rate_at_most",
    "guard",
    "milestones_done",
    "min_concentrated_days",
    "min_days_in_stage",
    "min_guided_hours",
    "min_study_hours",
    "not_",
    "registry",
    "satisfaction_rate_at_least",
    "survey_recorded",
    "use",
    "waits_for",
    "within_batch_window",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
