"""The ``campaignflow`` command line (extra ``cli``: click and rich).

``campaignflow simulate``, ``validate``, ``diagram``, ``audit verify`` and ``report``;
see ``docs/cli.md`` for every option and the exit codes.
"""

from campaignflow.cli._main import get_command, main

__all__ = ["get_command", "main"]
