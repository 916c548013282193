"""Counters survive a writer killed mid-sweep: after each SIGKILL they equal a recount.

A child (``sweep_child.py``) adds units and sweeps them through the mini flow, a page of units
per transaction, on one database; it is SIGKILLed at a seeded moment, mostly inside a sweep
(sweeps are most of its time). Each next child goes on with the same campaign. After every
kill a new store object checks that the counters equal the scan of the units, for the whole
campaign and every organisation. Slow; the number of kills comes from
``CAMPAIGNFLOW_COUNTER_KILLS`` (default 6).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from campaignflow.store import PostgresStore, SQLiteStore, Store
from tests.orgtree.counters import assert_counters_match
from tests.store.conftest import pg_dsn

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("CAMPAIGNFLOW_COUNTER_KILLS", "6"))


def _kill_mid_sweep(url: str, campaign_id: str, seed: int, delay: float) -> int:
    """Start a child, let it write for ``delay`` seconds after it is ready, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    command = [sys.executable, "-m", "tests.orgtree.sweep_child", url, campaign_id, str(seed)]
    with (
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT, env=env, text=True
        ) as proc,
    ):
        assert proc.stdout is not None
        ready = proc.stdout.readline().strip()
        if ready == "ready":
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        rounds = sum(1 for line in proc.stdout if line.startswith("round"))
        stderr.seek(0)
        assert ready == "ready", stderr.read().decode(errors="replace")
    assert proc.returncode == -signal.SIGKILL
    return rounds


def _run(url: str, open_store: object) -> None:
    campaign_id = f"crash-{uuid.uuid4().hex[:10]}"
    rng = random.Random(20050110)
    rounds = 0
    for i in range(KILLS):
        rounds += _kill_mid_sweep(url, campaign_id, i, rng.uniform(0.05, 1.5))
        store: Store = open_store(campaign_id)  # type: ignore[operator]
        try:
            checked = assert_counters_match(store)
        finally:
            store.close()
        assert checked > 1
    assert rounds > 0, "the children finished no round: the kills test nothing"


@pytest.mark.slow
def test_sqlite_counters_equal_a_recount_after_kills_mid_sweep(tmp_path: Path) -> None:
    path = tmp_path / "campaign.db"
    _run(f"sqlite:///{path}", lambda cid: SQLiteStore(path, campaign_id=cid))


@pytest.mark.slow
def test_postgres_counters_equal_a_recount_after_kills_mid_sweep() -> None:
    dsn = pg_dsn()
    _run(dsn, lambda cid: PostgresStore(dsn, campaign_id=cid))
