"""Exact mode gives, seed for seed, the summaries the day-by-day loop gave before it.

``data/exact_golden.json`` was written by the day-by-day simulator (main at 875d5c1, before
exact mode scheduled its visits and wrote its database once): for each run, the SHA-256 of
its summary JSON without ``audit_head`` (keys sorted, compact), and the audit head apart.
The summary must stay byte-identical; the head also pins every audited command, in order
(it changes only if the audit record's encoding does: then write the file again with the
``_entry`` below from the commit that changed it, after checking the summaries still match).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from campaignflow.simulation import SimulationResult
from campaignflow.simulation.exact import simulate_exact
from tests.simulation.conftest import district_run, small_scenario

GOLDEN: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).parent / "data" / "exact_golden.json").read_text(encoding="utf-8")
)


def _entry(result: SimulationResult) -> dict[str, Any]:
    data = json.loads(result.to_json())
    head = data.pop("audit_head")
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return {
        "audit_head": head,
        "summary_sha256": hashlib.sha256(body.encode()).hexdigest(),
        "end": data["end"],
    }


def _run(name: str) -> SimulationResult:
    if name == "district":
        return district_run()[1]
    seed = int(name.removeprefix("small-"))
    return simulate_exact(small_scenario(), seed=seed)[0]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_summary_and_chain_are_the_day_by_day_loops(name: str) -> None:
    """Same seed, same summary, byte for byte (its hash without the audit head); and the
    same commands in the same order (the chain ends on the same hash)."""
    found = _entry(_run(name))
    assert found["summary_sha256"] == GOLDEN[name]["summary_sha256"]
    assert found["end"] == GOLDEN[name]["end"]
    assert found["audit_head"] == GOLDEN[name]["audit_head"]
