"""The ``campaignflow`` command: simulate, validate, diagram, audit verify, report, preset.

Exit codes (docs/cli.md): 0 done and every check passed; 1 a check failed (an invalid file
given to ``validate``, a tampered audit trail); 2 bad usage or a file that cannot be used
(one line of explanation, never a traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from campaignflow import __version__
from campaignflow.cli._adopt import adopt
from campaignflow.cli._audit import audit
from campaignflow.cli._check import diagram
from campaignflow.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    BadInput,
    error_lang,
    explain,
    missing_extra,
    os_error,
)
from campaignflow.cli._compare import compare
from campaignflow.cli._inbox import inbox
from campaignflow.cli._local import LocalGroup, lang_of, run_localised, say
from campaignflow.cli._preset import preset
from campaignflow.cli._report import report
from campaignflow.cli._simulate import simulate
from campaignflow.cli._validate import validate
from campaignflow.errors import CampaignflowError
from campaignflow.i18n import messages

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_OK", "cli"]


class _Group(LocalGroup):
    """A group that turns library errors into one message instead of a traceback, and shows
    every error (click's own included) in the command's language."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        extra = {"prog_name": prog_name, "complete_var": complete_var, **extra}
        run_localised(super().main, args, extra)  # exits
        return None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignflowError as exc:
            # In the command's --lang (or the default language): the catalog has both.
            raise BadInput(explain(exc, error_lang())) from None
        except OSError as exc:
            raise BadInput(os_error(exc, error_lang())) from None
        except ImportError as exc:
            # A missing extra: the library's message names the pip command.
            raise BadInput(missing_extra(exc, error_lang())) from None
        except MemoryError:
            raise BadInput(messages.render("cli.out_of_memory", {}, error_lang())) from None
        except RecursionError:
            raise BadInput(messages.render("cli.too_deep", {}, error_lang())) from None


def _show_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(say("cli.word.version", lang_of(ctx), version=__version__))
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Run, check and show staged campaigns (campaignflow)."""


for _command in (adopt, audit, compare, diagram, inbox, preset, report, simulate, validate):
    cli.add_command(_command)
