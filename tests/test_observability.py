"""Observability: logs under ``campaignflow.*``, and OpenTelemetry spans and counters.

The OpenTelemetry tests use the real SDK (``opentelemetry-sdk``) with its in-memory span
exporter and metric reader; they skip where the SDK is not installed.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow import observability
from campaignflow.store import SQLiteStore

UNIT = cf.Unit(id="fin-01", name="区财政局机关党支部", kind="organ", batch=1, members=32)
CLERK = cf.Actor(id="li", roles={"branch_committee"}, unit="fin-01")


def _started(store: Any = None) -> cf.Campaign:
    camp = cf.Campaign(
        cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)), store=store
    )
    camp.add_units([UNIT])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    return camp


def _ready(camp: cf.Campaign) -> cf.Campaign:
    for name in ("implementation_plan", "leading_group_established"):
        camp.record(UNIT.id, cf.Milestone(name), actor=CLERK)
    return camp


def _events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, Any]]:
    return [r.campaignflow for r in caplog.records if r.name == name]


# --- logging ---------------------------------------------------------------------------------


def test_the_root_logger_has_a_null_handler() -> None:
    """``campaignflow`` carries a NullHandler, and every module logs below it."""
    root = logging.getLogger(observability.LOGGER_NAME)
    assert any(isinstance(h, logging.NullHandler) for h in root.handlers)


def test_the_library_prints_nothing_until_the_host_configures_logging() -> None:
    """Refusals and advances write nothing to stderr when the host has no logging set up."""
    script = textwrap.dedent(
        """
        import logging
        from datetime import date
        import campaignflow as cf
        logging.getLogger("campaignflow").setLevel(logging.DEBUG)
        camp = cf.Campaign(cf.presets.district_2005(), clock=cf.FixedClock(date(2005, 1, 10)))
        camp.add_units([cf.Unit(id="u", name="u", kind="organ", batch=1)])
        camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        try:
            camp.advance("u", actor=cf.Actor(id="li"))
        except cf.TransitionRejected:
            print("refused")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "refused\n"
    assert out.stderr == ""


def test_an_applied_transition_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """An advance logs unit, trigger, from and to, with the data on the record."""
    camp = _ready(_started())
    caplog.set_level(logging.INFO, logger="campaignflow")
    camp.advance(UNIT.id, actor=CLERK, request_id="r-1")
    (event,) = _events(caplog, "campaignflow.campaign")
    assert event == {
        "unit_id": "fin-01",
        "trigger": "advance",
        "workflow": "district_2005",
        "outcome": "ok",
        "source": "preparation",
        "dest": "study_mobilization",
        "version": 2,
    }
    (record,) = [r for r in caplog.records if r.name == "campaignflow.campaign"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "unit fin-01: advance preparation -> study_mobilization"


def test_a_refusal_is_logged_with_its_failing_codes(caplog: pytest.LogCaptureFixture) -> None:
    """A TransitionRejected is logged with the codes of the gates that held, then re-raised."""
    camp = _started()
    caplog.set_level(logging.INFO, logger="campaignflow")
    with pytest.raises(cf.TransitionRejected):
        camp.advance(UNIT.id, actor=CLERK)
    (event,) = _events(caplog, "campaignflow.campaign")
    assert event["outcome"] == "rejected"
    assert event["codes"] == ["milestones.missing"]
    assert (event["source"], event["target"]) == ("preparation", "study_mobilization")


def test_an_unauthorised_advance_is_logged_with_its_rule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A NotAuthorized from advance is logged with its rule code."""
    camp = _started()
    caplog.set_level(logging.INFO, logger="campaignflow")
    with pytest.raises(cf.NotAuthorized):
        camp.advance(UNIT.id, actor=CLERK, trigger="defer")
    (event,) = _events(caplog, "campaignflow.campaign")
    assert event["outcome"] == "not_authorized"
    assert event["codes"] == ["not_authorized.missing_role"]


def test_a_write_conflict_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An advance that cannot get the write lock logs a retryable conflict and raises it."""
    path = tmp_path / "campaign.db"
    _ready(_started(SQLiteStore(path, campaign_id="c")))
    host = sqlite3.connect(path)
    holder = cf.Campaign(
        cf.presets.district_2005(),
        clock=cf.FixedClock(date(2005, 1, 10)),
        store=SQLiteStore.join(host, campaign_id="c"),
        campaign_id="c",
    )
    holder.record(UNIT.id, cf.Milestone("mobilization_meeting"), actor=CLERK)  # holds the lock
    impatient = cf.Campaign(
        cf.presets.district_2005(),
        clock=cf.FixedClock(date(2005, 1, 10)),
        store=SQLiteStore(path, campaign_id="c", busy_timeout_ms=50),
        campaign_id="c",
    )
    caplog.set_level(logging.INFO, logger="campaignflow")
    try:
        with pytest.raises(cf.ConcurrencyConflict):
            impatient.advance(UNIT.id, actor=CLERK)
    finally:
        host.rollback()
        host.close()
    (event,) = _events(caplog, "campaignflow.campaign")
    assert event["outcome"] == "conflict"
    assert impatient.advance(UNIT.id, actor=CLERK).dest == "study_mobilization"
    impatient.close()


def test_each_judged_candidate_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """At DEBUG the engine logs every candidate it judged, passing or failing, with codes."""
    camp = _started()
    clock_day = camp.check(UNIT.id)  # nothing logged below INFO by default
    assert not _events(caplog, "campaignflow.engine")
    caplog.set_level(logging.DEBUG, logger="campaignflow")
    again = camp.check(UNIT.id)
    assert again == clock_day
    (event,) = _events(caplog, "campaignflow.engine")
    assert event == {
        "unit_id": "fin-01",
        "source": "preparation",
        "dest": "study_mobilization",
        "passed": False,
        "codes": ["milestones.missing"],
    }


def test_a_sweep_logs_each_judged_candidate_at_debug(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """advance_all asks once per page whether to log, and then logs every unit it judges."""
    camp = _started(SQLiteStore(tmp_path / "sweep.db"))
    camp.add_units([cf.Unit(id="fin-02", name="区税务局机关党支部", kind="organ", batch=1)])
    camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
    # Judged without a sweep (a sweep would keep the held units' due dates: the next one,
    # on the same day, would judge neither).
    assert camp.due_units(limit=10) == []
    assert not _events(caplog, "campaignflow.engine")
    caplog.set_level(logging.DEBUG, logger="campaignflow")
    outcomes = camp.advance_all(actor=CLERK)
    assert [o.unit_id for o in outcomes] == ["fin-01", "fin-02"]
    events = _events(caplog, "campaignflow.engine")
    assert [(e["unit_id"], e["source"], e["codes"]) for e in events] == [
        ("fin-01", "preparation", ["milestones.missing"]),
        ("fin-02", "preparation", ["milestones.missing"]),
    ]
    camp.store.close()


# --- OpenTelemetry ---------------------------------------------------------------------------


@pytest.fixture
def otel() -> Iterator[tuple[Any, Any]]:
    """campaignflow reporting to an SDK tracer (in-memory exporter) and meter (in-memory reader)."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = sdk_trace.TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observability.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield exporter, reader
    finally:
        observability.instrument()  # back to the global (unset) providers
        meter_provider.shutdown()
        tracer_provider.shutdown()


def _sums(reader: Any) -> dict[str, dict[tuple[tuple[str, Any], ...], int]]:
    found: dict[str, dict[tuple[tuple[str, Any], ...], int]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = tuple(sorted(point.attributes.items()))
                    found.setdefault(metric.name, {})[key] = point.value
    return found


def test_advance_and_guard_spans(otel: tuple[Any, Any]) -> None:
    """advance runs in a campaignflow.advance span whose children judge each candidate."""
    exporter, _ = otel
    camp = _ready(_started())
    exporter.clear()
    camp.advance(UNIT.id, actor=CLERK, request_id="r-1")
    spans = exporter.get_finished_spans()
    (advance,) = [s for s in spans if s.name == "campaignflow.advance"]
    guards = [s for s in spans if s.name == "campaignflow.guard"]
    assert dict(advance.attributes) == {
        "campaignflow.unit_id": "fin-01",
        "campaignflow.trigger": "advance",
        "campaignflow.workflow": "district_2005",
        "campaignflow.outcome": "ok",
        "campaignflow.source": "preparation",
        "campaignflow.dest": "study_mobilization",
    }
    assert [g.attributes["campaignflow.dest"] for g in guards] == ["study_mobilization"]
    assert guards[0].parent.span_id == advance.context.span_id
    assert guards[0].attributes["campaignflow.passed"] is True
    assert tuple(guards[0].attributes["campaignflow.codes"]) == ()


def test_rejections_are_counted_by_code(otel: tuple[Any, Any]) -> None:
    """Each refusal adds one to campaignflow.rejections per failing code; advances count too."""
    exporter, reader = otel
    camp = _started()
    for _ in range(2):
        with pytest.raises(cf.TransitionRejected):
            camp.advance(UNIT.id, actor=CLERK)
    _ready(camp)
    camp.advance(UNIT.id, actor=CLERK)
    with pytest.raises(cf.TransitionRejected):
        camp.advance(UNIT.id, actor=CLERK)
    sums = _sums(reader)
    by_code = {dict(key)["code"]: n for key, n in sums["campaignflow.rejections"].items()}
    assert by_code == {
        "milestones.missing": 3,
        "days_in_stage.too_few": 1,
        "study_hours.insufficient": 1,
        "guided_hours.insufficient": 1,
        "approval.missing": 1,
        "survey.missing": 1,
    }
    assert {dict(key)["campaignflow.workflow"] for key in sums["campaignflow.rejections"]} == {
        "district_2005"
    }
    ((key, count),) = sums["campaignflow.advances"].items()
    assert count == 1
    assert dict(key) == {
        "campaignflow.workflow": "district_2005",
        "campaignflow.trigger": "advance",
        "campaignflow.dest": "study_mobilization",
    }
    refused = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "campaignflow.advance" and s.attributes["campaignflow.outcome"] == "rejected"
    ]
    assert len(refused) == 3
    assert "milestones.missing" in refused[-1].attributes["campaignflow.codes"]


def test_check_is_traced_as_guard_spans_only(otel: tuple[Any, Any]) -> None:
    """check judges in campaignflow.guard spans (one per candidate) and counts nothing."""
    exporter, reader = otel
    camp = _started()
    exporter.clear()
    _ready(camp)
    camp.advance(UNIT.id, actor=CLERK)
    exporter.clear()
    camp.check(UNIT.id)
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["campaignflow.guard", "campaignflow.guard"]  # two candidates leave 学习动员
    assert "campaignflow.rejections" not in _sums(reader)


def test_without_a_provider_no_span_is_made(otel: tuple[Any, Any]) -> None:
    """With OpenTelemetry's API but no SDK provider set, campaignflow makes no spans at all."""
    observability.instrument()  # the global providers, which no one has set in this process
    tel = observability.telemetry()
    assert tel is not None
    assert not tel.tracing()
    assert not observability.observing()


def test_without_opentelemetry_nothing_is_imported_and_instrument_says_what_to_install() -> None:
    """Where opentelemetry cannot be imported, advance works and instrument() names the extra."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the package were not installed
        from datetime import date
        import campaignflow as cf
        from campaignflow import observability
        camp = cf.Campaign(cf.presets.no_stages_2019(), clock=cf.FixedClock(date(2019, 6, 1)))
        camp.add_units([cf.Unit(id="u", name="u", kind="village", batch=1)])
        print([o.advanced for o in camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))], observability.telemetry())
        try:
            observability.instrument()
        except ImportError as missing:
            print(missing)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "[True] None",
        "OpenTelemetry is not installed; pip install 'campaignflow[otel]'",
    ]


def test_counters_without_a_tracer(otel: tuple[Any, Any]) -> None:
    """With a meter provider but no tracer provider, advances are counted and no span is made."""
    exporter, _ = otel
    metrics_sdk = pytest.importorskip("opentelemetry.sdk.metrics")
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    meter_provider = metrics_sdk.MeterProvider(metric_readers=[reader])
    try:
        tel = observability.instrument(meter_provider=meter_provider)
        assert tel.active()
        assert not tel.tracing()
        camp = _ready(_started())
        exporter.clear()
        camp.advance(UNIT.id, actor=CLERK)
        assert exporter.get_finished_spans() == ()
        ((_, count),) = _sums(reader)["campaignflow.advances"].items()
        assert count == 1
    finally:
        meter_provider.shutdown()
