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
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
            f"examples/testing/{name}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    if name == "test_workflow_paths.py":
        assert "transitions: 16/16 covered" in run.stdout


@pytest.mark.slow
def test_the_oa_custom_gate_example_passes() -> None:
    """``python -m pytest examples/oa_custom_gate``: the host-reading gate is property-tested,
    the machine reaches accepted covering every transition, the path cover covers every
    transition and ``campaignflow simulate`` finishes every unit."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
            "examples/oa_custom_gate",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "path cover: 16/16 transitions covered" in run.stdout
    assert "machine: 16/16 transitions covered" in run.stdout
    assert "simulation: 24/24 units finished" in run.stdout
