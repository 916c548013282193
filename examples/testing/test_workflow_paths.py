"""Path coverage: play every transition of a workflow through a real campaign, then report.

Run with ``python -m pytest -s examples/testing/test_workflow_paths.py``. ``covering_paths``
gives one path per transition not yet taken, each step with the facts that make its gates
pass; ``walk`` plays a path on the ``campaign`` fixture (the plugin's, on the ``clock``
fixture); the last test asserts the paths taken covered the workflow and prints the report.
"""

from __future__ import annotations

import pytest

import campaignflow as cf
from campaignflow.testing import Path, assert_covers, covering_paths, walk

WORKFLOW = cf.presets.district_2005()
TAKEN: list[cf.TransitionRecord] = []


@pytest.mark.parametrize("path", covering_paths(WORKFLOW), ids=lambda p: p.id)
def test_path(path: Path, campaign: cf.Campaign, clock: cf.SimulatedClock) -> None:
    """The unit goes exactly where the path says, and the audit chain holds."""
    campaign.add_units([cf.Unit(id="fin-01", name="财政局支部", kind="organ", batch=1)])
    TAKEN.extend(walk(campaign, "fin-01", path, clock=clock))
    assert campaign.state("fin-01").stage == path.end
    assert campaign.verify_audit().ok


def test_every_transition_was_taken() -> None:
    """Run last: every transition of the district preset was taken by some path above."""
    report = assert_covers(WORKFLOW, TAKEN)
    print(report.report())
    assert not report.missing
