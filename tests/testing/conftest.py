"""The testing kit's tests: sizes come from the environment so CI can raise them.

``CF_STRATEGY_EXAMPLES`` (default 500): examples per strategy validity test.
``CF_PLANTED_SEEDS`` (default ``0``): seeds of the planted-bug measurement.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]


def strategy_examples() -> int:
    """How many examples each strategy test draws."""
    return int(os.environ.get("CF_STRATEGY_EXAMPLES", "500"))


def planted_seeds() -> list[int]:
    """Seeds of the planted-bug runs."""
    return [int(s) for s in os.environ.get("CF_PLANTED_SEEDS", "0").split(",") if s.strip()]


@pytest.fixture
def examples() -> int:
    """How many examples each strategy test draws (``CF_STRATEGY_EXAMPLES``)."""
    return strategy_examples()
