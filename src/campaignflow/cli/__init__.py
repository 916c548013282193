"""The ``campaignflow`` command line (extra ``cli``: click and rich).

``campaignflow simulate``, ``validate``, ``diagram``, ``audit verify`` and ``report``;
see ``docs/cli.md`` for every option and the exit codes.
"""

from campaignflow._public import publish
from campaignflow.cli._main import get_command, main

__all__ = ["get_command", "main"]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
