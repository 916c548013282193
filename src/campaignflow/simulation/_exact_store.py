"""Where exact mode writes: the memory store, a caller's store, or a SQLite file.

* A SQLite file the run creates itself (missing or empty, as the CLI's ``campaign.db``):
  the campaign runs on a :class:`~campaignflow.store.memory.MemoryStore` and is written into
  the file once, at the end, in one transaction (:mod:`._write_once`). Nothing is written
  if the run fails.
* A SQLite file that already holds data (a user's database): written through one
  connection that commits once per simulated day (``synchronous=NORMAL``, never ``OFF``).
* None: a memory store. Anything else (another URL, a ``Store``): as given, a transaction
  per command.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from campaignflow.audit import AuditRecord
from campaignflow.errors import ValidationError
from campaignflow.simulation._write_once import copy_campaign
from campaignflow.simulation.scenario import Scenario
from campaignflow.store import open_store
from campaignflow.store._protocol import Store
from campaignflow.store.memory import MemoryStore
from campaignflow.store.sqlite import SQLiteStore
from campaignflow.workflow import Workflow

__all__ = ["Target", "check_fits", "open_target"]


class Target:
    """The store a run plays on, its daily commit, and what happens when it ends."""

    def __init__(
        self,
        store: Any,
        *,
        conn: sqlite3.Connection | None = None,
        file: Store | None = None,
    ) -> None:
        #: What the campaign runs on: a Store, or a URL the campaign opens.
        self.store = store
        self._conn = conn  # a joined connection on a user's file: committed per day
        self._file = file  # the run's own new file: written once at the end

    @property
    def writes_once(self) -> bool:
        """Whether the run plays in memory and writes its new database file at the end."""
        return self._file is not None

    def commit(self) -> None:
        """The end of a simulated day: commit the joined connection's writes."""
        if self._conn is not None and self._conn.in_transaction:
            self._conn.commit()

    def finish(self, stages: tuple[str, ...]) -> None:
        """The run succeeded: write the run's own file (once), or the last day's commit."""
        if self._file is not None:
            assert isinstance(self.store, MemoryStore)
            copy_campaign(self.store, self._file, stages)
        self.commit()

    def close(self) -> None:
        """Close what the run opened (after ``finish``, or after a failure: nothing written)."""
        if self._conn is not None:
            self._conn.close()
        if self._file is not None:
            self._file.close()

    @contextmanager
    def records(self, fallback: Iterator[AuditRecord]) -> Iterator[Iterator[AuditRecord]]:
        """The run's audit records in one read (``fallback``: the campaign's paged trail)."""
        if not hasattr(self.store, "transaction"):  # a URL: the campaign opened its own store
            yield fallback
            return
        with self.store.transaction(write=False) as tx:
            yield tx.iter_audit()


def _sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names, as ``open_store`` reads it."""
    location = url[len("sqlite://") :].partition("?")[0]
    return Path(unquote(location[1:]))


def _is_new(path: Path) -> bool:
    """No database yet: the file is missing or empty (the CLI creates an empty one)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def open_target(store: str | Store | None, campaign_id: str) -> Target:
    """The target for ``store`` (see the module doc); a SQLite URL is opened and checked."""
    if store is None:
        return Target(MemoryStore())
    if not (isinstance(store, str) and store.startswith("sqlite:///")):
        return Target(store)
    new = _is_new(_sqlite_path(store))
    # Open (and create) through the URL first, so bad URLs fail as they would anywhere.
    probe = open_store(store, campaign_id=campaign_id)
    assert isinstance(probe, SQLiteStore)
    if new:
        return Target(MemoryStore(), file=probe)
    path = Path(probe.path)
    probe.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    joined = SQLiteStore.join(conn, campaign_id=campaign_id)
    if conn.in_transaction:
        conn.commit()
    return Target(joined, conn=conn)


def check_fits(scenario: Scenario, workflow: Workflow) -> None:
    """Refuse, before anything runs, a scenario the workflow cannot play."""
    late = scenario.behaviour.late_start.share > 0 and len(scenario.batches) > 1
    if late and not workflow.candidates(workflow.initial, "defer"):
        raise ValidationError(
            code="simulation.no_defer",
            params={
                "workflow": repr(workflow.name),
                "initial": repr(workflow.initial),
                "share": scenario.behaviour.late_start.share,
            },
        )
