"""``diagram``: draw a workflow.

(``validate`` lives in ``_validate.py``; ``audit verify`` and ``audit checkpoint`` in ``_audit.py``.)"""

from __future__ import annotations

import re
from pathlib import Path

import click

from campaignflow.cli._common import existing_file, lang_option, plugin_option, workflow_of_file
from campaignflow.cli._local import LocalCommand, choice, usage_error
from campaignflow.presets import PRESETS, load
from campaignflow.workflow import Workflow

__all__ = ["diagram"]


@click.command(cls=LocalCommand)
@click.argument("file", type=existing_file(), required=False)
@click.option("--preset", type=choice(PRESETS), help="A shipped workflow instead of FILE.")
@click.option(
    "--format", "fmt", type=choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@plugin_option
@lang_option
def diagram(file: Path | None, preset: str | None, fmt: str, lang: str) -> None:
    """Print the diagram of a workflow FILE (or a scenario's workflow, or --preset NAME)."""
    if (file is None) == (preset is None):
        raise usage_error("cli.usage.file_or_preset")
    if preset is not None:
        wf = load(preset)
    else:
        assert file is not None
        wf = workflow_of_file(file)
    click.echo(_label_stages(wf.diagram(fmt, locale=lang), wf, lang))  # type: ignore[arg-type]


def _label_stages(text: str, wf: Workflow, lang: str) -> str:
    """The diagram with each stage shown by its title in ``lang`` (transitions draws ids)."""
    labels = {s.id: s.label(lang) for s in wf.stages}

    def mermaid(found: re.Match[str]) -> str:
        return f'state "{labels.get(found[1], found[1])}" as {found[1]}'

    def dot(found: re.Match[str]) -> str:
        shown = labels.get(found[1], found[1]).replace('"', '\\"')
        return f'{found[1]} [label="{shown}\\l"'

    text = re.sub(r'state "([^"]+)" as \1\b', mermaid, text)
    return re.sub(r'^\t(\w+) \[label="\1\\l"', lambda m: "\t" + dot(m), text, flags=re.M)
