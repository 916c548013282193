"""Opening stores: URLs, options and their errors; the PostgreSQL driver stays optional."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import campaignflow as cf
from campaignflow.store import MemoryStore, PostgresStore, SQLiteStore, open_store
from tests.store.conftest import StoreFactory, pg_dsn


def test_sqlite_url_with_three_slashes_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'sqlite:///campaign.db' is a file in the working directory."""
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///campaign.db", campaign_id="c1")
    try:
        assert isinstance(store, SQLiteStore)
        assert store.campaign_id == "c1"
        assert (tmp_path / "campaign.db").is_file()
        assert store.path.resolve() == (tmp_path / "campaign.db").resolve()
    finally:
        store.close()


def test_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    """'sqlite:////abs/path.db' is an absolute path, with options in the query string."""
    target = tmp_path / "sub dir" / "abs.db"
    target.parent.mkdir()
    store = open_store(
        f"sqlite:///{target.as_posix().replace(' ', '%20')}?synchronous=normal&busy_timeout_ms=250"
    )
    try:
        assert isinstance(store, SQLiteStore)
        assert store.path == target
        assert (store.synchronous, store.busy_timeout_ms) == ("NORMAL", 250)
        assert target.is_file()
    finally:
        store.close()


def test_sqlite_connections_use_wal_and_the_chosen_synchronous(tmp_path: Path) -> None:
    """Connections run in WAL mode with foreign keys on and synchronous FULL by default (NORMAL on request)."""
    for level, number in (("FULL", 2), ("NORMAL", 1)):
        store = SQLiteStore(tmp_path / f"{level}.db", synchronous=level, busy_timeout_ms=1234)
        try:
            conn = store._acquire()
            try:
                assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
                assert conn.execute("PRAGMA synchronous").fetchone() == (number,)
                assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
                assert conn.execute("PRAGMA busy_timeout").fetchone() == (1234,)
                assert conn.isolation_level is None
            finally:
                store._release(conn, True)
        finally:
            store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "scheme must be one of 'memory', 'sqlite', 'postgresql'"),
        ("campaign.db", "must be a URL like"),
        ("sqlite://campaign.db", "'sqlite:///relative.db'"),
        ("sqlite:///", "'sqlite:///relative.db'"),
        ("sqlite:///:memory:", "use MemoryStore"),
        ("sqlite:///x.db?journal=off", "options must be among busy_timeout_ms, synchronous"),
        ("sqlite:///x.db?synchronous=OFF", "synchronous must be one of FULL, NORMAL, EXTRA"),
        ("sqlite:///x.db?busy_timeout_ms=-1", "busy_timeout_ms must be a whole number"),
        ("sqlite:///no/such/dir/x.db", "does not exist"),
    ],
)
def test_bad_urls_name_the_rule(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL that cannot open a store raises ValidationError saying what a good one looks like."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cf.ValidationError, match=message.replace("(", r"\(")):
        open_store(url)
    assert list(tmp_path.iterdir()) == []


def test_memory_url_gives_a_memory_store() -> None:
    """'memory://' is a MemoryStore."""
    assert isinstance(open_store("memory://"), MemoryStore)


def test_postgresql_url_gives_a_postgres_store(pg_factory: StoreFactory) -> None:
    """'postgresql://…' opens a PostgresStore, whose repr hides the password."""
    from psycopg.conninfo import conninfo_to_dict

    dsn = pg_dsn()
    store = open_store(dsn, campaign_id=pg_factory.campaign_id)
    try:
        assert isinstance(store, PostgresStore)
        password = conninfo_to_dict(dsn).get("password")
        if password:
            assert f":{password}@" not in repr(store)
        assert pg_factory.campaign_id in repr(store)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:s3cret@h:5432/db", "postgresql://u@h:5432/db"),
        ("host=h user=u password=s3cret dbname=db", "host=h user=u password=*** dbname=db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_postgres_dsn_is_shown_without_its_password(dsn: str, shown: str) -> None:
    """Reprs and messages show the DSN with the password taken out."""
    from campaignflow.store.postgres import _redacted

    assert _redacted(dsn) == shown


def test_campaign_opens_a_store_from_a_url(tmp_path: Path) -> None:
    """Campaign(store='sqlite:///…') keeps its data in the file: a second campaign on the URL sees it."""
    url = f"sqlite:///{(tmp_path / 'c.db').as_posix()}"
    clock = cf.FixedClock(date(2005, 1, 10))
    with cf.Campaign(cf.presets.district_2005(), store=url, clock=clock, campaign_id="x") as camp:
        camp.add_units([cf.Unit(id="u1", name="支部", kind="organ", batch=1)])
    with cf.Campaign(cf.presets.district_2005(), store=url, clock=clock, campaign_id="x") as again:
        assert again.state("u1").stage == "pending"
        assert again.verify_audit().ok


def test_missing_psycopg_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg, a PostgreSQL store raises ValidationError with the pip command, not ImportError."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    for opening in (
        lambda: open_store("postgresql://nobody@127.0.0.1:1/none"),
        lambda: PostgresStore("postgresql://nobody@127.0.0.1:1/none"),
        lambda: cf.store.SQLStore.on_connection(object(), dialect="postgresql"),
    ):
        with pytest.raises(cf.ValidationError, match=r"pip install 'campaignflow\[pg\]'"):
            opening()


def test_importing_the_stores_does_not_import_psycopg() -> None:
    """campaignflow.store imports no database driver beyond the standard library's sqlite3."""
    code = "import sys, campaignflow.store; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_dialect_name_is_refused() -> None:
    """SQLStore.on_connection names the dialects it knows."""
    with pytest.raises(cf.ValidationError, match="one of 'sqlite', 'postgresql'"):
        cf.store.SQLStore.on_connection(object(), dialect="oracle")


def test_store_options_are_checked(tmp_path: Path) -> None:
    """Bad constructor options raise ValidationError naming the option and value."""
    with pytest.raises(cf.ValidationError, match="busy_timeout_ms"):
        SQLiteStore(tmp_path / "a.db", busy_timeout_ms=True)  # type: ignore[arg-type]
    with pytest.raises(cf.ValidationError, match="campaign_id"):
        SQLiteStore(tmp_path / "a.db", campaign_id="")
    with pytest.raises(cf.ValidationError, match="lock_timeout_ms"):
        PostgresStore("postgresql://x", lock_timeout_ms=-5)
