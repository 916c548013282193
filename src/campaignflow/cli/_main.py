"""The console script's entry point, with a clear message when the ``cli`` extra is missing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["get_command", "main"]

_MISSING = "the campaignflow command needs click and rich: pip install 'campaignflow[cli]'"


def get_command() -> Any:
    """The ``campaignflow`` click group, to embed in a host's own command line.

    Raises:
        ImportError: click or rich is missing (the message names ``pip install``).
    """
    try:
        from campaignflow.cli._app import cli
    except ImportError as exc:
        if exc.name in ("click", "rich") or (exc.name or "").startswith(("click.", "rich.")):
            raise ImportError(_MISSING) from None
        raise
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``campaignflow`` with ``argv`` (the process's arguments when None); exits.

    Exit codes: 0 ok, 1 a check failed (invalid file, tampered audit), 2 bad usage or input.
    """
    try:
        command = get_command()
    except ImportError as exc:
        print(f"campaignflow: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    command.main(args=list(argv) if argv is not None else None, prog_name="campaignflow")
