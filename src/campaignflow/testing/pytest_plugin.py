"""The campaignflow pytest plugin: fixtures for testing a campaign, registered when installed.

Fixtures (each function-scoped):

- ``clock``: a :class:`~campaignflow.SimulatedClock` on the start day (2005-01-10 unless a
  ``campaign`` marker says otherwise); move it with ``clock.advance(days=30)``.
- ``campaign``: a fresh in-memory :class:`~campaignflow.Campaign` on the preset the marker
  names (``district_2005`` by default), reading ``clock``.
- ``sqlite_campaign``: the same on a SQLite file in the test's temporary directory.
- ``fast_forward``: ``fast_forward(scenario, days=90)`` plays a scenario's behaviour models
  forward through the simulator (exact mode, the real campaign) and returns the result and
  the campaign.

Choose the workflow and the start day per test or module with the marker::

    @pytest.mark.campaign(preset="no_stages_2019", start=date(2019, 6, 1))
    def test_something(campaign, clock): ...

    @pytest.mark.campaign(workflow=my_workflow)

The plugin imports campaignflow only inside the fixtures, so loading it costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from campaignflow import Campaign, SimulatedClock, Workflow
    from campaignflow.simulation import Scenario, SimulationResult

__all__ = ["FastForward", "Forwarded", "campaign", "clock", "fast_forward", "sqlite_campaign"]

#: The day the ``clock`` fixture starts on: inside batch 1 of the 2005 presets.
DEFAULT_START = date(2005, 1, 10)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``campaign`` marker (the suite may run with --strict-markers)."""
    config.addinivalue_line(
        "markers",
        "campaign(preset=None, workflow=None, start=None): the workflow (a preset name or a "
        "Workflow) and the start day of the campaignflow fixtures",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("campaign")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - {"preset", "workflow", "start"}
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.campaign: unknown option(s) {', '.join(sorted(unknown))}; "
            "use preset=, workflow= or start="
        )
    return options


def _workflow(request: pytest.FixtureRequest) -> Workflow:
    import campaignflow as cf

    options = _options(request)
    workflow = options.get("workflow")
    if workflow is not None:
        if not isinstance(workflow, cf.Workflow):
            raise pytest.UsageError(
                f"@pytest.mark.campaign: workflow must be a campaignflow.Workflow, got {workflow!r}"
            )
        return workflow
    return cf.presets.load(options.get("preset", "district_2005"))


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> SimulatedClock:
    """A simulated clock on the start day; it only moves forward (``advance``, ``set``)."""
    import campaignflow as cf

    start = _options(request).get("start", DEFAULT_START)
    return cf.SimulatedClock(start)


@pytest.fixture
def campaign(request: pytest.FixtureRequest, clock: SimulatedClock) -> Iterator[Campaign]:
    """A fresh in-memory campaign on the marker's workflow (district_2005), reading ``clock``."""
    import campaignflow as cf

    with cf.Campaign(_workflow(request), clock=clock) as camp:
        yield camp


@pytest.fixture
def sqlite_campaign(
    request: pytest.FixtureRequest, clock: SimulatedClock, tmp_path: Path
) -> Iterator[Campaign]:
    """A fresh campaign on a SQLite file (``tmp_path / "campaign.db"``), reading ``clock``."""
    import campaignflow as cf

    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    with cf.Campaign(_workflow(request), url, clock=clock) as camp:
        yield camp


class Forwarded:
    """What :class:`FastForward` played: the simulation's result and the campaign it drove.

    ``result`` is a :class:`~campaignflow.simulation.SimulationResult`; ``campaign`` the real
    campaign (states, history, audit) as it stood on ``result.end``.
    """

    __slots__ = ("campaign", "result")

    def __init__(self, result: SimulationResult, campaign: Campaign) -> None:
        self.result = result
        self.campaign = campaign

    def __repr__(self) -> str:
        return (
            f"<Forwarded {self.result.scenario!r} to {self.result.end}: {self.result.units} units>"
        )

    def finished(self, *, batch: int | None = None) -> int:
        """How many units (of ``batch``) reached a final stage."""
        return self.campaign.progress(batch=batch).finished


class FastForward:
    """``fast_forward(scenario, days=N)``: play a scenario's behaviour models forward N days.

    ``scenario`` is a :class:`~campaignflow.simulation.Scenario`, a scenario TOML path, or
    None for a small district (20 units over the three 2005 batches). The run goes through
    the simulator's exact mode — the real ``Campaign`` day by day on a simulated clock, same
    guards, same audit chain — and stops after ``days`` days (or when every unit finished).
    ``seed`` overrides the scenario's; ``store`` is a URL or store (memory by default);
    ``host`` the campaign's host data (see ``simulate``: recipes' host data is merged per unit).
    """

    def __init__(self) -> None:
        self._opened: list[Campaign] = []

    def __repr__(self) -> str:
        return "<fast_forward>"

    def __call__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        days: int,
        seed: int | None = None,
        store: Any = None,
        host: Any = None,
    ) -> Forwarded:
        import attrs

        from campaignflow._words.checks import refuse
        from campaignflow.simulation import Scenario, load_scenario
        from campaignflow.simulation.exact import simulate_exact

        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            refuse("fast_forward", days, "days must be a whole number >= 0")
        if scenario is None:
            scenario = default_scenario()
        elif isinstance(scenario, str | Path):
            scenario = load_scenario(scenario)
        if not isinstance(scenario, Scenario):
            refuse("fast_forward", scenario, "scenario must be a Scenario, a file path or None")
        last = scenario.start + timedelta(days=days)
        if scenario.end is None or scenario.end > last:
            scenario = attrs.evolve(scenario, end=last)
        result, camp = simulate_exact(scenario, seed=seed, store=store, host=host)
        self._opened.append(camp)
        return Forwarded(result, camp)

    def close(self) -> None:
        """Close every campaign this helper opened."""
        for camp in self._opened:
            camp.close()
        self._opened.clear()


def default_scenario() -> Scenario:
    """The scenario ``fast_forward`` plays when given none: a small district, seed 2005."""
    from campaignflow.simulation import Scenario

    return Scenario.from_dict(
        {
            "name": "fast-forward",
            "seed": 2005,
            "workflow": "district_2005",
            "start": "2005-01-01",
            "batches": [
                {"number": 1, "opens": "2005-01-01", "closes": "2005-06-30", "kinds": ["organ"]},
                {
                    "number": 2,
                    "opens": "2005-07-01",
                    "closes": "2005-12-31",
                    "kinds": ["community", "school"],
                },
                {"number": 3, "opens": "2006-01-01", "closes": "2006-06-30", "kinds": ["village"]},
            ],
            "roster": {"counts": {"organ": 6, "community": 5, "school": 4, "village": 5}},
        },
        source="<fast_forward default>",
    )


@pytest.fixture
def fast_forward() -> Iterator[FastForward]:
    """Play behaviour models forward through the simulator: ``fast_forward(scenario, days=N)``.

    ``fast_forward(scenario=None, *, days, seed=None, store=None, host=None)`` returns a ``Forwarded``
    (``.result``, ``.campaign``); every campaign it opened is closed after the test.
    """
    helper = FastForward()
    yield helper
    helper.close()
