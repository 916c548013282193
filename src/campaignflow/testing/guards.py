"""Guard test helpers: judge a guard in isolation, and find where a numeric guard flips.

``check_guard(min_study_hours, facts=[cf.StudySession(hours=32)], hours=40)`` builds the guard
context a campaign would (the facts recorded in the unit's current stage, today's date, the
days spent in the stage) and returns the :class:`~campaignflow.Verdict`.
``guard_boundary(guard, "hours", facts=...)`` searches the param's range for the value at
which the verdict flips, then checks with hypothesis that the guard is monotone in that param
and that its verdict reports the numbers it judged (``required`` echoes the param, ``actual``
sits at the flip).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from campaignflow._words.checks import field_error, refuse
from campaignflow._words.facts import Approval
from campaignflow._words.records import BatchWindow, FactRecord, Unit, UnitState
from campaignflow._words.verdicts import Verdict
from campaignflow.errors import ValidationError
from campaignflow.guards._context import GuardContext
from campaignflow.guards._registry import GuardRegistry, registry
from campaignflow.guards._spec import GuardSpec

__all__ = ["Boundary", "check_guard", "guard_boundary", "guard_context"]

#: The day a context is judged on when the caller gives none (inside batch 1 of the presets).
DEFAULT_TODAY = date(2005, 4, 1)

_UNIT = Unit(id="unit-1", name="测试党支部", kind="organ", batch=1, members=30)


def guard_context(
    facts: Iterable[object] = (),
    *,
    today: date = DEFAULT_TODAY,
    days_in_stage: int = 0,
    days_since_start: int | None = None,
    unit: Unit = _UNIT,
    stage: str = "study_mobilization",
    version: int = 1,
    earlier: Iterable[object] = (),
    batch_window: BatchWindow | None = None,
    workflow: str = "",
    host: Any = None,
) -> GuardContext:
    """The guard context of a unit in ``stage`` on ``today`` holding ``facts``.

    Args:
        facts: facts recorded since the unit's last transition (they count as current).
        today: the day judged.
        days_in_stage: how long the unit has been in the stage.
        days_since_start: how long since its concentrated activity began (default: as
            long as it has been in the stage; None for a unit that never started is not
            expressible here: use a negative number).
        unit: the unit judged.
        stage: its stage id.
        version: its state version (facts in ``earlier`` get ``version - 1``).
        earlier: facts from an earlier visit to the stage (before a remedial round).
        batch_window: the window of the unit's batch (default: the whole year of ``today``).
        workflow: the workflow name the context carries.
        host: the host's data the guard reads as ``ctx.host`` (None: no host data).
    """
    if isinstance(days_in_stage, bool) or not isinstance(days_in_stage, int) or days_in_stage < 0:
        refuse("check_guard", days_in_stage, "days_in_stage must be a whole number >= 0")
    since_start = days_in_stage if days_since_start is None else days_since_start
    if isinstance(since_start, bool) or not isinstance(since_start, int):
        refuse("check_guard", days_since_start, "days_since_start must be a whole number")
    window = batch_window or BatchWindow(
        number=unit.batch, opens=date(today.year, 1, 1), closes=date(today.year, 12, 31)
    )
    at = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    records: list[FactRecord] = []
    for older, group in ((True, earlier), (False, facts)):
        for fact in group:
            records.append(
                FactRecord(
                    unit_id=unit.id,
                    stage=stage,
                    version=version - 1 if older else version,
                    fact=fact,
                    on=today,
                    at=at,
                    # An approval is someone else's decision on the unit, never its own.
                    actor_id="approver" if isinstance(fact, Approval) else "clerk",
                    seq=len(records) + 1,
                )
            )
    state = UnitState(
        unit_id=unit.id,
        stage=stage,
        batch=unit.batch,
        version=version,
        entered_on=today - timedelta(days=days_in_stage),
        stage_since=today - timedelta(days=days_in_stage),
        started_on=None if since_start < 0 else today - timedelta(days=since_start),
    )
    return GuardContext(
        unit=unit,
        state=state,
        today=today,
        records=tuple(records),
        batch_window=window,
        workflow=workflow,
        host=host,
    )


def _resolve(
    guard: Callable[..., Verdict] | str | GuardSpec,
    params: Mapping[str, Any],
    reg: GuardRegistry,
) -> tuple[Callable[[GuardContext], Verdict], tuple[str, ...]]:
    """The guard's judge, and the names of the guards under it that read host data."""
    if isinstance(guard, GuardSpec):
        spec = GuardSpec(
            name=guard.name, params={**guard.params, **params}, children=guard.children
        )
        bound = reg.bind(spec)
        return bound, bound.host_guards
    if isinstance(guard, str):
        bound = reg.bind(GuardSpec(name=guard, params=dict(params)))
        return bound, bound.host_guards
    if callable(guard):
        fixed = dict(params)
        meta = getattr(guard, "__campaignflow_guard_meta__", None) or {}
        reads = (getattr(guard, "__campaignflow_guard__", ""),) if meta.get("reads_host") else ()

        def judge(ctx: GuardContext) -> Verdict:
            return guard(ctx, **fixed)

        return judge, reads
    raise field_error(
        "check_guard", guard, "guard must be a guard function, a registered name or a GuardSpec"
    )


def check_guard(
    guard: Callable[..., Verdict] | str | GuardSpec,
    facts: Iterable[object] = (),
    *,
    today: date = DEFAULT_TODAY,
    days_in_stage: int = 0,
    days_since_start: int | None = None,
    unit: Unit = _UNIT,
    stage: str = "study_mobilization",
    earlier: Iterable[object] = (),
    batch_window: BatchWindow | None = None,
    registry: GuardRegistry = registry,
    host: Any = None,
    **params: Any,
) -> Verdict:
    """The verdict of ``guard`` with ``params`` on a unit holding ``facts``.

    ``guard`` is the function itself, its registered name, or a spec (``cf.use(...)``,
    ``cf.all_of(...)``); a name or spec is bound through ``registry``, so its params are
    checked as a workflow load would. The context is :func:`guard_context`'s: ``unit``
    defaults to ``unit-1`` (batch 1, 30 members), ``stage`` to ``study_mobilization``;
    ``facts`` count as current, ``earlier`` as recorded in an earlier visit to the stage
    (before a remedial round), so ``ctx.facts(kind, current=True)`` leaves them out;
    ``host`` is the host data the guard reads as ``ctx.host``.

    Raises:
        ValidationError: a bad guard or context option; ``guard.host_missing``, a guard
            registered with ``reads_host=True`` and no ``host`` given, as a campaign would.
        DefinitionError: a name or spec whose params the registry refuses.
    """
    judge, reads_host = _resolve(guard, params, registry)
    if reads_host and host is None:
        raise ValidationError(
            code="guard.host_missing",
            params={"guard": repr(reads_host[0]), "source": stage, "dest": "…", "trigger": "…"},
        )
    ctx = guard_context(
        facts,
        today=today,
        days_in_stage=days_in_stage,
        days_since_start=days_since_start,
        unit=unit,
        stage=stage,
        earlier=earlier,
        batch_window=batch_window,
        host=host,
    )
    verdict = judge(ctx)
    if not isinstance(verdict, Verdict):
        raise ValidationError(
            code="testing.not_a_verdict", params={"guard": repr(guard), "verdict": repr(verdict)}
        )
    return verdict


@attrs.frozen
class Boundary:
    """Where a numeric guard flips as one param moves: the last value on one side, the first on the other.

    ``below`` and ``above`` are adjacent values (whole numbers one apart, or neighbouring
    floats); ``passes_below`` says which side passes (True for "at least" guards, whose
    requirement passes up to the actual number; False for "at most" guards).
    """

    param: str
    below: float
    above: float
    passes_below: bool
    verdict_below: Verdict
    verdict_above: Verdict

    @property
    def actual(self) -> Any:
        """The ``actual`` number the verdicts report (None when they report none)."""
        return self.verdict_below.params.get("actual")


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def guard_boundary(
    guard: Callable[..., Verdict] | str | GuardSpec,
    param: str,
    facts: Iterable[object] = (),
    *,
    low: float = 0,
    high: float = 1000,
    integer: bool | None = None,
    actual_key: str | None = "actual",
    examples: int = 200,
    **context: Any,
) -> Boundary:
    """Find the value of ``param`` at which ``guard``'s verdict on ``facts`` flips, and check it.

    Bisects ``[low, high]`` to two adjacent values with different verdicts, then checks with
    hypothesis (``examples`` values across the range) that every value below the flip gives
    the verdict of ``low`` and every value above the other one (the guard is monotone in
    ``param``), that each verdict echoes the param's value among its numbers, and that the
    ``actual`` number the verdict reports lies at the flip (``below <= actual <= above``).
    A guard that lets 39 hours through when 40 are required fails the last check.

    Don't call it inside a ``@given`` test (hypothesis does not nest); it is a plain test
    helper. Other keyword arguments are :func:`check_guard`'s context options.

    Args:
        guard: the guard function, its registered name or a spec.
        param: the numeric param to move (``hours``, ``days``, ``rate``).
        facts: the facts the unit holds (fixed while the param moves).
        low, high: the range searched (default 0..1000; use 0..1 for a ``rate``).
        integer: search whole numbers only (default: when ``low`` and ``high`` are ints).
        actual_key: the verdict param holding the measured number (None: don't check it).
        examples: how many values hypothesis tries across the range.

    Raises:
        ValidationError: the verdict does not flip within ``[low, high]``.
        AssertionError: the guard is not monotone, or its numbers don't match the flip.
    """
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    facts = tuple(facts)
    whole = (
        isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool)
        if integer is None
        else integer
    )
    if not low < high:
        raise ValidationError(
            code="testing.boundary_order", params={"low": repr(low), "high": repr(high)}
        )

    def verdict(value: float) -> Verdict:
        options: dict[str, Any] = {**context, param: int(value) if whole else value}
        return check_guard(guard, facts, **options)

    name = getattr(guard, "__name__", None) or repr(guard)
    first, last = verdict(low), verdict(high)
    if first.passed == last.passed:
        raise ValidationError(
            code=(
                "testing.boundary_no_flip_passes"
                if first.passed
                else "testing.boundary_no_flip_fails"
            ),
            params={
                "param": param,
                "low": repr(low),
                "high": repr(high),
                "code": repr(first.code),
            },
        )
    lo, hi = float(low), float(high)
    while True:
        if whole:
            if hi - lo <= 1:
                break
            mid = float((int(lo) + int(hi)) // 2)
        else:
            mid = lo + (hi - lo) / 2
            if mid in (lo, hi):
                break
        if verdict(mid).passed == first.passed:
            lo = mid
        else:
            hi = mid
    below, above = verdict(lo), verdict(hi)

    def side(value: float) -> bool:
        return first.passed if value <= lo else last.passed

    values = (
        st.integers(int(low), int(high)).map(float)
        if whole
        else st.floats(float(low), float(high), allow_nan=False)
    )
    edge = st.sampled_from([lo, hi, float(low), float(high)])

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=st.one_of(edge, values))
    def monotone(value: float) -> None:
        found = verdict(value)
        assert found.passed == side(value), (
            f"{name}: {param}={value!r} gives passed={found.passed} ({found.code}), but the "
            f"verdict flips between {lo!r} and {hi!r}: the guard is not monotone in {param}"
        )
        echoed = [v for v in found.params.values() if _as_number(v) is not None]
        assert any(_as_number(v) == value for v in echoed), (
            f"{name}: the verdict for {param}={value!r} does not report that number "
            f"(its params: {dict(found.params)})"
        )

    monotone()
    if actual_key is not None:
        actual = _as_number(below.params.get(actual_key))
        assert actual is not None, (
            f"{name}: its verdict reports no number under {actual_key!r} "
            f"(its params: {dict(below.params)}); pass actual_key=None to skip this check"
        )
        assert lo <= actual <= hi, (
            f"{name}: the verdict flips between {param}={lo!r} and {param}={hi!r}, but "
            f"reports {actual_key}={actual!r}: the guard judges a different number than it "
            "reports (an off-by-one in its comparison?)"
        )
    return Boundary(
        param=param,
        below=lo,
        above=hi,
        passes_below=first.passed,
        verdict_below=below,
        verdict_above=above,
    )
