"""``Campaign.verify``: the whole store against its audit trail, the head pointer, purge
records and anchors, and signed checkpoints."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import campaignflow as cf
from campaignflow.audit import (
    AuditRecord,
    Checkpoint,
    SignedCheckpoint,
    StoreVerification,
    read_signed_checkpoint,
    sign_checkpoint,
    verify_chain,
    verify_signed_checkpoint,
)
from tests.store.conftest import BACKENDS, SQL_BACKENDS, StoreFactory
from tests.store.test_schema_fixtures import HEADS, open_copy
from tests.tamper_kit import CLERK, INSPECTOR, Inspection, Raw, campaign, fill
from tests.test_tamper import keys

UNITS = 9


@pytest.fixture(params=BACKENDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path)
    yield made
    made.close()


@pytest.fixture(params=SQL_BACKENDS)
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path)
    yield made
    made.close()


def filled(factory: StoreFactory) -> tuple[cf.Campaign, cf.FixedClock]:
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = campaign(factory, clock)
    fill(camp, clock, UNITS)
    return camp, clock


def test_an_untouched_store_verifies_row_by_row(factory: StoreFactory) -> None:
    """Every unit, state and fact (a custom fact type, a custom guard's campaign) is checked."""
    camp, _ = filled(factory)
    result = camp.verify(checkpoints=[camp.audit_checkpoint()])
    assert result.ok, result.text("en")
    assert (result.units, result.states, result.facts, result.unchecked) == (9, 9, 15, 0)
    assert result.chain.ok
    assert result.text("en") == ""
    result.raise_if_broken()


def test_deleting_the_last_record_fails_the_api_as_the_cli(sql: StoreFactory) -> None:
    """The head pointer kept in cf_campaigns is checked: a deleted last row fails verify_audit."""
    camp, _ = filled(sql)
    raw = Raw(sql)
    head, _ = raw.head()
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ? AND seq = ?", (raw.cid, head))
    raw.close()
    result = camp.verify_audit()
    assert not result.ok
    assert result.reason_code == "audit.head_mismatch"
    assert result.reason_params == {"stored": head, "found": head - 1}
    assert not camp.verify()


def _fact_row(raw: Raw, unit_id: str) -> tuple[str, int, str]:
    rows = raw.run(
        "SELECT stage, n, data FROM cf_facts WHERE campaign_id = ? AND unit_id = ? ORDER BY seq",
        (raw.cid, unit_id),
    )
    return rows[-1]


def test_an_approval_edited_to_approved_is_named(sql: StoreFactory) -> None:
    """The issue's forgery: a rejected Approval row set to "approved" in cf_facts."""
    camp, _ = filled(sql)
    camp.record("u0002", Inspection(score=70), actor=INSPECTOR)
    camp.advance("u0002", actor=CLERK)
    camp.approve("u0002", actor=INSPECTOR, decision="rejected")
    raw = Raw(sql)
    stage, n, data = _fact_row(raw, "u0002")
    forged = data.replace('"rejected"', '"approved"')
    raw.run(
        "UPDATE cf_facts SET data = ? WHERE campaign_id = ? AND unit_id = 'u0002' AND n = ? "
        "AND stage = ?",
        (forged, raw.cid, n, stage),
    )
    raw.close()
    result = camp.verify()
    assert not result.ok
    assert result.difference is not None
    assert (result.difference.table, result.difference.field) == ("cf_facts", "data")
    assert result.difference.key.startswith("u0002 review seq ")
    assert "rejected" in result.difference.expected
    assert "approved" in result.difference.found
    assert result.code == "store_check.row_differs"
    assert "cf_facts" in result.text("zh_CN")
    with pytest.raises(cf.AuditTampered) as raised:
        result.raise_if_broken()
    assert raised.value.reason_code == "store_check.row_differs"


@pytest.mark.parametrize(
    ("sql_text", "table", "key", "field"),
    [
        (
            "UPDATE cf_states SET stage = 'done' WHERE unit_id = 'u0001'",
            "cf_states",
            "u0001",
            "stage",
        ),
        (
            "UPDATE cf_states SET version = 7 WHERE unit_id = 'u0003'",
            "cf_states",
            "u0003",
            "version",
        ),
        ("UPDATE cf_units SET name = 'x' WHERE unit_id = 'u0004'", "cf_units", "u0004", "name"),
        ("UPDATE cf_units SET batch = 2 WHERE unit_id = 'u0004'", "cf_units", "u0004", "batch"),
        ("DELETE FROM cf_facts WHERE unit_id = 'u0005'", "cf_facts", "u0005 work seq 25", "row"),
    ],
)
def test_a_changed_unit_state_or_fact_row_is_named(
    sql: StoreFactory, sql_text: str, table: str, key: str, field: str
) -> None:
    """The first differing row is named by table, key and field, expected against found."""
    camp, _ = filled(sql)
    raw = Raw(sql)
    raw.run(sql_text.replace("WHERE", "WHERE campaign_id = ? AND"), (raw.cid,))
    raw.close()
    result = camp.verify()
    assert not result.ok
    assert result.difference is not None
    assert (result.difference.table, result.difference.key, result.difference.field) == (
        table,
        key,
        field,
    )


def test_a_renamed_unit_is_a_missing_row(tmp_path: Path) -> None:
    """Renaming a unit (its id in every table; SQLite does not hold its foreign keys) leaves
    its records without their rows."""
    sql = StoreFactory("sqlite", tmp_path)
    camp, _ = filled(sql)
    raw = Raw(sql)
    for table in ("cf_facts", "cf_states", "cf_units"):
        raw.run(
            f"UPDATE {table} SET unit_id = 'zz-renamed' WHERE campaign_id = ? AND unit_id = 'u0008'",
            (raw.cid,),
        )
    raw.close()
    result = camp.verify()
    assert result.difference is not None
    assert (result.difference.table, result.difference.key) == ("cf_units", "u0008")
    assert result.code == "store_check.row_missing"


def test_a_row_that_no_longer_reads_is_reported_not_raised(sql: StoreFactory) -> None:
    """A stored date that is not a date anymore is a result naming where, never an exception."""
    camp, _ = filled(sql)
    raw = Raw(sql)
    raw.run(
        "UPDATE cf_states SET entered_on = 'yesterday' WHERE campaign_id = ? AND unit_id = 'u0000'",
        (raw.cid,),
    )
    raw.close()
    result = camp.verify()
    assert not result.ok
    assert result.code == "store_check.unreadable"
    assert "yesterday" in result.params["exc"]


# --- purges ---------------------------------------------------------------------------------


def purged(factory: StoreFactory) -> tuple[cf.Campaign, Checkpoint, int]:
    """A filled campaign, exported, then purged of everything dated before 2005-01-20."""
    camp, clock = filled(factory)
    exported = camp.export_audit(io.StringIO())
    clock.set(date(2005, 9, 1))
    removed = camp.purge_audit(older_than=date(2005, 1, 20))
    return camp, exported, removed


def test_a_purge_appends_a_record_naming_what_went(factory: StoreFactory) -> None:
    """The purge record names the range, the last purged hash and the units added in it."""
    camp, exported, removed = purged(factory)
    assert removed == UNITS  # the add_unit records of 2005-01-10
    trail = list(camp.audit_trail())
    purge = trail[-1]
    assert (purge.command, purge.outcome, purge.unit_id) == ("purge", "ok", None)
    assert purge.payload["from"] == 1
    assert purge.payload["through"] == UNITS
    assert purge.payload["units"] == UNITS
    after = camp.audit_checkpoint()
    result = camp.verify(checkpoints=[exported, after])
    assert result.ok, result.text("en")
    assert result.unchecked == UNITS  # their add_unit records are in the export only
    # A checkpoint made before the purge alone does not cover the purge record.
    alone = camp.verify_audit(checkpoints=[exported])
    assert alone.reason_code == "audit.anchor_after_checkpoints"


def test_a_unit_slipped_in_after_a_purge_breaks_the_count(sql: StoreFactory) -> None:
    """Units without an add_unit record must number exactly what the purge record says."""
    camp, _, _ = purged(sql)
    raw = Raw(sql)
    raw.run(
        "INSERT INTO cf_units (campaign_id, unit_id, ordinal, name, kind, batch, members) "
        "VALUES (?, 'ghost', 999, 'ghost', 'organ', 1, 1)",
        (raw.cid,),
    )
    raw.close()
    result = camp.verify()
    assert result.difference is not None
    assert (result.difference.table, result.difference.field) == ("cf_units", "count")


def test_the_issues_forged_anchor_is_detected_with_or_without_checkpoints(
    sql: StoreFactory,
) -> None:
    """``DELETE FROM cf_audit; UPDATE cf_campaigns SET anchor_seq=…, anchor_hash=…`` fails."""
    camp, _ = filled(sql)
    head = camp.audit_checkpoint()
    raw = Raw(sql)
    raw.run("DELETE FROM cf_audit WHERE campaign_id = ?", (raw.cid,))
    raw.run(
        "UPDATE cf_campaigns SET anchor_seq = ?, anchor_hash = ? WHERE campaign_id = ?",
        (head.seq, head.hash, raw.cid),
    )
    raw.close()
    for points in ([], [head]):
        result = camp.verify_audit(checkpoints=points)
        assert result.reason_code == "audit.anchor_unconfirmed"
        assert not camp.verify(checkpoints=points)


# --- fixtures of every released schema ---------------------------------------------------


@pytest.mark.parametrize("version", sorted(HEADS))
def test_every_released_schema_verifies_whole(version: int, tmp_path: Path) -> None:
    """Each fixture database loads, migrates and verifies row by row against its checkpoint."""
    camp, _ = open_copy(version, tmp_path)
    try:
        result = camp.verify(checkpoints=[HEADS[version]])
        assert result.ok, result.text("en")
        assert result.units > 0
        assert result.units == result.states
        camp.record("fin-01", cf.StudySession(hours=2), actor=CLERK)
        assert camp.verify(checkpoints=[HEADS[version]]).ok
    finally:
        camp.close()


def test_an_adopted_versions_definition_is_pinned(tmp_path: Path) -> None:
    """A stored workflow version whose definition no longer hashes to its ref is named."""
    camp, path = open_copy(5, tmp_path)
    camp.close()
    raw = Raw(SimpleNamespace(kind="sqlite", path=path, campaign_id="fixture-v5"))  # type: ignore[arg-type]
    ((definition,),) = raw.run("SELECT definition FROM cf_workflows WHERE n = 2")
    data = json.loads(definition)
    data["stages"][1]["title_en"] = "Edited"  # still a workflow, no longer the one adopted
    raw.run("UPDATE cf_workflows SET definition = ? WHERE n = 2", (json.dumps(data),))
    raw.close()
    store = cf.store.SQLiteStore(path, campaign_id="fixture-v5")
    reopened = cf.Campaign(
        cf.presets.district_2005(),
        store=store,
        clock=cf.FixedClock(date(2005, 2, 1)),
        campaign_id="fixture-v5",
    )
    try:
        result = reopened.verify()
        assert result.difference is not None
        assert (result.difference.table, result.difference.field) == ("cf_workflows", "definition")
    finally:
        reopened.close()


# --- signed checkpoints -----------------------------------------------------------------


def test_a_signed_checkpoint_round_trips_and_pins_its_head(tmp_path: Path) -> None:
    """Signed with the private key, read back from its file and checked with the public key."""
    camp, _ = filled(StoreFactory("memory", tmp_path))
    private, public = keys(tmp_path)
    signed = sign_checkpoint(camp.audit_checkpoint(), private, campaign=camp.campaign_id)
    assert isinstance(signed, SignedCheckpoint)
    path = tmp_path / "head.json"
    path.write_text(signed.to_json(), encoding="utf-8")
    again = read_signed_checkpoint(path)
    assert again == signed
    assert verify_signed_checkpoint(again, public) == camp.audit_checkpoint()
    assert verify_signed_checkpoint(again, public.read_bytes()) == camp.audit_checkpoint()


@pytest.mark.parametrize("field", ["seq", "hash", "campaign"])
def test_an_altered_signed_checkpoint_does_not_verify(tmp_path: Path, field: str) -> None:
    """Any change to what was signed is an AuditTampered naming the signature."""
    private, public = keys(tmp_path)
    signed = sign_checkpoint(Checkpoint(seq=5, hash="ab" * 32), private, campaign="c")
    altered = {"seq": 6, "hash": "cd" * 32, "campaign": "other"}[field]
    forged = SignedCheckpoint(**{**__import__("attrs").asdict(signed), field: altered})
    with pytest.raises(cf.AuditTampered) as raised:
        verify_signed_checkpoint(forged, public)
    assert raised.value.reason_code == "audit.signature_invalid"


def test_another_keys_signature_does_not_verify(tmp_path: Path) -> None:
    """A checkpoint signed by another key fails with this one's public key."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    private, _ = keys(tmp_path / "a")
    _, other_public = keys(tmp_path / "b")
    signed = sign_checkpoint(Checkpoint(seq=1, hash="00" * 32), private, campaign="c")
    with pytest.raises(cf.AuditTampered):
        verify_signed_checkpoint(signed, other_public)


def test_bad_keys_and_files_are_validation_errors(tmp_path: Path) -> None:
    """A missing or wrong key file and a malformed checkpoint file each name what is wrong."""
    point = Checkpoint(seq=1, hash="00" * 32)
    with pytest.raises(cf.ValidationError, match="key file") as raised:
        sign_checkpoint(point, tmp_path / "absent.pem", campaign="c")
    assert raised.value.code == "audit.key_unusable"
    (tmp_path / "junk.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n", encoding="utf-8")
    with pytest.raises(cf.ValidationError, match="not an unencrypted PEM private key"):
        sign_checkpoint(point, tmp_path / "junk.pem", campaign="c")
    _, public = keys(tmp_path)
    with pytest.raises(cf.ValidationError, match="not an unencrypted PEM private key"):
        sign_checkpoint(point, public, campaign="c")
    with pytest.raises(cf.ValidationError, match="campaign"):
        sign_checkpoint(point, public, campaign="")
    bad = tmp_path / "bad.json"
    bad.write_text('{"seq": 1}', encoding="utf-8")
    with pytest.raises(cf.ValidationError, match="exactly the keys") as raised:
        read_signed_checkpoint(bad)
    assert raised.value.code == "audit.signed_checkpoint_invalid"


def test_without_the_sign_extra_the_error_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A missing cryptography package is a ValidationError naming campaignflow[sign]."""
    real = importlib.import_module

    def no_crypto(name: str, *args: Any) -> Any:
        if name.startswith("cryptography"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_crypto)
    with pytest.raises(cf.ValidationError, match=r"campaignflow\[sign\]") as raised:
        sign_checkpoint(Checkpoint(seq=1, hash="00" * 32), tmp_path / "k.pem", campaign="c")
    assert raised.value.code == "audit.sign_needs_cryptography"


# --- verify_chain over records alone ------------------------------------------------------


def test_verify_chain_streams_checkpoints_and_keeps_no_hashes() -> None:
    """Checkpoints are met as the records stream by: a wrong one, a missing one, the head."""
    clock = cf.FixedClock(date(2005, 1, 10))
    camp = campaign(StoreFactory("memory", Path(".")), clock)
    fill(camp, clock, 3)
    records: list[AuditRecord] = list(camp.audit_trail())
    middle = Checkpoint(seq=3, hash=records[2].hash)
    assert verify_chain(iter(records), checkpoints=[middle]).ok
    wrong = verify_chain(iter(records), checkpoints=[Checkpoint(seq=3, hash="0" * 64)])
    assert (wrong.reason_code, wrong.broken_at) == ("audit.checkpoint_mismatch", 3)
    beyond = verify_chain(iter(records), checkpoints=[Checkpoint(seq=99, hash="0" * 64)])
    assert beyond.reason_code == "audit.truncated"
    head = Checkpoint(seq=records[-1].seq, hash=records[-1].hash)
    assert verify_chain(iter(records), head=head).ok
    moved = verify_chain(iter(records[:-1]), head=head)
    assert moved.reason_code == "audit.head_mismatch"


def test_store_verification_of_a_broken_chain_carries_the_chains_code(sql: StoreFactory) -> None:
    """When the chain breaks, the store's result says so with the chain's code."""
    camp, _ = filled(sql)
    raw = Raw(sql)
    raw.run("UPDATE cf_audit SET actor_id = 'm' WHERE campaign_id = ? AND seq = 4", (raw.cid,))
    raw.close()
    result: StoreVerification = camp.verify()
    assert (result.code, result.chain.broken_at, result.difference) == (
        "audit.hash_mismatch",
        4,
        None,
    )
    with pytest.raises(cf.AuditTampered) as raised:
        result.raise_if_broken()
    assert raised.value.seq == 4


def test_inspection_facts_of_the_custom_type_are_compared_as_stored(sql: StoreFactory) -> None:
    """A custom fact's score raised in its row is named against the record's payload."""
    camp, _ = filled(sql)
    camp.record("u0007", Inspection(score=10), actor=INSPECTOR)
    raw = Raw(sql)
    stage, n, data = _fact_row(raw, "u0007")
    raw.run(
        "UPDATE cf_facts SET data = ? WHERE campaign_id = ? AND unit_id = 'u0007' AND n = ? "
        "AND stage = ?",
        (data.replace('"score":10', '"score":90'), raw.cid, n, stage),
    )
    raw.close()
    difference = camp.verify().difference
    assert difference is not None
    assert '"score":10' in difference.expected
    assert '"score":90' in difference.found
