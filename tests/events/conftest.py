"""The event feed, reminder and work-list tests run on every store: the store suite's backend fixtures, reused."""

from tests.store.conftest import sql_factory, store_factory  # noqa: F401  (fixtures)
