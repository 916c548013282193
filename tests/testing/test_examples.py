"""The guide's example test files run as their own pytest sessions and pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSING = ["test_custom_guard.py", "test_workflow_paths.py", "test_fast_forward.py"]


@pytest.mark.slow
@pytest.mark.parametrize("name", PASSING)
def test_example_passes_in_its_own_session(name: str) -> None:
    """``python -m pytest examples/testing/NAME`` passes, with the plugin from the entry point."""
    run = _pytest_session(f"examples/testing/{name}", timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    if name == "test_workflow_paths.py":
        assert "transitions: 16/16 covered" in run.stdout


@pytest.mark.slow
def test_the_oa_custom_gate_example_passes() -> None:
    """``python -m pytest examples/oa_custom_gate``: the host-reading gate is property-tested,
    the machine reaches accepted covering every transition, the path cover covers every
    transition and ``campaignflow simulate`` finishes every unit."""
    run = _pytest_session("examples/oa_custom_gate", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "path cover: 16/16 transitions covered" in run.stdout
    assert "machine: 16/16 transitions covered" in run.stdout
    assert (
        "simulation (exact): 24/24 units reached the gate, 24 passed it, 24 finished" in run.stdout
    )
    assert (
        "simulation (fast): 24/24 units reached the gate, 24 passed it, 24 finished" in run.stdout
    )


def _pytest_session(target: str, *, timeout: int) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q -s TARGET`` run from the repository root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", target],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
