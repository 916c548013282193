"""``diagram`` and ``audit verify``: draw a workflow, verify a campaign database's audit chain.

(``validate`` lives in ``_validate.py``.)"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from campaignflow.audit import AuditRecord, AuditVerification, Checkpoint, verify_chain
from campaignflow.cli._common import (
    EXIT_CHECK_FAILED,
    BadInput,
    existing_file,
    file_kind,
    lang_option,
    load_scenario_file,
    plugin_option,
    read_data,
)
from campaignflow.cli._db import campaign_ids, choose_campaign, db_url
from campaignflow.cli._local import (
    LocalCommand,
    LocalGroup,
    choice,
    lang_of,
    say,
    usage_error,
)
from campaignflow.errors import CampaignflowError
from campaignflow.i18n import messages
from campaignflow.presets import PRESETS, load
from campaignflow.store import open_store
from campaignflow.workflow import Workflow

__all__ = ["audit", "diagram"]


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
        data = read_data(file)
        if file_kind(data, file) == "workflow":
            wf = Workflow.from_file(file)
        else:
            wf = load_scenario_file(file, data).load_workflow()
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


# --- audit ---------------------------------------------------------------------------------


@click.group(cls=LocalGroup)
def audit() -> None:
    """Check a campaign database's tamper-evident audit trail."""


def _checkpoint(value: str) -> Checkpoint:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or not digest:
        raise click.BadParameter(say("cli.usage.checkpoint", lang_of(None), value=repr(value)))
    return Checkpoint(seq=int(seq), hash=digest)


def _records(source: Iterator[AuditRecord], seen: list[int]) -> Iterator[AuditRecord]:
    for record in source:
        seen[0] = record.seq
        yield record


def _verify(
    url: str, campaign_id: str, checkpoints: list[Checkpoint]
) -> tuple[AuditVerification, dict[str, Any] | None]:
    """The verification of one campaign's chain, and the first broken record's data."""
    store = open_store(url, campaign_id=campaign_id)
    try:
        with store.transaction(write=False) as tx:
            head_seq, head_hash = tx.audit_head()
            head = Checkpoint(seq=head_seq, hash=head_hash)
            last = [0]
            try:
                result = verify_chain(
                    _records(tx.iter_audit(), last),
                    checkpoints=[*checkpoints, head] if head.seq else checkpoints,
                    anchor=tx.audit_anchor(),
                )
            except (ValueError, KeyError, TypeError, CampaignflowError) as exc:
                # A row that no longer parses is as much a tampering as a wrong hash.
                seq = last[0] + 1
                return AuditVerification(
                    ok=False,
                    checked=last[0],
                    head=None,
                    broken_at=seq,
                    reason=f"record {seq} cannot be read: {exc}",
                ), None
            broken: dict[str, Any] | None = None
            if not result.ok and result.broken_at is not None:
                for record in tx.iter_audit():
                    if record.seq == result.broken_at:
                        broken = record.to_data()
                        break
            return result, broken
    finally:
        store.close()


@audit.command("verify")
@click.option(
    "--db", required=True, help="SQLite file path, sqlite:///... or postgresql://... URL."
)
@click.option("--campaign", "campaign_id", help="The campaign to check (default: every one).")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    help="SEQ:HASH exported earlier (catches a truncated or rewritten tail); repeatable.",
)
@lang_option
def audit_verify(db: str, campaign_id: str | None, checkpoints: tuple[str, ...], lang: str) -> None:
    """Recompute the audit hash chain of the campaign(s) in --db.

    Exit 0 when every chain holds; 1 when one is broken, printing its first broken record.
    """
    url = db_url(db)
    points = [_checkpoint(c) for c in checkpoints]
    ids = [choose_campaign(url, campaign_id)] if campaign_id else campaign_ids(url)
    if not ids:
        raise BadInput(say("cli.db_no_campaign", lang, db=repr(db)))
    failed = False
    for cid in ids:
        result, broken = _verify(url, cid, points)
        if result.ok:
            head = result.head
            line = messages.render(
                "cli.audit_ok", {"campaign": cid, "checked": f"{result.checked:,}"}, lang
            )
            if head is not None:
                line += messages.render(
                    "cli.audit_head", {"seq": head.seq, "hash": head.hash}, lang
                )
            click.echo(line)
            continue
        failed = True
        reason = result.reason_text(lang)
        if result.broken_at is not None:
            params = {"campaign": cid, "seq": result.broken_at, "reason": reason}
            click.echo(messages.render("cli.audit_tampered_record", params, lang))
        else:
            params = {"campaign": cid, "reason": reason}
            click.echo(messages.render("cli.audit_tampered_tail", params, lang))
        if broken is not None:
            click.echo(messages.render("cli.first_broken_record", {}, lang))
            click.echo(json.dumps(broken, ensure_ascii=False, sort_keys=True, indent=2))
    if failed:
        sys.exit(EXIT_CHECK_FAILED)


# --- simulate and report -----------------------------------------------------------------
