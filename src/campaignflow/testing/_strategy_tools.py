"""What the strategies share: the domain's kinds and roles, and the checks of their options.

A bad option raises :class:`~campaignflow.ValidationError` at once (never an empty
strategy); :func:`named` makes a composite strategy print as the public factory that built it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TypeVar

from hypothesis import strategies as st

from campaignflow._words.checks import field_error
from campaignflow.errors import ValidationError

__all__ = [
    "KINDS",
    "MAX_BALLOTS",
    "ROLES",
    "T",
    "choices",
    "named",
    "problem",
    "rate_bounds",
    "simplest_between",
    "size_range",
]

T = TypeVar("T")

#: Unit kinds of the domain (docs/concepts.md and docs/presets.md), the first being what examples shrink to.
KINDS: tuple[str, ...] = (
    "organ",
    "community",
    "school",
    "enterprise",
    "village",
    "closed_enterprise",
)

#: Roles of the domain, in the order examples shrink through them.
ROLES: tuple[str, ...] = (
    "branch_committee",
    "supervision_group",
    "superior_org",
    "leading_group",
    "unit_head",
    "leader_contact_point",
)


def named(name: str) -> Callable[[Callable[..., T]], Callable[..., st.SearchStrategy[T]]]:
    # Composite strategies print as their function's name with the arguments given: name the
    # private implementation after the public factory so reprs read ``units(batches=(1, 2))``.
    def wrap(func: Callable[..., T]) -> Callable[..., st.SearchStrategy[T]]:
        func.__name__ = name
        func.__qualname__ = name
        return st.composite(func)

    return wrap


def problem(name: str, rule: str, value: object) -> ValidationError:
    return field_error(name, value, rule)


def choices(name: str, value: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise problem(name, "must be a list of ids", value)
    items = tuple(value)
    if not items and not allow_empty:
        raise problem(name, "must list at least one id", value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise problem(name, "every entry must be non-empty text", value)
    return items


def size_range(name: str, size: object) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        low, high = size, size
    elif (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    ):
        low, high = size
    else:
        raise problem(name, "must be a whole number or a (min, max) pair", size)
    if not 0 <= low <= high:
        raise problem(name, "must satisfy 0 <= min <= max", size)
    return low, high


def rate_bounds(value: object) -> tuple[Fraction, Fraction] | None:
    if value is None:
        return None
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in pair
    ):
        raise problem(
            "surveys: satisfied_rate", "must be a share 0..1 or a (low, high) pair of shares", value
        )
    low, high = (Fraction(repr(v)) for v in pair)
    if low > high:
        raise problem("surveys: satisfied_rate", "low must not exceed high", value)
    if simplest_between(low, high).denominator > MAX_BALLOTS:
        raise ValidationError(
            code="testing.no_survey_in_rate",
            params={"ballots": MAX_BALLOTS, "value": repr(value)},
        )
    return low, high


#: The most ballots a survey drawn to hit an exact rate may need.
MAX_BALLOTS = 10**9


def simplest_between(low: Fraction, high: Fraction) -> Fraction:
    """The fraction with the smallest denominator in [low, high] (Stern-Brocot descent)."""
    if low.denominator == 1 or low.numerator == 0:
        return low
    floor = low.numerator // low.denominator
    if Fraction(floor + 1) <= high:
        return Fraction(floor + 1)
    # Both lie in (floor, floor + 1): recurse on the reciprocals of the fractional parts.
    inner = simplest_between(1 / (high - floor), 1 / (low - floor))
    return floor + 1 / inner
