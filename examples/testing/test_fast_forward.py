"""Fast-forward a batch: does batch 2 finish by the end of December if approvals take two weeks?

Run with ``python -m pytest examples/testing/test_fast_forward.py``. ``fast_forward`` is the
plugin's fixture: it plays the scenario's behaviour models (study hours, surveys, approval
delays) through the simulator's exact mode — the real campaign, day by day — for ``days``.
"""

from __future__ import annotations

from datetime import date

import attrs

from campaignflow.simulation import Scenario
from campaignflow.testing.pytest_plugin import FastForward, default_scenario


def slow_approvals(days: int) -> Scenario:
    """The plugin's default district with approvals taking ``days`` days."""
    base = default_scenario()
    return attrs.evolve(
        base, behaviour=attrs.evolve(base.behaviour, approval_delay_days=(days, days))
    )


DECEMBER_31 = (date(2005, 12, 31) - date(2005, 1, 1)).days


def test_batch_two_finishes_by_december_when_approvals_are_quick(fast_forward: FastForward) -> None:
    """Approvals within a day: every batch-2 unit is accepted by 31 December."""
    run = fast_forward(slow_approvals(1), days=DECEMBER_31)
    batch2 = next(b for b in run.result.batches if b.batch == 2)
    assert batch2.units == 9
    assert run.finished(batch=2) == 9
    assert batch2.completed_on is not None
    assert batch2.completed_on <= date(2005, 12, 31)


def test_two_week_approvals_miss_december(fast_forward: FastForward) -> None:
    """The answer to the question: no. Two weeks per approval, four transitions, and batch 2
    is still short of acceptance on 31 December; the timeline says where units stand."""
    run = fast_forward(slow_approvals(14), days=DECEMBER_31)
    batch2 = next(b for b in run.result.batches if b.batch == 2)
    assert batch2.completed_on is None
    assert run.finished(batch=2) < 9
    stages = run.campaign.progress(batch=2).by_batch[2]
    print(f"batch 2 on 31 December with 14-day approvals: {stages}")
    assert stages.get("closing", 0) + stages.get("rectification", 0) > 0
