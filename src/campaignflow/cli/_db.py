"""Opening an existing campaign database from the command line, read-mostly.

A database names its campaigns (``cf_campaigns``) and every audit record names the workflow
that judged it (``name@version#hash``), but it does not hold the workflow's definition. So
the command line finds the campaign id in the database, and the workflow among the shipped
presets by name, unless the user passes the workflow (or the scenario) that ran it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from campaignflow._words.checks import field_error
from campaignflow.errors import ValidationError
from campaignflow.presets import PRESETS, load
from campaignflow.workflow import Workflow

__all__ = ["campaign_ids", "choose_campaign", "db_url", "find_workflow", "workflow_refs"]


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
