"""Django integration: a campaign store inside the caller's ``transaction.atomic()``.

Add ``"campaignflow.contrib.django"`` to ``INSTALLED_APPS`` and run ``python manage.py
migrate``: the app's migration creates the campaign's tables with the library's own schema
(the same DDL the other stores run). Then build the campaign on a :class:`DjangoStore`::

    camp = cf.Campaign(workflow, store=DjangoStore(campaign_id="district-7"),
                       campaign_id="district-7")

Needs the ``django`` extra (``pip install 'campaignflow[django]'``); PostgreSQL through
psycopg 3, which Django supports from 4.2.
"""

try:
    import django  # type: ignore[import-untyped]  # noqa: F401  (only to say what is missing)
except ImportError:  # pragma: no cover - exercised where Django is absent
    from campaignflow.contrib._joined import missing_extra

    raise missing_extra("Django", "django") from None

from campaignflow._public import publish
from campaignflow.contrib.django._store import DjangoStore, upgrade_schema

__all__ = ["DjangoStore", "upgrade_schema"]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
