"""Hypothesis strategies for the library's own tests: the testing kit's, used on ourselves.

The workflow and guard-spec strategies live in :mod:`campaignflow.testing.strategies` (the
kit integrators use); this module keeps the names the suite imports.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from campaignflow.testing.strategies import guard_specs as _guard_specs
from campaignflow.testing.strategies import workflow_dicts

__all__ = ["guard_specs", "workflow_dicts"]

#: Guard specs as workflow files write them: built-in guards nested in all_of/any_of/not.
guard_specs: st.SearchStrategy[dict[str, Any]] = _guard_specs()
