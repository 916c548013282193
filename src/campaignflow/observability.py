"""Logs, traces and metrics: stdlib ``logging`` always, OpenTelemetry when it is installed.

Logging: every logger is a child of ``campaignflow`` (``campaignflow.campaign``,
``campaignflow.engine``), which has a ``NullHandler``, so the library prints nothing until the
host configures logging. ``campaignflow.campaign`` logs an applied transition, a refusal (with
the failing codes) and a write conflict at INFO; ``campaignflow.engine`` logs each judged
candidate at DEBUG. Each record carries its data in ``record.campaignflow`` (a dict of codes and
ids, never text), for structured log handlers.

OpenTelemetry (extra ``otel``: ``opentelemetry-api`` only; the host brings the SDK and its
exporters): once the host has set a tracer provider, ``Campaign.advance`` runs in a
``campaignflow.advance`` span and each judged candidate transition in a
``campaignflow.guard`` span; once it has set a meter provider, three counters count
``campaignflow.advances``, ``campaignflow.rejections`` (by ``code``) and
``campaignflow.conflicts``. Instruments are created lazily, once, from the process-wide providers
(or those given to :func:`instrument`); without opentelemetry the check is one attribute read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from campaignflow.errors import ConcurrencyConflict, NotAuthorized, TransitionRejected

if TYPE_CHECKING:
    from campaignflow._words.records import TransitionRecord
    from campaignflow._words.verdicts import Candidate
    from campaignflow.guards import GuardContext
    from campaignflow.workflow import CompiledTransition
    from campaignflow.workflow._engine import CandidateJudge

__all__ = [
    "LOGGER_NAME",
    "Telemetry",
    "candidate_judge",
    "instrument",
    "judge_candidates",
    "observe_advance",
    "observing",
    "telemetry",
    "uninstrument",
]

#: The root of campaignflow's loggers; it has a NullHandler (set in ``campaignflow/__init__``).
LOGGER_NAME = "campaignflow"

_campaign_log = logging.getLogger(f"{LOGGER_NAME}.campaign")
_engine_log = logging.getLogger(f"{LOGGER_NAME}.engine")

T = TypeVar("T")

_INSTALL = "OpenTelemetry is not installed; pip install 'campaignflow[otel]'"

#: Calls for which "no tracer provider is set" is trusted before asking OpenTelemetry again.
_RECHECK = 256


def _version() -> str:
    # The instrumentation scope's version: the installed distribution's, read from its
    # metadata (not from the package face, which imports the runtime that imports this).
    # Read only when OpenTelemetry asks: the metadata machinery costs a tenth of an import.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("campaignflow")
    except PackageNotFoundError:
        return "0+unknown"


class Telemetry:
    """The OpenTelemetry tracer and counters campaignflow reports to.

    Built by :func:`instrument` (or lazily from the process-wide providers); hosts rarely touch it.
    """

    __slots__ = (
        "_metering",
        "_metrics",
        "_skip",
        "_trace",
        "_tracing",
        "advances",
        "conflicts",
        "rejections",
        "tracer",
    )

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as missing:
            raise ModuleNotFoundError(_INSTALL) from missing
        scope_version = _version()

        self._trace = trace
        self._metrics = metrics
        self._tracing = tracer_provider is not None
        self._metering = meter_provider is not None
        self._skip = 0
        self.tracer = trace.get_tracer(LOGGER_NAME, scope_version, tracer_provider=tracer_provider)
        meter = metrics.get_meter(LOGGER_NAME, scope_version, meter_provider=meter_provider)
        self.advances = meter.create_counter(
            "campaignflow.advances", unit="{transition}", description="transitions applied"
        )
        self.rejections = meter.create_counter(
            "campaignflow.rejections",
            unit="{refusal}",
            description="advance refused, by failing verdict or authorisation code",
        )
        self.conflicts = meter.create_counter(
            "campaignflow.conflicts",
            unit="{conflict}",
            description="advance lost a write race (ConcurrencyConflict); retryable",
        )

    def tracing(self) -> bool:
        """Whether spans go anywhere: a tracer provider was given or has been set globally."""
        if not self._tracing:
            self._recheck()
        return self._tracing

    def active(self) -> bool:
        """Whether spans or counters go anywhere (a tracer or a meter provider is set)."""
        if not (self._tracing and self._metering):
            self._recheck()
        return self._tracing or self._metering

    def _recheck(self) -> None:
        # Until the host installs an SDK provider, OpenTelemetry's API hands out non-recording
        # spans and no-op counters that still cost microseconds per advance; campaignflow then
        # reports nothing. Asking OpenTelemetry costs microseconds too, so a "not set" answer
        # is trusted for the next _RECHECK calls: a provider set later takes effect within that
        # many calls, or at once with instrument(). A set provider stays set (OpenTelemetry
        # never lets a process-wide provider be replaced).
        if self._skip:
            self._skip -= 1
            return
        trace, metrics = self._trace, self._metrics
        if not self._tracing:
            provider = trace.get_tracer_provider()
            self._tracing = not isinstance(
                provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider
            )
        if not self._metering:
            # The API's placeholder until a provider is set is private (_ProxyMeterProvider).
            kind = type(metrics.get_meter_provider()).__name__
            self._metering = kind not in ("_ProxyMeterProvider", "NoOpMeterProvider")
        if not (self._tracing and self._metering):
            self._skip = _RECHECK


class _Holder:
    """Which :class:`Telemetry` campaignflow reports to: the one place that choice is kept.

    Owner: this module, on behalf of the process, because what it mirrors is process-wide
    too (OpenTelemetry's process-wide tracer and meter providers). Lifetime: the process. It
    starts undecided; the first :func:`telemetry` call decides (tries ``opentelemetry``
    once), :func:`instrument` and :func:`uninstrument` replace the choice.
    """

    __slots__ = ("current", "decided")

    def __init__(self) -> None:
        self.current: Telemetry | None = None
        self.decided = False

    def get(self) -> Telemetry | None:
        """The chosen telemetry, deciding on the first call."""
        if not self.decided:
            try:
                self.set(Telemetry())
            except ModuleNotFoundError:
                self.set(None)
        return self.current

    def set(self, tel: Telemetry | None) -> None:
        """Report to ``tel`` from now on (None: report nothing)."""
        self.current = tel
        self.decided = True


_holder = _Holder()


def telemetry() -> Telemetry | None:
    """The active telemetry, or None when OpenTelemetry is not installed or was turned off.

    The first call tries to import ``opentelemetry`` once and remembers the answer.
    """
    return _holder.get()


def instrument(*, tracer_provider: Any = None, meter_provider: Any = None) -> Telemetry:
    """Report spans and counters to these providers (default: OpenTelemetry's process-wide ones).

    Raises:
        ModuleNotFoundError: opentelemetry is not installed (``pip install
            'campaignflow[otel]'``).
    """
    tel = Telemetry(tracer_provider, meter_provider)
    _holder.set(tel)
    return tel


def uninstrument() -> None:
    """Stop reporting spans and counters (logging is unaffected)."""
    _holder.set(None)


# --- advance ---------------------------------------------------------------------------------


def observe_advance(
    fire: Callable[[], TransitionRecord], *, unit_id: str, trigger: str, workflow: str
) -> TransitionRecord:
    """Run ``fire`` (one advance) with its logs, span and counters."""
    tel = telemetry()
    if tel is None or not tel.active():
        return _logged_advance(fire, unit_id, trigger, workflow, None)
    if not tel.tracing():
        return _logged_advance(fire, unit_id, trigger, workflow, (tel, None))
    attributes = {
        "campaignflow.unit_id": unit_id,
        "campaignflow.trigger": trigger,
        "campaignflow.workflow": workflow,
    }
    with tel.tracer.start_as_current_span(
        "campaignflow.advance", attributes=attributes, record_exception=False
    ) as span:
        return _logged_advance(fire, unit_id, trigger, workflow, (tel, span))


def _logged_advance(
    fire: Callable[[], TransitionRecord],
    unit_id: str,
    trigger: str,
    workflow: str,
    otel: tuple[Telemetry, Any] | None,
) -> TransitionRecord:
    if otel is None and not _campaign_log.isEnabledFor(logging.INFO):
        return fire()
    data: dict[str, Any] = {"unit_id": unit_id, "trigger": trigger, "workflow": workflow}
    try:
        record = fire()
    except TransitionRejected as refused:
        codes = [v.code for v in refused.decision.failures()]
        _log(
            data,
            "refused (%s -> %s): %s",
            (refused.decision.source, refused.decision.target, ", ".join(codes)),
            outcome="rejected",
            source=refused.decision.source,
            target=refused.decision.target,
            codes=codes,
        )
        if otel is not None:
            _count_rejection(otel, data, codes or [refused.code])
            span = otel[1]
            if span is not None:
                span.set_attribute("campaignflow.source", refused.decision.source)
                if refused.decision.target is not None:
                    span.set_attribute("campaignflow.dest", refused.decision.target)
        raise
    except NotAuthorized as refused:
        _log(
            data,
            "by %s not authorised: %s",
            (refused.actor_id, refused.rule),
            outcome="not_authorized",
            codes=[refused.rule],
            actor_id=refused.actor_id,
        )
        if otel is not None:
            _count_rejection(otel, data, [refused.rule])
        raise
    except ConcurrencyConflict as conflict:
        _log(
            data,
            "lost a write race (expected version %s); retryable",
            (conflict.expected_version,),
            outcome="conflict",
            expected_version=conflict.expected_version,
        )
        if otel is not None:
            tel, span = otel
            if span is not None:
                span.set_attribute("campaignflow.outcome", "conflict")
            tel.conflicts.add(1, {"campaignflow.workflow": workflow})
        raise
    _log(
        data,
        "%s -> %s",
        (record.source, record.dest),
        outcome="ok",
        source=record.source,
        dest=record.dest,
        version=record.version,
    )
    if otel is not None:
        tel, span = otel
        if span is not None:
            span.set_attribute("campaignflow.outcome", "ok")
            span.set_attribute("campaignflow.source", record.source)
            span.set_attribute("campaignflow.dest", record.dest)
        tel.advances.add(
            1,
            {
                "campaignflow.workflow": workflow,
                "campaignflow.trigger": trigger,
                "campaignflow.dest": record.dest,
            },
        )
    return record


def _log(data: dict[str, Any], message: str, args: tuple[Any, ...], **outcome: Any) -> None:
    """Log an advance's outcome: ``message`` follows the unit and trigger; ``outcome`` joins
    the structured ``data`` (the record under ``extra["campaignflow"]``)."""
    data.update(outcome)
    _campaign_log.info(
        "unit %s: %s " + message,
        data["unit_id"],
        data["trigger"],
        *args,
        extra={"campaignflow": data},
    )


def _count_rejection(
    otel: tuple[Telemetry, Any], data: Mapping[str, Any], codes: Sequence[str]
) -> None:
    tel, span = otel
    if span is not None:
        span.set_attribute("campaignflow.outcome", str(data["outcome"]))
        span.set_attribute("campaignflow.codes", list(codes))
    for code in codes:
        tel.rejections.add(1, {"campaignflow.workflow": str(data["workflow"]), "code": code})


# --- guard evaluation ------------------------------------------------------------------------


def observing() -> bool:
    """Whether guard evaluation is traced or logged at DEBUG (else it runs bare)."""
    tel = telemetry()
    return (tel is not None and tel.tracing()) or _engine_log.isEnabledFor(logging.DEBUG)


def candidate_judge(observed: bool | None = None) -> CandidateJudge | None:
    """The judge the pure engine's ``decide(..., judge=...)`` takes: :func:`judge_candidates`
    when guard evaluation is observed (``observed``; asked of :func:`observing` when None),
    else None (the engine's bare loop).
    """
    return judge_candidates if (observing() if observed is None else observed) else None


def judge_candidates(
    compiled: Sequence[CompiledTransition], ctx: GuardContext
) -> tuple[Candidate, ...]:
    """Judge each candidate transition, in a ``campaignflow.guard`` span when traced."""
    tel = telemetry()
    if tel is not None and not tel.tracing():
        tel = None
    debug = _engine_log.isEnabledFor(logging.DEBUG)
    unit_id, source = ctx.unit.id, ctx.state.stage
    results = []
    for transition in compiled:
        dest = transition.dest
        with _guard_span(tel, unit_id, source, dest) as span:
            candidate = transition.judge(ctx)
            failed = _failures(candidate)
            if span is not None:
                span.set_attribute("campaignflow.passed", candidate.passed)
                span.set_attribute("campaignflow.codes", failed)
        if debug:
            _engine_log.debug(
                "unit %s: %s -> %s %s%s",
                unit_id,
                source,
                dest,
                "passes" if candidate.passed else "fails",
                f": {', '.join(failed)}" if failed else "",
                extra={
                    "campaignflow": {
                        "unit_id": unit_id,
                        "source": source,
                        "dest": dest,
                        "passed": candidate.passed,
                        "codes": failed,
                    }
                },
            )
        results.append(candidate)
    return tuple(results)


@contextmanager
def _guard_span(tel: Telemetry | None, unit_id: str, source: str, dest: str) -> Iterator[Any]:
    if tel is None:
        yield None
        return
    attributes = {
        "campaignflow.unit_id": unit_id,
        "campaignflow.source": source,
        "campaignflow.dest": dest,
    }
    with tel.tracer.start_as_current_span("campaignflow.guard", attributes=attributes) as span:
        yield span


def _failures(candidate: Candidate) -> list[str]:
    return [f.code for v in candidate.verdicts for f in v.failures()]
