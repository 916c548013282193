"""Determinism: same scenario and seed, same bytes — across processes and hash seeds."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from campaignflow.simulation import Scenario, load_scenario, simulate
from campaignflow.simulation.behaviour import stream_seed, unit_stream
from campaignflow.simulation.exact import simulate_exact
from tests.simulation.conftest import EXAMPLES, small_scenario

_CHILD = """
import hashlib, json, sys
from campaignflow.simulation import load_scenario
from campaignflow.simulation.exact import simulate_exact
result, campaign = simulate_exact(load_scenario(sys.argv[1]))
text = result.to_json().encode("utf-8")
head = campaign.audit_checkpoint()
print(json.dumps({"json": hashlib.sha256(text).hexdigest(), "head": head.hash, "seq": head.seq,
                  "audit_head": result.audit_head}))
"""


#: A small example keeps the two child processes quick; the property is the same.
CHILD_SCENARIO = EXAMPLES / "district_csv.toml"


def _child(hash_seed: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(CHILD_SCENARIO)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    data: dict[str, object] = json.loads(out.stdout)
    return data


@pytest.mark.slow
@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_byte_identical_json_and_audit_head_across_processes(hash_seed: str) -> None:
    """A child process with another PYTHONHASHSEED gives the same JSON bytes and audit head."""
    result, campaign = simulate_exact(load_scenario(CHILD_SCENARIO))
    child = _child(hash_seed)
    assert child["json"] == hashlib.sha256(result.to_json().encode("utf-8")).hexdigest()
    assert child["head"] == child["audit_head"] == result.audit_head
    assert child["seq"] == campaign.audit_checkpoint().seq


def test_streams_come_from_sha256_not_hash() -> None:
    """The stream seed is SHA-256 of (seed, purpose, key): stable text in, stable numbers out."""
    digest = hashlib.sha256(b"7\x1fbehaviour\x1forgan-001").digest()
    assert stream_seed(7, "behaviour", "organ-001") == int.from_bytes(digest[:16], "big")
    a = unit_stream(7, "behaviour", "organ-001").random()
    assert a == unit_stream(7, "behaviour", "organ-001").random()
    assert a != unit_stream(8, "behaviour", "organ-001").random()


def test_a_units_story_does_not_depend_on_roster_order(tmp_path: Path) -> None:
    """Each unit draws from its own stream: reversing the roster changes only the audit order."""
    scenario = small_scenario()
    units = scenario.units()

    def write(name: str, rows: list[object]) -> Scenario:
        with (tmp_path / name).open("w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["id", "name", "kind", "batch", "members", "parent"])
            for u in rows:
                out.writerow([u.id, u.name, u.kind, u.batch, u.members, u.parent or ""])  # type: ignore[attr-defined]
        data = scenario.to_dict()
        data["roster"] = {"csv": name}
        return Scenario.from_dict(data, base_dir=tmp_path)

    forward, _ = simulate_exact(write("forward.csv", list(units)))
    backward, _ = simulate_exact(write("backward.csv", list(reversed(units))))
    assert forward.audit_head != backward.audit_head
    assert attrs.evolve(forward, audit_head=None) == attrs.evolve(backward, audit_head=None)


def test_the_seed_argument_overrides_the_scenarios() -> None:
    """simulate(seed=N) is the scenario with seed N; another seed tells another story."""
    scenario = small_scenario()
    given = simulate(scenario, mode="exact", seed=99)
    assert given.seed == 99
    assert given.to_json() == simulate(attrs.evolve(scenario, seed=99), mode="exact").to_json()
    assert given.audit_head != simulate(scenario, mode="exact").audit_head


def test_every_example_file_is_one_the_tests_know() -> None:
    """The example scenarios in examples/ are the ones these tests load."""
    workflows = {"flow", "reminders"}  # workflow files, not scenarios
    names = sorted(p.stem for p in EXAMPLES.glob("*.toml") if p.stem not in workflows)
    assert names == ["district_2005", "district_csv", "nation_2005", "province_scale"]
