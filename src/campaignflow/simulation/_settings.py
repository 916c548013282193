"""What-if settings: a scenario with some of its values changed, by key path.

``with_settings(scenario, {"workflow_overrides.satisfaction_rate_at_least.rate": 0.7})`` is
the scenario with the satisfaction gate at 70 %; ``parse_setting("seed=7")`` reads the
command line's ``--set KEY=VALUE``. A key path names a value of the scenario file
(``behaviour.survey.failure_rate``, ``batches.2.closes`` for the second batch's window) or a
guard parameter under ``workflow_overrides.<guard>.<param>``; an unknown key or guard is
refused with the keys that exist there and, when one is close, a "did you mean".
"""

from __future__ import annotations

import difflib
import inspect
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from campaignflow._words.checks import refuse
from campaignflow.errors import CampaignflowError, ValidationError
from campaignflow.guards import registry
from campaignflow.simulation.scenario import Scenario, load_scenario

__all__ = ["parse_setting", "with_settings"]

_OVERRIDES = "workflow_overrides"
#: Top-level keys a scenario file may leave out.
_OPTIONAL = {"end", "plugins"}


def parse_setting(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as ``(key, value)``; the value is read as TOML (``0.7``, ``2005-11-30``,
    ``[6.0, 9.0]``, ``true``), and as plain text when it is not TOML.

    Raises:
        ValidationError: no ``=``, or an empty key (code ``scenario.set_syntax``).
    """
    if not isinstance(text, str) or "=" not in text or not text.partition("=")[0].strip():
        raise ValidationError(code="scenario.set_syntax", params={"value": repr(text)})
    key, _, raw = text.partition("=")
    try:
        value: Any = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def _close(word: str, known: list[str]) -> str | None:
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return found[0] if found else None


def _unknown(path: str, key: str, known: list[str], *, what: str = "key") -> ValidationError:
    close = _close(key, known)
    params: dict[str, Any] = {"path": path, "key": repr(key), "known": ", ".join(known) or "none"}
    if what == "guard":
        if close is not None:
            return ValidationError(
                code="scenario.set_unknown_guard_close", params={**params, "close": repr(close)}
            )
        return ValidationError(code="scenario.set_unknown_guard", params=params)
    if close is not None:
        return ValidationError(
            code="scenario.set_unknown_key_close", params={**params, "close": repr(close)}
        )
    return ValidationError(code="scenario.set_unknown_key", params=params)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "value_bool"
    if isinstance(value, int | float):
        return "value_number"
    if isinstance(value, date):
        return "value_date"
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return "value_text"
        return "value_date"
    if isinstance(value, list):
        return "value_list"
    if isinstance(value, dict):
        return "value_table"
    return type(value).__name__


def _guards_of(scenario: Scenario) -> dict[str, set[str]]:
    """Each guard the scenario's workflow (before overrides) uses, with the params written."""
    workflow = _without_overrides(scenario).load_workflow()
    used: dict[str, set[str]] = {}

    def visit(spec: Any) -> None:
        if spec.children:
            for child in spec.children:
                visit(child)
        else:
            used.setdefault(spec.name, set()).update(spec.params)

    for t in workflow.transitions:
        for spec in (*t.guards, *t.unless):
            visit(spec)
    return used


def _without_overrides(scenario: Scenario) -> Scenario:
    data = scenario.to_dict()
    data[_OVERRIDES] = {}
    return Scenario.from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


def _params_of(guard: str, written: set[str]) -> set[str] | None:
    """The params ``guard`` takes (None: any, it takes ``**params``), from its signature."""
    try:
        func = registry.get(guard)
        parameters = list(inspect.signature(func).parameters.values())[1:]
    except (CampaignflowError, TypeError, ValueError):
        return written or None  # not introspectable: the workflow's check decides
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _set_override(
    data: dict[str, Any], path: str, parts: list[str], value: Any, guards: Any
) -> None:
    if len(parts) != 3:
        raise ValidationError(
            code="scenario.set_override_shape", params={"path": path, "value": repr(value)}
        )
    _, guard, param = parts
    used: dict[str, set[str]] = guards()
    if guard not in used:
        raise _unknown(path, guard, sorted(used), what="guard")
    known = _params_of(guard, used[guard])
    if known is not None and param not in known:
        close = _close(param, sorted(known))
        params = {
            "path": path,
            "guard": repr(guard),
            "key": repr(param),
            "known": ", ".join(sorted(known)) or "none",
        }
        if close is not None:
            raise ValidationError(
                code="scenario.set_unknown_param_close", params={**params, "close": repr(close)}
            )
        raise ValidationError(code="scenario.set_unknown_param", params=params)
    data.setdefault(_OVERRIDES, {}).setdefault(guard, {})[param] = value


def _set_value(data: dict[str, Any], path: str, parts: list[str], value: Any) -> None:
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or not 1 <= int(part) <= len(node):
                raise ValidationError(
                    code="scenario.set_bad_index",
                    params={"path": path, "key": repr(part), "count": len(node)},
                )
            index = int(part) - 1  # batches.1 is the first batch, as people count them
            if last:
                node[index] = _checked(path, node[index], value)
            else:
                node = node[index]
            continue
        if not isinstance(node, dict):
            raise ValidationError(
                code="scenario.set_not_a_table",
                params={"path": path, "parent": ".".join(parts[:depth]) or "$"},
            )
        if part not in node:
            # An optional key the file left out (``end``, ``plugins``) may be set; nothing else.
            optional = _OPTIONAL if depth == 0 else set()
            if not last or part not in optional:
                raise _unknown(where, part, sorted(set(node) | optional))
            node[part] = value  # the changed scenario checks its value
            return
        if last:
            node[part] = _checked(path, node[part], value)
        else:
            node = node[part]


def _checked(path: str, current: Any, value: Any) -> Any:
    if _kind(current) != _kind(value):
        raise ValidationError(
            code="scenario.set_wrong_type",
            params={
                "path": path,
                "expected": _kind(current),
                "current": repr(current),
                "value": repr(value),
            },
        )
    return value


def with_settings(scenario: Scenario | str | Path, settings: Mapping[str, Any]) -> Scenario:
    """``scenario`` (or the scenario file at that path) with the values at the key paths of ``settings`` changed.

    Keys are dotted paths of the scenario file (``seed``, ``behaviour.survey.failure_rate``,
    ``batches.2.closes``: list items count from 1) or ``workflow_overrides.<guard>.<param>``
    for a guard the workflow uses. A value replaces one of the same kind (a number, a date,
    text, true or false, a list); the changed scenario is checked as a whole, as a file is.

    Raises:
        ValidationError: an unknown key or guard (with the known ones and a "did you mean"),
            a value of another kind, or a changed scenario that does not validate.
    """
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        refuse("scenario", scenario, "must be a Scenario or a file path")
    if not isinstance(settings, Mapping):
        raise ValidationError(code="scenario.set_not_mapping", params={"value": repr(settings)})
    data = scenario.to_dict()
    used: dict[str, set[str]] | None = None

    def guards() -> dict[str, set[str]]:
        nonlocal used
        if used is None:
            used = _guards_of(scenario)
        return used

    for path, value in settings.items():
        if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
            raise ValidationError(code="scenario.set_syntax", params={"value": repr(path)})
        parts = path.split(".")
        if parts[0] == _OVERRIDES:
            _set_override(data, path, parts, value, guards)
        else:
            _set_value(data, path, parts, value)
    changed = Scenario.from_dict(data, source=scenario.source, base_dir=scenario.base_dir)
    if used is not None:
        changed.load_workflow()  # a guard parameter the guard refuses fails here, not mid-run
    return changed
