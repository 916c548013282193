"""Create campaignflow's tables with the library's own schema migrations.

The schema's single source of truth is :mod:`campaignflow.store._schema`: this migration runs
its steps (the same DDL ``SQLiteStore`` and ``PostgresStore`` run) on the migrating
connection. A campaignflow release that changes the schema ships one more Django migration
that runs the same function, which brings the tables to that release's version.

Not reversible: undoing it would drop the audit trail, which must be kept (等保 2.0).
"""

from typing import Any, ClassVar

from django.db import migrations  # type: ignore[import-untyped]

from campaignflow.contrib.django._store import run_schema_migrations


class Migration(migrations.Migration):  # type: ignore[misc]  # Django ships no type hints
    initial = True
    dependencies: ClassVar[list[tuple[str, str]]] = []
    operations: ClassVar[list[Any]] = [
        migrations.RunPython(run_schema_migrations, elidable=False),
    ]
