"""What-if: two scenarios (or one and a changed copy) played with the same seed, side by side.

``compare("a.toml", settings={"workflow_overrides.satisfaction_rate_at_least.rate": 0.7})``
plays the district campaign with the gate at 60 % and at 70 %, with the same seed, and
returns both results with the per-batch differences a planner asks about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import attrs

from campaignflow._words.checks import refuse
from campaignflow.errors import ValidationError
from campaignflow.simulation._run import simulate
from campaignflow.simulation._settings import with_settings
from campaignflow.simulation.results import SimulationResult
from campaignflow.simulation.scenario import Scenario, load_scenario

__all__ = ["BatchDelta", "Comparison", "compare"]


@attrs.frozen
class BatchDelta:
    """One batch in both runs: completion day, on-time share, and B's difference from A.

    ``days_later``: B's completion minus A's, in days (None when either never completed).
    """

    batch: int
    window_end: date
    completed_a: date | None
    completed_b: date | None
    days_later: int | None
    on_time_a: float
    on_time_b: float


@attrs.frozen
class Comparison:
    """Two results of the same seed: ``a`` (the base) and ``b`` (the what-if).

    ``label_a`` / ``label_b`` say what each is (a file name, or ``+ key=value`` settings);
    ``settings`` are the key paths changed from A to make B (empty when B is its own file).
    """

    label_a: str
    label_b: str
    seed: int
    settings: dict[str, Any]
    a: SimulationResult
    b: SimulationResult

    def batches(self) -> tuple[BatchDelta, ...]:
        """Each batch of A (and of B) with both completion days and on-time shares."""
        mine = {o.batch: o for o in self.a.batches}
        theirs = {o.batch: o for o in self.b.batches}
        out = []
        for number in sorted(set(mine) | set(theirs)):
            x, y = mine.get(number), theirs.get(number)
            done_a = x.completed_on if x else None
            done_b = y.completed_on if y else None
            out.append(
                BatchDelta(
                    batch=number,
                    window_end=(x or y).window_end,  # type: ignore[union-attr]
                    completed_a=done_a,
                    completed_b=done_b,
                    days_later=(done_b - done_a).days if done_a and done_b else None,
                    on_time_a=x.on_time_share if x else 0.0,
                    on_time_b=y.on_time_share if y else 0.0,
                )
            )
        return tuple(out)

    def blocking(self, top: int = 8) -> tuple[tuple[str, str, int, int], ...]:
        """``(code, stage, count in A, count in B)`` for the gates that held units most."""
        counts: dict[tuple[str, str], list[int]] = {}
        for side, reasons in enumerate((self.a.blocking, self.b.blocking)):
            for r in reasons:
                counts.setdefault((r.code, r.stage), [0, 0])[side] += r.count
        ranked = sorted(counts.items(), key=lambda kv: (-max(kv[1]), kv[0]))
        return tuple((code, stage, a, b) for (code, stage), (a, b) in ranked[:top])

    def to_dict(self) -> dict[str, Any]:
        """Both results and the labels as plain JSON-able data."""
        return {
            "label_a": self.label_a,
            "label_b": self.label_b,
            "seed": self.seed,
            "settings": {k: _plain(v) for k, v in self.settings.items()},
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
        }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _load(scenario: Scenario | str | Path, field: str) -> Scenario:
    if isinstance(scenario, str | Path):
        return load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        refuse(field, scenario, "must be a Scenario or a file path")
    return scenario


def _label(scenario: Scenario | str | Path, loaded: Scenario) -> str:
    return Path(scenario).name if isinstance(scenario, str | Path) else loaded.name


def compare(
    a: Scenario | str | Path,
    b: Scenario | str | Path | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    seed: int | None = None,
    mode: Literal["exact", "fast", "auto"] = "auto",
) -> Comparison:
    """Play ``a`` and ``b`` with the same seed and return both results, side by side.

    Args:
        a: the base scenario (a :class:`Scenario` or a scenario file path).
        b: the what-if scenario; by default ``a`` itself, changed by ``settings``.
        settings: key paths and values changed in B (see :func:`with_settings`), e.g.
            ``{"workflow_overrides.satisfaction_rate_at_least.rate": 0.7}``.
        seed: the seed of both runs (A's own seed by default); a ``seed`` setting gives B
            its own (to see how much of a difference is chance).
        mode: as :func:`simulate`'s; both runs use it.

    Raises:
        ValidationError: a bad scenario or setting, or neither ``b`` nor ``settings``
            (code ``simulation.compare_nothing``).
    """
    base = _load(a, "a")
    if b is None and not settings:
        raise ValidationError(code="simulation.compare_nothing", params={})
    other = base if b is None else _load(b, "b")
    changed = dict(settings or {})
    if changed:
        other = with_settings(other, changed)
    first = base.seed if seed is None else seed
    # B runs with A's seed, so only what B changed differs; unless the change *is* the seed.
    result_a = simulate(base, seed=first, mode=mode)
    result_b = simulate(other, seed=other.seed if "seed" in changed else first, mode=mode)
    label_b = _label(b, other) if b is not None else _label(a, base)
    if changed:
        label_b += " + " + ", ".join(f"{k}={_plain(v)}" for k, v in changed.items())
    return Comparison(
        label_a=_label(a, base),
        label_b=label_b,
        seed=first,
        settings=changed,
        a=result_a,
        b=result_b,
    )
