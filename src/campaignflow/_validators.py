"""Where the validators used to live; they are in :mod:`campaignflow._words.checks` now.

A plain re-export kept while imports move.
"""

from campaignflow._words.checks import (
    MAX_INT,
    calendar_date,
    choice,
    field_error,
    flag,
    identifier,
    is_valid_unicode,
    key,
    non_empty_text,
    non_negative_int,
    non_negative_number,
    one_of,
    optional_text,
    positive_int,
    rate,
    refuse,
    refuse_choice,
    rule_problem,
    study_hours,
    text,
    whole_number,
)

__all__ = [
    "MAX_INT",
    "calendar_date",
    "choice",
    "field_error",
    "flag",
    "identifier",
    "is_valid_unicode",
    "key",
    "non_empty_text",
    "non_negative_int",
    "non_negative_number",
    "one_of",
    "optional_text",
    "positive_int",
    "rate",
    "refuse",
    "refuse_choice",
    "rule_problem",
    "study_hours",
    "text",
    "whole_number",
]
