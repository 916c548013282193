"""``validate``: check a workflow or scenario file; every problem with its line, column and a
"did you mean" where a close name exists; for people (in --lang) or scripts (``--json``).

The ``--json`` document (docs/cli.md, "validate --json") has stable keys::

    {"ok": bool, "file": str, "kind": "workflow" | "scenario" | null,
     "summary": {...} | null, "message": str | null,
     "problems": [{"path", "code", "params", "line", "column", "message", "did_you_mean"}]}
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import click

from campaignflow.cli._common import (
    EXIT_CHECK_FAILED,
    existing_file,
    file_kind,
    lang_option,
    load_scenario_file,
    plugin_option,
    read_data,
    syntax_error,
)
from campaignflow.cli._local import LocalCommand, say
from campaignflow.errors import CampaignflowError, DefinitionError, Problem
from campaignflow.i18n import messages
from campaignflow.presets import PRESETS, load
from campaignflow.simulation import Scenario, _scenario_models
from campaignflow.simulation._scenario_checks import key_lines, strip_path, with_line
from campaignflow.workflow import Workflow

__all__ = ["validate"]

#: A path's shape: ``$.stages[3].guards[0]`` -> ``$.stages[].guards[]``.
_INDEX = re.compile(r"\[\d+\]")


def _known_keys() -> dict[str, set[str]]:
    """Keys a workflow file may hold at each path shape, learned from the shipped presets."""
    known: dict[str, set[str]] = {}

    def walk(shape: str, value: Any) -> None:
        if isinstance(value, Mapping):
            known.setdefault(shape, set()).update(str(k) for k in value)
            for key, item in value.items():
                walk(f"{shape}.{key}", item)
        elif isinstance(value, list):
            for item in value:
                walk(f"{shape}[]", item)

    for name in PRESETS:
        walk("$", load(name).to_dict())
    known.setdefault("$", set()).add("schema_version")
    return known


def _scenario_keys() -> set[str]:
    """Every key a scenario file's tables may hold (the fields of its models)."""
    models: list[type] = [Scenario]
    models += [v for v in vars(_scenario_models).values() if isinstance(v, type)]
    return {f.name for model in models if attrs.has(model) for f in attrs.fields(model)}


def _close(word: str, choices: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(word, sorted(set(choices)), n=3, cutoff=0.6)


def _did_you_mean(problem: Problem, data: Mapping[str, Any]) -> list[str]:
    """Close names for an unknown key, stage or guard (difflib), else nothing."""
    params = problem.params
    if problem.code == "problem.unknown_keys":
        shape = "$" + _INDEX.sub("[]", problem.path.removeprefix("$"))
        if not shape.startswith("$.") and shape != "$":
            shape = "$." + shape.removeprefix("$")
        allowed = _known_keys().get(shape) or _scenario_keys()
        return [c for key in params.get("keys", ()) for c in _close(str(key), allowed)]
    if problem.code == "definition.unknown_stage":
        stages = data.get("stages")
        if not isinstance(stages, list):
            return []
        ids = [str(s.get("id")) for s in stages if isinstance(s, Mapping) and "id" in s]
        return _close(str(params.get("stage", "")).strip("'\""), ids)
    if problem.code == "guards.unknown_guard":
        known = params.get("known") or ()
        names = known if isinstance(known, list | tuple) else str(known).split(", ")
        return _close(str(params.get("guard", "")).strip("'\""), names)
    return []


def _problems(exc: CampaignflowError, text: str | None) -> list[Problem | str]:
    """The error's problems, each with the line its key is written on when TOML shows it."""
    listed = list(getattr(exc, "problems", ()) or ())
    if not any(isinstance(p, Problem) for p in listed):
        return []  # an error without problems of its own: its message says it all
    if isinstance(exc, DefinitionError) and text is not None:
        lines = key_lines(text)
        return [
            _inline_entry(with_line(strip_path(p), lines), text) if isinstance(p, Problem) else p
            for p in listed
        ]
    return listed


_ENTRY = re.compile(r"\.(?P<key>guards|unless)\[(?P<index>\d+)\]")


def _inline_entry(problem: str, text: str) -> str:
    """A problem inside an inline table of a multi-line array (``guards = [ {...}, ...]``)
    named by the line of its own entry, not the line the array starts on."""
    found = _ENTRY.search(problem.path) if isinstance(problem, Problem) else None
    if found is None or not isinstance(problem, Problem) or problem.line is None:
        return problem
    lines = text.splitlines()
    start = problem.line - 1
    if start < len(lines) and lines[start].lstrip().startswith("["):
        # The line of the table: its ``guards = [`` comes before the next table.
        array = re.compile(rf"\s*{found['key']}\s*=\s*\[\s*$")
        for number in range(start + 1, len(lines)):
            if lines[number].lstrip().startswith("["):
                break
            if array.match(lines[number]):
                start = number
                break
    if start >= len(lines) or not lines[start].rstrip().endswith("["):
        return problem
    wanted = int(found["index"])
    for number in range(start + 1, len(lines)):
        stripped = lines[number].strip()
        if stripped.startswith("]"):
            break
        if stripped.startswith("{"):
            if wanted == 0:
                return problem.with_line(number + 1)
            wanted -= 1
    return problem


def _entry(problem: Problem | str, data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    if not isinstance(problem, Problem):
        return {
            "path": "",
            "code": None,
            "params": {},
            "line": None,
            "column": None,
            "message": str(problem),
            "did_you_mean": [],
        }
    return {
        "path": problem.path,
        "code": problem.code,
        "params": dict(problem.params),
        "line": problem.line,
        "column": None,
        "message": problem.message(lang),
        "did_you_mean": _did_you_mean(problem, data),
    }


def _report_invalid(
    exc: CampaignflowError, file: Path, data: Mapping[str, Any], text: str | None, lang: str
) -> dict[str, Any]:
    """The ``--json`` document of an invalid file: every problem, with line and column."""
    syntax = syntax_error(exc, lang)
    if syntax is not None:
        message, line, column = syntax
        entries: list[dict[str, Any]] = [
            {
                "path": "",
                "code": exc.code,
                "params": {k: str(v) for k, v in exc.params.items()},
                "line": line,
                "column": column,
                "message": message,
                "did_you_mean": [],
            }
        ]
    else:
        message = exc.message(lang)
        entries = [_entry(p, data, lang) for p in _problems(exc, text)]
    return {
        "ok": False,
        "file": str(file),
        "kind": None,
        "summary": None,
        "message": message,
        "problems": entries,
    }


def _show_invalid(report: dict[str, Any], lang: str) -> None:
    """``invalid:`` and the error's first line, then each problem with its "did you mean"."""
    head, _, _ = str(report["message"]).partition("\n")
    click.echo(messages.render("cli.invalid", {"message": head}, lang), err=True)
    problems = report["problems"]
    for entry in problems:
        click.echo(f"  - {entry['message']}", err=True)
        if entry["did_you_mean"]:
            close = ("、" if lang == "zh_CN" else ", ").join(entry["did_you_mean"])
            click.echo("    " + say("cli.did_you_mean", lang, names=close), err=True)


@click.command(cls=LocalCommand)
@click.argument("file", type=existing_file())
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@plugin_option
@lang_option
def validate(file: Path, as_json: bool, lang: str) -> None:
    """Check a workflow or scenario FILE (TOML or JSON); every problem is listed.

    Exit 0 when it is valid, 1 when it is not.
    """
    data: dict[str, Any] = {}
    text: str | None = None
    try:
        data = read_data(file)
        text = file.read_text(encoding="utf-8")
        kind = file_kind(data, file)
        if kind == "workflow":
            wf = Workflow.from_file(file)
            code = "cli.valid_workflow"
            summary: dict[str, Any] = {
                "name": wf.name,
                "version": wf.version,
                "file": str(file),
                "stages": len(wf.stages),
                "transitions": len(wf.transitions),
                "batches": len(wf.batches),
            }
        else:
            scenario = load_scenario_file(file, data)
            wf = scenario.load_workflow()
            code = "cli.valid_scenario"
            summary = {
                "name": scenario.name,
                "file": str(file),
                "units": scenario.unit_count(),
                "batches": len(scenario.batches),
                "workflow": f"{wf.name}@{wf.version}",
            }
    except CampaignflowError as exc:
        report = _report_invalid(exc, file, data, text, lang)
        if as_json:
            click.echo(json.dumps(report, ensure_ascii=False, sort_keys=True, default=str))
        else:
            _show_invalid(report, lang)
        sys.exit(EXIT_CHECK_FAILED)
    if as_json:
        report = {
            "ok": True,
            "file": str(file),
            "kind": kind,
            "summary": summary,
            "message": None,
            "problems": [],
        }
        click.echo(json.dumps(report, ensure_ascii=False, sort_keys=True, default=str))
        return
    shown = summary | {"units": f"{summary['units']:,}"} if "units" in summary else summary
    click.echo(messages.render(code, shown, lang))
