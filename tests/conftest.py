"""Options for the whole suite: how hard the crash harness pushes.

The default suite runs a few kills per engine so it stays fast; CI runs the harness alone at
full size::

    python -m pytest tests/store/test_crash.py --crash-kills-sqlite 300 --crash-kills-pg 100
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the crash harness's sizes."""
    group = parser.getgroup("campaignflow", "campaignflow test sizes")
    group.addoption(
        "--crash-kills-sqlite",
        type=int,
        default=25,
        metavar="N",
        help="SIGKILLs of a child writing to one SQLite file (tests/store/test_crash.py); "
        "default 25, CI runs 300",
    )
    group.addoption(
        "--crash-kills-pg",
        type=int,
        default=10,
        metavar="N",
        help="SIGKILLs of a child writing to PostgreSQL (tests/store/test_crash.py); "
        "default 10, CI runs 100",
    )
