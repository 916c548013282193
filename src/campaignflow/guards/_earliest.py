"""Earliest-move dates: when a gate could next pass if nothing but the date changes.

A guard may declare, when it is registered (``@cf.guard(name, earliest=fn)``), the dates on
which it would pass if the unit's facts, state and host data stayed as they are:
``fn(ctx, params, passed)`` gives an :class:`Earliest`. A time gate gives dates (from
``stage_since + days`` on; inside the batch window); a gate that reads facts gives "as now,
until a fact of kind K arrives" (:func:`waits_for`); a gate that reads the host's data, or
declares nothing, says "re-judge on any change" (conservative: nothing is assumed of it).

Combinators combine the children's dates exactly (``all_of`` intersects, ``any_of`` unites,
``not_`` takes the complement), so the engine can tell a unit's earliest move date, or that
it waits for facts, from one judgement (:func:`earliest_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from campaignflow._words.checks import refuse
from campaignflow._words.facts import fact_types
from campaignflow._words.verdicts import Verdict
from campaignflow.guards._context import GuardContext

__all__ = [
    "FOREVER",
    "Earliest",
    "EarliestFn",
    "Outlook",
    "Span",
    "View",
    "combined_outlook",
    "declared_outlook",
    "earliest_of",
    "first_on_or_after",
    "intersect",
    "negated_outlook",
    "undeclared",
    "unite",
    "waits_for",
]

#: A span of dates ``(first, last)``, both included; ``last`` is ``date.max`` for "from then on".
Span = tuple[date, date]

#: Every date: a gate that passes whatever the date.
FOREVER: tuple[Span, ...] = ((date.min, date.max),)

_DAY = timedelta(days=1)

_PAIRS = "must be a list of (first, last) date pairs, first <= last"
_KINDS = "must name fact classes or kind names, at least one"
_EARLIEST = "a guard's earliest(ctx, params, passed) must return an Earliest"


def _spans(value: Any) -> tuple[Span, ...]:
    if not isinstance(value, tuple | list):
        refuse("Earliest.passes", value, _PAIRS)
    spans: list[Span] = []
    for pair in value:
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or not all(isinstance(d, date) for d in pair)
            or pair[0] > pair[1]
        ):
            refuse("Earliest.passes", pair, _PAIRS)
        spans.append((pair[0], pair[1]))
    return _normal(spans)


def _kinds(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        refuse("Earliest.facts", value, "must be a set of fact kind names")
    kinds = frozenset(value)
    for kind in kinds:
        if not isinstance(kind, str) or not kind:
            refuse("Earliest.facts", kind, "every entry must be non-empty text")
    return kinds


def _flag(value: Any) -> None:
    if not isinstance(value, bool):
        refuse("Earliest.rejudge", value, "must be True or False")


@attrs.frozen
class Earliest:
    """What a gate would say on later dates if nothing but the date changed.

    ``passes``: the spans of dates on which it would pass (empty: on no date, as things
    stand); ``facts``: the fact kinds whose arrival could change its verdict;
    ``rejudge``: its dates are unknown (it reads the host's data, or declares nothing), so it
    is judged afresh on any change, every day.

    Build one with :meth:`on_and_after`, :meth:`between`, :meth:`always`, :meth:`never` or
    :meth:`unknown`.
    """

    passes: tuple[Span, ...] = attrs.field(default=(), converter=_spans)
    facts: frozenset[str] = attrs.field(default=frozenset(), converter=_kinds)
    rejudge: bool = attrs.field(default=False, validator=lambda _, __, v: _flag(v))

    @classmethod
    def on_and_after(cls, first: date, *, facts: Iterable[str] = ()) -> Earliest:
        """Passes from ``first`` on (a minimum wait)."""
        return cls(passes=((first, date.max),), facts=facts)

    @classmethod
    def between(cls, first: date, last: date, *, facts: Iterable[str] = ()) -> Earliest:
        """Passes from ``first`` to ``last``, both included (a window), and on no other date."""
        return cls(passes=((first, last),) if first <= last else (), facts=facts)

    @classmethod
    def always(cls, *, facts: Iterable[str] = ()) -> Earliest:
        """Passes on every date (until a fact of ``facts`` arrives)."""
        return cls(passes=FOREVER, facts=facts)

    @classmethod
    def never(cls, *, facts: Iterable[str] = ()) -> Earliest:
        """Passes on no date (until a fact of ``facts`` arrives)."""
        return cls(passes=(), facts=facts)

    @classmethod
    def unknown(cls, passed: bool) -> Earliest:
        """Dates unknown: judged afresh on any change (``passed``: what it says today)."""
        return cls(passes=FOREVER if passed else (), rejudge=True)

    def first_from(self, day: date) -> date | None:
        """The first date from ``day`` on which it passes, or None (none, or unknown)."""
        if self.rejudge:
            return None
        return first_on_or_after(self.passes, day)


#: A guard's declaration: ``fn(ctx, params, passed)`` gives its :class:`Earliest` for the
#: context it was judged in (``passed``: what it said there).
EarliestFn = Callable[[GuardContext, Mapping[str, Any], bool], Earliest]


def waits_for(*kinds: type | str) -> EarliestFn:
    """The declaration of a gate that reads only facts of ``kinds`` (classes or kind names).

    Its verdict stands, whatever the date, until a fact of one of those kinds arrives.
    A class is named as it is registered (``@cf.fact_type("attendance")``).
    """
    if not kinds:
        refuse("waits_for", kinds, _KINDS)
    return _WaitsFor(frozenset(_kind_name(k) for k in kinds))


class _WaitsFor:
    """A :func:`waits_for` declaration: the same two answers whatever the context."""

    __slots__ = ("failing", "kinds", "passing")

    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.passing = Earliest.always(facts=kinds)
        self.failing = Earliest.never(facts=kinds)

    def __repr__(self) -> str:
        return f"waits_for({', '.join(sorted(self.kinds))})"

    def __call__(self, ctx: GuardContext, params: Mapping[str, Any], passed: bool) -> Earliest:
        return self.passing if passed else self.failing


def _kind_name(kind: type | str) -> str:
    if not (isinstance(kind, type) or (isinstance(kind, str) and kind)):
        refuse("waits_for", kind, _KINDS)
    if isinstance(kind, str):
        return kind
    for name in fact_types.names():
        if fact_types.class_of(name) is kind:
            return name
    return kind.__qualname__


# --- dates as sorted spans -----------------------------------------------------------------


def _normal(spans: Iterable[Span]) -> tuple[Span, ...]:
    """``spans`` sorted, with overlapping or touching spans merged."""
    out: list[Span] = []
    for first, last in sorted(spans):
        if out and (out[-1][1] == date.max or first <= out[-1][1] + _DAY):
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
            continue
        out.append((first, last))
    return tuple(out)


def unite(parts: Iterable[Sequence[Span]]) -> tuple[Span, ...]:
    """The dates in any of ``parts``."""
    kept = [p for p in parts if p]
    if not kept:
        return ()
    if len(kept) == 1 or any(p == FOREVER for p in kept):
        return FOREVER if any(p == FOREVER for p in kept) else tuple(kept[0])
    return _normal(span for part in kept for span in part)


def intersect(parts: Iterable[Sequence[Span]]) -> tuple[Span, ...]:
    """The dates in every one of ``parts`` (every date when there is none)."""
    result: tuple[Span, ...] = FOREVER
    for part in parts:
        if not part:
            return ()
        if part == FOREVER:
            continue
        if result == FOREVER:
            result = tuple(part)
            continue
        result = _normal(
            (max(a, c), min(b, d)) for a, b in result for c, d in part if max(a, c) <= min(b, d)
        )
        if not result:
            break
    return result


def complement(spans: Sequence[Span]) -> tuple[Span, ...]:
    """The dates not in ``spans``."""
    out: list[Span] = []
    start = date.min
    for first, last in _normal(spans):
        if first > start:
            out.append((start, first - _DAY))
        if last == date.max:
            return tuple(out)
        start = last + _DAY
    out.append((start, date.max))
    return tuple(out)


def first_on_or_after(spans: Sequence[Span], day: date) -> date | None:
    """The first date in ``spans`` from ``day`` on, or None."""
    for first, last in spans:
        if last >= day:
            return max(first, day)
    return None


# --- combining ---------------------------------------------------------------------------
#
# Judging a refusal combines every leaf's dates, on every refused unit of a sweep: the
# combinators work on plain ``(passes, facts, rejudge)`` views of already checked parts, not
# on new validated records.

#: An :class:`Earliest` as the combinators read it: ``(passes, facts, rejudge)``.
View = tuple[tuple[Span, ...], frozenset[str], bool]

_NO_KINDS: frozenset[str] = frozenset()
_RE_JUDGE_PASSING: View = (FOREVER, _NO_KINDS, True)
_RE_JUDGE_FAILING: View = ((), _NO_KINDS, True)


def combine_all(children: Sequence[View], verdicts: Sequence[Verdict]) -> View:
    """``all_of``: the dates every child passes; the facts that could lift a failing child."""
    failing = [e for e, v in zip(children, verdicts, strict=True) if not v.passed]
    return (
        intersect(e[0] for e in children),
        _NO_KINDS.union(*(e[1] for e in (failing or children))),
        any(e[2] for e in children),
    )


def combine_any(children: Sequence[View]) -> View:
    """``any_of``: the dates some child passes; any child's facts."""
    return (
        unite(e[0] for e in children),
        _NO_KINDS.union(*(e[1] for e in children)),
        any(e[2] for e in children),
    )


def negate(child: View) -> View:
    """``not_``: the dates the child fails."""
    return (complement(child[0]), child[1], child[2])


#: How a bound guard tells its dates (a :data:`View`) from the context and its verdict.
Outlook = Callable[[GuardContext, Verdict], View]


def undeclared(ctx: GuardContext, verdict: Verdict) -> View:
    """The outlook of a gate that declares nothing (or reads host data): re-judge."""
    return _RE_JUDGE_PASSING if verdict.passed else _RE_JUDGE_FAILING


def declared_outlook(declared: EarliestFn | None, params: Mapping[str, Any]) -> Outlook:
    """A leaf's outlook: its declaration with ``params`` applied (re-judge when None)."""
    if declared is None:
        return undeclared
    if isinstance(declared, _WaitsFor):  # its two answers, read once: asked on every refusal
        fixed = ((), declared.kinds, False), (FOREVER, declared.kinds, False)
        return lambda ctx, verdict: fixed[bool(verdict.passed)]
    frozen = dict(params)

    def outlook(ctx: GuardContext, verdict: Verdict) -> View:
        said = declared(ctx, frozen, verdict.passed)
        if not isinstance(said, Earliest):
            refuse("earliest", said, _EARLIEST)
        return (said.passes, said.facts, said.rejudge)

    return outlook


def combined_outlook(name: str, parts: Sequence[Outlook]) -> Outlook:
    """The outlook of ``all_of`` / ``any_of`` over ``parts``, read from the verdict's children."""

    def outlook(ctx: GuardContext, verdict: Verdict) -> View:
        children = [p(ctx, v) for p, v in zip(parts, verdict.children, strict=True)]
        if name == "all_of":
            return combine_all(children, verdict.children)
        return combine_any(children)

    return outlook


def negated_outlook(inner: Outlook) -> Outlook:
    """The outlook of ``not_`` over ``inner``."""

    def outlook(ctx: GuardContext, verdict: Verdict) -> View:
        return negate(inner(ctx, verdict.children[0]))

    return outlook


def earliest_of(
    outlooks: Sequence[Outlook], ctx: GuardContext, verdicts: Sequence[Verdict]
) -> View:
    """A candidate's dates: its guards' (given their verdicts) taken together.

    The failing guards are asked first: when one of them passes on no date and knows it
    (a gate of facts with none yet), no date will do for the candidate, whatever the
    others say, and only the failing guards' fact kinds can change that.
    """
    if len(outlooks) == 1:
        return outlooks[0](ctx, verdicts[0])
    pairs = list(zip(outlooks, verdicts, strict=True))
    failing = {i: o(ctx, v) for i, (o, v) in enumerate(pairs) if not v.passed}
    if any(not passes and not rejudge for passes, _, rejudge in failing.values()):
        return ((), _NO_KINDS.union(*(view[1] for view in failing.values())), False)
    # Each guard's view is asked once: the failing ones' are already known.
    views = [failing[i] if i in failing else o(ctx, v) for i, (o, v) in enumerate(pairs)]
    return combine_all(views, verdicts)
