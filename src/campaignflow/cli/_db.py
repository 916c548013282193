"""Opening an existing campaign database from the command line, read-mostly.

A database names its campaigns (``cf_campaigns``) and every audit record names the workflow
that judged it (``name@version#hash``), but it does not hold the workflow's definition. So
the command line finds the campaign id in the database, and the workflow among the shipped
presets by name, unless the user passes the workflow (or the scenario) that ran it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from campaignflow._words.checks import field_error
from campaignflow.errors import ValidationError
from campaignflow.presets import PRESETS, load
from campaignflow.workflow import Workflow

__all__ = [
    "RUNS_TABLE",
    "campaign_ids",
    "choose_campaign",
    "db_url",
    "find_workflow",
    "load_run",
    "save_run",
    "workflow_refs",
]


def db_url(db: str) -> str:
    """A store URL for ``db``: a URL as given, a file path as ``sqlite:///<absolute path>``."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).absolute()}"


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    return Path(url.removeprefix("sqlite:///").partition("?")[0])


def _query(url: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the database ``url`` names (SQLite or PostgreSQL)."""
    path = _sqlite_path(url)
    if path is not None:
        if not path.is_file():
            raise ValidationError(code="cli.no_db_file", params={"path": repr(str(path))})
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
            try:
                return [tuple(row) for row in conn.execute(sql, tuple(params)).fetchall()]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(
                code="cli.not_a_db", params={"path": repr(str(path)), "exc": str(exc)}
            ) from None
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise ValidationError(code="cli.needs_psycopg") from None
        try:
            with psycopg.connect(url) as pg:
                rows = pg.execute(sql.replace("?", "%s"), tuple(params)).fetchall()
                return [tuple(row) for row in rows]
        except psycopg.Error as exc:
            raise ValidationError(
                code="cli.cannot_read_db", params={"url": repr(url), "exc": str(exc)}
            ) from None
    raise field_error(
        "db", url, "must be a SQLite file path, 'sqlite:///...' or 'postgresql://...'"
    )


def campaign_ids(url: str) -> list[str]:
    """The ids of the campaigns the database holds, sorted."""
    rows = _query(url, "SELECT campaign_id FROM cf_campaigns ORDER BY campaign_id", ())
    return [str(r[0]) for r in rows]


def choose_campaign(url: str, wanted: str | None) -> str:
    """``wanted`` if the database holds it, else its only campaign.

    Raises:
        ValidationError: no such campaign, no campaign at all, or several and none chosen.
    """
    found = campaign_ids(url)
    if wanted is not None:
        if wanted not in found:
            listed = ", ".join(found) or "none"
            raise ValidationError(
                code="cli.no_such_campaign", params={"wanted": repr(wanted), "listed": listed}
            )
        return wanted
    if not found:
        raise ValidationError(code="cli.db_empty", params={"url": repr(url)})
    if len(found) > 1:
        raise ValidationError(
            code="cli.several_campaigns", params={"count": len(found), "campaigns": list(found)}
        )
    return found[0]


def workflow_refs(url: str, campaign_id: str) -> list[str]:
    """The workflows (``name@version#hash``) named by the campaign's audit records."""
    rows = _query(
        url,
        "SELECT DISTINCT workflow FROM cf_audit WHERE campaign_id = ? ORDER BY workflow",
        (campaign_id,),
    )
    return [str(r[0]) for r in rows]


def find_workflow(refs: Sequence[str]) -> Workflow:
    """The shipped preset the references name: same content hash first, else same name.

    Raises:
        ValidationError: no reference, or none names a shipped preset (pass the workflow).
    """
    if not refs:
        raise ValidationError(code="cli.no_workflow_record")
    presets = [load(name) for name in PRESETS]
    for ref in refs:
        for preset in presets:
            if ref == f"{preset.name}@{preset.version}#{preset.content_hash[:12]}":
                return preset
    for ref in refs:
        name = ref.partition("@")[0]
        for preset in presets:
            if preset.name == name:
                return preset
    raise ValidationError(code="cli.workflow_not_preset", params={"refs": list(refs)})


# --- the simulation's own record of how it ran ----------------------------------------------

#: A table ``simulate`` adds to its database: the scenario a campaign was simulated from
#: (name, seed, mode, dates, the workflow's definition), so ``report`` can rebuild the
#: simulation's own summary from the database alone. Private to the command line; the store
#: and the audit chain never read it, and a database without it reads as before.
RUNS_TABLE = "cf_cli_runs"
_CREATE_RUNS = (
    f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} "
    "(campaign_id VARCHAR(200) PRIMARY KEY, run TEXT NOT NULL)"
)


def save_run(url: str, campaign_id: str, run: dict[str, Any]) -> None:
    """Keep ``run`` (JSON data) for ``campaign_id`` in the database ``url`` names."""
    text = json.dumps(run, ensure_ascii=False, sort_keys=True)
    path = _sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(path)
        try:
            with conn:
                conn.execute(_CREATE_RUNS)
                conn.execute(f"DELETE FROM {RUNS_TABLE} WHERE campaign_id = ?", (campaign_id,))
                conn.execute(
                    f"INSERT INTO {RUNS_TABLE} (campaign_id, run) VALUES (?, ?)",
                    (campaign_id, text),
                )
        finally:
            conn.close()
        return
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(url) as pg:
            pg.execute(_CREATE_RUNS)
            pg.execute(f"DELETE FROM {RUNS_TABLE} WHERE campaign_id = %s", (campaign_id,))
            pg.execute(
                f"INSERT INTO {RUNS_TABLE} (campaign_id, run) VALUES (%s, %s)", (campaign_id, text)
            )


def load_run(url: str, campaign_id: str) -> dict[str, Any] | None:
    """What :func:`save_run` kept for ``campaign_id``; None for a database without it."""
    if _sqlite_path(url) is not None:
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        exists = (
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ?"
        )
    if not _query(url, exists, (RUNS_TABLE,)):
        return None
    rows = _query(url, f"SELECT run FROM {RUNS_TABLE} WHERE campaign_id = ?", (campaign_id,))
    if not rows:
        return None
    try:
        data = json.loads(str(rows[0][0]))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
