"""``audit verify`` and ``audit checkpoint``: check a campaign database against its trail,
and sign its chain head.

``audit verify`` checks the hash chain, the head pointer and the purge anchor against the
checkpoints given (plain ``SEQ:HASH`` or signed checkpoint files, checked with
``--public-key``), then every unit, state and fact row against what the trail produces
(:meth:`Campaign.verify`), naming the first row that differs. Exit codes: 0 every campaign
verifies, 1 one was tampered with (or a signature does not verify), 2 bad usage or a file
that cannot be used.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import click

from campaignflow.audit import (
    AuditRecord,
    AuditVerification,
    Checkpoint,
    SignedCheckpoint,
    StoreVerification,
    read_signed_checkpoint,
    sign_checkpoint,
    verify_chain,
    verify_signed_checkpoint,
)
from campaignflow.campaign import Campaign
from campaignflow.cli._common import (
    EXIT_CHECK_FAILED,
    BadInput,
    WorkflowSource,
    db_option,
    error_lang,
    lang_option,
    plugin_option,
    workflow_for,
    workflow_source_options,
)
from campaignflow.cli._db import (
    campaign_ids,
    choose_campaign,
    db_url,
    find_workflow,
    workflow_refs,
)
from campaignflow.cli._local import LocalGroup, lang_of, say, usage_error
from campaignflow.cli._local import path as checked_path
from campaignflow.errors import AuditTampered, CampaignflowError
from campaignflow.i18n import messages
from campaignflow.store import open_store
from campaignflow.workflow._engine import workflow_ref

__all__ = ["audit"]

_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: What a row that no longer reads raises: as much a tampering as a wrong hash.
_UNREADABLE = (ValueError, KeyError, TypeError, CampaignflowError)


#: The store both commands read (as the other commands take it).
#: An existing file given as a path: a key, a checkpoint, a workflow, a scenario.
_FILE = checked_path(exists=True, dir_okay=False, path_type=Path)


@click.group(cls=LocalGroup)
def audit() -> None:
    """Check a campaign database's tamper-evident audit trail, and sign its head."""


def _checkpoint_arg(value: str) -> Checkpoint | Path:
    seq, sep, digest = value.partition(":")
    if sep and seq.isdigit() and digest and not Path(value).exists():
        return Checkpoint(seq=int(seq), hash=digest)
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(
            say("cli.usage.checkpoint_or_file", lang_of(None), value=repr(value)),
            param_hint="--checkpoint",
        )
    return path


def _records(source: Iterator[AuditRecord], seen: list[int]) -> Iterator[AuditRecord]:
    for record in source:
        seen[0] = record.seq
        yield record


def _chain_only(url: str, cid: str, points: list[Checkpoint]) -> AuditVerification:
    """The chain, its head pointer and its anchor (no workflow at hand for the rows)."""
    store = open_store(url, campaign_id=cid)
    last = [0]
    try:
        with store.transaction(write=False) as tx:
            seq, hash_ = tx.audit_head()
            return verify_chain(
                _records(tx.iter_audit(), last),
                checkpoints=points,
                anchor=tx.audit_anchor(),
                head=Checkpoint(seq=seq, hash=hash_),
            )
    except _UNREADABLE as exc:
        return _unreadable(last[0] + 1, last[0], exc)
    finally:
        store.close()


def _unreadable(seq: int, checked: int, exc: BaseException) -> AuditVerification:
    return AuditVerification(
        ok=False, checked=checked, broken_at=seq, reason=f"record {seq} cannot be read: {exc}"
    )


def _broken_record(url: str, cid: str, seq: int) -> dict[str, Any] | None:
    store = open_store(url, campaign_id=cid)
    try:
        with store.transaction(write=False) as tx:
            for record in tx.iter_audit(after_seq=seq - 1):
                return record.to_data() if record.seq == seq else None
    except _UNREADABLE:
        return None
    finally:
        store.close()
    return None


def _signed_points(
    paths: list[Path], public_key: Path | None, ids: list[str]
) -> tuple[dict[str, list[Checkpoint]], list[tuple[str, str]]]:
    """Each campaign's checkpoints from signed files, and the (campaign, why) that failed."""
    if paths and public_key is None:
        raise usage_error("cli.usage.checkpoint_needs_key")
    points: dict[str, list[Checkpoint]] = {}
    failed: list[tuple[str, str]] = []
    for path in paths:
        signed: SignedCheckpoint = read_signed_checkpoint(path)
        if signed.campaign not in ids:
            raise usage_error(
                "cli.usage.checkpoint_other_campaign",
                path=repr(str(path)),
                campaign=repr(signed.campaign),
                ids=", ".join(ids),
            )
        assert public_key is not None
        try:
            point = verify_signed_checkpoint(signed, public_key)
        except AuditTampered as exc:
            failed.append((signed.campaign, exc.message(error_lang())))
            continue
        points.setdefault(signed.campaign, []).append(point)
        click.echo(
            messages.render(
                "cli.signed_checkpoint_ok", {"seq": point.seq, "path": str(path)}, error_lang()
            ),
            err=True,
        )
    return points, failed


def _verify_one(
    url: str, cid: str, points: list[Checkpoint], source: WorkflowSource
) -> tuple[AuditVerification, StoreVerification | None]:
    """The chain's verification, and the whole store's when a workflow is at hand."""
    refs = workflow_refs(url, cid)
    if source.given:
        wf = workflow_for(url, cid, source)
        if refs and workflow_ref(wf) not in refs:
            raise BadInput(
                messages.render(
                    "cli.not_the_workflow", {"ref": workflow_ref(wf), "refs": refs}, error_lang()
                )
            )
    else:
        try:
            wf = find_workflow(refs)
        except CampaignflowError:
            return _chain_only(url, cid, points), None
        if workflow_ref(wf) not in refs:  # a preset of that name, not the very version
            return _chain_only(url, cid, points), None
    campaign = Campaign(wf, url, campaign_id=cid)
    try:
        result = campaign.verify(checkpoints=points)
    except _UNREADABLE as exc:
        chain = _chain_only(url, cid, points)
        if chain.ok:
            chain = _unreadable(0, chain.checked, exc)
        return chain, None
    finally:
        campaign.close()
    return result.chain, result


def _as_data(
    cid: str, chain: AuditVerification, store: StoreVerification | None, lang: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "campaign": cid,
        "ok": chain.ok and (store is None or store.ok),
        "checked": chain.checked,
        "head": None if chain.head is None else attrs.asdict(chain.head),
        "broken_at": chain.broken_at,
        "rows_checked": store is not None,
        "code": chain.reason_code,
        "params": dict(chain.reason_params),
        "text": chain.reason_text(lang),
        "difference": None,
    }
    if store is not None:
        data.update(units=store.units, states=store.states, facts=store.facts)
        data.update(unchecked=store.unchecked)
        if store.difference is not None:
            data.update(code=store.code, params=dict(store.params), text=store.text(lang))
            data["difference"] = attrs.asdict(store.difference)
    return data


@audit.command("verify")
@db_option
@click.option("--campaign", "campaign_id", help="The campaign to check (default: every one).")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    help="SEQ:HASH exported earlier, or a signed checkpoint FILE (needs --public-key); repeatable.",
)
@click.option(
    "--public-key",
    type=_FILE,
    help="The Ed25519 public key (PEM) that checks signed checkpoint files.",
)
@workflow_source_options(
    workflow="The workflow the campaign ran (default: the shipped preset its records name).",
    preset="The shipped preset the campaign ran.",
    scenario="The scenario whose workflow the campaign ran.",
    preset_choice=False,
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@plugin_option
@lang_option
def audit_verify(
    db: str,
    campaign_id: str | None,
    checkpoints: tuple[str, ...],
    public_key: Path | None,
    source: WorkflowSource,
    as_json: bool,
    lang: str,
) -> None:
    """Verify the campaign(s) in --db: the audit chain, then every unit, state and fact.

    Exit 0 when everything verifies; 1 when something was tampered with (the first wrong
    record or row is named); 2 on bad usage. Without a workflow (neither given nor a
    shipped preset) only the chain is checked, and a note says so.
    """
    url = db_url(db)
    args = [_checkpoint_arg(c) for c in checkpoints]
    plain = [a for a in args if isinstance(a, Checkpoint)]
    ids = [choose_campaign(url, campaign_id)] if campaign_id else campaign_ids(url)
    if not ids:
        raise BadInput(say("cli.db_no_campaign", lang, db=repr(db)))
    signed, bad_signatures = _signed_points(
        [a for a in args if isinstance(a, Path)], public_key, ids
    )
    failed = False
    results: list[dict[str, Any]] = []
    for cid in ids:
        bad = [why for name, why in bad_signatures if name == cid]
        if bad:
            failed = True
            results.append({"campaign": cid, "ok": False, "code": "audit.signature_invalid"})
            results[-1]["text"] = bad[0]
            if not as_json:
                params = {"campaign": cid, "reason": bad[0]}
                click.echo(messages.render("cli.store_tampered", params, lang))
            continue
        points = [*plain, *signed.get(cid, [])]
        chain, store = _verify_one(url, cid, points, source)
        data = _as_data(cid, chain, store, lang)
        results.append(data)
        failed = failed or not data["ok"]
        if not as_json:
            _say(url, cid, chain, store, lang)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, sort_keys=True, indent=2))
    if failed:
        sys.exit(EXIT_CHECK_FAILED)


def _say(
    url: str, cid: str, chain: AuditVerification, store: StoreVerification | None, lang: str
) -> None:
    """Print one campaign's result, as lines of text."""
    if not chain.ok:
        reason = chain.reason_text(lang)
        if chain.broken_at is not None:
            params = {"campaign": cid, "seq": chain.broken_at, "reason": reason}
            click.echo(messages.render("cli.audit_tampered_record", params, lang))
            broken = _broken_record(url, cid, chain.broken_at)
            if broken is not None:
                click.echo(messages.render("cli.first_broken_record", {}, lang))
                click.echo(json.dumps(broken, ensure_ascii=False, sort_keys=True, indent=2))
        else:
            click.echo(
                messages.render(
                    "cli.audit_tampered_tail", {"campaign": cid, "reason": reason}, lang
                )
            )
        return
    line = messages.render("cli.audit_ok", {"campaign": cid, "checked": f"{chain.checked:,}"}, lang)
    if chain.head is not None:
        line += messages.render(
            "cli.audit_head", {"seq": chain.head.seq, "hash": chain.head.hash}, lang
        )
    click.echo(line)
    if store is None:
        click.echo(messages.render("cli.rows_not_checked", {"campaign": cid}, lang), err=True)
    elif not store.ok:
        click.echo(
            messages.render(
                "cli.store_tampered", {"campaign": cid, "reason": store.text(lang)}, lang
            )
        )
    else:
        counts = {"campaign": cid, "units": f"{store.units:,}", "states": f"{store.states:,}"}
        counts["facts"] = f"{store.facts:,}"
        line = messages.render("cli.store_ok", counts, lang)
        if store.unchecked:
            line += messages.render("cli.store_unchecked", {"count": store.unchecked}, lang)
        click.echo(line)


@audit.command("checkpoint")
@db_option
@click.option("--campaign", "campaign_id", help="The campaign (default: the only one).")
@click.option(
    "--sign",
    "key",
    required=True,
    type=_FILE,
    help="The Ed25519 private key (PEM, unencrypted) that signs the checkpoint.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (new; default checkpoint-CAMPAIGN-SEQ.json here).",
)
@lang_option
def audit_checkpoint(
    db: str, campaign_id: str | None, key: Path, out: Path | None, lang: str
) -> None:
    """Sign the head of the campaign's verified chain and write it as a checkpoint file.

    The chain is verified first (a broken chain is never signed: exit 1). The file is
    new: an existing file is never replaced.
    """
    url = db_url(db)
    cid = choose_campaign(url, campaign_id)
    chain = _chain_only(url, cid, [])
    if not chain.ok:
        _say(url, cid, chain, None, lang)
        sys.exit(EXIT_CHECK_FAILED)
    from_head = chain.head or Checkpoint(seq=0, hash="0" * 64)
    signed = sign_checkpoint(from_head, key, campaign=cid)
    path = out or Path(f"checkpoint-{cid}-{signed.seq}.json")
    try:
        fd = os.open(path, _OPEN_NEW, 0o644)
    except FileExistsError:
        raise BadInput(
            messages.render("cli.checkpoint_exists", {"path": repr(str(path))}, lang)
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signed.to_json())
    params = {"campaign": cid, "seq": signed.seq, "path": str(path)}
    click.echo(messages.render("cli.checkpoint_written", params, lang))
