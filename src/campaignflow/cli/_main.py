"""The console script's entry point, with a clear message when the ``cli`` extra is missing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["get_command", "main"]

_MISSING = "the campaignflow command needs click and rich: pip install 'campaignflow[cli]'"


def _missing_extra(args: Sequence[str] | None = None, **_: Any) -> None:
    """Stands in for the command when click or rich is missing: says what to install, exits 2."""
    print(f"campaignflow: {_MISSING}", file=sys.stderr)
    raise SystemExit(2)


def _load() -> Any:
    try:
        from campaignflow.cli._app import cli
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("click", "rich"):
            return _missing_extra
        raise
    return cli


#: The ``campaignflow`` click group (``main(["simulate", "x.toml"])`` runs it and exits;
#: ``main.commands`` lists the sub-commands). Without the ``cli`` extra, a stand-in that
#: names ``pip install 'campaignflow[cli]'`` and exits with code 2.
main: Any = _load()


def get_command() -> Any:
    """The ``campaignflow`` click group, to test it or embed it in a host's own command line.

    Raises:
        ImportError: click or rich is missing (the message names ``pip install``).
    """
    if main is _missing_extra:
        raise ImportError(_MISSING)
    return main
