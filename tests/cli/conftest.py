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


_FIGURES = pytest.StashKey[dict[str, Any]]()


@pytest.fixture(scope="session")
def safety_figures(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Where test_safety.py records each refusal case that held, for the terminal summary."""
    return pytestconfig.stash.setdefault(_FIGURES, {"refused": []})


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the CLI safety figures (issue 17) so that CI logs show them."""
    figures = config.stash.get(_FIGURES, None)
    if figures is None:
        return
    cases = figures["refused"]
    terminalreporter.write_line(
        f"CLI safety: {len(cases)} refusal cases as subprocesses, each exit code 2, one line, "
        "no traceback, every pre-existing file byte-identical"
    )
