"""The shipped workflows: each is a data file in this package, proving stages are data.

* :func:`load` (or a factory: :func:`district_2005`, :func:`advanced_nature_2005`,
  :func:`no_stages_2019`) gives a preset as a :class:`~campaignflow.Workflow`;
* :func:`source` gives its TOML text, comments and all, to start a workflow of your own;
* :data:`PRESETS` names them.
"""

from campaignflow._public import publish
from campaignflow.presets._load import (
    PRESETS,
    advanced_nature_2005,
    district_2005,
    load,
    no_stages_2019,
    source,
)

__all__ = ["PRESETS", "advanced_nature_2005", "district_2005", "load", "no_stages_2019", "source"]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
