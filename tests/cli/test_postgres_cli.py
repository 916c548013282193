"""The command on PostgreSQL: simulate into it, verify the audit chain, report, catch tampering.

Skipped locally without ``CAMPAIGNFLOW_PG_DSN``; in CI its absence fails (tests/store's rule).
Each test simulates under a fresh campaign id, so runs share the database safely.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.cli.conftest import SMALL
from tests.store.conftest import pg_dsn


@pytest.fixture
def pg_scenario(tmp_path: Path) -> tuple[Path, str]:
    """The small scenario renamed to a fresh campaign id."""
    cid = f"cli-{uuid.uuid4().hex[:12]}"
    path = tmp_path / "pg.toml"
    path.write_text(
        SMALL.read_text(encoding="utf-8").replace('name = "small_district"', f'name = "{cid}"'),
        encoding="utf-8",
    )
    return path, cid


def test_simulate_verify_report_and_tamper_on_postgres(
    runner: CliRunner, cli: Any, pg_scenario: tuple[Path, str]
) -> None:
    """A campaign simulated into PostgreSQL verifies, reports like the run, and shows tampering."""
    dsn = pg_dsn()
    scenario, cid = pg_scenario
    simulated = runner.invoke(
        cli, ["simulate", str(scenario), "--db", dsn, "--json", "--no-report"]
    )
    assert simulated.exit_code == 0, simulated.stderr
    result = json.loads(simulated.stdout)

    verified = runner.invoke(cli, ["audit", "verify", "--db", dsn, "--campaign", cid])
    assert verified.exit_code == 0, verified.stderr
    assert result["audit_head"] in verified.stdout

    report = runner.invoke(
        cli, ["report", "--db", dsn, "--campaign", cid, "--scenario", str(scenario), "--json"]
    )
    assert report.exit_code == 0, report.stderr
    recorded = json.loads(report.stdout)
    for key in ("timeline", "batches", "remedial", "blocking", "audit_head"):
        assert recorded[key] == result[key], key
    # The run simulate kept in PostgreSQL: report alone is the simulation's own summary.
    alone = runner.invoke(cli, ["report", "--db", dsn, "--campaign", cid, "--json"])
    assert alone.exit_code == 0, alone.stderr
    assert json.loads(alone.stdout) == result

    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE cf_audit SET actor_id = 'mallory' WHERE campaign_id = %s AND seq = 9", (cid,)
        )
    tampered = runner.invoke(cli, ["audit", "verify", "--db", dsn, "--campaign", cid])
    assert tampered.exit_code == 1
    assert f"TAMPERED: campaign {cid}: record 9" in tampered.stdout
