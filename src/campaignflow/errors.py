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

Every error also has a stable, language-neutral ``code`` and ``params``, and
``message(locale)`` renders it in zh_CN or en from the message catalog (as a verdict does);
``str(error)`` stays the English text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

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
    """Root of every error campaignflow raises; catch it to catch them all.

    ``code`` names the kind of error (stable, for programs and logs); ``params`` carry its
    data; ``message(locale)`` is the text for a person, in ``"zh_CN"`` or ``"en"``.
    """

    #: The code of this kind of error; instances may carry a more specific one.
    default_code: ClassVar[str] = "error"
    _code: str | None = None
    _params: dict[str, Any] | None = None

    @property
    def code(self) -> str:
        """The stable code of this error (``unknown_unit``, ``not_authorized.own_unit``)."""
        return self._code or self.default_code

    @property
    def params(self) -> Mapping[str, Any]:
        """The data the message is made of; by default the English text as ``detail``."""
        return dict(self._params) if self._params is not None else {"detail": str(self)}

    def message(self, locale: str = "zh_CN") -> str:
        """The error as text in ``locale`` (``"zh_CN"`` or ``"en"``).

        Raises:
            ValidationError: ``locale`` is not a supported locale.
        """
        # Imported here: the catalog itself raises ValidationError, so it imports this module.
        from campaignflow.i18n import messages

        return messages.render(self.code, self.params, locale)


class ValidationError(CampaignflowError, ValueError):
    """Bad input to a public entry point; nothing was written.

    ``problems`` lists every problem found (each naming field, value and rule); the message
    joins them. A raise site that knows its rule passes ``code`` and ``params`` so
    ``message("zh_CN")`` is Chinese throughout; otherwise the code is ``validation.invalid``
    and the English text is its ``detail``.
    """

    default_code: ClassVar[str] = "validation.invalid"

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[str] | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.problems: tuple[str, ...] = tuple(problems) if problems else (message,)
        self._code = code
        self._params = dict(params) if params is not None else None
        super().__init__(message)


class UnknownUnit(ValidationError, KeyError):
    """The campaign has no unit with this id."""

    default_code: ClassVar[str] = "unknown_unit"

    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id
        super().__init__(
            f"unit {unit_id!r}: no such unit in this campaign",
            params={"unit": unit_id},
        )

    def __str__(self) -> str:
        # KeyError would quote the message again; keep it readable.
        return str(self.args[0])


class DefinitionError(CampaignflowError, ValueError):
    """A workflow (or other definition) that cannot load.

    ``problems`` lists every problem at once, each with its path (``$.stages[2].id``).
    """

    default_code: ClassVar[str] = "definition.invalid"

    def __init__(self, problems: Sequence[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the definition{where}:"
        self._params = {"count": count, "source": source or ""}
        super().__init__("\n  - ".join([head, *self.problems]))

    def message(self, locale: str = "zh_CN") -> str:
        """The head line in ``locale``, then one line per problem (paths and rules as found)."""
        from campaignflow.i18n import messages

        code = self.code + ("_one" if len(self.problems) == 1 else "")
        head = messages.render(code + ("_in" if self.source else ""), self.params, locale)
        return "\n  - ".join([head, *self.problems])


class TransitionRejected(CampaignflowError):
    """``advance`` was refused because a gate held; ``decision`` says which, with the numbers."""

    default_code: ClassVar[str] = "transition.rejected"

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self._params = {
            "unit": decision.unit_id,
            "source": decision.source,
            "target": decision.target,
        }
        # The text is rendered when asked for: a simulation or a sweep refuses far more
        # applications than anyone reads, and args stay picklable (the decision itself).
        self._text: str | None = None
        super().__init__(decision)

    def __str__(self) -> str:
        if self._text is None:
            self._text = self.decision.explain(locale="en")
        return self._text

    def message(self, locale: str = "zh_CN") -> str:
        """The decision's explanation in ``locale``: every gate that held, with its numbers."""
        return self.decision.explain(locale=locale)


class NotAuthorized(CampaignflowError, PermissionError):
    """The actor may not do this: a missing role, or approving or assessing its own unit."""

    default_code: ClassVar[str] = "not_authorized"

    def __init__(
        self,
        message: str,
        *,
        actor_id: str,
        unit_id: str | None,
        rule: str,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.actor_id = actor_id
        self.unit_id = unit_id
        self.rule = rule
        # The rule is the code (``not_authorized.own_unit``); without its params the message
        # falls back to the English text.
        self._code = rule if params is not None else None
        self._params = dict(params) if params is not None else None
        super().__init__(message)


class ConcurrencyConflict(CampaignflowError):
    """Another writer changed the unit between read and write; retry the command."""

    default_code: ClassVar[str] = "concurrency.conflict"

    def __init__(self, unit_id: str, *, expected_version: int, detail: str = "") -> None:
        self.unit_id = unit_id
        self.expected_version = expected_version
        self._params = {"unit": unit_id, "expected_version": expected_version, "detail": detail}
        extra = f": {detail}" if detail else ""
        super().__init__(
            f"unit {unit_id!r}: state changed concurrently (expected version "
            f"{expected_version}){extra}; retry the command"
        )


class AuditTampered(CampaignflowError):
    """The audit chain does not verify; ``seq`` is the first record that is wrong."""

    default_code: ClassVar[str] = "audit.tampered"

    def __init__(self, seq: int | None, reason: str, **details: Any) -> None:
        self.seq = seq
        self.reason = reason
        self.details = details
        if seq is not None:
            self._params = {"seq": seq, "reason": reason}
        else:
            self._code = "audit.tampered_chain"
            self._params = {"reason": reason}
        where = f"record {seq}" if seq is not None else "the chain"
        super().__init__(f"audit trail tampered at {where}: {reason}")
