"""Guard specs: a guard named with its params, as a workflow holds it, and the combinators.

Specs are data (:class:`GuardSpec`): they round-trip through TOML/JSON and compare by value.
``all_of`` / ``any_of`` flatten nested combinations; ``not_(not_(g))`` is ``g``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from campaignflow._words.checks import refuse, rule_problem
from campaignflow._words.verdicts import Verdict
from campaignflow.errors import DefinitionError, Problem, ValidationError

__all__ = ["COMBINATORS", "GuardSpec", "all_of", "any_of", "not_", "use"]

#: Spec names reserved for the combinators.
COMBINATORS = frozenset({"all_of", "any_of", "not"})


def _as_dict(params: Mapping[str, Any]) -> dict[str, Any]:
    return dict(params)


def _format_value(value: Any) -> str:
    if isinstance(value, GuardSpec):
        return repr(value)
    if isinstance(value, tuple):
        value = list(value)
    return repr(value)


@attrs.frozen(repr=False)
class GuardSpec:
    """A guard named with its params, as a workflow holds it: ``min_study_hours(hours=40)``.

    Combinators are specs too: ``all_of(...)`` and ``any_of(...)`` with children, ``not(...)``
    with one. Specs are data: they round-trip through TOML/JSON and compare by value.
    """

    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    children: tuple[GuardSpec, ...] = ()

    def __repr__(self) -> str:
        if self.name in COMBINATORS:
            inner = ", ".join(repr(c) for c in self.children)
            return f"{'not_' if self.name == 'not' else self.name}({inner})"
        inner = ", ".join(f"{k}={_format_value(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def to_data(self) -> dict[str, Any]:
        """The spec as workflow-file data (``{"guard": name, **params}`` or a combinator)."""
        if self.name == "not":
            return {"not": self.children[0].to_data()}
        if self.name in COMBINATORS:
            return {self.name: [c.to_data() for c in self.children]}
        return {"guard": self.name, **{k: _plain(v) for k, v in self.params.items()}}

    @classmethod
    def from_data(cls, data: Any, path: str = "$") -> GuardSpec:
        """Parse workflow-file data into a spec; problems raise DefinitionError with the path."""
        problems: list[str] = []
        spec = _parse_spec(data, path, problems)
        if problems or spec is None:
            raise DefinitionError(problems or [Problem(path, "guards.not_a_guard")])
        return spec


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | frozenset | set):
        return [_plain(v) for v in (sorted(value) if isinstance(value, frozenset | set) else value)]
    return value


def _parse_spec(data: Any, path: str, problems: list[str]) -> GuardSpec | None:
    if not isinstance(data, Mapping):
        problems.append(
            rule_problem(
                path, data, 'a guard must be a table like {guard = "min_study_hours", hours = 40}'
            )
        )
        return None
    keys = set(data)
    for combinator in ("all_of", "any_of"):
        if combinator in keys:
            if keys != {combinator}:
                problems.append(
                    Problem(
                        path,
                        "guards.must_stand_alone",
                        {"combinator": combinator, "keys": sorted(keys)},
                    )
                )
                return None
            items = data[combinator]
            if not isinstance(items, list) or not items:
                problems.append(Problem(f"{path}.{combinator}", "guards.empty_list"))
                return None
            children = [
                _parse_spec(d, f"{path}.{combinator}[{i}]", problems) for i, d in enumerate(items)
            ]
            if any(c is None for c in children):
                return None
            # Same normal form as the Python combinators: nested all_of / any_of flatten.
            return _flatten_spec(combinator, [c for c in children if c is not None])
    if "not" in keys:
        if keys != {"not"}:
            problems.append(
                Problem(
                    path,
                    "guards.must_stand_alone",
                    {"combinator": "not", "keys": sorted(keys)},
                )
            )
            return None
        child = _parse_spec(data["not"], f"{path}.not", problems)
        return None if child is None else GuardSpec("not", {}, (child,))
    name = data.get("guard")
    if not isinstance(name, str) or not name:
        problems.append(
            rule_problem(f"{path}.guard", name, "must name a guard (or use all_of / any_of / not)")
        )
        return None
    params = {k: _tupled(v) for k, v in data.items() if k != "guard"}
    return GuardSpec(name, params)


def _flatten_spec(name: str, children: Sequence[GuardSpec]) -> GuardSpec:
    flat: list[GuardSpec] = []
    for child in children:
        flat.extend(child.children if child.name == name else (child,))
    return GuardSpec(name, {}, tuple(flat))


def _tupled(value: Any) -> Any:
    # Lists from files become tuples so specs stay hashable-by-value and immutable.
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def use(guard_or_name: str | Callable[..., Verdict], /, **params: Any) -> GuardSpec:
    """A spec naming a registered guard (by name or by the function itself) with ``params``.

    The name and params are checked when the workflow that holds the spec loads.
    """
    if isinstance(guard_or_name, str):
        return GuardSpec(guard_or_name, {k: _tupled(v) for k, v in params.items()})
    name = getattr(guard_or_name, "__campaignflow_guard__", None)
    if name is None:
        raise ValidationError(code="guards.not_registered", params={"guard": repr(guard_or_name)})
    return GuardSpec(name, {k: _tupled(v) for k, v in params.items()})


def _flatten(name: str, specs: Sequence[GuardSpec]) -> tuple[GuardSpec, ...]:
    out: list[GuardSpec] = []
    for spec in specs:
        if not isinstance(spec, GuardSpec):
            refuse(name, spec, "every argument must be a guard spec")
        out.extend(spec.children if spec.name == name else (spec,))
    if not out:
        raise ValidationError(code="guards.combinator_empty", params={"name": name})
    return tuple(out)


def all_of(*specs: GuardSpec) -> GuardSpec:
    """Passes when every child passes; nested ``all_of`` flatten; every verdict is kept."""
    return GuardSpec("all_of", {}, _flatten("all_of", specs))


def any_of(*specs: GuardSpec) -> GuardSpec:
    """Passes when at least one child passes; nested ``any_of`` flatten; every verdict is kept."""
    return GuardSpec("any_of", {}, _flatten("any_of", specs))


def not_(spec: GuardSpec) -> GuardSpec:
    """Passes when ``spec`` fails; ``not_(not_(g))`` is ``g``."""
    if not isinstance(spec, GuardSpec):
        refuse("not_", spec, "the argument must be a guard spec")
    if spec.name == "not":
        return spec.children[0]
    return GuardSpec("not", {}, (spec,))
