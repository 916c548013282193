"""Bulk (vectorised) guards: a guard judged for many units at once on arrays of their facts.

Fast simulation keeps, for every unit, the facts its current stage's guards look at as numpy
arrays (:class:`BulkFacts`) and judges a whole day's units in one call per guard. A bulk form
must agree exactly with the scalar guard it stands for: same pass/fail, same verdict code,
for every unit (the tests check this with hypothesis on random facts).

Every built-in guard has a bulk form (:mod:`.builtin`). A third-party guard may offer one
with :func:`register_bulk` (or the :func:`bulk_guard` decorator). A guard without one is
judged by its own (scalar) function, one unit at a time, on the :class:`GuardContext` of
each unit the bulk facts describe (``BulkFacts.contexts``, see :func:`compile_bulk`'s
``scalar=``): the other guards of the workflow stay vectorised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from campaignflow._words.checks import refuse
from campaignflow._words.facts import Approval, Milestone, StudySession, Survey
from campaignflow._words.verdicts import Verdict
from campaignflow.errors import ValidationError
from campaignflow.guards._context import GuardContext
from campaignflow.guards._spec import COMBINATORS, GuardSpec

__all__ = [
    "APPROVAL_APPROVED",
    "APPROVAL_NONE",
    "APPROVAL_REJECTED",
    "BulkFacts",
    "BulkGuard",
    "BulkRegistry",
    "BulkVerdict",
    "Judged",
    "bulk_facts_from",
    "bulk_guard",
    "bulk_registry",
    "compile_bulk",
    "guards_without_bulk",
    "register_bulk",
    "spec_leaves",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: ``BulkFacts.approvals[role]`` values: no decision since the last transition, approved, rejected.
APPROVAL_NONE = 0
APPROVAL_APPROVED = 1
APPROVAL_REJECTED = 2


@attrs.frozen(eq=False)
class BulkFacts:
    """What the guards of ``n`` units may look at on day ``today``, one array entry per unit.

    Days are proleptic ordinals (``date.toordinal()``). Accumulating facts (hours,
    milestones, coverage reports) are those of the unit's current stage as
    :class:`~campaignflow.GuardContext` sees them; moment facts (survey, approvals) count only
    when recorded since the unit's last transition.

    Attributes:
        today: the day judged.
        days_in_stage: whole days since the unit first entered its stage (``days_in_stage``).
        started_on: the day concentrated activity began, or -1 if not started.
        batch: the unit's batch number.
        windows: batch number -> (opens, closes) ordinals of the workflow's batch windows.
        study_hours, guided_hours: hours logged in the stage (all, guided only).
        milestones: bitmask of the milestones recorded in the stage (bit per name, see
            ``milestone_bits``); a name without a bit was never recorded.
        coverage: milestone name -> (done, total) of its latest coverage report; total -1
            when there is none.
        survey_dissatisfied, survey_ballots: the latest current survey's dissatisfied count
            and valid ballots; ballots 0 when no survey was recorded since the last transition.
        approvals: role -> APPROVAL_NONE / APPROVED / REJECTED, the role's latest decision
            since the last transition (a role missing from the mapping: none).
        contexts: when given, ``contexts()`` is the :class:`GuardContext` of every unit, in
            array order: what a guard without a bulk form is judged on (one unit at a time).
    """

    today: int
    days_in_stage: IntArray
    started_on: IntArray
    batch: IntArray
    windows: Mapping[int, tuple[int, int]] = attrs.field(factory=dict)
    study_hours: FloatArray | None = None
    guided_hours: FloatArray | None = None
    milestones: IntArray | None = None
    milestone_bits: Mapping[str, int] = attrs.field(factory=dict)
    coverage: Mapping[str, tuple[IntArray, IntArray]] = attrs.field(factory=dict)
    survey_dissatisfied: IntArray | None = None
    survey_ballots: IntArray | None = None
    approvals: Mapping[str, IntArray] = attrs.field(factory=dict)
    contexts: Callable[[], Sequence[GuardContext]] | None = None

    @property
    def size(self) -> int:
        """How many units these arrays describe."""
        return int(self.days_in_stage.shape[0])

    def _zeros_f(self, value: FloatArray | None) -> FloatArray:
        return value if value is not None else np.zeros(self.size, dtype=np.float64)

    def _zeros_i(self, value: IntArray | None) -> IntArray:
        return value if value is not None else np.zeros(self.size, dtype=np.int64)


@attrs.frozen(eq=False)
class BulkVerdict:
    """What one bulk guard said for every unit: passed or not, and the index of its code."""

    passed: BoolArray
    code: npt.NDArray[np.int8]
    codes: tuple[str, ...]
    #: Days until the verdict passes by time alone (``required - actual`` of a time gate).
    wait: IntArray | None = None

    @classmethod
    def from_passed(
        cls, passed: BoolArray, ok: str, failed: str, *, wait: IntArray | None = None
    ) -> BulkVerdict:
        """A verdict with one code for passing and one for failing units."""
        return cls(passed, np.where(passed, 0, 1).astype(np.int8), (ok, failed), wait)


def bulk_facts_from(contexts: Sequence[GuardContext]) -> BulkFacts:
    """The BulkFacts of the units judged by ``contexts`` (one per unit, all on the same day).

    The reference meaning of every array: test a bulk form against its scalar guard with
    ``compile_bulk(spec)(bulk_facts_from(ctxs))`` and ``[bound(ctx) for ctx in ctxs]``.

    Raises:
        ValidationError: the contexts are judged on different days.
    """
    days = {c.today for c in contexts}
    if len(days) > 1:
        refuse("contexts", sorted(days), "must share one day")
    today = days.pop().toordinal() if days else 0
    n = len(contexts)
    names: dict[str, int] = {}
    bits = np.zeros(n, dtype=np.int64)
    coverage: dict[str, tuple[IntArray, IntArray]] = {}
    approvals: dict[str, IntArray] = {}
    windows: dict[int, tuple[int, int]] = {}
    hours = np.zeros(n, dtype=np.float64)
    guided = np.zeros(n, dtype=np.float64)
    ballots = np.zeros(n, dtype=np.int64)
    dissatisfied = np.zeros(n, dtype=np.int64)
    for i, ctx in enumerate(contexts):
        if ctx.batch_window is not None:
            windows[ctx.state.batch] = (
                ctx.batch_window.opens.toordinal(),
                ctx.batch_window.closes.toordinal(),
            )
        sessions = ctx.facts(StudySession)
        hours[i] = math.fsum(s.hours for s in sessions)
        guided[i] = math.fsum(s.hours for s in sessions if s.guided)
        for m in ctx.facts(Milestone):
            bit = names.setdefault(m.name, len(names))
            if bit >= 63:
                raise ValidationError(code="simulation.bulk_too_many_milestones")
            bits[i] |= np.int64(1 << bit)
            if m.total is not None:
                done, total = coverage.setdefault(
                    m.name, (np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64))
                )
                done[i], total[i] = m.done or 0, m.total
        survey = ctx.latest(Survey)
        if survey is not None:
            ballots[i], dissatisfied[i] = survey.valid_ballots, survey.dissatisfied
        for r in ctx.records:
            if isinstance(r.fact, Approval) and r.version == ctx.state.version:
                state = approvals.setdefault(r.fact.role, np.zeros(n, dtype=np.int64))
                state[i] = APPROVAL_APPROVED if r.fact.approved else APPROVAL_REJECTED
    return BulkFacts(
        today=today,
        days_in_stage=np.array([c.days_in_stage for c in contexts], dtype=np.int64),
        started_on=np.array(
            [
                -1 if c.state.started_on is None else c.state.started_on.toordinal()
                for c in contexts
            ],
            dtype=np.int64,
        ),
        batch=np.array([c.state.batch for c in contexts], dtype=np.int64),
        windows=windows,
        study_hours=hours,
        guided_hours=guided,
        milestones=bits,
        milestone_bits=names,
        coverage=coverage,
        survey_dissatisfied=dissatisfied,
        survey_ballots=ballots,
        approvals=approvals,
        contexts=lambda: contexts,
    )


class BulkGuard(Protocol):
    """The bulk contract: ``(BulkFacts, **params) -> BulkVerdict``, params as in the workflow."""

    def __call__(self, facts: BulkFacts, /, **params: Any) -> BulkVerdict:
        """Judge every unit of ``facts`` with ``params``."""
        ...


B = TypeVar("B", bound=Callable[..., BulkVerdict])


class BulkRegistry:
    """Bulk forms by guard name; one default instance (:data:`bulk_registry`)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, Callable[..., BulkVerdict]] = {}

    def __repr__(self) -> str:
        return f"<BulkRegistry {sorted(self._entries)}>"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def register(
        self, name: str, func: Callable[..., BulkVerdict], *, replace: bool = False
    ) -> None:
        """Register ``func`` as the bulk form of guard ``name``.

        Raises:
            ValidationError: a bad or reserved name, or a name that already has another
                bulk form (pass ``replace=True``).
        """
        if not isinstance(name, str) or not name.isidentifier():
            refuse("bulk guard name", name, "must be a Python-style identifier")
        if name in COMBINATORS:
            raise ValidationError(code="simulation.bulk_combinator", params={"name": repr(name)})
        if not callable(func):
            raise ValidationError(
                code="simulation.bulk_not_callable", params={"name": repr(name), "func": repr(func)}
            )
        old = self._entries.get(name)
        if old is not None and old is not func and not replace:
            raise ValidationError(
                code="simulation.bulk_registered",
                params={"name": repr(name), "old": old.__qualname__},
            )
        self._entries[name] = func

    def get(self, name: str) -> Callable[..., BulkVerdict] | None:
        """The bulk form of guard ``name``, or None if it has none."""
        return self._entries.get(name)

    def names(self) -> frozenset[str]:
        """Every guard name with a bulk form."""
        return frozenset(self._entries)

    def copy(self) -> BulkRegistry:
        """A new registry holding this one's bulk forms."""
        other = BulkRegistry()
        other._entries = dict(self._entries)
        return other


#: The default bulk registry; every built-in guard has its bulk form here.
bulk_registry = BulkRegistry()


def register_bulk(
    name: str,
    func: Callable[..., BulkVerdict],
    *,
    replace: bool = False,
    registry: BulkRegistry | None = None,
) -> None:
    """Give guard ``name`` a bulk form so fast simulation can judge it (default registry)."""
    (registry or bulk_registry).register(name, func, replace=replace)


def bulk_guard(
    name: str, *, registry: BulkRegistry | None = None, replace: bool = False
) -> Callable[[B], B]:
    """Decorator: register the function as the bulk form of guard ``name``."""

    def register(func: B) -> B:
        (registry or bulk_registry).register(name, func, replace=replace)
        return func

    return register


def spec_leaves(spec: GuardSpec) -> Iterable[GuardSpec]:
    """Every non-combinator spec under ``spec``, depth first."""
    if spec.name in COMBINATORS:
        for child in spec.children:
            yield from spec_leaves(child)
    else:
        yield spec


def guards_without_bulk(
    specs: Iterable[GuardSpec], registry: BulkRegistry | None = None
) -> tuple[str, ...]:
    """The names of guards under ``specs`` that have no bulk form, sorted, each once."""
    reg = registry or bulk_registry
    return tuple(sorted({leaf.name for s in specs for leaf in spec_leaves(s)} - reg.names()))


# --- compiled trees ---------------------------------------------------------------------


Failure = tuple[str, BoolArray, "IntArray | None"]


@attrs.frozen(eq=False)
class Judged:
    """A guard tree judged in bulk: who passed, and (on demand) the failing leaf codes."""

    passed: BoolArray
    _failures: Callable[[], list[Failure]] = attrs.field(alias="failures")
    #: For a ``not_``: the judged child (whose failures sent a unit down a make-up detour).
    inner: Judged | None = None

    def failures(self) -> list[Failure]:
        """(code, units, wait) triples: each unit's failing leaf codes, as ``Verdict.failures()``.

        ``wait`` is the leaf's days-until-it-passes array for time gates, else None.
        """
        return self._failures()


Judge = Callable[[BulkFacts], Judged]


#: Binds a leaf spec to its scalar guard (``GuardRegistry.bind``): the fallback of a guard
#: without a bulk form.
Scalar = Callable[[GuardSpec], Callable[[GuardContext], Verdict]]


def compile_bulk(
    spec: GuardSpec, registry: BulkRegistry | None = None, *, scalar: Scalar | None = None
) -> Judge:
    """A function judging ``spec`` (combinators included) for every unit of a BulkFacts.

    A guard under ``spec`` without a bulk form is judged by ``scalar(leaf)`` (for example
    ``campaignflow.guards.registry.bind``), one unit at a time on ``BulkFacts.contexts()``.

    Raises:
        ValidationError: a guard under ``spec`` has no bulk form and no ``scalar`` is given
            (named); at judging time, bulk facts without ``contexts`` for such a guard.
    """
    reg = registry or bulk_registry
    if spec.name in ("all_of", "any_of"):
        parts = [compile_bulk(c, reg, scalar=scalar) for c in spec.children]
        return _combined(parts, any_of=spec.name == "any_of")
    if spec.name == "not":
        return _not(compile_bulk(spec.children[0], reg, scalar=scalar))
    func = reg.get(spec.name)
    if func is None:
        if scalar is None:
            raise ValidationError(code="simulation.no_bulk_form", params={"guard": repr(spec.name)})
        return _one_by_one(spec.name, scalar(spec))
    params = dict(spec.params)

    def judge(facts: BulkFacts) -> Judged:
        return _judged(func(facts, **params))

    return judge


def _one_by_one(name: str, bound: Callable[[GuardContext], Verdict]) -> Judge:
    """A guard without a bulk form, judged unit by unit on each unit's GuardContext."""

    def judge(facts: BulkFacts) -> Judged:
        if facts.contexts is None:
            raise ValidationError(code="simulation.no_bulk_form", params={"guard": repr(name)})
        verdicts = [bound(ctx) for ctx in facts.contexts()]
        codes = tuple(dict.fromkeys(v.code for v in verdicts))
        verdict = BulkVerdict(
            passed=np.array([v.passed for v in verdicts], dtype=np.bool_),
            code=np.array([codes.index(v.code) for v in verdicts], dtype=np.int8),
            codes=codes,
        )
        return _judged(verdict)

    return judge


def _judged(verdict: BulkVerdict) -> Judged:
    def failures() -> list[Failure]:
        out: list[Failure] = []
        for i, code in enumerate(verdict.codes):
            mask = ~verdict.passed & (verdict.code == i)
            if mask.any():
                out.append((code, mask, verdict.wait))
        return out

    return Judged(passed=verdict.passed, failures=failures)


def _combined(parts: list[Judge], *, any_of: bool) -> Judge:
    """``all_of`` (every part passes; every part's failures) or ``any_of`` (one part passes;
    the failures of the units that none passed)."""
    reduce = np.logical_or.reduce if any_of else np.logical_and.reduce

    def judge(facts: BulkFacts) -> Judged:
        judged = [p(facts) for p in parts]
        passed = reduce([j.passed for j in judged])

        def failures() -> list[Failure]:
            if not any_of:
                return [f for j in judged for f in j.failures()]
            held = ~passed
            return [
                (c, m & held, w) for j in judged for c, m, w in j.failures() if (m & held).any()
            ]

        return Judged(passed=passed, failures=failures)

    return judge


def _not(part: Judge) -> Judge:
    def judge(facts: BulkFacts) -> Judged:
        inner = part(facts)
        passed = ~inner.passed

        def failures() -> list[Failure]:
            # A failing not_ has a passing child, so it is its own failing leaf.
            held = ~passed
            return [("not.failed", held, None)] if held.any() else []

        return Judged(passed=passed, failures=failures, inner=inner)

    return judge
