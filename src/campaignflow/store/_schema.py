"""The SQL schema and its forward migrations.

Version *n* of the schema is migrations 1..n applied in order. A database records its version
in ``cf_schema_version``; opening an older one applies the missing steps in one transaction,
and opening a newer one is refused (this release cannot know what a later one changed).
A released step is never edited: data written by any release must load in every later one
(``tests/store/fixtures/schema_v<n>.db`` check that each released version keeps loading).

Statements are templates: ``{key}``, ``{text}`` and ``{int}`` become the dialect's column types.
Every table carries ``campaign_id`` as part of its key, so one database holds many campaigns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from campaignflow.errors import ValidationError
from campaignflow.store._dialect import Dialect

__all__ = ["COMPONENT", "MIGRATIONS", "Migration", "latest_version", "migrate", "read_version"]

#: The row of ``cf_schema_version`` that holds this library's schema version.
COMPONENT = "campaignflow"

#: Runs one statement with ``?`` placeholders and returns its rows ([] for statements without).
Run = Callable[[str, Sequence[Any]], list[Any]]


@attrs.frozen
class Migration:
    """One forward step of the schema: the statements that take version - 1 to version."""

    version: int
    title: str
    statements: tuple[str, ...]


_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS cf_schema_version (
    component {key} NOT NULL PRIMARY KEY,
    version {int} NOT NULL
)"""

_V1 = Migration(
    1,
    "units, states, facts, the audit trail and each campaign's chain head",
    (
        # The head of each campaign's audit chain: writers lock this row (PostgreSQL) or the
        # database (SQLite), so appends to the chain are serial.
        """CREATE TABLE cf_campaigns (
            campaign_id {key} NOT NULL PRIMARY KEY,
            head_seq {int} NOT NULL,
            head_hash {key} NOT NULL
        )""",
        # ordinal keeps the order units were added in: iter_units lists them that way.
        """CREATE TABLE cf_units (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            ordinal {int} NOT NULL,
            name {text} NOT NULL,
            kind {key} NOT NULL,
            batch {int} NOT NULL,
            members {int} NOT NULL,
            parent {key},
            CONSTRAINT cf_units_pk PRIMARY KEY (campaign_id, unit_id),
            CONSTRAINT cf_units_ordinal UNIQUE (campaign_id, ordinal)
        )""",
        # Dates are ISO text (YYYY-MM-DD); remedial is 0 or 1.
        """CREATE TABLE cf_states (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            stage {key} NOT NULL,
            batch {int} NOT NULL,
            version {int} NOT NULL,
            entered_on {key},
            stage_since {key},
            started_on {key},
            remedial {int} NOT NULL,
            remedial_round {int} NOT NULL,
            resume_since {key},
            CONSTRAINT cf_states_pk PRIMARY KEY (campaign_id, unit_id),
            CONSTRAINT cf_states_unit FOREIGN KEY (campaign_id, unit_id)
                REFERENCES cf_units (campaign_id, unit_id)
        )""",
        "CREATE INDEX cf_states_batch ON cf_states (campaign_id, batch)",
        # n numbers a unit's facts within a stage, oldest first; data is canonical JSON of
        # the fact with its kind; at_time is ISO text with the UTC offset.
        """CREATE TABLE cf_facts (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            stage {key} NOT NULL,
            n {int} NOT NULL,
            version {int} NOT NULL,
            seq {int} NOT NULL,
            kind {key} NOT NULL,
            data {text} NOT NULL,
            on_date {key} NOT NULL,
            at_time {key} NOT NULL,
            actor_id {key} NOT NULL,
            request_id {key},
            CONSTRAINT cf_facts_pk PRIMARY KEY (campaign_id, unit_id, stage, n),
            CONSTRAINT cf_facts_unit FOREIGN KEY (campaign_id, unit_id)
                REFERENCES cf_units (campaign_id, unit_id)
        )""",
        # Every AuditRecord field; payload, decision, reason and actor_roles as canonical
        # JSON. transition_version is the unit's new version on records that moved it
        # (outcome ok, dest set) and NULL otherwise: NULLs are distinct in UNIQUE on every
        # supported database, so the constraint binds transitions only.
        """CREATE TABLE cf_audit (
            campaign_id {key} NOT NULL,
            seq {int} NOT NULL,
            at_time {key} NOT NULL,
            on_date {key} NOT NULL,
            campaign {key} NOT NULL,
            command {key} NOT NULL,
            actor_id {key} NOT NULL,
            actor_roles {text} NOT NULL,
            outcome {key} NOT NULL,
            unit_id {key},
            source {key},
            dest {key},
            version {int},
            request_id {key},
            workflow {text} NOT NULL,
            payload {text} NOT NULL,
            decision {text},
            reason {text},
            prev_hash {key} NOT NULL,
            hash {key} NOT NULL,
            transition_version {int},
            CONSTRAINT cf_audit_pk PRIMARY KEY (campaign_id, seq),
            CONSTRAINT cf_audit_request UNIQUE (campaign_id, request_id),
            CONSTRAINT cf_audit_transition UNIQUE (campaign_id, unit_id, transition_version)
        )""",
        "CREATE INDEX cf_audit_unit ON cf_audit (campaign_id, unit_id, seq)",
    ),
)

_V2 = Migration(
    2,
    "sweep claims for workers, audit retention (anchor after a purge, export mark)",
    (
        # The sweep that last claimed the unit (advance_due): a unit is claimed once a sweep.
        "ALTER TABLE cf_states ADD COLUMN swept {key}",
        "CREATE INDEX cf_states_swept ON cf_states (campaign_id, swept)",
        # After a purge the chain is verified from this anchor (the last purged record).
        "ALTER TABLE cf_campaigns ADD COLUMN anchor_seq {int} NOT NULL DEFAULT 0",
        "ALTER TABLE cf_campaigns ADD COLUMN anchor_hash {key}",
        # The newest record written to an export: nothing newer may be purged.
        "ALTER TABLE cf_campaigns ADD COLUMN exported_seq {int} NOT NULL DEFAULT 0",
    ),
)

_V3 = Migration(
    3,
    "organisation tree, latest refusals, latest assessments, workflow versions",
    (
        # The workflow version that judges the unit (name@version#hash); NULL for units
        # written before versions were kept: the campaign's first workflow judges those.
        "ALTER TABLE cf_states ADD COLUMN workflow {text}",
        # Roll-ups and stuck lists reach units through their organisation.
        "CREATE INDEX cf_units_parent ON cf_units (campaign_id, parent)",
        """CREATE TABLE cf_orgs (
            campaign_id {key} NOT NULL,
            org_id {key} NOT NULL,
            ordinal {int} NOT NULL,
            name {text} NOT NULL,
            level {key} NOT NULL,
            parent {key},
            CONSTRAINT cf_orgs_pk PRIMARY KEY (campaign_id, org_id)
        )""",
        # The closure of the tree: one row per (ancestor, descendant) pair, itself included
        # at depth 0. Organisations are only ever added below registered ones, so a new
        # organisation's rows are its parent's ancestor rows plus itself: no rewrites.
        """CREATE TABLE cf_org_tree (
            campaign_id {key} NOT NULL,
            ancestor {key} NOT NULL,
            descendant {key} NOT NULL,
            depth {int} NOT NULL,
            CONSTRAINT cf_org_tree_pk PRIMARY KEY (campaign_id, ancestor, descendant)
        )""",
        # The latest refused move of each unit; current while version equals the unit's.
        # failures is canonical JSON of the failing leaf verdicts (codes and numbers).
        """CREATE TABLE cf_refusals (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            version {int} NOT NULL,
            stage {key} NOT NULL,
            trigger_name {key} NOT NULL,
            target {key},
            on_date {key} NOT NULL,
            seq {int} NOT NULL,
            failures {text} NOT NULL,
            CONSTRAINT cf_refusals_pk PRIMARY KEY (campaign_id, unit_id)
        )""",
        "CREATE INDEX cf_refusals_seq ON cf_refusals (campaign_id, seq)",
        # The distinct failing codes of each latest refusal, for blocking counts in SQL.
        """CREATE TABLE cf_refusal_codes (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            code {key} NOT NULL,
            CONSTRAINT cf_refusal_codes_pk PRIMARY KEY (campaign_id, unit_id, code)
        )""",
        # The latest mass satisfaction assessment of each unit (counts per level).
        """CREATE TABLE cf_assessments (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            seq {int} NOT NULL,
            satisfied {int} NOT NULL,
            fairly_satisfied {int},
            basically_satisfied {int} NOT NULL,
            dissatisfied {int} NOT NULL,
            CONSTRAINT cf_assessments_pk PRIMARY KEY (campaign_id, unit_id)
        )""",
        # Every workflow version the campaign adopted, in order, with its definition
        # (canonical JSON), so a reopened database knows which rules judged each unit.
        """CREATE TABLE cf_workflows (
            campaign_id {key} NOT NULL,
            n {int} NOT NULL,
            ref {text} NOT NULL,
            definition {text} NOT NULL,
            policy {key} NOT NULL,
            from_batch {int} NOT NULL,
            seq {int} NOT NULL,
            CONSTRAINT cf_workflows_pk PRIMARY KEY (campaign_id, n)
        )""",
    ),
)


def _copy_to_states(*columns: tuple[str, str, str, str]) -> str:
    """One UPDATE setting each ``(column, table, alias, source)`` from the unit's row there."""
    sets = (
        f"{column} = (SELECT {alias}.{source} FROM {table} {alias} WHERE {alias}.campaign_id = "
        f"cf_states.campaign_id AND {alias}.unit_id = cf_states.unit_id)"
        for column, table, alias, source in columns
    )
    return "UPDATE cf_states SET\n    " + ",\n    ".join(sets)


_V4 = Migration(
    4,
    "roll-up figures on the state rows: parent, ordinal, latest refusal, latest assessment",
    (
        # What roll-ups and stuck lists aggregate, kept on the state row itself so they
        # read one table through one index, never a join per unit: the unit's parent and
        # ordinal (copies of cf_units'), its latest refusal's version, audit seq and distinct
        # failing codes (space-separated; current while refused_version equals version), its
        # latest assessment's counts (NULL: none).
        "ALTER TABLE cf_states ADD COLUMN parent {key}",
        "ALTER TABLE cf_states ADD COLUMN ordinal {int}",
        "ALTER TABLE cf_states ADD COLUMN refused_version {int}",
        "ALTER TABLE cf_states ADD COLUMN refused_seq {int}",
        "ALTER TABLE cf_states ADD COLUMN refused_codes {text}",
        "ALTER TABLE cf_states ADD COLUMN a_satisfied {int}",
        "ALTER TABLE cf_states ADD COLUMN a_fairly {int}",
        "ALTER TABLE cf_states ADD COLUMN a_basically {int}",
        "ALTER TABLE cf_states ADD COLUMN a_dissatisfied {int}",
        _copy_to_states(
            ("parent", "cf_units", "u", "parent"),
            ("ordinal", "cf_units", "u", "ordinal"),
            ("refused_version", "cf_refusals", "r", "version"),
            ("refused_seq", "cf_refusals", "r", "seq"),
            ("a_satisfied", "cf_assessments", "a", "satisfied"),
            ("a_fairly", "cf_assessments", "a", "fairly_satisfied"),
            ("a_basically", "cf_assessments", "a", "basically_satisfied"),
            ("a_dissatisfied", "cf_assessments", "a", "dissatisfied"),
        ),
        # Gathering a refusal's codes into one text is not portable SQL: refusals kept by
        # version 3 get their codes back from Campaign.backfill_overview().
        "CREATE INDEX cf_states_parent ON cf_states (campaign_id, parent)",
        "DROP INDEX cf_units_parent",
        "DROP TABLE cf_refusal_codes",
        "DROP TABLE cf_assessments",
    ),
)

_V5 = Migration(
    5,
    "a covering index for roll-ups and stuck lists",
    (
        # Sorted by parent and holding every column a roll-up or a stuck list reads, so
        # both are answered from the index alone, in parent order (no per-row table
        # lookups, no sort for GROUP BY): a province of 200,000 units reads its index range.
        """CREATE INDEX cf_states_overview ON cf_states (
            campaign_id, parent, batch, stage, entered_on, remedial, remedial_round, version,
            refused_version, refused_codes, a_satisfied, a_fairly, a_basically,
            a_dissatisfied, stage_since, ordinal, refused_seq, unit_id
        )""",
        "DROP INDEX cf_states_parent",
    ),
)

_V6 = Migration(
    6,
    "work items (待办) and the audit seq they reflect",
    (
        # One row per unit and wait (kind, role; '' for the unit's own): what Campaign.inbox
        # pages through in key order. verdicts is canonical JSON of the failing verdicts.
        """CREATE TABLE cf_work_items (
            campaign_id {key} NOT NULL,
            unit_id {key} NOT NULL,
            kind {key} NOT NULL,
            role {key} NOT NULL,
            parent {key},
            stage {key} NOT NULL,
            since {key},
            deadline {key},
            verdicts {text} NOT NULL,
            CONSTRAINT cf_work_items_pk PRIMARY KEY (campaign_id, unit_id, kind, role)
        )""",
        "CREATE INDEX cf_work_items_role ON cf_work_items (campaign_id, role, unit_id, kind)",
        # The audit record the work items were brought up to, and the day they were judged
        # on (Campaign.inbox catches up; a new day re-judges, for gates that wait on time).
        "ALTER TABLE cf_campaigns ADD COLUMN items_seq {int} NOT NULL DEFAULT 0",
        "ALTER TABLE cf_campaigns ADD COLUMN items_on {key}",
    ),
)

_V7 = Migration(
    7,
    "due units: when each unit next needs judging, and an index of the due",
    (
        # The date from which the unit's advance may pass if nothing else changes (ISO
        # text); '0001-01-01' (date.min): dirty, judge it now (a fact, a move, an adoption
        # touched it); NULL: no date will do, it waits for a change. Sweeps read only the
        # units with due_on <= their day, by this index, in (due_on, ordinal) order; batch
        # is in the index so a batch's sweep filters without reading a unit.
        "ALTER TABLE cf_states ADD COLUMN due_on {key}",
        # Existing units were never judged for this: every one is dirty, and the first
        # sweep judges each once.
        "UPDATE cf_states SET due_on = '0001-01-01'",
        "CREATE INDEX cf_states_due ON cf_states (campaign_id, due_on, ordinal, batch)",
    ),
)


def _v8() -> Migration:
    """Roll-up counters, filled from the state rows already there."""
    from campaignflow.store._counts_sql import fill_statements

    keyed = (
        "campaign_id {key} NOT NULL, org {key} NOT NULL, batch {int} NOT NULL, stage {key} NOT NULL"
    )
    return Migration(
        8,
        "roll-up counters per (organisation, batch, stage), kept in the write transaction",
        (
            # Each batch window's close, for the on-time count (written by the campaign).
            """CREATE TABLE cf_batch_closes (
                campaign_id {key} NOT NULL,
                batch {int} NOT NULL,
                closes {key} NOT NULL,
                CONSTRAINT cf_batch_closes_pk PRIMARY KEY (campaign_id, batch)
            )""",
            # What a roll-up reports of the units under org ('' : the whole campaign), per
            # batch and stage: each unit counts at every ancestor of its parent; own counts
            # those whose parent is org itself.
            f"""CREATE TABLE cf_counts (
                {keyed},
                units {{int}} NOT NULL, on_time {{int}} NOT NULL, remedial {{int}} NOT NULL,
                remedial_rounds {{int}} NOT NULL, assessed {{int}} NOT NULL,
                satisfied {{int}} NOT NULL, fairly_satisfied {{int}} NOT NULL,
                basically_satisfied {{int}} NOT NULL, dissatisfied {{int}} NOT NULL,
                majority_dissatisfied {{int}} NOT NULL, stuck {{int}} NOT NULL,
                own {{int}} NOT NULL,
                CONSTRAINT cf_counts_pk PRIMARY KEY (campaign_id, org, batch, stage)
            )""",
            # Units whose latest refusal is current, per failing codes (space-separated).
            f"""CREATE TABLE cf_stuck_counts (
                {keyed},
                codes {{key}} NOT NULL,
                units {{int}} NOT NULL,
                CONSTRAINT cf_stuck_counts_pk PRIMARY KEY (campaign_id, org, batch, stage, codes)
            )""",
            # Counting a unit at its organisation's ancestors reads the closure by descendant.
            "CREATE INDEX cf_org_tree_descendant ON cf_org_tree (campaign_id, descendant, ancestor, depth)",
            # A roll-up to a depth lists the organisations that many levels down, no deeper.
            "CREATE INDEX cf_org_tree_depth ON cf_org_tree (campaign_id, ancestor, depth)",
            # Filled from every state row; on-time counts wait for the batch closes.
            *(statement.replace("{", "{{").replace("}", "}}") for statement in fill_statements()),
        ),
    )


_V8 = _v8()

#: Every step, in order; ``MIGRATIONS[i].version == i + 1``. Append, never edit.
MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)


def latest_version() -> int:
    """The schema version this release writes."""
    return len(MIGRATIONS)


def read_version(run: Run) -> int:
    """The database's schema version, 0 when it has none yet.

    The version table must exist (``migrate`` creates it); a missing table raises the
    driver's error, which callers outside a transaction use to mean "new database".
    """
    rows = run("SELECT version FROM cf_schema_version WHERE component = ?", (COMPONENT,))
    return next((int(version) for (version,) in rows), 0)


def too_new(found: int) -> ValidationError:
    """The error for a database written by a later release."""
    return ValidationError(
        code="store.schema_too_new", params={"found": found, "latest": latest_version()}
    )


def migrate(run: Run, dialect: Dialect) -> tuple[int, int]:
    """Bring the schema to the latest version inside the caller's open write transaction.

    Returns:
        ``(found, now)``: the version the database had and the version it has now.

    Raises:
        ValidationError: the database is newer than this release.
    """
    if dialect.schema_lock:
        run(dialect.schema_lock, ())
    types = dialect.types()
    run(_VERSION_TABLE.format(**types), ())
    found = read_version(run)
    latest = latest_version()
    if found > latest:
        raise too_new(found)
    for step in MIGRATIONS[found:]:
        for statement in step.statements:
            run(statement.format(**types), ())
    if found == 0:
        run(
            "INSERT INTO cf_schema_version (component, version) VALUES (?, ?)",
            (COMPONENT, latest),
        )
    elif found < latest:
        run(
            "UPDATE cf_schema_version SET version = ? WHERE component = ?",
            (latest, COMPONENT),
        )
    return found, latest
