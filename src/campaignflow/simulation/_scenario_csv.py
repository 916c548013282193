"""A roster read from a CSV file (``roster.csv``): one unit a row, every bad row named."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from campaignflow._words.checks import rule_problem
from campaignflow._words.records import Unit
from campaignflow.errors import Problem, ValidationError
from campaignflow.simulation._scenario_checks import scenario_error
from campaignflow.simulation._scenario_models import BatchPlan

__all__ = ["read_csv"]

_CSV_COLUMNS = ("id", "name", "kind", "batch", "members", "parent")


def read_csv(
    name: str, folder: Path | None, batches: Sequence[BatchPlan], source: str
) -> tuple[Unit, ...]:
    """The units of CSV file ``name`` (relative to ``folder``), or every problem at once."""
    path = Path(name)
    if not path.is_absolute() and folder is not None:
        path = folder / path
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problem = Problem(
            "roster.csv", "scenario.csv_unreadable", {"path": repr(str(path)), "exc": str(exc)}
        )
        raise scenario_error(source, [problem]) from None
    if not rows or tuple(h.strip() for h in rows[0]) != _CSV_COLUMNS:
        # Never echo the line: the path may name any readable file (/etc/passwd).
        problem = Problem(
            "roster.csv", "scenario.csv_header_hidden", {"header": ",".join(_CSV_COLUMNS)}
        )
        raise scenario_error(source, [problem])
    by_kind = {kind: b.number for b in batches for kind in b.kinds}
    numbers = {b.number for b in batches}
    problems: list[str] = []
    units: list[Unit] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        where = f"roster.csv line {line}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(_CSV_COLUMNS):
            problems.append(
                Problem(
                    where,
                    "scenario.csv_columns",
                    {"columns": len(_CSV_COLUMNS), "count": len(row)},
                )
            )
            continue
        uid, uname, kind, batch_text, members_text, parent = (cell.strip() for cell in row)
        if batch_text:
            if not batch_text.isdigit() or int(batch_text) not in numbers:
                problems.append(
                    Problem(
                        where,
                        "scenario.roster_batch",
                        {
                            "batches": [str(n) for n in sorted(numbers)],
                            "value": repr(batch_text),
                        },
                    )
                )
                continue
            batch = int(batch_text)
        elif kind in by_kind:
            batch = by_kind[kind]
        else:
            problems.append(
                Problem(where, "scenario.roster_no_batch_for_kind", {"kind": repr(kind)})
            )
            continue
        if not members_text.isdigit() or int(members_text) < 1:
            problems.append(
                rule_problem(where, members_text, "members must be a whole number >= 1")
            )
            continue
        if uid in seen:
            problems.append(Problem(where, "scenario.roster_duplicate_id", {"unit": repr(uid)}))
            continue
        seen.add(uid)
        try:
            units.append(
                Unit(
                    id=uid,
                    name=uname,
                    kind=kind,
                    batch=batch,
                    members=int(members_text),
                    parent=parent or None,
                )
            )
        except ValidationError as exc:
            problems.append(Problem(where, exc.code, exc.params))
        if len(problems) >= 50:
            problems.append(Problem("roster.csv", "scenario.roster_truncated"))
            break
    if not units and not problems:
        problems.append(Problem("roster.csv", "scenario.roster_empty"))
    if problems:
        raise scenario_error(source, problems)
    return tuple(units)
