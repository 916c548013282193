"""Tampering with a campaign database: what ``Campaign.verify`` detects, with and without a
signed checkpoint.

Each named kind once on SQLite and PostgreSQL (default run), then random single-cell edits of
every table's verified columns (sized: ``CF_TAMPER_EDITS`` on SQLite, default 2,000 at full
size; ``CF_TAMPER_EDITS_PG`` on PostgreSQL, default 300). The figures are printed (``-s``).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import (
    Checkpoint,
    read_signed_checkpoint,
    sign_checkpoint,
    verify_signed_checkpoint,
)
from tests.store.conftest import SQL_BACKENDS, StoreFactory
from tests.tamper_kit import KINDS, Raw, campaign, fill

serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")

UNITS = 9


def keys(folder: Path) -> tuple[Path, Path]:
    """A fresh Ed25519 key pair as PEM files: (private, public)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private, public = folder / "auditor.pem", folder / "auditor.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def signed_head(camp: cf.Campaign, folder: Path) -> Checkpoint:
    """The campaign's head signed by the auditor's key, written, read back and checked."""
    private, public = keys(folder)
    signed = sign_checkpoint(camp.audit_checkpoint(), private, campaign=camp.campaign_id)
    path = folder / "checkpoint.json"
    path.write_text(signed.to_json(), encoding="utf-8")
    return verify_signed_checkpoint(read_signed_checkpoint(path), public)


@pytest.fixture(params=SQL_BACKENDS)
def sql_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """SQLite, then PostgreSQL, each with a fresh campaign id."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def built(sql_factory: StoreFactory, tmp_path: Path) -> tuple[cf.Campaign, Raw, Checkpoint]:
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = campaign(sql_factory, clock)
    fill(camp, clock, UNITS)
    point = signed_head(camp, tmp_path)
    assert camp.verify(checkpoints=[point]).ok
    raw = Raw(sql_factory)
    yield camp, raw, point
    raw.close()


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_detected_with_a_signed_checkpoint(
    kind: str, built: tuple[cf.Campaign, Raw, Checkpoint], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every named kind fails verification against a signed checkpoint; without one, exactly
    the kinds KINDS names as detectable fail."""
    camp, raw, point = built
    tamper, detectable_alone = KINDS[kind]
    tamper(raw, point.seq // 2)
    with_checkpoint = camp.verify(checkpoints=[point])
    alone = camp.verify()
    assert not with_checkpoint.ok, kind
    assert with_checkpoint.code
    assert with_checkpoint.text("zh_CN")
    assert with_checkpoint.text("en")
    assert alone.ok is (not detectable_alone), (kind, alone.code, alone.params)
    with capsys.disabled():
        print(
            f"\ntamper kind {kind!r}: with a signed checkpoint {with_checkpoint.code}; "
            f"without one {alone.code or 'UNDETECTED'}"
        )


# --- random single-cell edits ---------------------------------------------------------------

#: The columns verification covers, by table: every cell here is pinned by the chain (the
#: audit table, the head pointer and the anchor) or equal to what the chain produces.
VERIFIED = {
    "cf_audit": (
        "seq", "at_time", "on_date", "campaign", "command", "actor_id", "actor_roles",
        "outcome", "unit_id", "source", "dest", "version", "request_id", "workflow",
        "payload", "decision", "reason", "prev_hash", "hash",
    ),
    "cf_units": ("unit_id", "name", "kind", "batch", "members", "parent"),
    "cf_states": (
        "unit_id", "stage", "batch", "version", "entered_on", "stage_since", "started_on",
        "remedial", "remedial_round", "resume_since", "workflow",
    ),
    "cf_facts": (
        "unit_id", "stage", "version", "seq", "kind", "data", "on_date", "at_time",
        "actor_id", "request_id",
    ),
    "cf_campaigns": ("head_seq", "head_hash", "anchor_seq", "anchor_hash"),
}  # fmt: skip
#: Columns outside it, and why (docs/audit.md says the same).
DERIVED = {
    "cf_audit": ("transition_version",),  # a uniqueness helper, a copy of version + 1
    "cf_units": ("ordinal",),  # the order units are listed in
    "cf_states": (
        "swept", "parent", "ordinal", "refused_version", "refused_seq", "refused_codes",
        "a_satisfied", "a_fairly", "a_basically", "a_dissatisfied",
    ),  # sweep claims and roll-up copies, rebuilt by Campaign.backfill_overview()
    "cf_facts": ("n",),  # the order within a stage
    "cf_campaigns": ("exported_seq",),  # what was exported: purge asks for it
}  # fmt: skip
KEYS = {
    "cf_audit": ("seq",),
    "cf_units": ("unit_id",),
    "cf_states": ("unit_id",),
    "cf_facts": ("unit_id", "stage", "n"),
    "cf_campaigns": (),
}


def _changed(value: Any) -> Any:
    if value is None:
        return 1
    if isinstance(value, bool | int):
        return int(value) + 1
    return f"{value}x"


def edit_cell(raw: Raw, rng: random.Random, table: str) -> tuple[str, Callable[[], None]] | None:
    """Change one verified cell of a random row of ``table``; returns its name and an undo
    (None when the database's own constraints refuse the edit)."""
    names = raw.columns(table)
    rows = raw.run(f"SELECT * FROM {table} WHERE campaign_id = ?", (raw.cid,))
    row = dict(zip(names, rng.choice(rows), strict=True))
    column = rng.choice(VERIFIED[table])
    old, new = row[column], _changed(row[column])
    keys = KEYS[table]
    where = " AND ".join(["campaign_id = ?", *(f"{k} = ?" for k in keys)])

    def at(values: dict[str, Any]) -> list[Any]:
        return [raw.cid, *(values[k] for k in keys)]

    try:
        raw.run(f"UPDATE {table} SET {column} = ? WHERE {where}", [new, *at(row)])
    except Exception:  # the database's own constraint (a key taken): a value nobody holds
        new = new + 100_003 if isinstance(new, int) else f"{new}-{rng.randrange(10**9)}"
        try:
            raw.run(f"UPDATE {table} SET {column} = ? WHERE {where}", [new, *at(row)])
        except Exception:  # a foreign key holds it: the database refuses the edit itself
            return None
    moved = {**row, column: new}

    def undo() -> None:
        raw.run(f"UPDATE {table} SET {column} = ? WHERE {where}", [old, *at(moved)])

    return f"{table}.{column}", undo


def run_random_edits(
    camp: cf.Campaign, raw: Raw, point: Checkpoint, edits: int, seed: int
) -> Counter[str]:
    """``edits`` random edits, each undone after verifying; the counts of what was seen."""
    rng = random.Random(seed)
    tables = list(VERIFIED)
    seen: Counter[str] = Counter()
    i = 0
    while seen["edits"] < edits:
        made = edit_cell(raw, rng, tables[i % len(tables)])
        i += 1
        if made is None:
            seen["refused by the database"] += 1
            continue
        cell, undo = made
        try:
            with_checkpoint = camp.verify(checkpoints=[point])
            alone = camp.verify()
        finally:
            undo()
        seen["edits"] += 1
        seen["detected with checkpoint"] += not with_checkpoint.ok
        seen["detected without checkpoint"] += not alone.ok
        if with_checkpoint.ok:
            seen[f"MISSED {cell}"] += 1
    assert camp.verify(checkpoints=[point]).ok  # every edit was undone
    return seen


def _report(store: str, seen: Counter[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Print the figures past pytest's capture, so CI's log shows them."""
    edits = seen["edits"]
    with capsys.disabled():
        _print(store, seen, edits)


def _print(store: str, seen: Counter[str], edits: int) -> None:
    print(
        f"\ntamper ({store}): {edits:,} random edits of "
        f"{', '.join(VERIFIED)}: detected with a signed checkpoint "
        f"{seen['detected with checkpoint']:,}/{edits:,}, without one "
        f"{seen['detected without checkpoint']:,}/{edits:,} "
        f"({seen['refused by the database']:,} more refused by the database's own keys)"
    )
    print(f"not covered (derived copies and caches): {DERIVED}")


@pytest.mark.sized(default=40)
def test_random_edits_of_every_table_are_detected_on_sqlite(
    tmp_path: Path, size: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Random single-cell edits of every table's verified columns are all detected on SQLite."""
    clock = cf.FixedClock(date(2005, 1, 10))
    factory = StoreFactory("sqlite", tmp_path)
    camp = campaign(factory, clock)
    fill(camp, clock, UNITS)
    point = signed_head(camp, tmp_path)
    raw = Raw(factory)
    try:
        seen = run_random_edits(
            camp, raw, point, size or int(os.environ.get("CF_TAMPER_EDITS", "2000")), 17
        )
    finally:
        raw.close()
        factory.close()
    _report("SQLite", seen, capsys)
    assert [k for k in seen if k.startswith("MISSED")] == []
    assert seen["detected with checkpoint"] == seen["edits"]
    # A single changed cell breaks the chain, the head, the anchor or a row's equality.
    assert seen["detected without checkpoint"] == seen["edits"]


@pytest.mark.sized(default=15)
def test_random_edits_of_every_table_are_detected_on_postgres(
    tmp_path: Path, size: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same random edits, fewer of them, on PostgreSQL."""
    clock = cf.FixedClock(date(2005, 1, 10))
    factory = StoreFactory("postgres", tmp_path)
    camp = campaign(factory, clock)
    fill(camp, clock, UNITS)
    point = signed_head(camp, tmp_path)
    raw = Raw(factory)
    try:
        seen = run_random_edits(
            camp, raw, point, size or int(os.environ.get("CF_TAMPER_EDITS_PG", "300")), 23
        )
    finally:
        raw.close()
        factory.close()
    _report("PostgreSQL", seen, capsys)
    assert seen["detected with checkpoint"] == seen["edits"]
    assert seen["detected without checkpoint"] == seen["edits"]
