"""Exact mode on its own new database file plays in memory and writes the file once, at the end.

The file it writes holds, table by table, what the day-by-day writes to an existing
database leave behind; a failed run leaves nothing; a user's database is never written
that way (it keeps its per-day commits).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.simulation import Scenario
from campaignflow.simulation._exact_store import open_target
from campaignflow.simulation.exact import simulate_exact
from campaignflow.store import open_store
from tests.simulation.conftest import small_scenario


def _tables(path: Path, campaign_id: str) -> dict[str, list[str]]:
    """Every row of every table for ``campaign_id``, sorted: the database's whole content."""
    out: dict[str, list[str]] = {}
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in sorted(names):
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            query = f'SELECT * FROM "{name}"'
            rows = (
                conn.execute(query + " WHERE campaign_id = ?", (campaign_id,))
                if "campaign_id" in columns
                else conn.execute(query)
            )
            out[name] = sorted(repr(tuple(row)) for row in rows)
    return out


def _scenario() -> Scenario:
    """Ten units: late starts, make-up and two batches, quickly."""
    roster = small_scenario().to_dict()["roster"]
    roster["counts"] = {"organ": 3, "community": 3, "closed_enterprise": 1, "village": 3}
    return small_scenario(roster=roster)


def test_a_new_file_is_written_once_with_what_daily_commits_leave(tmp_path: Path) -> None:
    """Same result, same rows in every table, and the chain verifies in the file."""
    scenario = _scenario()
    daily_path, once_path = tmp_path / "daily.db", tmp_path / "once.db"
    open_store(f"sqlite:///{daily_path}").close()  # an existing database: per-day commits
    daily, c1 = simulate_exact(scenario, store=f"sqlite:///{daily_path}")
    c1.close()
    once, c2 = simulate_exact(scenario, store=f"sqlite:///{once_path}")
    try:
        assert c2.verify_audit().ok
    finally:
        c2.close()
    assert once.to_json() == daily.to_json()
    assert _tables(once_path, scenario.name) == _tables(daily_path, scenario.name)


def test_an_empty_file_counts_as_new_and_a_database_does_not(tmp_path: Path) -> None:
    """The CLI creates an empty campaign.db: the run's own. A file with tables is a user's."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    target = open_target(f"sqlite:///{empty}", "c")
    assert target.writes_once
    target.close()
    target = open_target(f"sqlite:///{tmp_path / 'missing.db'}", "c")
    assert target.writes_once
    target.close()
    used = tmp_path / "used.db"
    open_store(f"sqlite:///{used}").close()
    target = open_target(f"sqlite:///{used}", "c")
    assert not target.writes_once
    target.close()


def test_a_failed_run_writes_nothing_into_its_new_file(tmp_path: Path) -> None:
    """The run fails after it started: the file has the tables but no campaign."""
    scenario = _scenario()
    path = tmp_path / "campaign.db"

    def fail(*_: object) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        simulate_exact(scenario, store=f"sqlite:///{path}", progress=fail)
    with cf.Campaign(scenario.load_workflow(), f"sqlite:///{path}", campaign_id=scenario.name) as c:
        assert c.units() == []
