"""A small two-batch scenario around a workflow file: the custom-gate tests simulate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from campaignflow.simulation import Scenario


def two_batch_scenario(
    tmp_path: Path, workflow: dict[str, Any], *, name: str, end: str, **behaviour: Any
) -> Scenario:
    """Ten units (six organs in batch 1, four villages in batch 2) on ``workflow``, seed 7."""
    file = tmp_path / "workflow.json"
    file.write_text(json.dumps(workflow, ensure_ascii=False), encoding="utf-8")
    return Scenario.from_dict(
        {
            "name": name,
            "seed": 7,
            "workflow": str(file),
            "start": "2005-01-01",
            "end": end,
            "batches": [
                {"number": 1, "opens": "2005-01-01", "closes": "2005-06-30", "kinds": ["organ"]},
                {"number": 2, "opens": "2005-07-01", "closes": "2005-12-31", "kinds": ["village"]},
            ],
            "roster": {"counts": {"organ": 6, "village": 4}},
            "behaviour": behaviour,
        },
        source=name,
    )
