"""The one cattrs converter, configured once, and the translation of its errors into ours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import transform_error

from campaignflow.errors import DefinitionError, ValidationError

__all__ = ["converter", "problems_of", "structure"]

T = TypeVar("T")

#: Shared converter: unknown keys are errors, and every problem is reported with its path.
converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {value!r}")


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise ValueError(f"expected an ISO date-time, got {value!r}")


def _structure_frozenset_str(value: Any, _: type) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"expected a list of names, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected a list of names, got {item!r} in it")
    return frozenset(value)


def _strict(kind: type, accepts: tuple[type, ...], rejects: tuple[type, ...] = ()) -> None:
    """Structure ``kind`` only from values already of that type: never coerce "3" into 3."""

    def structure(value: Any, _: type) -> Any:
        if isinstance(value, accepts) and not isinstance(value, rejects):
            return value
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")

    converter.register_structure_hook(kind, structure)


# cattrs calls int(), float(), str(), bool() on primitives by default, which would turn
# "3" into 3, 2.7 into 2 and True into "True": data from files and HTTP must already be
# of the right type.
_strict(int, (int,), (bool,))
_strict(float, (int, float), (bool,))
_strict(str, (str,))
_strict(bool, (bool,))
converter.register_structure_hook(date, _structure_date)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(date, lambda d: d.isoformat())
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook_func(lambda t: t == frozenset[str], _structure_frozenset_str)
converter.register_unstructure_hook(frozenset, lambda s: sorted(s))


def _describe(exc: BaseException, _type: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        keys = ", ".join(sorted(exc.extra_fields))
        return f"unknown key(s): {keys}"
    if isinstance(exc, ValidationError):
        return str(exc)
    if isinstance(exc, TypeError | ValueError):
        return f"invalid value ({exc})"
    return f"invalid value ({type(exc).__name__}: {exc})"


def problems_of(exc: BaseException, path: str = "$") -> list[str]:
    """Every problem inside a cattrs error, as ``path: description`` lines."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        lines = transform_error(exc, path=path, format_exception=_describe)
        # cattrs writes "description @ $.path"; we lead with the path, as our messages do.
        out = []
        for line in lines:
            text, _, where = line.rpartition(" @ ")
            out.append(f"{where}: {text}" if text else line)
        return out
    return [f"{path}: {_describe(exc, None)}"]


def structure(data: Any, cls: type[T], *, what: str, error: type[Exception] = ValidationError) -> T:
    """Structure ``data`` as ``cls`` or raise ``error`` listing every problem with its path.

    ``error`` is :class:`ValidationError` for command payloads and :class:`DefinitionError`
    for definitions (workflows, scenarios).
    """
    if not isinstance(data, Mapping):
        problems = [f"$: {what} must be a table/mapping, got {type(data).__name__}"]
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
    raise ValidationError(f"{what}: " + "; ".join(problems), problems=problems)
