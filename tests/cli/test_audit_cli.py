"""``campaignflow audit checkpoint --sign`` and ``audit verify`` with signed checkpoints, the
whole-store check and ``--json``: exit 0 ok, 1 tampered, 2 usage."""

from __future__ import annotations

import importlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.cli.conftest import SMALL
from tests.test_tamper import keys


def run(runner: CliRunner, cli: Any, *args: str) -> Any:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def db(simulated: Path, tmp_path: Path) -> Path:
    """A copy of the small scenario's database, to change at will."""
    copy = tmp_path / "copy.db"
    shutil.copy(simulated / "campaign.db", copy)
    return copy


def _sql(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement)
    conn.close()


def _signed(runner: CliRunner, cli: Any, db: Path, folder: Path) -> tuple[Path, Path]:
    private, public = keys(folder)
    out = folder / "head.json"
    result = run(
        runner,
        cli,
        "audit",
        "checkpoint",
        "--db",
        str(db),
        "--sign",
        str(private),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("signed checkpoint of campaign small_district at seq ")
    return out, public


def _verify_signed(
    runner: CliRunner, cli: Any, db: Path, checkpoint: Path, public: Path, *extra: str
) -> Any:
    """``audit verify --db DB --checkpoint FILE --public-key PUB [extra...]``."""
    return run(
        runner,
        cli,
        "audit",
        "verify",
        "--db",
        str(db),
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        str(public),
        *extra,
    )


def test_a_signed_checkpoint_verifies_with_the_rows(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path
) -> None:
    """Signed, then verified with the public key and the scenario's workflow: every row equal."""
    out, public = _signed(runner, cli, db, tmp_path)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(data) == ["campaign", "format", "hash", "key_id", "seq", "signature"]
    result = _verify_signed(runner, cli, db, out, public, "--scenario", str(SMALL))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "units" in result.stdout
    assert "equal what the audit trail produces" in result.stdout
    assert "verifies" in result.stderr
    as_json = _verify_signed(runner, cli, db, out, public, "--scenario", str(SMALL), "--json")
    (entry,) = json.loads(as_json.stdout)
    assert entry["ok"] is True
    assert entry["rows_checked"] is True
    assert entry["head"]["seq"] == data["seq"]
    assert entry["units"] == entry["states"] > 0


def test_a_changed_state_row_is_named_and_exits_1(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path
) -> None:
    """A state row edited under a valid chain: exit 1, the row named, in text and in JSON."""
    out, public = _signed(runner, cli, db, tmp_path)
    (unit,) = sqlite3.connect(db).execute("SELECT unit_id FROM cf_states LIMIT 1").fetchone()
    _sql(db, f"UPDATE cf_states SET stage = stage || '-forged' WHERE unit_id = '{unit}'")
    text = _verify_signed(runner, cli, db, out, public, "--scenario", str(SMALL))
    assert text.exit_code == 1
    assert (
        f"TAMPERED: campaign small_district: cf_states row {unit}: stage should be" in text.stdout
    )
    as_json = _verify_signed(
        runner, cli, db, out, public, "--scenario", str(SMALL), "--json", "--lang", "zh_CN"
    )
    assert as_json.exit_code == 1
    (entry,) = json.loads(as_json.stdout)
    assert entry["ok"] is False
    assert entry["code"] == "store_check.row_differs"
    assert entry["difference"]["table"] == "cf_states"
    assert entry["difference"]["found"].endswith("-forged'")
    assert "cf_states 中的行" in entry["text"]


def test_without_the_workflow_only_the_chain_is_checked_and_it_says_so(
    runner: CliRunner, cli: Any, db: Path
) -> None:
    """The scenario's own workflow is not a shipped preset: a note, and the chain still checked."""
    result = run(runner, cli, "audit", "verify", "--db", str(db))
    assert result.exit_code == 0
    assert "only the audit chain was checked" in result.stderr
    entry = json.loads(run(runner, cli, "audit", "verify", "--db", str(db), "--json").stdout)[0]
    assert entry["rows_checked"] is False


def test_another_keys_checkpoint_is_tampering(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path
) -> None:
    """A checkpoint checked with another public key: exit 1, the signature named."""
    out, _ = _signed(runner, cli, db, tmp_path)
    (tmp_path / "other").mkdir()
    _, other = keys(tmp_path / "other")
    result = _verify_signed(runner, cli, db, out, other)
    assert result.exit_code == 1
    assert "does not verify with the public key" in result.stdout


def test_a_forged_anchor_fails_against_the_signed_checkpoint(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path
) -> None:
    """The issue's forged anchor: the trail deleted, the anchor set to the old head; exit 1."""
    out, public = _signed(runner, cli, db, tmp_path)
    data = json.loads(out.read_text(encoding="utf-8"))
    _sql(db, "DELETE FROM cf_audit")
    _sql(db, f"UPDATE cf_campaigns SET anchor_seq = {data['seq']}, anchor_hash = '{data['hash']}'")
    result = _verify_signed(runner, cli, db, out, public)
    assert result.exit_code == 1
    assert "matches no purge record" in result.stdout


def test_usage_errors_exit_2_and_touch_nothing(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path
) -> None:
    """A signed file without --public-key, an existing --out, a broken chain to sign."""
    out, _ = _signed(runner, cli, db, tmp_path)
    before = out.read_bytes()
    no_key = run(runner, cli, "audit", "verify", "--db", str(db), "--checkpoint", str(out))
    assert no_key.exit_code == 2
    assert "--public-key" in no_key.stderr
    private = tmp_path / "auditor.pem"
    again = run(
        runner,
        cli,
        "audit",
        "checkpoint",
        "--db",
        str(db),
        "--sign",
        str(private),
        "--out",
        str(out),
    )
    assert again.exit_code == 2
    assert "is never replaced" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before
    _sql(db, "UPDATE cf_audit SET actor_id = 'mallory' WHERE seq = 3")
    fresh = tmp_path / "fresh.json"
    broken = run(
        runner,
        cli,
        "audit",
        "checkpoint",
        "--db",
        str(db),
        "--sign",
        str(private),
        "--out",
        str(fresh),
    )
    assert broken.exit_code == 1
    assert "TAMPERED" in broken.stdout
    assert not fresh.exists()


def test_without_the_sign_extra_signing_names_it(
    runner: CliRunner, cli: Any, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No cryptography package: exit 2, one line naming campaignflow[sign]."""
    private, _ = keys(tmp_path)
    real = importlib.import_module

    def no_crypto(name: str, *args: Any) -> Any:
        if name.startswith("cryptography"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_crypto)
    result = run(runner, cli, "audit", "checkpoint", "--db", str(db), "--sign", str(private))
    assert result.exit_code == 2
    assert "campaignflow[sign]" in result.stderr
    assert not list(Path.cwd().glob("checkpoint-*.json"))
