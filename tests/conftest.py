"""Options and sizes for the whole suite (tests/README.md lists every size flag).

The default run deselects ``@pytest.mark.slow`` (``addopts`` in pyproject.toml); CI then runs
``python -m pytest -m slow`` with its full sizes. A property test that is slow only because of
its example count is marked ``@pytest.mark.sized(default=N)`` instead: it runs twice, once in
the default run with N examples (``[default-size]``) and once, marked slow, at the size its own
``@settings`` or size variable gives (``[full-size]``), so CI still runs it at full size.

The crash harness's sizes are options::

    python -m pytest -m slow --crash-kills-sqlite=300 --crash-kills-pg=100
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the crash harness's sizes."""
    group = parser.getgroup("campaignflow", "campaignflow test sizes")
    group.addoption(
        "--crash-kills-sqlite",
        type=int,
        default=25,
        metavar="N",
        help="SIGKILLs of a child writing to one SQLite file (tests/store/test_crash.py); "
        "default 25, CI runs 300 (slow: add -m slow)",
    )
    group.addoption(
        "--crash-kills-pg",
        type=int,
        default=10,
        metavar="N",
        help="SIGKILLs of a child writing to PostgreSQL (tests/store/test_crash.py); "
        "default 10, CI runs 100 (slow: add -m slow)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Split each ``@pytest.mark.sized(default=N)`` test into a default-size and a slow full-size run."""
    mark = metafunc.definition.get_closest_marker("sized")
    if mark is None:
        return
    default = mark.kwargs["default"]
    metafunc.parametrize(
        "size",
        [
            pytest.param(default, id="default-size"),
            pytest.param(None, id="full-size", marks=pytest.mark.slow),
        ],
        indirect=True,
    )


@pytest.fixture(autouse=True)
def size(request: pytest.FixtureRequest) -> Iterator[int | None]:
    """A sized test's size in its default-size run; None at full size and for other tests.

    A hypothesis test runs its default-size run with ``max_examples`` set to that size: its
    ``@settings`` stay as written (the full size) and are swapped only for the one call.
    Hypothesis keeps a test's settings on the function as ``_hypothesis_internal_use_settings``
    (it is where ``@settings`` puts them and where ``@given`` reads them at call time).
    """
    examples: int | None = getattr(request, "param", None)
    test = request.function
    written = getattr(test, "_hypothesis_internal_use_settings", None)
    if examples is None or written is None:
        yield examples
        return
    test._hypothesis_internal_use_settings = settings(written, max_examples=examples)
    try:
        yield examples
    finally:
        test._hypothesis_internal_use_settings = written
