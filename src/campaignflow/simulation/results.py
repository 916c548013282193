"""Results as data: what a simulated (or real) campaign did, ready for tables, charts and JSON.

Every record is a frozen attrs class; :meth:`SimulationResult.to_json` is canonical (sorted
keys, UTF-8 characters kept, compact separators, floats rounded to 6 places), so the same
scenario and seed give byte-identical text in any process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
import cattrs

from campaignflow.errors import ValidationError

__all__ = [
    "BatchOutcome",
    "BlockingReason",
    "RemedialSummary",
    "SimulationFallback",
    "SimulationResult",
    "StageTime",
    "TimelinePoint",
]


class SimulationFallback(UserWarning):
    """Fast mode was asked for but cannot run; the simulation ran in exact mode instead.

    This is the one public warning class (``campaignflow.simulation.SimulationFallback``);
    it imports without numpy, so fast mode re-uses it rather than defining its own.

    The message says why: a workflow shape fast mode does not model (named), or numpy
    missing (``pip install 'campaignflow[sim]'``).
    """


def _six(value: float) -> float:
    # Results carry what to_json writes: a result read back from JSON equals the one written,
    # whichever mode produced it.
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 6)
    return value


@attrs.frozen
class TimelinePoint:
    """Units per stage of one batch at the end of ``day`` (every stage listed, zeros included).

    A batch has a point on the day its first unit appears and on every day its counts
    change; between two points its counts are those of the earlier one.
    """

    day: date
    batch: int
    counts: dict[str, int]


@attrs.frozen
class BatchOutcome:
    """How one batch went.

    ``units``: units in the batch at the end (deferred units count in the batch they moved
    to). ``completed_on``: the day its last unit was accepted (None while any is unfinished).
    ``on_time_share``: share of its units finished by ``window_end`` (0.0 for an empty batch),
    rounded to 6 places.
    ``deferred_in`` / ``deferred_out``: units moved into / out of it.
    """

    batch: int
    units: int
    window_start: date
    window_end: date
    completed_on: date | None
    on_time_share: float = attrs.field(converter=_six)
    deferred_in: int
    deferred_out: int


@attrs.frozen
class RemedialSummary:
    """Make-up (补课): ``units`` that went to make-up at least once, ``rounds`` in all.

    ``by_stage`` counts rounds by the stage being made up (``remedial_of``).
    """

    units: int
    rounds: int
    by_stage: dict[str, int]


@attrs.frozen
class StageTime:
    """Days units spent in a stage: median and 90th percentile over ``units`` finished stays.

    A stay lasts from entering the stage to leaving it; a stay not yet left is not counted.
    Percentiles interpolate linearly between order statistics (numpy's default).
    """

    median_days: float = attrs.field(converter=_six)
    p90_days: float = attrs.field(converter=_six)
    units: int = 0


@attrs.frozen
class BlockingReason:
    """A failing gate code, the stage it held units in, and how many times it did."""

    code: str
    stage: str
    count: int


@attrs.frozen
class SimulationResult:
    """What a campaign did, as data: timeline, batches, make-up, time per stage, blockers.

    ``audit_head`` is the hash of the last audit record (exact mode and real campaigns;
    None in fast mode).
    """

    scenario: str
    seed: int
    mode: str
    workflow: str
    units: int
    start: date
    end: date
    stages: tuple[str, ...]
    timeline: tuple[TimelinePoint, ...]
    batches: tuple[BatchOutcome, ...]
    remedial: RemedialSummary
    time_in_stage: dict[str, StageTime]
    blocking: tuple[BlockingReason, ...]
    audit_head: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able data (dates as ISO text)."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, UTF-8 kept, compact, floats rounded to 6 places."""
        return json.dumps(
            _rounded(self.to_dict()),
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
            allow_nan=False,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationResult:
        """A result from :meth:`to_dict` output (or parsed :meth:`to_json` text).

        Raises:
            ValidationError: the data is not a result.
        """
        try:
            return _converter.structure(data, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            raise ValidationError(code="simulation.unreadable", params={"exc": str(exc)}) from None

    def final_counts(self) -> dict[str, int]:
        """Units per stage over every batch at the end of the run."""
        last: dict[int, dict[str, int]] = {}
        for point in self.timeline:
            last[point.batch] = point.counts
        total: dict[str, int] = dict.fromkeys(self.stages, 0)
        for counts in last.values():
            for stage, n in counts.items():
                total[stage] = total.get(stage, 0) + n
        return total


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(code="simulation.not_finite", params={"value": repr(value)})
        rounded = round(value, 6)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


_converter = cattrs.Converter()
_converter.register_unstructure_hook(date, lambda d: d.isoformat())
_converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
