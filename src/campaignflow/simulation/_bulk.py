"""Old path of :mod:`campaignflow.simulation._fast.bulk`, kept for one release (docs import it).

Every name is looked up on the new module, so this path and the new one are the same objects.
"""

from typing import Any

from campaignflow.simulation._fast import bulk as _new

__all__ = list(_new.__all__)


def __getattr__(name: str) -> Any:
    return getattr(_new, name)
