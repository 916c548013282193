"""Exact mode plays only the days with something to do, and wakes a unit only when it is due.

A unit whose start gate fails waits for the first day its gate says it may pass
(``Decision.earliest``) instead of trying every day; a gate that declares no dates is still
tried every day (``Decision.rejudge``). Either way the run is the one daily tries give.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.guards import Earliest
from campaignflow.simulation import Scenario, SimulationResult
from campaignflow.simulation.exact import simulate_exact
from tests.simulation.conftest import small_scenario

DAILY = "test_event_ready_daily"  # declares no dates: judged afresh every day
DATED = "test_event_ready_dated"  # says from which day it passes
JUDGED: dict[str, int] = {DAILY: 0, DATED: 0}


def _ready(name: str) -> Any:
    def ready(ctx: cf.GuardContext, *, on: str) -> cf.Verdict:
        JUDGED[name] += 1
        passed = ctx.today >= date.fromisoformat(on)
        return cf.Verdict(name, passed, "ready.yes" if passed else "ready.not_yet", {})

    return ready


def _dates(ctx: cf.GuardContext, params: Any, passed: bool) -> Earliest:
    return Earliest.on_and_after(date.fromisoformat(params["on"]))


@pytest.fixture(scope="module")
def guards() -> None:
    messages = {
        "ready.yes": {"zh_CN": "可以开始", "en": "ready"},
        "ready.not_yet": {"zh_CN": "尚未到开始日期", "en": "not yet"},
    }
    if DAILY not in cf.guards.registry:
        cf.guard(DAILY, messages=messages)(_ready(DAILY))
    if DATED not in cf.guards.registry:
        cf.guard(DATED, messages=messages, earliest=_dates)(_ready(DATED))


def _gated(tmp_path: Path, guard: str, on: str) -> Scenario:
    data = cf.presets.district_2005().to_dict()
    for t in data["transitions"]:
        if t.get("trigger") == "start":
            t["guards"].append({"guard": guard, "on": on})
    path = tmp_path / f"{guard}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    roster = small_scenario().to_dict()["roster"]
    roster["counts"] = {"organ": 4, "community": 3, "village": 3}
    return small_scenario(workflow=str(path), roster=roster)


def _without_head(result: SimulationResult) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.to_json())
    data.pop("audit_head")
    return data


@pytest.mark.parametrize(
    "on",
    [
        "2005-03-10",  # holds inside batch 1's window: started that day
        "2005-08-15",  # after batch 1's window: deferred on its last day, started in batch 2
        "2007-01-01",  # never inside a window: deferred, then left pending
    ],
)
def test_a_dated_start_gate_wakes_units_on_its_day_with_the_daily_result(
    guards: None, tmp_path: Path, on: str
) -> None:
    JUDGED[DAILY] = JUDGED[DATED] = 0
    daily, c1 = simulate_exact(_gated(tmp_path, DAILY, on))
    c1.close()
    dated, c2 = simulate_exact(_gated(tmp_path, DATED, on))
    c2.close()
    # The same summary (the audit heads differ: the workflows name different gates).
    assert _without_head(dated) == _without_head(daily)
    # Daily tries judge the gate about once a day per waiting unit; dated ones a few times.
    assert JUDGED[DATED] * 5 < JUDGED[DAILY]
