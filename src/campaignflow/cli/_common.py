"""What every command shares: exit codes, the --lang option, consoles, and reading files.

The exit codes are drawn once, in the program's docstring (:mod:`campaignflow.cli._app`).
"""

from __future__ import annotations

import errno
import functools
import importlib
import json
import re
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import attrs
import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from campaignflow.cli._db import find_workflow, workflow_refs
from campaignflow.cli._local import (
    LANG_ENV,
    choice,
    default_lang,
    lang_of,
    path,
    remember_lang,
    say,
    usage_error,
)
from campaignflow.cli._show import show_result
from campaignflow.errors import CampaignflowError, Problem, ValidationError
from campaignflow.i18n import messages
from campaignflow.presets import PRESETS, load
from campaignflow.report import chart_style
from campaignflow.report._text import LANGS
from campaignflow.simulation import (
    Scenario,
    SimulationFallback,
    SimulationResult,
    load_scenario,
)
from campaignflow.workflow import Workflow

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_OK",
    "LANG_ENV",
    "BadInput",
    "WorkflowSource",
    "db_option",
    "default_lang",
    "err_console",
    "error_lang",
    "existing_file",
    "explain",
    "file_kind",
    "lang_option",
    "load_scenario_file",
    "missing_extra",
    "mode_option",
    "note",
    "notes_at_once",
    "os_error",
    "out_console",
    "plugin_option",
    "present",
    "print_files",
    "progress_bar",
    "read_data",
    "show_warning",
    "syntax_error",
    "workflow_for",
    "workflow_of_file",
    "workflow_source_options",
]

#: Done, and every check passed.
EXIT_OK = 0
#: A check failed: an invalid file given to ``validate``, a tampered audit trail.
EXIT_CHECK_FAILED = 1
#: Bad usage or a file that cannot be used: one line of explanation, never a traceback.
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A file or database that cannot be used: one clear message, exit code 2."""

    exit_code = EXIT_BAD_INPUT


def error_lang() -> str:
    """The language errors are shown in: the running command's --lang, else the default."""
    return lang_of(None)


def _remember_lang(ctx: click.Context, _: click.Parameter, value: str) -> str:
    remember_lang(ctx, value)
    return value


def lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--lang",
        type=choice(LANGS),
        default=default_lang,
        callback=_remember_lang,
        # Parsed first, so an error in a later option is already shown in this language.
        is_eager=True,
        show_default="zh_CN under a Chinese locale, else en; or $CAMPAIGNFLOW_LANG",
        help="Language of help, tables, charts, the report and error messages.",
    )(func)


#: ``--db URL`` (required) of the commands that work on a campaign database.
db_option = click.option(
    "--db", required=True, help="SQLite file path, sqlite:///... or postgresql://... URL."
)


#: ``--mode`` of the commands that simulate (``simulate``, ``compare``): how to play.
mode_option = click.option(
    "--mode",
    type=choice(["exact", "fast", "auto"]),
    default="auto",
    show_default=True,
    help="How to simulate: exact (every unit through the real workflow), fast (in bulk), "
    "auto (chosen by size).",
)


def _import_plugins(ctx: click.Context, _: click.Parameter, modules: tuple[str, ...]) -> None:
    """Import each ``--plugin`` module, so the guards it registers are known to the workflow."""
    here = str(Path.cwd())
    if modules and here not in sys.path:
        sys.path.append(here)  # a module beside the user's files, as ``python -m`` would find
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # whatever the module raises: one line, exit 2
            raise BadInput(
                messages.render(
                    "cli.plugin_failed",
                    {"module": repr(module), "exc": f"{type(exc).__name__}: {exc}"},
                    error_lang(),
                )
            ) from None


def plugin_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--plugin MODULE`` (repeatable): modules imported before any workflow is loaded."""
    return click.option(
        "--plugin",
        "plugins",
        multiple=True,
        metavar="MODULE",
        expose_value=False,
        is_eager=True,
        callback=_import_plugins,
        help="Import MODULE first (it registers custom guards or fact types with "
        "@cf.guard / cf.fact_type); repeatable.",
    )(func)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    # Off a terminal (a pipe, a CI log) rich would assume 80 columns and clip the tables.
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=120)


# --- files: workflow or scenario ---------------------------------------------------------


def read_data(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            code="file.not_utf8", params={"path": path, "reason": exc.reason, "start": exc.start}
        ) from None
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ValidationError(
                code="file.unsupported_type", params={"path": path, "suffix": repr(suffix)}
            )
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            code="file.not_valid",
            params={"path": path, "format": suffix[1:].upper(), "exc": str(exc)},
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            code="validation.field",
            params={
                "field": path,
                "rule": "must hold a table (object) at the top",
                "value": type(data).__name__,
            },
        )
    return data


def file_kind(data: dict[str, Any], path: Path) -> str:
    """``workflow`` when the data defines stages, ``scenario`` when it plays one forward."""
    if "stages" in data:
        return "workflow"
    if isinstance(data.get("workflow"), str) or {"roster", "behaviour"} & set(data):
        return "scenario"
    if not data:
        raise ValidationError(code="cli.empty_file", params={"path": str(path)})
    raise ValidationError(code="cli.neither_workflow_nor_scenario", params={"path": str(path)})


#: The TOML and JSON parsers' messages (English, from the standard library), by the
#: catalogue code (``cli.syntax.<key>``) that says the same in --lang.
_SYNTAX: tuple[tuple[str, str], ...] = (
    ("Cannot overwrite a value", "overwrite"),
    ("Escaped character is not a Unicode scalar value", "escape"),
    ("Expected '=' after a key in a key/value pair", "expected_equals"),
    ("Expected '\\]' at the end of a table declaration", "expected_bracket"),
    ("Expected '\\]\\]' at the end of an array declaration", "expected_brackets"),
    ("Expected newline or end of document after a statement", "expected_newline"),
    ("Invalid date or datetime", "bad_date"),
    ("Invalid hex value", "bad_hex"),
    ("Invalid initial character for a key part", "bad_key"),
    ("Invalid statement", "bad_statement"),
    ("Invalid value", "bad_value"),
    ("Unclosed array", "unclosed_array"),
    ("Unclosed inline table", "unclosed_table"),
    ("Unescaped '\\\\\\\\' in a string", "unescaped"),
    ("Unterminated string.*", "unterminated"),
    ("Cannot declare (?P<detail>.+) twice", "declared_twice"),
    ("Cannot mutate immutable namespace (?P<detail>.+)", "immutable"),
    ("Cannot redefine namespace (?P<detail>.+)", "redefine"),
    ("Duplicate inline table key (?P<detail>.+)", "duplicate_key"),
    ("Found invalid character (?P<detail>.+)", "invalid_char"),
    ("Illegal character (?P<detail>.+)", "illegal_char"),
    ("Expected (?P<detail>.+)", "expected"),
    ("Expecting value", "json_value"),
    ("Expecting property name enclosed in double quotes", "json_name"),
    ("Expecting (?P<detail>'.') delimiter", "json_delimiter"),
    ("Extra data", "json_extra"),
    ("Invalid control character at", "json_control"),
)
_TOML_AT = re.compile(r"^(?P<why>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$", re.S)
_JSON_AT = re.compile(r"^(?P<why>.*): line (?P<line>\d+) column (?P<column>\d+) \(char \d+\)$")


def syntax_error(exc: CampaignflowError, lang: str) -> tuple[str, int | None, int | None] | None:
    """A file the TOML or JSON parser refused: one line in ``lang``, its line and column.

    None when ``exc`` is not a parse error. The parser's own English words become the
    catalogue's (``cli.syntax.*``); one the catalogue does not know reads as a syntax error.
    """
    params: dict[str, Any] = dict(exc.params)
    if exc.code != "file.not_valid":
        # The same refusal as one problem of a scenario or workflow file's error.
        found_in = [
            p
            for p in getattr(exc, "problems", ())
            if isinstance(p, Problem) and p.code == "file.invalid_syntax"
        ]
        if not found_in:
            return None
        params = {"path": exc.params.get("source", ""), **found_in[0].params}
    detail = str(params.get("exc", ""))
    found = _TOML_AT.match(detail) or _JSON_AT.match(detail)
    if found is None:
        return None
    why = found["why"]
    reason = why if lang == "en" else say("cli.syntax.other", lang)
    for pattern, key in _SYNTAX:
        matched = re.fullmatch(pattern, why)
        if matched:
            reason = say(f"cli.syntax.{key}", lang, **matched.groupdict())
            break
    line, column = int(found["line"]), int(found["column"])
    where = {"path": str(params.get("path", "")), "format": params.get("format", "")}
    text = say("cli.file_syntax", lang, line=line, column=column, reason=reason, **where)
    return text, line, column


#: The module each extra brings, for a missing extra named by its pip command.
_EXTRA_MODULES = {
    "plot": "matplotlib",
    "sim": "numpy",
    "diagram": "graphviz",
    "pg": "psycopg",
    "xlsx": "openpyxl",
    "cli": "click",
}


def missing_extra(exc: ImportError, lang: str) -> str:
    """A missing extra in ``lang``: the module and the ``pip install`` that brings it.

    The library's ImportError names the extra (``pip install 'campaignflow[plot]'``) in
    English; under another language the catalogue says the same.
    """
    found = re.search(r"campaignflow\[(\w+)\]", str(exc))
    if lang == "en" or found is None:
        return str(exc)
    extra = found.group(1)
    module = _EXTRA_MODULES.get(extra, exc.name or extra)
    return say("cli.needs_extra", lang, module=module, extra=extra)


def os_error(exc: OSError, lang: str) -> str:
    """What the system refused, in ``lang``: the path and the reason (by its errno name)."""
    name = errno.errorcode.get(exc.errno or 0, "")
    if f"cli.os.{name}" in messages:
        reason = say(f"cli.os.{name}", lang)
    elif lang == "en":
        reason = exc.strerror or str(exc)
    else:
        reason = say("cli.os.other", lang, name=name or exc.errno)
    return say("cli.os_error", lang, path=str(exc.filename or ""), reason=reason)


def explain(exc: CampaignflowError, lang: str) -> str:
    """The one-line message of a library error in ``lang`` (a parse error without English)."""
    syntax = syntax_error(exc, lang)
    return syntax[0] if syntax is not None else exc.message(lang)


def load_scenario_file(path: Path, data: dict[str, Any] | None = None) -> Any:

    if path.suffix.lower() == ".toml":
        return load_scenario(path)
    return Scenario.from_dict(data or read_data(path), source=str(path), base_dir=path.parent)


def workflow_of_file(path: Path) -> Workflow:
    """The workflow a workflow FILE defines, or the one a scenario FILE plays."""
    data = read_data(path)
    if file_kind(data, path) == "workflow":
        return Workflow.from_file(path)
    loaded: Workflow = load_scenario_file(path, data).load_workflow()
    return loaded


def existing_file() -> click.Path:
    return path(exists=True, dir_okay=False, readable=True, path_type=Path)


def note(console: Console, code: str, **params: Any) -> None:
    """A ``note:`` line on ``console``: the catalogue's ``code`` in the command's language."""
    lang = lang_of(None)
    console.print(say("cli.note", lang, text=say(code, lang, **params)), markup=False)


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` for a run: a note on stderr at once (before a long run, not
    after it), in the command's language."""
    lang = lang_of(None)
    err_console().print(say("cli.note", lang, text=_warning_text(message, lang)), markup=False)


@contextmanager
def notes_at_once() -> Iterator[None]:
    """Within it, a run's warnings (a fallback to exact mode, a guard without a recipe) are
    shown by :func:`show_warning` as they come, each time, in the command's language."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show_warning
        yield


def progress_bar(console: Console) -> Progress:
    """A run's bar on a terminal: what it plays, the bar, done of total; gone when it ends."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )


def _warning_text(message: Warning | str, lang: str) -> str:
    """A simulation's warning in ``lang``: its own catalogue text, else the CLI's words."""
    render = getattr(message, "message", None)
    if callable(render):  # NoRecipeWarning and the like carry their code
        return str(render(lang))
    text = str(message)
    if lang == "en" or not isinstance(message, SimulationFallback):
        return text
    names = re.findall(r"guard '([^']+)' has no bulk form", text)
    if names:
        reason = say("cli.note.fallback_guards", lang, names=names)
    else:
        reason = say("cli.note.fallback_shape", lang)
    return say("cli.note.fast_fallback", lang, reason=reason)


def print_files(console: Console, files: Any) -> None:
    lang = lang_of(None)
    for text in files.notes:
        console.print(say("cli.note", lang, text=text), markup=False)
    for written in (files.stages, files.gantt, files.html, files.summary):
        console.print(say("cli.wrote", lang, path=str(written)), markup=False)


@attrs.frozen(kw_only=True)
class WorkflowSource:
    """Where a command on a campaign database takes the campaign's workflow from: at most
    one of a workflow file, a shipped preset or a scenario's; none given, the one its
    records name (see :func:`workflow_for`)."""

    workflow: Path | None = None
    preset: str | None = None
    scenario: Path | None = None

    @property
    def given(self) -> bool:
        """Whether the command line named any source."""
        return any(x is not None for x in (self.workflow, self.preset, self.scenario))


def workflow_source_options(
    *, workflow: str, preset: str, scenario: str, preset_choice: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--workflow FILE``, ``--preset NAME`` (one of the shipped presets, or any name when
    not ``preset_choice``) and ``--scenario FILE``, with these help texts; the command
    receives them as one ``source``, a :class:`WorkflowSource`."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def command(
            *args: Any,
            workflow: Path | None,
            preset: str | None,
            scenario: Path | None,
            **kwargs: Any,
        ) -> Any:
            source = WorkflowSource(workflow=workflow, preset=preset, scenario=scenario)
            return func(*args, source=source, **kwargs)

        options = (
            click.option("--workflow", type=existing_file(), help=workflow),
            click.option("--preset", type=choice(PRESETS) if preset_choice else None, help=preset),
            click.option("--scenario", type=existing_file(), help=scenario),
        )
        for option in reversed(options):  # as if stacked in this order above the command
            command = option(command)
        return command

    return decorate


def workflow_for(url: str, campaign_id: str, source: WorkflowSource) -> Workflow:
    """The workflow ``source`` names, else the one the campaign's records name (a shipped
    preset standing in, with a note, when none of theirs is at hand)."""
    given = [x for x in (source.workflow, source.preset, source.scenario) if x is not None]
    if len(given) > 1:
        raise usage_error("cli.usage.one_workflow_source")
    if source.workflow is not None:
        return Workflow.from_file(source.workflow)
    if source.preset is not None:
        return load(source.preset)
    if source.scenario is not None:
        loaded: Workflow = load_scenario_file(source.scenario).load_workflow()
        return loaded
    refs = workflow_refs(url, campaign_id)
    found = find_workflow(refs)
    ref = f"{found.name}@{found.version}#{found.content_hash[:12]}"
    if ref not in refs:
        note(err_console(), "cli.note.preset_stands_in", refs=", ".join(refs), ref=ref)
    return found


def present(result: SimulationResult, *, as_json: bool, lang: str, workflow: Workflow) -> None:
    """Print ``result``: its canonical JSON, or the tables."""
    if as_json:
        click.echo(result.to_json())
        return
    show_result(out_console(), result, lang=lang, style=chart_style(workflow, lang))
