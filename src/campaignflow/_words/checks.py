"""The ground floor's checks: attrs validators and the one cattrs converter.

Validators raise campaignflow's ValidationError naming field, value and rule; the converter
turns payloads into records and reports every problem at once, each with its path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, NoReturn, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import transform_error

from campaignflow.errors import CampaignflowError, DefinitionError, Problem, ValidationError

__all__ = [
    "MAX_INT",
    "calendar_date",
    "choice",
    "converter",
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
    "problems_of",
    "rate",
    "refuse",
    "refuse_choice",
    "rule_problem",
    "structure",
    "study_hours",
    "text",
    "whole_number",
]

# --- validators -------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _owner(instance: Any) -> str:
    return type(instance).__name__


def _fail(instance: Any, attribute: attrs.Attribute[Any], value: Any, rule: str) -> NoReturn:
    refuse(f"{_owner(instance)}.{attribute.name}", value, rule)


def field_error(field: str, value: object, rule: str) -> ValidationError:
    """The ValidationError ``field: rule, got value`` (code ``validation.field``).

    The rule doubles as a glossary key (``VALIDATION_RULES``), so message("zh_CN")
    translates it; the test of raise sites checks every literal rule has its zh_CN text.
    """
    return ValidationError(
        f"{field}: {rule}, got {value!r}",
        code="validation.field",
        params={"field": field, "rule": rule, "value": repr(value)},
    )


def rule_problem(path: str, value: object, rule: str) -> Problem:
    """The problem line ``path: rule, got value`` (code ``problem.rule``) of a definition."""
    return Problem(path, "problem.rule", {"rule": rule, "value": repr(value)})


def refuse(field: str, value: object, rule: str) -> NoReturn:
    """Raise :func:`field_error`."""
    raise field_error(field, value, rule)


def refuse_choice(field: str, value: object, options: Iterable[str]) -> NoReturn:
    """Raise ``field: must be one of a, b, got value`` (code ``validation.one_of``)."""
    raise ValidationError(
        code="validation.one_of",
        params={"field": field, "choices": list(options), "value": repr(value)},
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def non_negative_number(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite int or float that is >= 0."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        _fail(instance, attribute, value, "must be a finite number")
    if value < 0:
        _fail(instance, attribute, value, "must be >= 0")


def study_hours(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Hours of one study session: a finite number from 0 to 1,000."""
    non_negative_number(instance, attribute, value)
    if value > 1000:
        _fail(instance, attribute, value, "must be at most 1000 (hours of one session)")


#: The largest whole number a database column (64-bit) holds.
MAX_INT = 2**63 - 1
#: The rule a whole number beyond MAX_INT breaks (a glossary key, like every rule).
_AT_MOST_64_BITS = f"must be at most {MAX_INT} (64 bits)"


def non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int (not a bool) from 0 to 2**63 - 1."""
    _int_in_range(instance, attribute, value, minimum=0, too_small="must be >= 0")


def positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int (not a bool) from 1 to 2**63 - 1."""
    _int_in_range(instance, attribute, value, minimum=1, too_small="must be >= 1")


def _int_in_range(
    instance: Any, attribute: attrs.Attribute[Any], value: Any, *, minimum: int, too_small: str
) -> None:
    # ``too_small`` stays a literal at each caller: it is a glossary key with its zh_CN term.
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(instance, attribute, value, "must be a whole number")
    if value < minimum:
        _fail(instance, attribute, value, too_small)
    if value > MAX_INT:
        _fail(instance, attribute, value, _AT_MOST_64_BITS)


def whole_number(name: str, value: object, *, minimum: int) -> int:
    """``value`` as a whole number from ``minimum`` to 2**63 - 1, or a ValidationError."""
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_INT:
        raise ValidationError(
            code="validation.whole_number",
            params={"field": name, "minimum": minimum, "maximum": MAX_INT, "value": repr(value)},
        )
    return value


def rate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A share between 0 and 1 inclusive."""
    if not _is_number(value) or not math.isfinite(value) or not 0 <= value <= 1:
        _fail(instance, attribute, value, "must be a number between 0 and 1")


def non_empty_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A string with something besides white space, in valid Unicode."""
    if not isinstance(value, str) or not value.strip():
        _fail(instance, attribute, value, "must be non-empty text")
    text(instance, attribute, value)


def text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A string every store can keep: valid Unicode (no lone surrogates) and no NUL."""
    if not isinstance(value, str) or not is_valid_unicode(value):
        _fail(instance, attribute, value, "must be text in valid Unicode, without NUL")


def is_valid_unicode(value: str) -> bool:
    """Whether ``value`` encodes to UTF-8 and has no NUL character.

    PostgreSQL text cannot hold NUL, so refusing it everywhere keeps what one store accepts
    storable in every other.
    """
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def flag(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A bool (not a number or text that looks like one)."""
    if not isinstance(value, bool):
        _fail(instance, attribute, value, "must be true or false")


def calendar_date(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A :class:`datetime.date`."""
    if not isinstance(value, date):
        _fail(instance, attribute, value, "must be a date")


def choice(*options: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A validator accepting exactly one of ``options``."""

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or value not in options:
            refuse_choice(f"{_owner(instance)}.{attribute.name}", value, options)

    return validate


def one_of(name: str, value: object, options: tuple[str, ...]) -> str:
    """``value`` if it is one of ``options`` (text), or a ValidationError naming them."""
    if not isinstance(value, str) or value not in options:
        refuse_choice(name, value, options)
    return value


def optional_text(name: str, value: object) -> str | None:
    """``value`` if it is None or storable text, or a ValidationError."""
    if value is not None and (not isinstance(value, str) or not is_valid_unicode(value)):
        refuse(name, value, "must be text in valid Unicode, without NUL")
    return value


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


# --- the converter ----------------------------------------------------------------------

T = TypeVar("T")

#: Shared converter: unknown keys are errors, and every problem is reported with its path.
converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


class _Refused(ValueError):
    """A structure hook's refusal, with the catalog code and params of its problem line."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(code)


def _structure_day_or_instant(value: Any, kind: type[date]) -> date:
    """A ``date`` (a datetime gives its date) or a ``datetime``, as such or ISO text."""
    if isinstance(value, datetime):
        return value if kind is datetime else value.date()
    if isinstance(value, date) and kind is date:
        return value
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError:
            pass
    if kind is datetime:
        raise _Refused("problem.expected_datetime", value=repr(value))
    raise _Refused("problem.expected_date", value=repr(value))


def _structure_frozenset_str(value: Any, _: type) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _Refused("problem.expected_names", value=repr(value))
    for item in value:
        if not isinstance(item, str):
            raise _Refused("problem.expected_names_item", value=repr(item))
    return frozenset(value)


def _strict(kind: type, accepts: tuple[type, ...], rejects: tuple[type, ...] = ()) -> None:
    """Structure ``kind`` only from values already of that type: never coerce "3" into 3."""

    def structure(value: Any, _: type) -> Any:
        if isinstance(value, accepts) and not isinstance(value, rejects):
            return value
        raise _Refused(
            "problem.expected_type",
            kind=kind.__name__,
            type=type(value).__name__,
            value=repr(value),
        )

    converter.register_structure_hook(kind, structure)


# cattrs calls int(), float(), str(), bool() on primitives by default, which would turn
# "3" into 3, 2.7 into 2 and True into "True": data from files and HTTP must already be
# of the right type.
_strict(int, (int,), (bool,))
_strict(float, (int, float), (bool,))
_strict(str, (str,))
_strict(bool, (bool,))
converter.register_structure_hook(date, _structure_day_or_instant)
converter.register_structure_hook(datetime, _structure_day_or_instant)
converter.register_unstructure_hook(date, lambda d: d.isoformat())
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook_func(lambda t: t == frozenset[str], _structure_frozenset_str)
converter.register_unstructure_hook(frozenset, lambda s: sorted(s))


def _describe(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """The code and params of the problem ``exc`` stands for."""
    if isinstance(exc, KeyError):
        return "problem.required", {}
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return "problem.unknown_keys", {"keys": sorted(exc.extra_fields)}
    if isinstance(exc, _Refused):
        return exc.code, dict(exc.params)
    if isinstance(exc, CampaignflowError) and len(getattr(exc, "problems", ())) <= 1:
        return exc.code, dict(exc.params)
    if isinstance(exc, ValidationError):
        return "problem.detail", {"detail": str(exc)}
    if isinstance(exc, TypeError | ValueError):
        return "problem.invalid_value", {"detail": str(exc)}
    return "problem.invalid_value", {"detail": f"{type(exc).__name__}: {exc}"}


def problems_of(exc: BaseException, path: str = "$") -> list[Problem]:
    """Every problem inside a cattrs error, each at its path, with its code and params."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        described: dict[str, tuple[str, dict[str, Any]]] = {}

        def text(inner: BaseException, _type: type | None) -> str:
            code, params = _describe(inner)
            line = str(Problem("", code, params))
            described[line] = (code, params)
            return line

        # cattrs writes "description @ $.path"; we lead with the path, as our messages do.
        out = []
        for line in transform_error(exc, path=path, format_exception=text):
            message, _, where = line.rpartition(" @ ")
            code, params = described.get(message, ("problem.detail", {"detail": message}))
            out.append(Problem(where if message else "", code, params))
        return out
    return [Problem(path, *_describe(exc))]


def structure(data: Any, cls: type[T], *, what: str, error: type[Exception] = ValidationError) -> T:
    """Structure ``data`` as ``cls`` or raise ``error`` listing every problem with its path.

    ``error`` is :class:`ValidationError` for command payloads and :class:`DefinitionError`
    for definitions (workflows, scenarios).
    """
    problems: list[Problem]
    if not isinstance(data, Mapping):
        problems = [
            Problem("$", "definition.not_a_mapping", {"what": what, "type": type(data).__name__})
        ]
    else:
        try:
            return converter.structure(data, cls)
        except (
            cattrs.BaseValidationError,
            ValidationError,
            ValueError,
            TypeError,
            KeyError,
        ) as exc:
            problems = problems_of(exc)
    if error is DefinitionError:
        raise DefinitionError(problems)
    raise ValidationError(code="validation.payload", params={"what": what}, problems=problems)
