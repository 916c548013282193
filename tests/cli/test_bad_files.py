"""Whatever file the command is given, it answers with an exit code and a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow.simulation import load_scenario
from tests.cli.conftest import SMALL

BASE = load_scenario(SMALL).to_dict()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


PATHS = _paths(BASE)


@st.composite
def broken_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """The small scenario with one to three values replaced by arbitrary JSON."""
    data = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        target = data
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    return data


def _run(cli: Any, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


@pytest.mark.sized(default=50)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(broken_scenarios())
def test_broken_scenarios_get_a_message(cli: Any, tmp_path: Path, data: dict[str, Any]) -> None:
    """validate says valid (0) or invalid (1); an invalid scenario makes simulate exit 2 at once."""
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
    checked = _run(cli, "validate", str(path))
    assert checked.exit_code in (0, 1)
    if checked.exit_code == 1:
        assert checked.stderr.startswith("invalid: ")
        refused = _run(cli, "simulate", str(path), "--no-report", "--db", str(tmp_path / "x.db"))
        assert refused.exit_code == 2
        assert refused.stderr.startswith("Error: ")
        assert not (tmp_path / "x.db").exists()


@pytest.mark.sized(default=50)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300), st.sampled_from([".toml", ".json"]))
def test_arbitrary_bytes_get_a_message(
    cli: Any, tmp_path: Path, content: bytes, suffix: str
) -> None:
    """Random bytes as a workflow or scenario: exit 1 from validate, 2 from diagram and simulate."""
    path = tmp_path / f"file{suffix}"
    path.write_bytes(content)
    assert _run(cli, "validate", str(path)).exit_code in (0, 1)
    assert _run(cli, "diagram", str(path)).exit_code in (0, 2)
