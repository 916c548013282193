"""The ``campaignflow`` command: simulate, validate, diagram, audit verify, report, preset.

Exit codes (docs/cli.md): 0 done and every check passed; 1 a check failed (an invalid file
given to ``validate``, a tampered audit trail); 2 bad usage or a file that cannot be used
(one line of explanation, never a traceback).
"""

from __future__ import annotations

from typing import Any

import click

from campaignflow import __version__
from campaignflow.cli._adopt import adopt
from campaignflow.cli._audit import audit
from campaignflow.cli._check import diagram, validate
from campaignflow.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    BadInput,
    error_lang,
)
from campaignflow.cli._preset import preset
from campaignflow.cli._report import report
from campaignflow.cli._simulate import simulate
from campaignflow.errors import CampaignflowError
from campaignflow.i18n import messages

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_OK", "cli"]


class _Group(click.Group):
    """A group that turns library errors into one message instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignflowError as exc:
            # In the command's --lang (or the default language): the catalog has both.
            raise BadInput(exc.message(error_lang())) from None
        except OSError as exc:
            raise BadInput(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
        except ImportError as exc:
            # A missing extra: the library's message names the pip command.
            raise BadInput(str(exc)) from None
        except MemoryError:
            raise BadInput(messages.render("cli.out_of_memory", {}, error_lang())) from None
        except RecursionError:
            raise BadInput(messages.render("cli.too_deep", {}, error_lang())) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="campaignflow")
def cli() -> None:
    """Run, check and show staged campaigns (campaignflow)."""


for _command in (adopt, audit, diagram, preset, report, simulate, validate):
    cli.add_command(_command)
