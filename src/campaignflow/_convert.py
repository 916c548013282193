"""The one cattrs converter, configured once, and the translation of its errors into ours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.v import transform_error

from campaignflow.errors import CampaignflowError, DefinitionError, Problem, ValidationError

__all__ = ["converter", "problems_of", "structure"]

T = TypeVar("T")

#: Shared converter: unknown keys are errors, and every problem is reported with its path.
converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


class _Refused(ValueError):
    """A structure hook's refusal, with the catalog code and params of its problem line."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(code)


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Refused("problem.expected_date", value=repr(value))


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _Refused("problem.expected_datetime", value=repr(value))


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
converter.register_structure_hook(date, _structure_date)
converter.register_structure_hook(datetime, _structure_datetime)
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
