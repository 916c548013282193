"""Facts and fact types: what a unit records (study, surveys, milestones, approvals), and the
names facts travel under in audit records and stores, with their encoding.

The four built-in facts (:class:`StudySession`, :class:`Survey`, :class:`Milestone`,
:class:`Approval`) are registered in the default :data:`fact_types`. A host adds its own
with :func:`fact_type` on a frozen attrs class::

    @cf.fact_type("attendance")
    @attrs.frozen
    class Attendance:
        present: int
        members: int
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import attrs

from campaignflow._memo import remember
from campaignflow._words.checks import (
    choice,
    converter,
    flag,
    identifier,
    non_negative_int,
    refuse,
    structure,
    study_hours,
    text,
)
from campaignflow.errors import ValidationError

__all__ = [
    "Approval",
    "FactTypes",
    "Milestone",
    "StudySession",
    "Survey",
    "fact_type",
    "fact_types",
]

F = TypeVar("F", bound=type)
#: A count that may be absent (None), else a whole number from 0.
_optional_count = attrs.validators.optional(non_negative_int)


# --- facts ------------------------------------------------------------------------------


@attrs.frozen
class StudySession:
    """Hours of study a unit logged (学时); guided hours are lectures, videos and discussions."""

    kind: ClassVar[str] = "study_session"

    hours: float = attrs.field(validator=study_hours)
    guided: bool = attrs.field(default=False, validator=flag)


@attrs.frozen(kw_only=True)
class Survey:
    """A mass satisfaction assessment (群众满意度测评) run by the superior organisation.

    Counts per level of the scale: the 4-level scale has ``fairly_satisfied`` (比较满意); leave
    it ``None`` for the 3-level scale. ``ballots``, if given, must equal the sum of the counts.
    Every count is passed by keyword, so counts can never land on the wrong level.
    The satisfied rate counts satisfied, fairly and basically satisfied over valid ballots, as
    the national results were reported.
    """

    kind: ClassVar[str] = "survey"

    satisfied: int = attrs.field(validator=non_negative_int)
    basically_satisfied: int = attrs.field(validator=non_negative_int)
    dissatisfied: int = attrs.field(validator=non_negative_int)
    fairly_satisfied: int | None = attrs.field(default=None, validator=_optional_count)
    ballots: int | None = attrs.field(default=None, validator=_optional_count)

    def __attrs_post_init__(self) -> None:
        total = self.valid_ballots
        if total == 0:
            raise ValidationError(code="model.survey_no_ballots")
        if self.ballots is not None and self.ballots != total:
            raise ValidationError(
                code="model.survey_ballots_sum", params={"total": total, "ballots": self.ballots}
            )

    @property
    def scale(self) -> Literal[3, 4]:
        """3 for 满意/基本满意/不满意, 4 when 比较满意 is counted too."""
        return 3 if self.fairly_satisfied is None else 4

    @property
    def valid_ballots(self) -> int:
        """The number of valid ballots: the sum of the counts."""
        return (
            self.satisfied
            + (self.fairly_satisfied or 0)
            + self.basically_satisfied
            + self.dissatisfied
        )

    @property
    def satisfied_rate(self) -> float:
        """(satisfied + fairly satisfied + basically satisfied) / valid ballots."""
        return (self.valid_ballots - self.dissatisfied) / self.valid_ballots

    @property
    def dissatisfied_rate(self) -> float:
        """dissatisfied / valid ballots."""
        return self.dissatisfied / self.valid_ballots


@attrs.frozen
class Milestone:
    """A step done: a document filed or published, a meeting held, talks or reports completed.

    For steps measured by coverage (谈心活动 talks with ≥ 95 % of members, party-spirit reports
    from every member) give ``done`` out of ``total``; the latest record of a name counts.
    """

    kind: ClassVar[str] = "milestone"

    name: str = attrs.field(validator=identifier)
    done: int | None = attrs.field(default=None, validator=_optional_count)
    total: int | None = attrs.field(default=None, validator=_optional_count)

    def __attrs_post_init__(self) -> None:
        if (self.done is None) != (self.total is None):
            raise ValidationError(
                code="model.milestone_done_total",
                params={
                    "milestone": repr(self.name),
                    "done": repr(self.done),
                    "total": repr(self.total),
                },
            )
        if self.done is not None and self.total is not None and self.done > self.total:
            raise ValidationError(
                code="model.milestone_done_over",
                params={"milestone": repr(self.name), "total": self.total, "done": self.done},
            )

    @property
    def coverage(self) -> float:
        """done / total, 1.0 for a plain milestone, 0.0 for an empty one."""
        if self.total is None or self.done is None:
            return 1.0
        return self.done / self.total if self.total else 0.0


@attrs.frozen
class Approval:
    """A decision by a role on the unit's stage (the supervision group approving a transition)."""

    kind: ClassVar[str] = "approval"

    role: str = attrs.field(validator=identifier)
    decision: Literal["approved", "rejected"] = attrs.field(
        default="approved", validator=choice("approved", "rejected")
    )
    comment: str = attrs.field(default="", validator=text)

    @property
    def approved(self) -> bool:
        """Whether the decision is an approval."""
        return self.decision == "approved"


# --- fact types -------------------------------------------------------------------------


@attrs.frozen
class _Name:
    name: str = attrs.field(validator=identifier)


#: campaignflow's own fact types: frozen, holding only numbers and text, so one decoded
#: instance can stand for every stored copy of the same text.
_SHAREABLE: frozenset[type] = frozenset({StudySession, Survey, Milestone, Approval})


class FactTypes:
    """A registry of fact types by name; one default instance, tests may build their own."""

    __slots__ = ("_by_class", "_by_name", "_decoded", "_roles")

    def __init__(self) -> None:
        self._by_name: dict[str, type] = {}
        self._by_class: dict[type, str] = {}
        self._roles: dict[str, str] = {}
        self._decoded: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"<FactTypes {sorted(self._by_name)}>"

    def register(self, name: str, cls: type, *, role: str | None = None) -> None:
        """Register ``cls`` (a frozen attrs class) under ``name``.

        ``role``, if given, is the role an actor must hold to record this fact.

        Raises:
            ValidationError: a bad name, a class that is not attrs, or a name taken by
                another class.
        """
        _Name(name)
        if not attrs.has(cls):
            raise ValidationError(
                code="facts.not_attrs", params={"name": repr(name), "cls": repr(cls)}
            )
        owner = self._by_name.get(name)
        if owner is not None and owner is not cls:
            raise ValidationError(
                code="facts.already_registered",
                params={"name": repr(name), "owner": owner.__qualname__},
            )
        self._by_name[name] = cls
        self._by_class[cls] = name
        if role is not None:
            self._roles[name] = role

    def name_of(self, fact: object) -> str:
        """The registered name of ``fact``'s type.

        Raises:
            ValidationError: the type is not registered.
        """
        try:
            return self._by_class[type(fact)]
        except KeyError:
            raise ValidationError(
                code="facts.unregistered_type", params={"type": type(fact).__qualname__}
            ) from None

    def class_of(self, name: str) -> type:
        """The class registered under ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationError(
                code="facts.unknown_kind",
                params={"kinds": sorted(self._by_name), "name": repr(name)},
            ) from None

    def role_for(self, name: str) -> str | None:
        """The role needed to record facts of type ``name``, if the type declares one."""
        return self._roles.get(name)

    def names(self) -> frozenset[str]:
        """Every registered name."""
        return frozenset(self._by_name)

    def dump(self, fact: object) -> dict[str, Any]:
        """``fact`` as plain JSON-able data with its type under ``kind``."""
        name = self.name_of(fact)
        data: dict[str, Any] = converter.unstructure(fact)
        return {"kind": name, **data}

    def load(self, data: Mapping[str, Any]) -> object:
        """A fact from :meth:`dump`'s output.

        Raises:
            ValidationError: unknown kind, unknown or missing fields, invalid values.
        """
        if not isinstance(data, Mapping) or "kind" not in data:
            refuse("fact", data, "must be a mapping with a 'kind'")
        body = {k: v for k, v in data.items() if k != "kind"}
        cls = self.class_of(str(data["kind"]))
        return structure(body, cls, what=f"fact {data['kind']!r}")

    def load_text(self, text: str) -> object:
        """A fact from its stored JSON text: :meth:`load` of ``json.loads(text)``.

        A store reads a unit's facts again at every decision. The built-in fact types are
        immutable, so each distinct text of theirs is decoded once and its fact shared (a
        bounded memo). A host's own types are decoded afresh each time.
        """
        fact = self._decoded.get(text)
        if fact is None:
            fact = self.load(json.loads(text))
            if type(fact) in _SHAREABLE:
                remember(self._decoded, text, fact)
        return fact


#: The default registry, holding the four built-in fact types.
fact_types = FactTypes()
fact_types.register("study_session", StudySession)
fact_types.register("survey", Survey)
fact_types.register("milestone", Milestone)
fact_types.register("approval", Approval)


def fact_type(
    name: str, *, role: str | None = None, registry: FactTypes | None = None
) -> Callable[[F], F]:
    """Class decorator registering a host's own fact type under ``name``.

    ``role``: the role an actor must hold to record it (none: anyone may).
    """

    def register(cls: F) -> F:
        (registry or fact_types).register(name, cls, role=role)
        return cls

    return register
