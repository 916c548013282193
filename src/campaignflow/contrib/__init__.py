"""Integrations with the web frameworks and database toolkits OA back ends already run.

Each lives in its own module and imports its framework only when used:

* :mod:`campaignflow.contrib.django` (``pip install 'campaignflow[django]'``): a store on
  Django's database connection that joins the caller's ``transaction.atomic()``, and an
  installable app whose migration creates the tables;
* :mod:`campaignflow.contrib.sqlalchemy` (``pip install 'campaignflow[sqlalchemy]'``): a store
  on a SQLAlchemy 2 ``Connection`` or ORM ``Session`` that shares the caller's transaction.
"""

__all__: list[str] = []
