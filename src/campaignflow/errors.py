"""The exception tree: every error campaignflow raises derives from one root.

    CampaignflowError
    ├── ValidationError (also ValueError)     bad input: names the field, the value and the rule
    │   └── UnknownUnit (also KeyError)       a unit id the campaign does not know
    ├── DefinitionError (also ValueError)     a workflow that cannot load; lists every problem
    ├── TransitionRejected                    a gate held; carries the Decision that says why
    ├── NotAuthorized (also PermissionError)  the actor lacks the role, or acts on its own unit
    ├── ConcurrencyConflict                   another writer moved the unit first; retryable
    ├── AuditTampered                         the audit chain does not verify; names the record
    └── MissingExtra (also ImportError)       an optional part needs a package not installed

Subclasses also inherit the builtin exception that callers already catch, so an OA back end
that handles ``ValueError`` keeps working.

Every error also has a stable, language-neutral ``code`` and ``params``, and
``message(locale)`` renders it in zh_CN or en from the message catalog (as a verdict does);
``str(error)`` stays the English text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, Protocol

from campaignflow._catalogue import DEFAULT_TEXTS, LOCALES

__all__ = [
    "AuditTampered",
    "CampaignflowError",
    "ConcurrencyConflict",
    "DefinitionError",
    "MissingExtra",
    "NotAuthorized",
    "Problem",
    "TransitionRejected",
    "UnknownUnit",
    "ValidationError",
]


def _render(code: str, params: Mapping[str, Any], locale: str) -> str:
    # The default catalogue's texts: the ones campaignflow.i18n.messages shows and extends.
    check_locale(locale)
    return DEFAULT_TEXTS.render(code, params, locale)


def check_locale(locale: str) -> None:
    """Refuse a locale other than ``zh_CN`` or ``en`` (for :mod:`campaignflow.i18n` too).

    Raises:
        ValidationError: ``locale`` is not one of the catalogue's locales.
    """
    if locale not in LOCALES:
        raise ValidationError(
            f"locale: must be one of {', '.join(LOCALES)}, got {locale!r}",
            code="validation.locale",
            params={"choices": list(LOCALES), "value": repr(locale)},
        )


class _Decision(Protocol):
    """The face of the :class:`~campaignflow.Decision` a refusal carries.

    Decisions are defined with the verdicts, a floor above this module (they render through
    the catalogue and refuse bad input with the errors defined here), so the refusal names
    what it offers of one instead of importing it.
    """

    @property
    def unit_id(self) -> str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str | None: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def candidates(self) -> tuple[Any, ...]: ...
    @property
    def judged_on(self) -> date: ...
    @property
    def workflow(self) -> str: ...
    @property
    def judged_by(self) -> str: ...
    @property
    def verdicts(self) -> tuple[Any, ...]: ...
    def failures(self) -> tuple[Any, ...]: ...
    def explain(self, locale: str = ...) -> str: ...


class Problem(str):
    """One problem of a definition or payload: its English text, carrying path, code and params.

    It is a ``str`` (the English line, ``"$.stages[2].id: ..."``) so code that lists or
    matches problems keeps working; ``message(locale)`` renders it from the catalog. ``line``
    is the line of the file the path is written on, when known.
    """

    path: str
    code: str
    params: Mapping[str, Any]
    line: int | None

    def __new__(
        cls,
        path: str,
        code: str,
        params: Mapping[str, Any] | None = None,
        *,
        line: int | None = None,
    ) -> Problem:
        data = dict(params or {})
        self = super().__new__(cls, _problem_line(path, code, data, line, "en"))
        self.path, self.code, self.params, self.line = path, code, data, line
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_problem, (self.path, self.code, dict(self.params), self.line))

    def message(self, locale: str = "zh_CN") -> str:
        """The problem in ``locale``, after its path."""
        return _problem_line(self.path, self.code, self.params, self.line, locale)

    def with_path(self, path: str) -> Problem:
        """The same problem at another path (nested in, or stripped of, a prefix)."""
        return Problem(path, self.code, self.params, line=self.line)

    def with_line(self, line: int) -> Problem:
        """The same problem, naming the file line its path is written on."""
        return Problem(self.path, self.code, self.params, line=line)


def _rebuild_problem(path: str, code: str, params: Mapping[str, Any], line: int | None) -> Problem:
    return Problem(path, code, params, line=line)


def _problem_line(
    path: str, code: str, params: Mapping[str, Any], line: int | None, locale: str
) -> str:
    zh = locale == "zh_CN"
    text = _render(code, params, locale)
    if path:
        text = f"{path}{'：' if zh else ': '}{text}"
    if line is not None:
        text += f"（第 {line} 行）" if zh else f" (line {line})"
    return text


def nested(prefix: str, problem: str) -> str:
    """``problem`` under ``prefix`` (``workflow: $.stages[0].id: ...``), keeping its code."""
    if isinstance(problem, Problem):
        return problem.with_path(f"{prefix}: {problem.path}" if problem.path else prefix)
    return f"{prefix}: {problem}"


def problem_text(problem: str, locale: str) -> str:
    """A problem line in ``locale``: a :class:`Problem` renders, plain text stays as it is."""
    return problem.message(locale) if isinstance(problem, Problem) else problem


def _with_problems(
    params: Mapping[str, Any], problems: Sequence[str], locale: str
) -> dict[str, Any]:
    # Templates that list problems show them as {problems} ("a; b") or {problem_lines};
    # a ``shown`` param lists only that many (the rest stay in ``error.problems``).
    shown = params.get("shown")
    listed = problems[:shown] if isinstance(shown, int) else problems
    lines = [problem_text(p, locale) for p in listed]
    return {
        **params,
        "problems": "; ".join(lines),
        "problem_lines": "".join("\n  - " + line for line in lines),
    }


class CampaignflowError(Exception):
    """Root of every error campaignflow raises; catch it to catch them all.

    ``code`` names the kind of error (stable, for programs and logs); ``params`` carry its
    data; ``message(locale)`` is the text for a person, in ``"zh_CN"`` or ``"en"``.
    """

    #: The code of this kind of error; instances may carry a more specific one.
    default_code: ClassVar[str] = "error"
    _code: str | None = None
    _params: dict[str, Any] | None = None

    def __init__(
        self, *args: object, code: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        if code is not None:
            self._code = code
        if params is not None:
            self._params = dict(params)
        super().__init__(*args)

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
        return _render(self.code, self.params, locale)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without __init__: subclasses take keyword arguments (which the default
        # exception pickling drops), and the code and params given at the raise site live
        # in the instance's dict. Hosts send errors through task queues and worker pools.
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def _rebuild_error(
    cls: type[CampaignflowError], args: tuple[object, ...], state: dict[str, Any]
) -> CampaignflowError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ValidationError(CampaignflowError, ValueError):
    """Bad input to a public entry point; nothing was written.

    ``problems`` lists every problem found (each naming field, value and rule); the message
    joins them. Every raise site in the library passes ``code`` and ``params`` (and then
    may leave out ``message``: it is the code's English text), so ``message("zh_CN")`` is
    Chinese throughout; a host raising one with only a message gets ``validation.invalid``
    with the English text as its ``detail``.
    """

    default_code: ClassVar[str] = "validation.invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        problems: Sequence[str] | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self._code = code
        self._params = dict(params) if params is not None else None
        if message is None:
            if code is None:
                raise TypeError("ValidationError needs a message or a code")
            message = _render(code, _with_problems(params or {}, problems or (), "en"), "en")
        self.problems: tuple[str, ...] = tuple(problems) if problems else (message,)
        super().__init__(message)

    def message(self, locale: str = "zh_CN") -> str:
        """The error in ``locale``; problems it lists are rendered in ``locale`` too."""
        return _render(self.code, _with_problems(self.params, self.problems, locale), locale)


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
        code = self.code + ("_one" if len(self.problems) == 1 else "")
        head = _render(code + ("_in" if self.source else ""), self.params, locale)
        return "\n  - ".join([head, *(problem_text(p, locale) for p in self.problems)])


class TransitionRejected(CampaignflowError):
    """``advance`` was refused because a gate held; ``decision`` says which, with the numbers."""

    default_code: ClassVar[str] = "transition.rejected"

    def __init__(self, decision: _Decision) -> None:
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
    """Another writer changed the unit between read and write; retry the command.

    ``unit_id`` is None when what moved is shared by the campaign rather than one unit's
    (the audit chain's head, the workflow versions).
    """

    default_code: ClassVar[str] = "concurrency.conflict"

    def __init__(self, unit_id: str | None, *, expected_version: int, detail: str = "") -> None:
        self.unit_id = unit_id
        self.expected_version = expected_version
        if unit_id is None:
            self._code = "concurrency.conflict_campaign"
            self._params = {"expected_version": expected_version, "detail": detail}
            where = "campaign"
        else:
            self._params = {"unit": unit_id, "expected_version": expected_version, "detail": detail}
            where = f"unit {unit_id!r}"
        extra = f": {detail}" if detail else ""
        super().__init__(
            f"{where}: state changed concurrently (expected version "
            f"{expected_version}){extra}; retry the command"
        )


class AuditTampered(CampaignflowError):
    """The audit chain does not verify; ``seq`` is the first record that is wrong."""

    default_code: ClassVar[str] = "audit.tampered"

    def __init__(
        self,
        seq: int | None,
        reason: str,
        *,
        reason_code: str = "",
        reason_params: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        self.seq = seq
        self.reason = reason
        #: What is wrong as a catalog code and params (as :class:`AuditVerification` has
        #: them), so the reason reads in zh_CN too; empty when the caller gave only text.
        self.reason_code = reason_code
        self.reason_params: dict[str, Any] = dict(reason_params or {})
        self.details = details
        if seq is not None:
            self._params = {"seq": seq, "reason": reason}
        else:
            self._code = "audit.tampered_chain"
            self._params = {"reason": reason}
        where = f"record {seq}" if seq is not None else "the chain"
        super().__init__(f"audit trail tampered at {where}: {reason}")

    def message(self, locale: str = "zh_CN") -> str:
        """Where the chain breaks and why, both in ``locale``."""
        params = dict(self.params)
        if self.reason_code:
            params["reason"] = _render(self.reason_code, self.reason_params, locale)
        return _render(self.code, params, locale)


class MissingExtra(CampaignflowError, ImportError):
    """An optional part of campaignflow needs a package that is not installed.

    ``extra`` names the extra that brings it (``pip install 'campaignflow[xlsx]'``) and
    ``package`` the missing package; the message says both.
    """

    default_code: ClassVar[str] = "extra.missing"

    def __init__(self, *, extra: str, package: str) -> None:
        self.extra = extra
        self.package = package
        self._params = {"extra": extra, "package": package}
        super().__init__(_render(self.default_code, self._params, "en"))
