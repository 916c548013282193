"""The command as a real process: ``python -m campaignflow`` and the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, SMALL


def _run(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )


def test_python_m_campaignflow_validates() -> None:
    """``python -m campaignflow validate`` runs the same command."""
    done = _run([sys.executable, "-m", "campaignflow", "validate", str(EXAMPLES / "flow.toml")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: workflow three_stages_2008@1")


def test_console_script_is_installed() -> None:
    """The ``campaignflow`` script declared in pyproject.toml is on PATH and runs."""
    script = shutil.which("campaignflow")
    if script is None:
        pytest.fail("the campaignflow script is not installed: pip install -e '.[cli]'")
    done = _run([script, "diagram", "--preset", "no_stages_2019"])
    assert done.returncode == 0, done.stderr
    assert "in_progress" in done.stdout


@pytest.mark.slow
def test_simulate_is_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    """Two processes with different PYTHONHASHSEED print byte-identical JSON results."""
    outputs = []
    for seed in ("0", "12345"):
        done = _run(
            [
                sys.executable,
                "-m",
                "campaignflow",
                "simulate",
                str(SMALL),
                "--json",
                "--out",
                str(tmp_path / seed),
            ],
            env={"PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["units"] == 12
    assert (tmp_path / "0" / "summary.json").read_text(encoding="utf-8") == outputs[0]


def test_bad_file_exits_2_without_traceback(tmp_path: Path) -> None:
    """A bad scenario in a real process: exit 2, one error message, no traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nworkflow = "no_such_preset"\n', encoding="utf-8")
    done = _run([sys.executable, "-m", "campaignflow", "simulate", str(bad)])
    assert done.returncode == 2
    assert done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr


def test_missing_cli_extra_names_the_install_command() -> None:
    """Without click the command says which extra to install, and exits 2."""
    code = "import sys; sys.modules['click'] = None; from campaignflow.cli import main; main(['--help'])"
    done = _run([sys.executable, "-c", code])
    assert done.returncode == 2
    assert "pip install 'campaignflow[cli]'" in done.stderr
    assert "Traceback" not in done.stderr
