#!/usr/bin/env python
"""The OA example's command line: ``python manage.py migrate``, ``runserver``, ``oa_demo``.

The database comes from ``OA_DATABASE_URL`` (see ``oa_site/settings.py``): unset, a SQLite
file next to this script; ``postgresql://user:password@host:5432/db`` for PostgreSQL.
"""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oa_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
