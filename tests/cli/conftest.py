"""Fixtures for the command-line tests: the click group, a runner, a simulated database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from campaignflow.cli import get_command

HERE = Path(__file__).parent
SMALL = HERE / "small_district.toml"
EXAMPLES = HERE.parents[1] / "examples"


@pytest.fixture(scope="session")
def cli() -> Any:
    """The ``campaignflow`` click group."""
    return get_command()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner keeping stdout and stderr apart, in a fresh current folder (default outputs land there)."""
    # monkeypatch.chdir, not CliRunner.isolated_filesystem: click 8.5 deprecates the latter.
    monkeypatch.chdir(tmp_path)
    # Errors follow the machine's language unless --lang says otherwise: pin it for the tests.
    monkeypatch.setenv("CAMPAIGNFLOW_LANG", "en")
    return CliRunner()


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory, cli: Any) -> Path:
    """A folder holding ``campaign.db`` and the report files of the small scenario."""
    out = tmp_path_factory.mktemp("simulated")
    result = CliRunner().invoke(
        cli, ["simulate", str(SMALL), "--out", str(out), "--quiet", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    return out
