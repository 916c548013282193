"""The district workflow (``district_2005`` preset) with the OA gate on 学习动员 → 分析评议."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import campaignflow as cf
from oa_gate.guards import GATE

#: The workflow file the scenario reads (written by :func:`write`).
FILE = Path(__file__).resolve().parents[1] / "district_gate.json"


def definition(percent: int = 90) -> dict[str, Any]:
    """The preset's definition with the gate added to study_mobilization → analysis_review."""
    data = cf.presets.load("district_2005").to_dict()
    data["name"] = "district_oa_gate"
    for t in data["transitions"]:
        source = t["source"] if isinstance(t["source"], list) else [t["source"]]
        if source == ["study_mobilization"] and t["dest"] == "analysis_review":
            t["guards"] = [*t.get("guards", []), {"guard": GATE, "percent": percent}]
    return data


def workflow() -> cf.Workflow:
    """The workflow as an object."""
    return cf.Workflow.from_dict(definition())


def text() -> str:
    """The workflow file's text."""
    return json.dumps(definition(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def write() -> None:
    """Write :data:`FILE` (``python -m oa_gate.workflow`` from examples/oa_custom_gate)."""
    FILE.write_text(text(), encoding="utf-8")


if __name__ == "__main__":
    write()
