"""``summarise``: the results of any campaign, simulated or real, read from its audit trail.

Everything comes from the audit records (units added, transitions applied, refusals with
their verdicts), so a real campaign database gives the same kind of report as a simulation,
and a simulation's report can be rebuilt from its database alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from campaignflow.audit import AuditRecord
from campaignflow.campaign import Campaign
from campaignflow.simulation.results import (
    BatchOutcome,
    BlockingReason,
    RemedialSummary,
    SimulationResult,
    StageTime,
    TimelinePoint,
)

__all__ = ["percentile", "remedial_summary", "summarise", "top_blocking"]

#: How many blocking reasons a result keeps.
TOP_BLOCKING = 10


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, interpolating linearly (numpy's default).

    ``values`` must be sorted; an empty sequence gives 0.0.
    """
    if not values:
        return 0.0
    pos = (len(values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return float(values[low] + (values[high] - values[low]) * (pos - low))


def _failures(verdict: Mapping[str, Any]) -> list[str]:
    # Verdict.failures() on the stored form: the failing leaves, or the verdict itself.
    if verdict.get("passed"):
        return []
    children = verdict.get("children") or ()
    found = [code for child in children for code in _failures(child)]
    return found or [str(verdict.get("code", ""))]


def _blocked_codes(record: AuditRecord) -> list[str]:
    """The gate codes that held the unit, from a refusal or a detour to a later candidate.

    A refusal: the failing leaves of the candidate that would fire. A detour (make-up): the
    gates whose failure sent the unit there, i.e. the failing leaves under the passing
    ``unless`` (``not``) verdicts of the candidate taken; when it has none, the failing
    leaves of the first candidate.
    """
    decision = record.decision
    if not decision:
        return []
    candidates = decision.get("candidates") or []
    if not candidates:
        return []
    codes: list[str] = []
    if record.outcome == "ok":
        if candidates[0].get("passed"):
            return []
        taken = next((c for c in candidates if c.get("passed")), candidates[0])
        for verdict in taken.get("verdicts", ()):
            if verdict.get("guard") == "not" and verdict.get("passed"):
                for child in verdict.get("children") or ():
                    codes.extend(c for c in _failures(child) if c not in codes)
        if codes:
            return codes
        chosen = candidates[0]
    else:
        chosen = next((c for c in candidates if c.get("passed")), candidates[0])
    for verdict in chosen.get("verdicts", ()):
        for code in _failures(verdict):
            if code not in codes:
                codes.append(code)
    return codes


def summarise(
    campaign: Campaign,
    *,
    scenario_name: str | None = None,
    seed: int = 0,
    mode: str = "recorded",
    start: date | None = None,
    end: date | None = None,
) -> SimulationResult:
    """The results of ``campaign`` from its audit trail and workflow.

    Args:
        campaign: any campaign (in memory, SQLite, PostgreSQL), simulated or real.
        scenario_name: names the result (the campaign id by default).
        seed: the simulation's seed (0 for a real campaign).
        mode: ``"exact"`` for a simulation, ``"recorded"`` (default) for a real campaign.
        start, end: the first and last day covered (the first and last audit record's
            dates by default).

    Shares and day counts are rounded to 6 places, as :meth:`SimulationResult.to_json`
    writes them, so a result read back from JSON equals the one written. The timeline has a point per batch on each day its counts changed; blocking reasons
    count, per stage, refused ``advance`` commands by failing gate, and transitions that
    took a later candidate (make-up) by the gates that sent them there (see
    ``_blocked_codes``).
    """
    return _summarise(
        campaign,
        campaign.audit_trail(),
        scenario_name=scenario_name,
        seed=seed,
        mode=mode,
        start=start,
        end=end,
    )


def _summarise(
    campaign: Campaign,
    records: Iterable[AuditRecord],
    *,
    scenario_name: str | None,
    seed: int,
    mode: str,
    start: date | None,
    end: date | None,
) -> SimulationResult:
    """``summarise`` over ``records``: the campaign's audit trail, in seq order, however read."""
    workflow = campaign.workflow
    stages = tuple(s.id for s in workflow.stages)
    kinds = {s.id: s.kind for s in workflow.stages}
    remedial_of = {s.id: s.remedial_of for s in workflow.stages}

    stage_of: dict[str, str] = {}
    batch_of: dict[str, int] = {}
    entered: dict[str, date] = {}
    finished: dict[str, date] = {}
    counts: dict[int, Counter[str]] = {}
    emitted: dict[int, dict[str, int]] = {}
    dirty: set[int] = set()
    timeline: list[TimelinePoint] = []
    stays: dict[str, list[int]] = {}
    rounds: Counter[str] = Counter()
    remedial_units: set[str] = set()
    blocking: Counter[tuple[str, str]] = Counter()
    deferred_in: Counter[int] = Counter()
    deferred_out: Counter[int] = Counter()
    first_day: date | None = None
    last_day: date | None = None
    head: str | None = None
    current: date | None = None

    def flush(day: date) -> None:
        for batch in sorted(dirty):
            now = {stage: counts[batch][stage] for stage in stages}
            if emitted.get(batch) != now:
                timeline.append(TimelinePoint(day=day, batch=batch, counts=now))
                emitted[batch] = now
        dirty.clear()

    for record in records:
        head = record.hash
        if first_day is None:
            first_day = record.on
        last_day = max(last_day, record.on) if last_day else record.on
        if current is not None and record.on != current:
            flush(current)
        current = record.on
        uid = record.unit_id
        if uid is None:
            continue
        if record.outcome != "ok":
            if record.command == "advance":
                for code in _blocked_codes(record):
                    blocking[(code, record.source or "")] += 1
            continue
        if record.command == "add_unit":
            unit = record.payload.get("unit", {})
            batch = int(unit.get("batch", 1))
            stage = record.dest or workflow.initial
            stage_of[uid], batch_of[uid], entered[uid] = stage, batch, record.on
            counts.setdefault(batch, Counter())[stage] += 1
            dirty.add(batch)
            continue
        if record.dest is None or uid not in stage_of:
            continue
        old_stage, old_batch = stage_of[uid], batch_of[uid]
        new_stage = record.dest
        new_batch = old_batch
        if record.command == "defer":
            new_batch = int(
                record.payload.get("to_batch") or record.payload.get("batch") or old_batch
            )
            if new_batch != old_batch:
                deferred_out[old_batch] += 1
                deferred_in[new_batch] += 1
        for code in _blocked_codes(record):
            blocking[(code, old_stage)] += 1
        if kinds.get(old_stage) not in ("waiting", "final"):
            stays.setdefault(old_stage, []).append((record.on - entered[uid]).days)
        if kinds.get(new_stage) == "remedial":
            rounds[remedial_of[new_stage] or new_stage] += 1
            remedial_units.add(uid)
        if kinds.get(new_stage) == "final":
            finished[uid] = record.on
        counts[old_batch][old_stage] -= 1
        counts.setdefault(new_batch, Counter())[new_stage] += 1
        dirty.update((old_batch, new_batch))
        stage_of[uid], batch_of[uid], entered[uid] = new_stage, new_batch, record.on
    if current is not None:
        flush(current)

    begin = start or first_day or date.today()
    finish = end or last_day or begin
    return SimulationResult(
        scenario=scenario_name or campaign.campaign_id,
        seed=seed,
        mode=mode,
        workflow=f"{workflow.name}@{workflow.version}",
        units=len(stage_of),
        start=begin,
        end=finish,
        stages=stages,
        timeline=tuple(timeline),
        batches=_batches(campaign, batch_of, finished, deferred_in, deferred_out),
        remedial=remedial_summary(len(remedial_units), rounds),
        time_in_stage={
            stage: StageTime(
                median_days=round(percentile(sorted(days), 0.5), 6),
                p90_days=round(percentile(sorted(days), 0.9), 6),
                units=len(days),
            )
            for stage, days in sorted(stays.items())
        },
        blocking=top_blocking(blocking),
        audit_head=head,
    )


def remedial_summary(units: int, rounds: Mapping[str, int]) -> RemedialSummary:
    """``units`` sent back at least once and the ``rounds`` of remediation per stage."""
    return RemedialSummary(
        units=units, rounds=sum(rounds.values()), by_stage=dict(sorted(rounds.items()))
    )


def top_blocking(counts: Mapping[tuple[str, str], int]) -> tuple[BlockingReason, ...]:
    """The ``TOP_BLOCKING`` most frequent ``(code, stage)`` refusals; ties by code, stage.

    Both modes rank through here, so an exact and a fast run of one scenario list their
    blocking reasons in the same order.
    """
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_BLOCKING]
    return tuple(BlockingReason(code=code, stage=stage, count=n) for (code, stage), n in ranked)


def _batches(
    campaign: Campaign,
    batch_of: Mapping[str, int],
    finished: Mapping[str, date],
    deferred_in: Mapping[int, int],
    deferred_out: Mapping[int, int],
) -> tuple[BatchOutcome, ...]:
    members: dict[int, list[str]] = {}
    for uid, batch in batch_of.items():
        members.setdefault(batch, []).append(uid)
    windows = {w.number: w for w in campaign.workflow.batches}
    outcomes = []
    for number in sorted(set(windows) | set(members)):
        uids = members.get(number, [])
        window = windows.get(number)
        done = [finished[u] for u in uids if u in finished]
        if window is not None:
            opens, closes = window.opens, window.closes
        else:
            # A batch the workflow does not date: its units' own span stands for the window.
            opens = closes = max(done) if done else date.min
        on_time = sum(1 for d in done if d <= closes)
        outcomes.append(
            BatchOutcome(
                batch=number,
                units=len(uids),
                window_start=opens,
                window_end=closes,
                completed_on=max(done) if uids and len(done) == len(uids) else None,
                on_time_share=round(on_time / len(uids), 6) if uids else 0.0,
                deferred_in=deferred_in.get(number, 0),
                deferred_out=deferred_out.get(number, 0),
            )
        )
    return tuple(outcomes)
