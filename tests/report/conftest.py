"""Fixtures for the report tests: a small simulated result, and the CI rule for fonts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campaignflow.simulation import SimulationResult, load_scenario, simulate

SMALL = Path(__file__).parents[1] / "cli" / "small_district.toml"


def in_ci() -> bool:
    """True when running in CI, where nothing the report needs may be skipped."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def need(found: object, what: str, install: str) -> None:
    """Skip locally, fail in CI, when ``found`` is falsy."""
    if found:
        return
    message = f"{what} is not installed; {install}"
    if in_ci():
        pytest.fail(f"must run in CI: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def small_result() -> SimulationResult:
    """The dozen-unit district scenario, simulated in exact mode (in memory)."""
    return simulate(load_scenario(SMALL), mode="exact")
