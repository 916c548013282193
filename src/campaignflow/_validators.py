"""attrs validators that raise campaignflow's ValidationError naming field, value and rule."""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

from campaignflow.errors import ValidationError

__all__ = [
    "identifier",
    "key",
    "non_empty_text",
    "non_negative_int",
    "non_negative_number",
    "positive_int",
    "rate",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _owner(instance: Any) -> str:
    return type(instance).__name__


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, rule: str) -> None:
    raise ValidationError(f"{_owner(instance)}.{attribute.name}: {rule}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def non_negative_number(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite int or float that is >= 0."""
    if not _is_number(value) or not math.isfinite(value):
        _fail(instance, attribute, value, "must be a finite number")
    if value < 0:
        _fail(instance, attribute, value, "must be >= 0")


def non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int (not a bool) that is >= 0."""
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(instance, attribute, value, "must be a whole number")
    if value < 0:
        _fail(instance, attribute, value, "must be >= 0")


def positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int (not a bool) that is >= 1."""
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(instance, attribute, value, "must be a whole number")
    if value < 1:
        _fail(instance, attribute, value, "must be >= 1")


def rate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A share between 0 and 1 inclusive."""
    if not _is_number(value) or not math.isfinite(value) or not 0 <= value <= 1:
        _fail(instance, attribute, value, "must be a number between 0 and 1")


def non_empty_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A string with something besides white space."""
    if not isinstance(value, str) or not value.strip():
        _fail(instance, attribute, value, "must be non-empty text")


def identifier(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An id usable in files and URLs: letters, digits, '_', '-', '.'; starts with a letter or '_'.

    Ids are what OA systems already use as keys, so digits after the first character,
    hyphens and dots are allowed (``fin-01``, ``district.7``).
    """
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or len(value) > 200:
        _fail(
            instance,
            attribute,
            value,
            "must be an id of letters, digits, '_', '-' or '.' starting with a letter or '_' "
            "(at most 200 characters)",
        )


def key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A record key from the host system (unit, actor, request ids): printable, no white space.

    Looser than :func:`identifier` because OA systems key units by organisation codes
    (``11010100001``) or their own slugs.
    """
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 200
        or any(ch.isspace() or not ch.isprintable() for ch in value)
    ):
        _fail(
            instance,
            attribute,
            value,
            "must be 1-200 printable characters without white space",
        )
