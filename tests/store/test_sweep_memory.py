"""A big sweep on SQLite holds a few bytes per unit, not a decision per unit (slow: sized).

``CF_SWEEP_MEMORY_UNITS`` sets the size (default 20,000; ``benchmarks/sweep_memory.py``
measures the peak RSS at issue 18's 1,000,000).
"""

from __future__ import annotations

import os
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf

UNITS = int(os.environ.get("CF_SWEEP_MEMORY_UNITS", "20000"))
#: Python heap a sweep may hold per unit moved, with both sweeps' outcomes kept (an
#: outcome with its decision took about 1,500 bytes).
PER_UNIT_BYTES = 150
#: What a sweep may hold whatever its size: a page of outcomes, memos, the store's buffers.
FIXED_BYTES = 8_000_000


def _workflow() -> cf.Workflow:
    return cf.Workflow(
        name="sweep_memory",
        stages=[
            cf.Stage(id="pending", kind="waiting"),
            cf.Stage(id="work"),
            cf.Stage(id="done", kind="final"),
        ],
        transitions=[
            cf.Transition(source=("pending",), dest="work", trigger="start"),
            cf.Transition(source=("work",), dest="done"),
        ],
    )


@pytest.mark.slow
def test_a_big_sweep_keeps_its_heap_flat(tmp_path: Path) -> None:
    """start_batch + advance_all of UNITS units: the Python heap's peak stays near a page's."""
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    camp = cf.Campaign(_workflow(), store=url, clock=cf.FixedClock(date(2005, 3, 1)))
    camp.add_units(
        cf.Unit(id=f"u{i:07d}", name=f"unit {i}", kind="organ", batch=1) for i in range(UNITS)
    )
    tracemalloc.start()
    try:
        started = camp.start_batch(1, actor=cf.Actor(id="leader", roles={"leading_group"}))
        advanced = camp.advance_all()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (started.summary.advanced, advanced.summary.advanced) == (UNITS, UNITS)
    assert peak <= FIXED_BYTES + PER_UNIT_BYTES * UNITS, f"{peak:,} bytes at {UNITS:,} units"
    assert advanced[-1].record is not None
    assert advanced[-1].record.dest == "done"
    camp.close()
