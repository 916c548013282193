"""``validate`` and ``diagram``: check a workflow or scenario file, draw a workflow.

``audit verify`` and ``audit checkpoint`` live in ``_audit``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from campaignflow.cli._common import (
    EXIT_CHECK_FAILED,
    existing_file,
    file_kind,
    lang_option,
    load_scenario_file,
    plugin_option,
    read_data,
)
from campaignflow.errors import CampaignflowError
from campaignflow.i18n import messages
from campaignflow.presets import PRESETS, load
from campaignflow.workflow import Workflow

__all__ = ["diagram", "validate"]


@click.command()
@click.argument("file", type=existing_file())
@plugin_option
@lang_option
def validate(file: Path, lang: str) -> None:
    """Check a workflow or scenario FILE (TOML or JSON); every problem is listed.

    Exit 0 when it is valid, 1 when it is not.
    """
    try:
        data = read_data(file)
        kind = file_kind(data)
        if kind == "workflow":
            wf = Workflow.from_file(file)
            click.echo(
                messages.render(
                    "cli.valid_workflow",
                    {
                        "name": wf.name,
                        "version": wf.version,
                        "file": str(file),
                        "stages": len(wf.stages),
                        "transitions": len(wf.transitions),
                        "batches": len(wf.batches),
                    },
                    lang,
                )
            )
            return
        scenario = load_scenario_file(file, data)
        wf = scenario.load_workflow()
        click.echo(
            messages.render(
                "cli.valid_scenario",
                {
                    "name": scenario.name,
                    "file": str(file),
                    "units": f"{scenario.unit_count():,}",
                    "batches": len(scenario.batches),
                    "workflow": f"{wf.name}@{wf.version}",
                },
                lang,
            )
        )
    except CampaignflowError as exc:
        click.echo(messages.render("cli.invalid", {"message": exc.message(lang)}, lang), err=True)
        sys.exit(EXIT_CHECK_FAILED)


@click.command()
@click.argument("file", type=existing_file(), required=False)
@click.option("--preset", type=click.Choice(PRESETS), help="A shipped workflow instead of FILE.")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@plugin_option
@lang_option
def diagram(file: Path | None, preset: str | None, fmt: str, lang: str) -> None:
    """Print the diagram of a workflow FILE (or a scenario's workflow, or --preset NAME)."""
    if (file is None) == (preset is None):
        raise click.UsageError("give either a workflow FILE or --preset NAME")
    if preset is not None:
        wf = load(preset)
    else:
        assert file is not None
        data = read_data(file)
        if file_kind(data) == "workflow":
            wf = Workflow.from_file(file)
        else:
            wf = load_scenario_file(file, data).load_workflow()
    click.echo(wf.diagram(fmt, locale=lang))  # type: ignore[arg-type]
