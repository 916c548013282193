"""Bulk forms of guards for fast mode: judge a whole shard of units on numpy arrays at once.

A custom guard with a bulk form (:func:`register_bulk`; ``docs/simulation-fast.md`` shows how)
is judged in bulk; one without is judged by its own function, one unit at a time, on each
unit's ``GuardContext`` (``compile_bulk(spec, scalar=registry.bind)``). Needs the ``sim`` extra
(numpy).
"""

from campaignflow._public import publish
from campaignflow.simulation._fast import fast_blockers
from campaignflow.simulation._fast.bulk import (
    BulkVerdict,
    bulk_facts_from,
    compile_bulk,
    register_bulk,
)

__all__ = ["BulkVerdict", "bulk_facts_from", "compile_bulk", "fast_blockers", "register_bulk"]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
