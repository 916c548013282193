"""Simulate a small district campaign and write its charts and self-contained HTML report.

Takes the district scenario, keeps a few units of each kind so it runs in about a second,
plays it forward in exact mode and writes ``stages.png``, ``gantt.png``, ``report.html`` and
``summary.json`` in Chinese (needs the ``plot`` extra). The command line does the same with
``campaignflow simulate examples/district_2005.toml --out report --lang zh_CN``.

Run: ``python examples/report_district.py [OUT_DIR]`` (a temporary folder by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from campaignflow.report import png_size, write_report
from campaignflow.simulation import Scenario, load_scenario, simulate

HERE = Path(__file__).parent


def small_district() -> Scenario:
    """The district scenario with two units of each kind instead of a few hundred."""
    full = load_scenario(HERE / "district_2005.toml")
    data = full.to_dict()
    data["roster"]["counts"] = dict.fromkeys(data["roster"]["counts"], 2)
    return Scenario.from_dict(data, source="small district", base_dir=HERE)


def write(out: Path) -> None:
    """Simulate and write the report into ``out``; print what was written."""
    scenario = small_district()
    result = simulate(scenario, mode="exact")
    files = write_report(result, out, lang="zh_CN", workflow=scenario.load_workflow())
    for note in files.notes:
        print(f"note: {note}")
    for path in (files.stages, files.gantt):
        width, height = png_size(path.read_bytes())
        print(f"{path.name}: {width}x{height} px")
    print(f"{files.html.name}: {files.html.stat().st_size:,} bytes, open it in any browser")
    print(f"{files.summary.name}: {result.units} units, batches completed on", end=" ")
    print(", ".join(str(b.completed_on) for b in result.batches))


def main() -> None:
    """Write into the folder given on the command line, or a temporary one."""
    if len(sys.argv) > 1:
        write(Path(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder))


if __name__ == "__main__":
    main()
