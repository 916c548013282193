"""The guard contract, the registry that names guards, and binding specs to callables.

A guard is a plain function ``(GuardContext, **params) -> Verdict``: no base class to inherit.
A workflow names guards by their registered name with params (:class:`GuardSpec`); loading
the workflow resolves every name and checks every param at once (:meth:`GuardRegistry.bind`),
giving callables that judge one unit (:class:`BoundGuard`).
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.verdicts import Verdict
from campaignflow.errors import DefinitionError, Problem, ValidationError
from campaignflow.guards._context import GuardContext
from campaignflow.guards._earliest import (
    EarliestFn,
    Outlook,
    combined_outlook,
    declared_outlook,
    negated_outlook,
    undeclared,
)
from campaignflow.guards._recipe import Recipe, RecipeFn, combined
from campaignflow.guards._spec import COMBINATORS, GuardSpec
from campaignflow.i18n import MessageCatalog, messages

__all__ = [
    "ENTRY_POINT_GROUP",
    "BoundGuard",
    "Guard",
    "GuardRegistry",
    "ParamCheck",
    "guard",
    "registry",
]

#: Entry-point group through which installed packages contribute guards.
ENTRY_POINT_GROUP = "campaignflow.guards"

G = TypeVar("G", bound=Callable[..., Verdict])


class Guard(Protocol):
    """The guard contract: a callable taking the context and keyword params, giving a Verdict.

    A guard never raises for the data it judges (a missing survey is a failing verdict with
    a code, not an exception) and never writes.
    """

    def __call__(self, ctx: GuardContext, /, **params: Any) -> Verdict:
        """Judge ``ctx`` with ``params``."""
        ...


ParamCheck = Callable[[Mapping[str, Any]], Iterable[str]]


@attrs.frozen
class _Entry:
    name: str
    func: Callable[..., Verdict]
    check: ParamCheck | None
    signature: inspect.Signature
    hints: Mapping[str, Any]
    reads_host: bool = False
    recipe: RecipeFn | None = None
    earliest: EarliestFn | None = None


@attrs.frozen(repr=False, eq=False)
class BoundGuard:
    """A spec resolved against a registry: call it with a context to get the verdict.

    It prints as its spec and compares equal to it (and to any guard bound from an equal
    spec): ``wf.candidates("study_mobilization")[0].guards[0] == cf.use("min_study_hours",
    hours=40)``.
    """

    spec: GuardSpec
    #: The callable that judges a context (the guard with its params applied).
    judge: Callable[[GuardContext], Verdict]
    #: The names of the guards under this one registered with ``reads_host=True``.
    host_guards: tuple[str, ...] = ()
    #: ``outlook(ctx, verdict)``: the dates on which it would pass if only the date changed
    #: (:class:`Earliest`), from the guards' declarations; "re-judge" when undeclared.
    outlook: Outlook = undeclared

    @property
    def reads_host(self) -> bool:
        """Whether judging this guard reads the host's data (``GuardContext.host``)."""
        return bool(self.host_guards)

    def __repr__(self) -> str:
        return repr(self.spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BoundGuard):
            return self.spec == other.spec
        if isinstance(other, GuardSpec):
            return self.spec == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    # Like its spec (whose params are a dict), a bound guard is not hashable.
    __hash__ = None  # type: ignore[assignment]

    def __call__(self, ctx: GuardContext) -> Verdict:
        return self.judge(ctx)


def _combine_all(name: str, parts: tuple[BoundGuard, ...]) -> Callable[[GuardContext], Verdict]:
    def judge(ctx: GuardContext) -> Verdict:
        # Every child is judged (no short-circuit) so a refusal lists every gate that holds.
        children = tuple(p(ctx) for p in parts)
        passed = all(c.passed for c in children)
        failed = sum(not c.passed for c in children)
        return Verdict(
            name,
            passed,
            f"all_of.{'passed' if passed else 'failed'}",
            {"failed": failed, "of": len(children)},
            children,
        )

    return judge


def _combine_any(name: str, parts: tuple[BoundGuard, ...]) -> Callable[[GuardContext], Verdict]:
    def judge(ctx: GuardContext) -> Verdict:
        children = tuple(p(ctx) for p in parts)
        passed = any(c.passed for c in children)
        return Verdict(
            name,
            passed,
            f"any_of.{'passed' if passed else 'failed'}",
            {"passed": sum(c.passed for c in children), "of": len(children)},
            children,
        )

    return judge


def _negate(part: BoundGuard) -> Callable[[GuardContext], Verdict]:
    label = repr(part.spec)  # specs are frozen: their text is made once, not per judgement

    def judge(ctx: GuardContext) -> Verdict:
        child = part(ctx)
        passed = not child.passed
        return Verdict(
            "not",
            passed,
            f"not.{'passed' if passed else 'failed'}",
            {"guard": label, "code": child.code},
            (child,),
        )

    return judge


class GuardRegistry:
    """Guards by name; one default instance (:data:`registry`), hosts and tests may make more.

    Names not registered in Python are looked up in the ``campaignflow.guards`` entry-point
    group the first time they are asked for.
    """

    __slots__ = ("_catalog", "_entries", "_entry_points_loaded")

    def __init__(self, *, catalog: MessageCatalog | None = None) -> None:
        self._entries: dict[str, _Entry] = {}
        self._catalog = catalog or messages
        self._entry_points_loaded = False

    def __repr__(self) -> str:
        return f"<GuardRegistry {sorted(self._entries)}>"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def copy(self, *, catalog: MessageCatalog | None = None) -> GuardRegistry:
        """A new registry holding this one's guards, to extend without touching this one."""
        other = GuardRegistry(catalog=catalog or self._catalog)
        other._entries = dict(self._entries)
        other._entry_points_loaded = self._entry_points_loaded
        return other

    def names(self) -> frozenset[str]:
        """Every registered guard name (entry points included)."""
        self._load_entry_points()
        return frozenset(self._entries)

    def register(
        self,
        name: str,
        func: Callable[..., Verdict],
        *,
        messages: Mapping[str, Mapping[str, str]] | None = None,
        check: ParamCheck | None = None,
        replace: bool = False,
        reads_host: bool = False,
        recipe: RecipeFn | None = None,
        earliest: EarliestFn | None = None,
    ) -> None:
        """Register ``func`` as guard ``name``.

        Args:
            messages: ``{code: {"zh_CN": ..., "en": ...}}`` for the codes the guard returns.
            check: called with the params at load time; yields a problem per bad param.
            replace: allow re-registering a name with another function.
            reads_host: the guard reads the host's data (``ctx.host``); a campaign judging
                it without host data refuses the call (``guard.host_missing``).
            recipe: ``recipe(params, passing)`` gives the :class:`Recipe` that makes the
                gate pass at its boundary (``passing=True``) or fail just below it, or None;
                the testing kit and the simulator use it (see :meth:`recipe_for`).
            earliest: ``earliest(ctx, params, passed)`` gives the :class:`Earliest` dates
                on which the gate would pass if only the date changed (``waits_for(Kind)``
                for a gate of facts); without it, or for a host reader, the gate is
                judged afresh on any change.

        Raises:
            ValidationError: a reserved or taken name, or a function that cannot take a
                context as its first positional argument.
        """
        if not isinstance(name, str) or not name.isidentifier():
            refuse("guard name", name, "must be a Python-style identifier")
        if name in COMBINATORS:
            raise ValidationError(code="guards.name_reserved", params={"name": repr(name)})
        old = self._entries.get(name)
        if old is not None and old.func is not func and not replace:
            raise ValidationError(
                code="guards.already_registered",
                params={"name": repr(name), "func": old.func.__qualname__},
            )
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            raise ValidationError(
                code="guards.no_signature", params={"name": repr(name), "func": repr(func)}
            ) from None
        positional = [
            p
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if not positional:
            raise ValidationError(code="guards.needs_context", params={"name": repr(name)})
        try:
            hints = typing.get_type_hints(func)
        except Exception:
            hints = {}
        if not isinstance(reads_host, bool):
            refuse("reads_host", reads_host, "must be True or False")
        if recipe is not None and not callable(recipe):
            refuse("recipe", recipe, "must be callable")
        if earliest is not None and not callable(earliest):
            refuse("earliest", earliest, "must be callable")
        if messages:
            self._catalog.register_many(messages)
        self._entries[name] = _Entry(
            name=name,
            func=func,
            check=check,
            signature=signature,
            hints=hints,
            reads_host=reads_host,
            recipe=recipe,
            earliest=earliest,
        )

    def reads_host(self, name: str) -> bool:
        """Whether guard ``name`` was registered with ``reads_host=True``.

        Raises:
            ValidationError: no such guard.
        """
        return self._known(name).reads_host

    def get(self, name: str) -> Callable[..., Verdict]:
        """The function registered as ``name``.

        Raises:
            ValidationError: no such guard.
        """
        return self._known(name).func

    def recipe_for(self, spec: GuardSpec, passing: bool) -> Recipe | None:
        """The recipe that makes ``spec`` pass (or fail), through combinators; None when unknown.

        ``all_of`` passing (``any_of`` failing) needs every child's recipe; ``any_of`` passing
        (``all_of`` failing) takes the first child that has one; ``not_`` asks its child for
        the other outcome. A guard registered without a recipe (or not registered) gives None.
        """
        if spec.name == "not":
            return self.recipe_for(spec.children[0], not passing) if spec.children else None
        if spec.name in ("all_of", "any_of"):
            parts = [self.recipe_for(c, passing) for c in spec.children]
            if (spec.name == "all_of") == passing:
                return combined(parts)
            return next((p for p in parts if p is not None), None)
        entry = self._lookup(spec.name)
        if entry is None or entry.recipe is None:
            return None
        found = entry.recipe(spec.params, passing)
        if found is not None and not isinstance(found, Recipe):
            raise ValidationError(
                code="recipes.not_a_recipe", params={"guard": repr(spec.name), "value": repr(found)}
            )
        return found

    def without_recipe(self, spec: GuardSpec) -> tuple[str, ...]:
        """The names of the guards under ``spec`` registered without a recipe, in order."""
        if spec.children:
            return tuple(n for c in spec.children for n in self.without_recipe(c))
        entry = self._lookup(spec.name)
        return () if entry is not None and entry.recipe is not None else (spec.name,)

    def _known(self, name: str) -> _Entry:
        """The entry of guard ``name``; a ``guards.unknown`` refusal when there is none."""
        entry = self._lookup(name)
        if entry is None:
            raise ValidationError(code="guards.unknown", params={"name": repr(name)})
        return entry

    def _lookup(self, name: str) -> _Entry | None:
        entry = self._entries.get(name)
        if entry is None and not self._entry_points_loaded:
            self._load_entry_points()
            entry = self._entries.get(name)
        return entry

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        # Loaded here, not with the module: reading installed distributions' metadata costs
        # a tenth of campaignflow's import, and a registry asks only for a name it lacks.
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self._entries:
                continue
            func = ep.load()
            meta = getattr(func, "__campaignflow_guard_meta__", {})
            self.register(ep.name, func, **meta)

    def bind(self, spec: GuardSpec, path: str = "$") -> BoundGuard:
        """Resolve ``spec`` into a callable guard.

        Raises:
            DefinitionError: listing every unknown name and bad param under ``spec``.
        """
        problems: list[str] = []
        bound = self._bind(spec, path, problems)
        if problems or bound is None:
            raise DefinitionError(problems)
        return bound

    def problems(self, spec: GuardSpec, path: str = "$") -> list[str]:
        """Every problem binding ``spec`` would report (empty when it binds)."""
        problems: list[str] = []
        self._bind(spec, path, problems)
        return problems

    def _bind(self, spec: GuardSpec, path: str, problems: list[str]) -> BoundGuard | None:
        if spec.name in ("all_of", "any_of"):
            parts = [
                self._bind(c, f"{path}.{spec.name}[{i}]", problems)
                for i, c in enumerate(spec.children)
            ]
            if not spec.children:
                problems.append(Problem(f"{path}.{spec.name}", "guards.no_children"))
            if any(p is None for p in parts) or not parts:
                return None
            bound = tuple(p for p in parts if p is not None)
            make = _combine_all if spec.name == "all_of" else _combine_any
            return BoundGuard(
                spec,
                make(spec.name, bound),
                _host_guards(bound),
                combined_outlook(spec.name, [p.outlook for p in bound]),
            )
        if spec.name == "not":
            if len(spec.children) != 1:
                problems.append(Problem(f"{path}.not", "guards.not_one_child"))
                return None
            inner = self._bind(spec.children[0], f"{path}.not", problems)
            if inner is None:
                return None
            return BoundGuard(
                spec, _negate(inner), inner.host_guards, negated_outlook(inner.outlook)
            )
        entry = self._lookup(spec.name)
        if entry is None:
            known = ", ".join(sorted(self._entries))
            problems.append(
                Problem(
                    f"{path}.guard",
                    "guards.unknown_guard",
                    {"guard": repr(spec.name), "known": known},
                )
            )
            return None
        before = len(problems)
        _check_params(entry, spec.params, path, problems)
        if len(problems) > before:
            return None
        return BoundGuard(
            spec,
            _with_params(entry.func, spec.params),
            (spec.name,) if entry.reads_host else (),
            undeclared if entry.reads_host else declared_outlook(entry.earliest, spec.params),
        )


def _host_guards(parts: Sequence[BoundGuard]) -> tuple[str, ...]:
    """The host-reading guard names under ``parts``, each once, in order."""
    return tuple(dict.fromkeys(name for p in parts for name in p.host_guards))


def _with_params(
    func: Callable[..., Verdict], params: Mapping[str, Any]
) -> Callable[[GuardContext], Verdict]:
    """``func`` with ``params`` applied: ``judge(ctx)`` calls ``func(ctx, **params)``.

    A ``functools.partial``: a frozen, C-level bound callable with a readable repr, for any
    param name (including names that are no Python identifier). A guard that knows a
    cheaper way to apply its params (the built-in threshold guards) carries it as
    ``__campaignflow_bind__(params)``, which returns the judge.
    """
    bind = getattr(func, "__campaignflow_bind__", None)
    if bind is not None:
        judge: Callable[[GuardContext], Verdict] = bind(params)
        return judge
    if not params:
        return func
    return functools.partial(func, **params)


def _check_params(entry: _Entry, params: Mapping[str, Any], path: str, problems: list[str]) -> None:
    accepted = {
        name: p
        for name, p in list(entry.signature.parameters.items())[1:]
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    takes_any = any(p.kind is p.VAR_KEYWORD for p in entry.signature.parameters.values())
    for name in params:
        if name not in accepted and not takes_any:
            problems.append(
                Problem(
                    f"{path}.{name}",
                    "guards.unknown_param",
                    {
                        "guard": repr(entry.name),
                        "param": repr(name),
                        "takes": ", ".join(accepted) or "none",
                    },
                )
            )
    for name, p in accepted.items():
        if p.default is p.empty and name not in params:
            problems.append(
                Problem(
                    f"{path}.{name}",
                    "guards.missing_param",
                    {"guard": repr(entry.name), "param": repr(name)},
                )
            )
    for name, value in params.items():
        hint = entry.hints.get(name)
        if hint is not None and name in accepted and not _fits(value, hint):
            problems.append(
                Problem(
                    f"{path}.{name}",
                    "guards.bad_param",
                    {
                        "guard": repr(entry.name),
                        "param": repr(name),
                        "kind": _describe_hint(hint),
                        "value": repr(value),
                    },
                )
            )
    if entry.check is not None and not problems:
        problems.extend(f"{path}.{msg}" for msg in entry.check(params))


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        # Every int is finite; math.isfinite would overflow on a huge one (10**400).
        return isinstance(value, int) or math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    if origin in (tuple, list, Sequence, typing.Sequence) or hint in (tuple, list):
        args = typing.get_args(hint)
        if isinstance(value, str) or not isinstance(value, tuple | list):
            return False
        item = args[0] if args else Any
        return all(_fits(v, item) for v in value)
    return True


def _describe_hint(hint: Any) -> str:
    if hint is float:
        return "a number"
    if hint is int:
        return "a whole number"
    if hint is str:
        return "text"
    if hint is bool:
        return "true or false"
    origin = typing.get_origin(hint)
    if origin in (tuple, list, Sequence):
        return "a list"
    return str(hint)


#: The default registry; the built-in guards live here.
registry = GuardRegistry()


def guard(
    name: str,
    *,
    messages: Mapping[str, Mapping[str, str]] | None = None,
    check: ParamCheck | None = None,
    registry: GuardRegistry | None = None,
    reads_host: bool = False,
    recipe: RecipeFn | None = None,
    earliest: EarliestFn | None = None,
) -> Callable[[G], G]:
    """Decorator registering a guard function under ``name``; the function is returned as is.

    The function stays a plain callable you can test directly: ``my_guard(ctx, hours=40)``.
    ``messages`` gives zh_CN/en templates for the codes it returns; ``check`` validates
    params when a workflow naming the guard loads; ``reads_host`` declares that the guard
    reads the host's data (``ctx.host``), which every campaign judging it must then give;
    ``recipe(params, passing)`` gives the :class:`Recipe` that makes the gate pass at its
    boundary or fail just below it, for the testing kit and the simulator;
    ``earliest(ctx, params, passed)`` declares the dates on which the gate would pass if
    only the date changed (:class:`Earliest`; ``waits_for(Kind)`` for a gate of facts), so
    a refusal can say when the unit may move (undeclared: judged afresh on any change).
    """
    target = registry

    def register(func: G) -> G:
        (target or _default()).register(
            name,
            func,
            messages=messages,
            check=check,
            reads_host=reads_host,
            recipe=recipe,
            earliest=earliest,
        )
        func.__campaignflow_guard__ = name  # type: ignore[attr-defined]
        func.__campaignflow_guard_meta__ = {  # type: ignore[attr-defined]
            "messages": messages,
            "check": check,
            "reads_host": reads_host,
            "recipe": recipe,
            "earliest": earliest,
        }
        return func

    return register


def _default() -> GuardRegistry:
    return registry
