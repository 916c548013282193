"""The command line in the user's language: help, usage, click's own errors, from the catalogue.

click writes its own words ("Usage:", "Options:", "Error: Missing argument ...") through
the process-wide ``gettext`` domain; installing a translation there would change every
program in the process.
So the words come from the catalogue instead, through click's documented extension points:

* :class:`LocalCommand` / :class:`LocalGroup` (``cls=``) render usage, help text, option
  help (``cli.help.<command>`` and ``cli.opt.<command>.<param>``, else ``cli.opt.<param>``)
  and the command list in the language ``--lang`` names, read from the arguments before click
  parses them (so ``--help`` given before ``--lang`` is already in that language);
* :func:`show_error` shows a ``click.ClickException`` (click's or ours) as one line in that
  language; the root group calls it instead of ``ClickException.show``;
* :func:`choice`, :func:`int_range`, :func:`path` are click's types whose refusals read
  from the catalogue.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import click

from campaignflow.i18n import messages
from campaignflow.report._text import LANGS

__all__ = [
    "LANG_ENV",
    "LocalCommand",
    "LocalGroup",
    "choice",
    "default_lang",
    "int_range",
    "lang_of",
    "path",
    "say",
    "show_error",
    "usage_error",
]

#: Environment variable choosing the default language of tables and reports.
LANG_ENV = "CAMPAIGNFLOW_LANG"
_LANG_KEY = "campaignflow.lang"


def default_lang() -> str:
    """``CAMPAIGNFLOW_LANG`` if set to a language, else zh_CN under a Chinese locale, else en."""
    chosen = os.environ.get(LANG_ENV, "")
    if chosen in LANGS:
        return chosen
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
    return "zh_CN" if locale.startswith("zh") else "en"


def lang_in(args: Sequence[str]) -> str | None:
    """The language a ``--lang X`` / ``--lang=X`` among ``args`` names (the last one wins)."""
    found: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--lang="):
            found = arg.partition("=")[2]
    return found if found in LANGS else None


def remember_lang(ctx: click.Context, lang: str | None) -> None:
    if lang in LANGS:
        ctx.find_root().meta[_LANG_KEY] = lang


def lang_of(ctx: click.Context | None) -> str:
    """The running command's language: its ``--lang``, else :func:`default_lang`."""
    if ctx is None:
        ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().meta.get(_LANG_KEY) if ctx is not None else None
    return chosen if chosen in LANGS else default_lang()


def say(code: str, lang: str, **params: Any) -> str:
    """The catalogue's text for the command line's ``code``."""
    return messages.render(code, params, lang)


def usage_error(code: str, **params: Any) -> click.UsageError:
    """A usage error (exit 2) whose message is the catalogue's ``code`` in the current language."""
    return click.UsageError(say(code, lang_of(None), **params))


# --- help ---------------------------------------------------------------------------------


def _path(ctx: click.Context) -> str:
    names: list[str] = []
    node: click.Context | None = ctx
    while node is not None and node.parent is not None:
        names.append(node.command.name or "")
        node = node.parent
    return ".".join(reversed(names)) or "campaignflow"


def _text(code: str, lang: str, fallback: str | None) -> str:
    return messages.render(code, {}, lang) if code in messages else (fallback or "")


def _help_of(ctx: click.Context, command: click.Command, lang: str, *, more: bool = False) -> str:
    """The command's one-line help (``cli.help.<path>``), and with ``more`` its second
    paragraph (``cli.more.<path>``); click's own help text when the catalogue has none."""
    key = _path(ctx) if command is ctx.command else f"{_path(ctx)}.{command.name}"
    key = key.removeprefix("campaignflow.") if key != "campaignflow" else key
    if f"cli.help.{key}" not in messages:
        return (command.help or "") if more else (command.help or "").split("\n\n")[0]
    text = messages.render(f"cli.help.{key}", {}, lang)
    if more and f"cli.more.{key}" in messages:
        text += "\n\n" + messages.render(f"cli.more.{key}", {}, lang)
    return text


#: click's default metavars of its types, and their catalogue words.
_METAVARS = {
    "TEXT": "text",
    "INTEGER": "integer",
    "INTEGER RANGE": "integer_range",
    "PATH": "path",
    "DIRECTORY": "directory",
    "FILE": "file",
}


def _metavars(opts: str, lang: str) -> str:
    for name, word in _METAVARS.items():
        opts = re.sub(rf"(?<![A-Z_]){name}(?![A-Z_ ])", say(f"cli.metavar.{word}", lang), opts)
    return opts


def _option_help(ctx: click.Context, param: click.Parameter, lang: str) -> str:
    own = f"cli.opt.{_path(ctx)}.{param.name}"
    if own in messages:
        return messages.render(own, {}, lang)
    return _text(f"cli.opt.{param.name}", lang, getattr(param, "help", None))


def _extras(ctx: click.Context, param: click.Option, lang: str) -> str:
    shown: list[str] = []
    if isinstance(param.show_default, str):
        key = f"cli.default.{param.name}"
        shown.append(say("cli.word.default", lang, value=_text(key, lang, param.show_default)))
    elif param.show_default and param.default not in (None, False, ()):
        value = param.default() if callable(param.default) else param.default
        shown.append(say("cli.word.default", lang, value=value))
    if isinstance(param.type, click.types._NumberRangeBase):
        shown.append(param.type._describe_range())
    if param.required:
        shown.append(say("cli.word.required", lang))
    sep = "；" if lang == "zh_CN" else "; "
    return f"  [{sep.join(shown)}]" if shown else ""


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_WIDE = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
#: A wrap unit: one wide (Chinese) character with any opening bracket before it and closing
#: punctuation after it (a line never starts with "，" or ends with "["), a word with the
#: spaces after it, or spaces.
_PIECE = re.compile(rf"[\[(<]*[{_WIDE}][，。；：、）》」”\])>]*|[^\s{_WIDE}]+\s*|\s+")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, Chinese or not (click counts characters)."""
    lines: list[str] = []
    line = ""
    for piece in _PIECE.findall(" ".join(text.split())):
        if line.strip() and _width(line + piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    lines.append(line.rstrip())
    return lines


class LocalFormatter(click.HelpFormatter):
    """click's help formatter, measuring by terminal columns so Chinese help lines up."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        width = max((self.width or 80) - self.current_indent, 20)
        for k, paragraph in enumerate(text.split("\n\n")):
            if k:
                self.write("\n")
            for line in _wrap(paragraph, width):
                self.write(f"{indent}{line}\n")

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        first_col = min(max((_width(first) for first, _ in rows), default=0), col_max)
        first_col += col_spacing
        hang = " " * (self.current_indent + first_col)
        text_width = max((self.width or 80) - first_col - self.current_indent, 10)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if _width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _width(first)))
            else:
                self.write("\n" + hang)
            lines = _wrap(second, text_width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{hang}{line}\n")


class LocalContext(click.Context):
    """A click context whose help formatter measures Chinese text right."""

    formatter_class = LocalFormatter


class _Local:
    """What :class:`LocalCommand` and :class:`LocalGroup` share (click.Command's hooks)."""

    context_class: type[click.Context] = LocalContext

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Before click parses anything: an eager --help, or an error in an earlier option,
        # is already in the language --lang names wherever it stands.
        remember_lang(ctx, lang_in(args))
        return super().parse_args(ctx, args)  # type: ignore[misc,no-any-return]

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        lang = lang_of(ctx)
        return [say("cli.word.options_metavar", lang) if p == "[OPTIONS]" else p for p in pieces]

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        word = say("cli.word.usage", lang_of(ctx))
        prefix = word if word.endswith("：") else word + " "
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=prefix)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        assert isinstance(self, click.Command)
        text = _help_of(ctx, self, lang_of(ctx), more=True)
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        assert isinstance(self, click.Command)
        lang = lang_of(ctx)
        rows: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or not isinstance(param, click.Option):
                continue
            help_text = _option_help(ctx, param, lang) + _extras(ctx, param, lang)
            rows.append((_metavars(record[0], lang), help_text))
        if rows:
            with formatter.section(say("cli.word.options", lang)):
                formatter.write_dl(rows)


class LocalCommand(_Local, click.Command):
    """A click command whose help and usage come from the catalogue (``cls=LocalCommand``)."""


class LocalGroup(_Local, click.Group):
    """A click group whose help, usage and command list come from the catalogue."""

    command_class = LocalCommand
    subcommand_metavar = "COMMAND [ARGS]..."

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        lang = lang_of(ctx)
        sub = say("cli.word.command_metavar", lang)
        return [sub if p == self.subcommand_metavar else p for p in pieces]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, _help_of(ctx, command, lang_of(ctx))))
        if rows:
            with formatter.section(say("cli.word.commands", lang_of(ctx))):
                formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            lang = lang_of(ctx)
            code = "cli.click.no_such_command_close" if close else "cli.click.no_such_command"
            raise click.UsageError(
                say(code, lang, name=repr(name), close=close[0] if close else ""), ctx
            )
        return super().resolve_command(ctx, args)


# --- click's types and errors in the catalogue's words --------------------------------------


def _refuse(
    ctx: click.Context | None, param: click.Parameter | None, code: str, **params: Any
) -> NoReturn:
    raise click.BadParameter(say(code, lang_of(ctx), **params), ctx, param)


class _Choice(click.Choice):  # type: ignore[type-arg]
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            choices = ", ".join(repr(c) for c in self.choices)
            _refuse(ctx, param, "cli.click.not_a_choice", value=repr(value), choices=choices)


class _IntRange(click.IntRange):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            whole = int(value)
        except (TypeError, ValueError):
            _refuse(ctx, param, "cli.click.not_an_integer", value=repr(value))
        try:
            return super().convert(whole, param, ctx)
        except click.BadParameter:
            _refuse(ctx, param, "cli.click.out_of_range", value=whole, range=self._describe_range())


class _Path(click.Path):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            text = os.fsdecode(value)
            if not os.path.exists(text):
                _refuse(ctx, param, "cli.click.no_such_path", path=repr(text))
            if os.path.isdir(text) and not self.dir_okay:
                _refuse(ctx, param, "cli.click.is_a_folder", path=repr(text))
            if not os.path.isdir(text) and not self.file_okay:
                _refuse(ctx, param, "cli.click.is_a_file", path=repr(text))
            _refuse(ctx, param, "cli.click.unreadable", path=repr(text))


def choice(values: Sequence[str]) -> click.Choice:  # type: ignore[type-arg]
    """``click.Choice(values)`` whose refusal reads from the catalogue."""
    return _Choice(list(values))


def int_range(low: int | None = None, high: int | None = None) -> click.IntRange:
    """``click.IntRange(low, high)`` whose refusals read from the catalogue."""
    return _IntRange(low, high)


def path(**options: Any) -> click.Path:
    """``click.Path(**options)`` whose refusals read from the catalogue."""
    return _Path(**options)


_OPTION_USAGE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Option '(?P<name>[^']+)' requires an argument\."), "cli.click.needs_value"),
    (re.compile(r"Option '(?P<name>[^']+)' requires \d+ arguments\."), "cli.click.needs_value"),
    (re.compile(r"Option '(?P<name>[^']+)' does not take a value\."), "cli.click.takes_no_value"),
    (re.compile(r"Got unexpected extra arguments? \((?P<name>.*)\)"), "cli.click.extra_args"),
)


def _hint(exc: click.BadParameter | click.MissingParameter) -> str:
    if exc.param_hint is not None:
        hint: Any = exc.param_hint
    elif exc.param is not None:
        hint = exc.param.get_error_hint(exc.ctx)
    else:
        return ""
    return " / ".join(hint) if isinstance(hint, list | tuple) else str(hint)


def error_text(exc: click.ClickException, lang: str) -> str:
    """The one-line message of ``exc`` in ``lang`` (click's own errors included)."""
    if isinstance(exc, click.NoSuchOption):
        close = sorted(exc.possibilities or ())
        code = "cli.click.no_such_option_close" if close else "cli.click.no_such_option"
        return say(code, lang, name=exc.option_name, close=", ".join(close))
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        code = "cli.click.missing_argument" if kind == "argument" else "cli.click.missing_option"
        return say(code, lang, name=_hint(exc))
    if isinstance(exc, click.BadParameter):
        hint = _hint(exc)
        if not hint:
            return exc.message
        return say("cli.click.bad_value", lang, name=hint, message=exc.message)
    if type(exc) in (click.UsageError, click.BadOptionUsage, click.BadArgumentUsage):
        for pattern, code in _OPTION_USAGE:
            found = pattern.fullmatch(exc.message)
            if found:
                return say(code, lang, name=found["name"])
    return exc.message


#: click's "a group given no command shows its help" error (click >= 8.2).
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    t for t in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if isinstance(t, type)
)


def show_error(exc: click.ClickException, lang: str) -> None:
    """Show ``exc`` as click would (usage, a hint, the error), in ``lang``'s words."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, _NO_ARGS_IS_HELP):
        # A group given no command: its help (already in the language), as click shows it.
        click.echo(exc.format_message(), err=True)
        return
    if isinstance(exc, click.UsageError) and ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        hint = say("cli.word.try_help", lang, command=ctx.command_path, option="--help")
        click.echo(hint + "\n", err=True)
    click.echo(say("cli.word.error", lang, message=error_text(exc, lang)), err=True)


def run_localised(
    main: Callable[..., Any], args: Sequence[str] | None, extra: Mapping[str, Any]
) -> NoReturn:
    """Run click's ``main`` without its own error display, showing errors in the catalogue's words."""
    argv = list(sys.argv[1:] if args is None else args)
    lang = lang_in(argv) or default_lang()
    try:
        code = main(args=argv, standalone_mode=False, **extra)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        show_error(exc, lang_of(ctx) if ctx is not None else lang)
        sys.exit(exc.exit_code)
    except click.Abort:
        # 1 means "a check failed" (docs/cli.md, exit codes); an interruption is not one.
        click.echo(say("cli.word.aborted", lang), err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
