"""CampaignMachine keeps the library's invariants on every store, and finds a planted bug fast."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis.stateful import rule, run_state_machine_as_test

import campaignflow as cf
from campaignflow.store import SQLiteStore
from campaignflow.testing import CampaignMachine, machine_settings
from tests.testing.conftest import planted_seeds

ROOT = Path(__file__).resolve().parents[2]
PLANTED = ROOT / "examples" / "testing" / "test_planted_bug.py"
INVARIANTS = {
    "audit_chain_verifies",
    "state_equals_replay_of_history",
    "every_transition_was_an_edge_whose_gates_held",
    "version_counts_transitions",
    "no_unit_approves_or_assesses_itself",
    "nobody_leaves_study_with_fewer_than_40_hours",
    "teardown",
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"planted_{uuid.uuid4().hex}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shrunk_steps(report: str) -> list[str]:
    """The rules of the falsifying program hypothesis printed (invariant checks left out)."""
    # hypothesis says "Falsifying example" up to 6.16x and "Failing test case" after.
    marker = re.search(r"Falsifying example|Failing test case", report)
    assert marker is not None, report
    block = report[marker.start() :]
    # One program: up to its teardown (with CI=true hypothesis prints the program again below).
    end = block.find("state.teardown()")
    block = block if end < 0 else block[:end]
    calls = re.findall(r"^(?:E\s+)?(?:\w+ = )?state\.(\w+)\(", block, flags=re.MULTILINE)
    return [c for c in calls if c not in INVARIANTS]


@pytest.mark.slow
def test_planted_bug_example_fails_and_shrinks_to_a_few_steps() -> None:
    """The guide's planted-bug example fails within 200 examples and shrinks to <= 5 steps."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(PLANTED)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    found = re.search(r"planted bug found after (\d+) examples", out)
    assert found is not None, out
    steps = shrunk_steps(out)
    print(
        f"planted bug: found after {found.group(1)} examples, shrunk to {len(steps)} steps: {steps}"
    )
    assert int(found.group(1)) <= 200
    assert 1 <= len(steps) <= 5
    assert "finished with 39" in out


@pytest.mark.slow
@pytest.mark.parametrize("seed", planted_seeds())
def test_planted_bug_is_found_within_200_examples_per_seed(seed: int) -> None:
    """With seed ``seed`` the machine finds the 39-hour guard within 200 examples, <= 5 steps."""
    module = _load(PLANTED)
    bug = module.Bug
    bug._hypothesis_internal_use_seed = seed
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(bug, settings=bug.TestCase.settings)
    report = "\n".join([str(failure.value), *getattr(failure.value, "__notes__", [])])
    steps = shrunk_steps(report)
    print(f"seed {seed}: found after {bug.first_failure} examples, shrunk to {len(steps)} steps")
    assert bug.first_failure is not None
    assert bug.first_failure <= 200
    assert 1 <= len(steps) <= 5


@pytest.mark.sized(default=20)
def test_the_same_machine_passes_once_the_guard_is_fixed(size: int | None) -> None:
    """With the comparison fixed, the machine and its invariant find nothing."""
    module = _load(PLANTED)

    def fixed(ctx: cf.GuardContext, *, hours: float = 40) -> cf.Verdict:
        actual = math.fsum(s.hours for s in ctx.facts(cf.StudySession))
        return cf.Verdict("attendance_hours", actual >= hours, "x", {"actual": actual})

    module.guards.register("attendance_hours", fixed, replace=True, recipe=module.hours_recipe)
    workflow = cf.Workflow.from_dict(module.WORKFLOW.to_dict(), registry=module.guards)

    class Fixed(module.Bug):  # type: ignore[name-defined,misc]
        pass

    Fixed.workflow = workflow
    run_state_machine_as_test(
        Fixed, settings=machine_settings(max_examples=size or 60, database=None)
    )


SMALL = machine_settings(max_examples=20, steps=30, database=None)


@pytest.mark.parametrize("preset", cf.presets.PRESETS)
def test_base_machine_keeps_the_invariants_in_memory(preset: str) -> None:
    """Random commands on each preset keep every invariant on the memory store."""

    class OnPreset(CampaignMachine):
        workflow = cf.presets.load(preset)

    run_state_machine_as_test(OnPreset, settings=SMALL)


@pytest.mark.slow
def test_base_machine_keeps_the_invariants_on_a_sqlite_file() -> None:
    """The same on SQLite: a temporary file per run, removed at teardown."""

    class OnSQLite(CampaignMachine):
        store = "sqlite"

    run_state_machine_as_test(OnSQLite, settings=SMALL)


@pytest.mark.slow
def test_base_machine_runs_on_the_integrators_own_store(tmp_path: Path) -> None:
    """A callable store: the integrator's own store object, a fresh campaign id per run."""
    path = tmp_path / "host.db"

    def host_store() -> SQLiteStore:
        return SQLiteStore(path, campaign_id=f"run-{uuid.uuid4().hex[:8]}")

    class OnHostStore(CampaignMachine):
        store = host_store

    run_state_machine_as_test(OnHostStore, settings=machine_settings(max_examples=10))


@pytest.mark.slow
def test_base_machine_runs_on_postgresql() -> None:
    """On PostgreSQL (CAMPAIGNFLOW_PG_DSN), with a fresh campaign id per run."""
    dsn = os.environ.get("CAMPAIGNFLOW_PG_DSN", "")
    if not dsn:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("CAMPAIGNFLOW_PG_DSN must be set in CI")
        pytest.skip("CAMPAIGNFLOW_PG_DSN is not set")
    from campaignflow.store import open_store

    def pg() -> Any:
        return open_store(dsn, campaign_id=f"machine-{uuid.uuid4().hex[:12]}")

    class OnPostgres(CampaignMachine):
        store = pg

    run_state_machine_as_test(OnPostgres, settings=machine_settings(max_examples=8, steps=20))


def test_a_refused_command_that_writes_is_caught() -> None:
    """``attempt`` fails the run when an invalid command changed something."""

    class Leaky(CampaignMachine):
        @rule()
        def leaky_command(self) -> None:
            def command() -> None:
                self.campaign.add_units([cf.Unit(id="leak", name="漏", kind="organ", batch=1)])
                raise cf.ValidationError("refused after writing")

            self.attempt(command)

    with pytest.raises(AssertionError, match="invalid command changed something"):
        run_state_machine_as_test(Leaky, settings=SMALL)
