"""``preset show NAME``: a shipped preset's TOML, unchanged, to start a workflow of one's own."""

from __future__ import annotations

import click

from campaignflow.cli._common import BadInput, lang_option
from campaignflow.cli._local import LocalGroup
from campaignflow.errors import ValidationError
from campaignflow.presets import source

__all__ = ["preset"]


@click.group(cls=LocalGroup)
def preset() -> None:
    """The shipped workflow presets."""


@preset.command("show")
# Not click.Choice: the library's message lists the presets and names the closest one.
@click.argument("name")
@lang_option
def preset_show(name: str, lang: str) -> None:
    """Print the TOML of the shipped preset NAME, comments and all.

    Save it, change its name and what your policy changes, and load it as a workflow file.
    """
    try:
        text = source(name)
    except ValidationError as exc:
        raise BadInput(exc.message(lang)) from None
    click.echo(text, nl=False)
