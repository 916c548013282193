"""Bring campaignflow's tables to this release's schema (work items, due dates and later steps).

``0001_initial`` ran the library's schema steps of its release. Releases after it added steps
(6: work items; 7: each unit's due date; later ones likewise): this migration runs the same
function again, which applies only the steps a database has not had yet, so a database made by
an older release catches up and a new one is left as it is.
"""

from typing import Any, ClassVar

from django.db import migrations  # type: ignore[import-untyped]

from campaignflow.contrib.django._store import run_schema_migrations


class Migration(migrations.Migration):  # type: ignore[misc]  # Django ships no type hints
    dependencies: ClassVar[list[tuple[str, str]]] = [("campaignflow", "0001_initial")]
    operations: ClassVar[list[Any]] = [
        migrations.RunPython(run_schema_migrations, elidable=False),
    ]
