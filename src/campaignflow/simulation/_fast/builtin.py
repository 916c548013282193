"""The bulk forms of the built-in guards, registered in :data:`.bulk.bulk_registry`.

Each agrees exactly with the scalar guard of the same name (same pass/fail, same verdict
code, for every unit); rates are compared exactly, as the scalar guards compare them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from campaignflow.guards._builtin import exact_rate
from campaignflow.simulation._fast.bulk import (
    APPROVAL_APPROVED,
    APPROVAL_REJECTED,
    BoolArray,
    BulkFacts,
    BulkVerdict,
    IntArray,
    bulk_guard,
)

__all__: list[str] = []


# --- exact rate comparisons -------------------------------------------------------------


def _ratio_at_least(num: IntArray, den: IntArray, rate: float) -> BoolArray:
    """num / den >= rate exactly (den > 0), in int64 when it cannot overflow."""
    # The rate as written, exactly as the scalar guards read it (0.6 is 3/5).
    p, q = exact_rate(rate)
    top = int(max(int(num.max(initial=0)), int(den.max(initial=0))))
    if top * max(p, q, 1) < 2**62:
        return np.asarray(num * q >= den * p, dtype=np.bool_)
    # Huge denominators (a rate written with many digits): Python integers, still exact.
    return np.fromiter(
        (int(a) * q >= int(b) * p for a, b in zip(num.tolist(), den.tolist(), strict=True)),
        dtype=np.bool_,
        count=num.shape[0],
    )


def _ratio_at_most(num: IntArray, den: IntArray, rate: float) -> BoolArray:
    """num / den <= rate exactly (den > 0)."""
    # The rate as written, exactly as the scalar guards read it (0.6 is 3/5).
    p, q = exact_rate(rate)
    top = int(max(int(num.max(initial=0)), int(den.max(initial=0))))
    if top * max(p, q, 1) < 2**62:
        return np.asarray(num * q <= den * p, dtype=np.bool_)
    return np.fromiter(
        (int(a) * q <= int(b) * p for a, b in zip(num.tolist(), den.tolist(), strict=True)),
        dtype=np.bool_,
        count=num.shape[0],
    )


# --- the built-in guards in bulk -------------------------------------------------------


@bulk_guard("min_study_hours")
def min_study_hours(facts: BulkFacts, *, hours: float = 40) -> BulkVerdict:
    """Bulk ``min_study_hours``: hours logged in the stage >= ``hours``."""
    passed = facts._zeros_f(facts.study_hours) >= hours
    return BulkVerdict.from_passed(passed, "study_hours.sufficient", "study_hours.insufficient")


@bulk_guard("min_guided_hours")
def min_guided_hours(facts: BulkFacts, *, hours: float = 24) -> BulkVerdict:
    """Bulk ``min_guided_hours``: guided hours in the stage >= ``hours``."""
    passed = facts._zeros_f(facts.guided_hours) >= hours
    return BulkVerdict.from_passed(passed, "guided_hours.sufficient", "guided_hours.insufficient")


@bulk_guard("min_days_in_stage")
def min_days_in_stage(facts: BulkFacts, *, days: int = 30) -> BulkVerdict:
    """Bulk ``min_days_in_stage``."""
    passed = facts.days_in_stage >= days
    return BulkVerdict.from_passed(
        passed, "days_in_stage.enough", "days_in_stage.too_few", wait=days - facts.days_in_stage
    )


@bulk_guard("min_concentrated_days")
def min_concentrated_days(facts: BulkFacts, *, days: int = 90) -> BulkVerdict:
    """Bulk ``min_concentrated_days``: started, and ``days`` since the start."""
    started = facts.started_on >= 0
    actual = np.where(started, facts.today - facts.started_on, 0)
    passed = started & (actual >= days)
    return BulkVerdict.from_passed(
        passed, "concentrated_days.enough", "concentrated_days.too_few", wait=days - actual
    )


@bulk_guard("within_batch_window")
def within_batch_window(facts: BulkFacts) -> BulkVerdict:
    """Bulk ``within_batch_window``: open, closed, or undefined for the unit's batch."""
    n = facts.size
    code = np.full(n, 2, dtype=np.int8)  # undefined unless the batch has a window
    for number, (opens, closes) in facts.windows.items():
        inside = opens <= facts.today <= closes
        code[facts.batch == number] = 0 if inside else 1
    return BulkVerdict(
        passed=code == 0,
        code=code,
        codes=("batch_window.open", "batch_window.closed", "batch_window.undefined"),
    )


def _milestone_mask(facts: BulkFacts, names: Iterable[str]) -> tuple[int, bool]:
    """The bitmask of ``names``, and whether some name has no bit (never recorded)."""
    mask, unknown = 0, False
    for name in names:
        bit = facts.milestone_bits.get(name)
        if bit is None:
            unknown = True
        else:
            mask |= 1 << bit
    return mask, unknown


@bulk_guard("milestones_done")
def milestones_done(facts: BulkFacts, *, names: tuple[str, ...]) -> BulkVerdict:
    """Bulk ``milestones_done``: every named milestone recorded in the stage."""
    mask, unknown = _milestone_mask(facts, names)
    if unknown:
        passed = np.zeros(facts.size, dtype=np.bool_)
    else:
        done = facts._zeros_i(facts.milestones)
        passed = (done & np.int64(mask)) == np.int64(mask)
    return BulkVerdict.from_passed(passed, "milestones.done", "milestones.missing")


@bulk_guard("coverage_at_least")
def coverage_at_least(facts: BulkFacts, *, milestone: str, rate: float) -> BulkVerdict:
    """Bulk ``coverage_at_least``: the latest coverage report of ``milestone`` >= ``rate``."""
    n = facts.size
    found = facts.coverage.get(milestone)
    if found is None:
        return BulkVerdict(
            passed=np.zeros(n, dtype=np.bool_),
            code=np.full(n, 2, dtype=np.int8),
            codes=("coverage.enough", "coverage.insufficient", "coverage.missing"),
        )
    done, total = found
    reported = total >= 0
    positive = total > 0
    ok = np.zeros(n, dtype=np.bool_)
    if positive.any():
        ok[positive] = _ratio_at_least(done[positive], total[positive], rate)
    code = np.where(reported, np.where(ok, 0, 1), 2).astype(np.int8)
    return BulkVerdict(
        passed=ok, code=code, codes=("coverage.enough", "coverage.insufficient", "coverage.missing")
    )


@bulk_guard("approved_by")
def approved_by(facts: BulkFacts, *, role: str = "supervision_group") -> BulkVerdict:
    """Bulk ``approved_by``: the role's latest decision since the last transition approves."""
    n = facts.size
    state = facts.approvals.get(role)
    if state is None:
        state = np.zeros(n, dtype=np.int64)
    # Codes: granted (approved), missing (no decision), refused (rejected).
    code = np.select(
        [state == APPROVAL_APPROVED, state == APPROVAL_REJECTED], [0, 2], default=1
    ).astype(np.int8)
    return BulkVerdict(
        passed=code == 0,
        code=code,
        codes=("approval.granted", "approval.missing", "approval.refused"),
    )


def _survey(facts: BulkFacts) -> tuple[IntArray, IntArray, BoolArray]:
    ballots = facts._zeros_i(facts.survey_ballots)
    dissatisfied = facts._zeros_i(facts.survey_dissatisfied)
    return dissatisfied, ballots, ballots > 0


def _survey_verdict(ok: BoolArray, recorded: BoolArray, passed: str, failed: str) -> BulkVerdict:
    """A survey gate's verdict: ``passed`` where ``ok``, ``failed`` where not, none unsurveyed."""
    code = np.where(recorded, np.where(ok, 0, 1), 2).astype(np.int8)
    return BulkVerdict(passed=ok, code=code, codes=(passed, failed, "survey.missing"))


@bulk_guard("satisfaction_rate_at_least")
def satisfaction_rate_at_least(facts: BulkFacts, *, rate: float = 0.6) -> BulkVerdict:
    """Bulk ``satisfaction_rate_at_least``: (ballots - dissatisfied) / ballots >= ``rate``."""
    dissatisfied, ballots, recorded = _survey(facts)
    ok = np.zeros(facts.size, dtype=np.bool_)
    if recorded.any():
        b = ballots[recorded]
        ok[recorded] = _ratio_at_least(b - dissatisfied[recorded], b, rate)
    return _survey_verdict(ok, recorded, "satisfaction.enough", "satisfaction.too_low")


@bulk_guard("dissatisfied_rate_at_most")
def dissatisfied_rate_at_most(facts: BulkFacts, *, rate: float = 0.5) -> BulkVerdict:
    """Bulk ``dissatisfied_rate_at_most``: dissatisfied / ballots <= ``rate``."""
    dissatisfied, ballots, recorded = _survey(facts)
    ok = np.zeros(facts.size, dtype=np.bool_)
    if recorded.any():
        ok[recorded] = _ratio_at_most(dissatisfied[recorded], ballots[recorded], rate)
    return _survey_verdict(ok, recorded, "dissatisfied.within_limit", "dissatisfied.too_many")


@bulk_guard("survey_recorded")
def survey_recorded(facts: BulkFacts) -> BulkVerdict:
    """Bulk ``survey_recorded``: a survey since the unit's last transition."""
    _, _, recorded = _survey(facts)
    return BulkVerdict.from_passed(recorded, "survey.recorded", "survey.missing")
