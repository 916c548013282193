"""The exception tree: every error campaignflow raises derives from one root.

    CampaignflowError
    ├── ValidationError (also ValueError)     bad input: names the field, the value and the rule
    │   └── UnknownUnit (also KeyError)       a unit id the campaign does not know
    ├── DefinitionError (also ValueError)     a workflow that cannot load; lists every problem
    ├── TransitionRejected                    a gate held; carries the Decision that says why
    ├── NotAuthorized (also PermissionError)  the actor lacks the role, or acts on its own unit
    ├── ConcurrencyConflict                   another writer moved the unit first; retryable
    └── AuditTampered                         the audit chain does not verify; names the record

Subclasses also inherit the builtin exception that callers already catch, so an OA back end
that handles ``ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaignflow.model import Decision

__all__ = [
    "AuditTampered",
    "CampaignflowError",
    "ConcurrencyConflict",
    "DefinitionError",
    "NotAuthorized",
    "TransitionRejected",
    "UnknownUnit",
    "ValidationError",
]


class CampaignflowError(Exception):
    """Root of every error campaignflow raises; catch it to catch them all."""


class ValidationError(CampaignflowError, ValueError):
    """Bad input to a public entry point; nothing was written.

    ``problems`` lists every problem found (each naming field, value and rule); the message
    joins them.
    """

    def __init__(self, message: str, *, problems: Sequence[str] | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems) if problems else (message,)
        super().__init__(message)


class UnknownUnit(ValidationError, KeyError):
    """The campaign has no unit with this id."""

    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id
        super().__init__(f"unit {unit_id!r}: no such unit in this campaign")

    def __str__(self) -> str:
        # KeyError would quote the message again; keep it readable.
        return str(self.args[0])


class DefinitionError(CampaignflowError, ValueError):
    """A workflow (or other definition) that cannot load.

    ``problems`` lists every problem at once, each with its path (``$.stages[2].id``).
    """

    def __init__(self, problems: Sequence[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the definition{where}:"
        super().__init__("\n  - ".join([head, *self.problems]))


class TransitionRejected(CampaignflowError):
    """``advance`` was refused because a gate held; ``decision`` says which, with the numbers."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.explain(locale="en"))


class NotAuthorized(CampaignflowError, PermissionError):
    """The actor may not do this: a missing role, or approving or assessing its own unit."""

    def __init__(self, message: str, *, actor_id: str, unit_id: str | None, rule: str) -> None:
        self.actor_id = actor_id
        self.unit_id = unit_id
        self.rule = rule
        super().__init__(message)


class ConcurrencyConflict(CampaignflowError):
    """Another writer changed the unit between read and write; retry the command."""

    def __init__(self, unit_id: str, *, expected_version: int, detail: str = "") -> None:
        self.unit_id = unit_id
        self.expected_version = expected_version
        extra = f": {detail}" if detail else ""
        super().__init__(
            f"unit {unit_id!r}: state changed concurrently (expected version "
            f"{expected_version}){extra}; retry the command"
        )


class AuditTampered(CampaignflowError):
    """The audit chain does not verify; ``seq`` is the first record that is wrong."""

    def __init__(self, seq: int | None, reason: str, **details: Any) -> None:
        self.seq = seq
        self.reason = reason
        self.details = details
        where = f"record {seq}" if seq is not None else "the chain"
        super().__init__(f"audit trail tampered at {where}: {reason}")
