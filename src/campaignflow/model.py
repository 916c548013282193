"""The campaign's records: units, actors, facts, verdicts, decisions and what a command produced.

Every record is a frozen attrs class with slots; change one with ``attrs.evolve``. Constructors
validate, so an invalid record cannot exist: bad input raises :class:`ValidationError` naming
the field, the value and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Literal

import attrs

from campaignflow._validators import (
    calendar_date,
    choice,
    field_error,
    flag,
    identifier,
    key,
    non_empty_text,
    non_negative_int,
    positive_int,
    refuse,
    study_hours,
    text,
)
from campaignflow.errors import ValidationError
from campaignflow.i18n import MessageCatalog, messages

__all__ = [
    "ORG_LEVELS",
    "SYSTEM",
    "Actor",
    "Approval",
    "BatchWindow",
    "Candidate",
    "Decision",
    "FactRecord",
    "Milestone",
    "Organisation",
    "Refusal",
    "StudySession",
    "Survey",
    "TransitionRecord",
    "Unit",
    "UnitState",
    "Verdict",
    "WorkflowVersion",
]

#: JSON-able values a verdict may carry as params (numbers, text, lists of names).
ParamValue = int | float | str | bool | None | list[str]


def _frozen_roles(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        # A bare string would otherwise become a set of its characters.
        return frozenset({value})
    try:
        roles = frozenset(value)
    except TypeError:
        raise field_error("Actor.roles", value, "must be a set of role ids") from None
    for role in roles:
        if not isinstance(role, str) or not role:
            refuse("Actor.roles", role, "every role must be non-empty text")
    return roles


@attrs.frozen
class Unit:
    """A unit that takes part in the campaign: a party branch, an office, a village.

    ``kind`` is one of the domain's kinds (``organ``, ``community``, ``school``, ``enterprise``,
    ``village``, ``closed_enterprise``, …) or the host's own; ``batch`` is the batch it was
    assigned to (1-based); ``parent`` is the id of the organisation above it.
    """

    id: str = attrs.field(validator=key)
    name: str = attrs.field(validator=non_empty_text)
    kind: str = attrs.field(validator=identifier)
    batch: int = attrs.field(validator=positive_int)
    members: int = attrs.field(default=0, validator=non_negative_int)
    parent: str | None = attrs.field(default=None, validator=attrs.validators.optional(key))


def trusted_unit(
    id: str, name: str, kind: str, batch: int, members: int, parent: str | None
) -> Unit:
    """A :class:`Unit` from values that were validated when written (a store's own row).

    Skips the validators: loading a sweep's units is on the hot path, and a store only
    holds units that passed them. Not for input from outside campaignflow.
    """
    unit = object.__new__(Unit)
    # Frozen: set the slots as attrs' own __init__ does.
    setattr_ = object.__setattr__
    setattr_(unit, "id", id)
    setattr_(unit, "name", name)
    setattr_(unit, "kind", kind)
    setattr_(unit, "batch", batch)
    setattr_(unit, "members", members)
    setattr_(unit, "parent", parent)
    return unit


@attrs.frozen
class Actor:
    """Someone who issues commands: a clerk, a supervision group member, a superior org.

    ``unit`` is the id of the unit the actor belongs to, if any: an actor never approves or
    assesses its own unit.
    """

    id: str = attrs.field(validator=key)
    roles: frozenset[str] = attrs.field(factory=frozenset, converter=_frozen_roles)
    unit: str | None = attrs.field(default=None, validator=attrs.validators.optional(key))

    def has_role(self, role: str) -> bool:
        """Whether the actor holds ``role``."""
        return role in self.roles


#: The levels of the organisation tree, lowest first: a branch's superior is a district, and so on.
ORG_LEVELS = ("branch", "district", "city", "province", "nation")


@attrs.frozen
class Organisation:
    """An organisation of the campaign's tree: a district committee, a city, a province.

    Units name their organisation in ``Unit.parent``; an organisation names the one above it
    in ``parent`` (None at the top). ``level`` is one of ``branch``, ``district``, ``city``,
    ``province``, ``nation`` (:data:`ORG_LEVELS`), or the host's own id for a level between
    (``street``, ``county``). Register them with ``Campaign.add_organisations``.
    """

    id: str = attrs.field(validator=key)
    name: str = attrs.field(validator=non_empty_text)
    level: str = attrs.field(validator=identifier)
    parent: str | None = attrs.field(default=None, validator=attrs.validators.optional(key))

    def __attrs_post_init__(self) -> None:
        if self.parent == self.id:
            raise ValidationError(code="model.org_own_parent", params={"org": repr(self.id)})


#: The actor for commands the library issues on the host's behalf (batch starts, sweeps).
SYSTEM = Actor(id="system", roles=frozenset({"system"}))


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
    fairly_satisfied: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )
    ballots: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )

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
    done: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )
    total: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )

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


# --- running state ----------------------------------------------------------------------


@attrs.frozen
class BatchWindow:
    """The dates a batch (批次) runs: units of the batch start and finish inside them."""

    number: int = attrs.field(validator=positive_int)
    opens: date = attrs.field(validator=calendar_date)
    closes: date = attrs.field(validator=calendar_date)
    title: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    def __attrs_post_init__(self) -> None:
        if self.closes < self.opens:
            raise ValidationError(
                code="model.batch_window_order",
                params={"number": self.number, "closes": self.closes, "opens": self.opens},
            )

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls inside the window, both ends included."""
        return self.opens <= day <= self.closes


@attrs.frozen
class UnitState:
    """Where a unit stands: its stage, version and the dates the guards measure from.

    ``version`` counts the transitions applied to the unit (0 before any). ``stage_since`` is
    when the unit first entered this stage, kept across remedial make-up so minimum stage
    lengths count the whole stay; ``entered_on`` is the date of the last transition;
    ``started_on`` is when the unit's concentrated activity began. While in remedial make-up,
    ``resume_since`` keeps the ``stage_since`` of the stage being made up.
    """

    unit_id: str
    stage: str
    batch: int
    version: int = 0
    entered_on: date | None = None
    stage_since: date | None = None
    started_on: date | None = None
    remedial: bool = False
    remedial_round: int = 0
    resume_since: date | None = None
    workflow: str = ""


# --- verdicts and decisions -------------------------------------------------------------


@attrs.frozen
class Verdict:
    """What one guard said: passed or not, a stable code, and the numbers behind it.

    ``code`` (``study_hours.insufficient``) is stable and language-neutral; ``params`` carry
    the numbers (``actual=32, required=40``); ``children`` keep every verdict of a combinator.
    Text is rendered on demand by :meth:`message`.
    """

    guard: str
    passed: bool
    code: str
    params: Mapping[str, ParamValue] = attrs.field(factory=dict)
    children: tuple[Verdict, ...] = ()

    def message(self, locale: str = "zh_CN", *, catalog: MessageCatalog | None = None) -> str:
        """This verdict as a sentence in ``locale`` (``zh_CN`` or ``en``).

        ``catalog``: where the templates come from (the default catalog unless given).
        """
        return (catalog or messages).render(self.code, self.params, locale)

    def failures(self) -> tuple[Verdict, ...]:
        """The failing leaf verdicts under this one (itself if it is a failing leaf)."""
        if self.passed:
            return ()
        if not self.children:
            return (self,)
        found = tuple(f for child in self.children for f in child.failures())
        return found or (self,)

    def leaves(self) -> tuple[Verdict, ...]:
        """Every leaf verdict under this one, passing or not."""
        if not self.children:
            return (self,)
        return tuple(leaf for child in self.children for leaf in child.leaves())


@attrs.frozen
class Candidate:
    """One candidate transition of a trigger, in the workflow's order, with its verdicts."""

    dest: str
    passed: bool
    verdicts: tuple[Verdict, ...] = ()


@attrs.frozen
class Decision:
    """The dry run of ``advance``: where the unit is, where it would go, and every verdict.

    ``target`` is the destination of the first candidate whose guards all pass (transitions'
    ordered-candidate semantics), or of the first candidate when none passes. ``verdicts`` are
    that candidate's; ``candidates`` keep every candidate's.
    """

    unit_id: str
    trigger: str
    source: str
    target: str | None
    allowed: bool
    candidates: tuple[Candidate, ...]
    judged_on: date
    workflow: str = ""
    titles: Mapping[str, list[str]] = attrs.field(factory=dict, eq=False, repr=False)
    #: The version that judged the unit (``name@version#hash``), set by ``Campaign``.
    judged_by: str = attrs.field(default="", eq=False)
    #: Whether the campaign has adopted more than one version: ``explain`` then names it.
    versioned: bool = attrs.field(default=False, eq=False, repr=False)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """The verdicts of the candidate that fires, or of the first one when none does."""
        chosen = self._chosen()
        return chosen.verdicts if chosen else ()

    def failures(self) -> tuple[Verdict, ...]:
        """The failing leaf verdicts that hold the unit where it is."""
        return tuple(f for v in self.verdicts for f in v.failures())

    def _chosen(self) -> Candidate | None:
        for candidate in self.candidates:
            if candidate.passed:
                return candidate
        return self.candidates[0] if self.candidates else None

    def _title(self, stage: str, locale: str) -> str:
        titles = self.titles.get(stage)
        if titles:
            return titles[0 if locale == "zh_CN" else 1]
        return messages.term(stage, locale)

    def explain(self, locale: str = "zh_CN") -> str:
        """A short text saying whether the unit may move, and which gates hold it, with numbers."""
        if locale not in ("zh_CN", "en"):
            messages.render("", {}, locale)  # raises the locale error
        zh = locale == "zh_CN"
        source = self._title(self.source, locale)
        target = self._title(self.target, locale) if self.target else ""
        if not self.candidates:
            return (
                f"单位 {self.unit_id}：在“{source}”阶段没有可执行的“{self.trigger}”操作"
                if zh
                else f"unit {self.unit_id}: no {self.trigger!r} transition from {source!r}"
            )
        if self.allowed:
            head = (
                f"单位 {self.unit_id}：可以从“{source}”转入“{target}”"
                if zh
                else f"unit {self.unit_id}: may move from {source!r} to {target!r}"
            )
            lines = [v.message(locale) for v in self.verdicts]
        else:
            head = (
                f"单位 {self.unit_id}：不能从“{source}”转入“{target}”"
                if zh
                else f"unit {self.unit_id}: may not move from {source!r} to {target!r}"
            )
            lines = [v.message(locale) for v in self.failures()]
        text = "\n".join([head, *(f"  - {line}" for line in lines)])
        if self.versioned and self.judged_by:
            text += (
                f"\n  （依据流程版本 {self.judged_by}）"
                if zh
                else f"\n  (judged by workflow version {self.judged_by})"
            )
        return text


@attrs.frozen
class Refusal:
    """A unit's latest refused move in its current stage: the gates that held it, with numbers.

    Kept by the store in the same transaction as the refused command (and superseded by the
    next refusal); it is current while the unit's ``version`` is still ``version``.
    ``failures`` are the failing leaf verdicts; ``seq`` is the refusal's audit record.
    """

    unit_id: str
    stage: str
    version: int
    trigger: str
    target: str | None
    on: date
    seq: int
    failures: tuple[Verdict, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The failing gate codes, in the workflow's order."""
        return tuple(v.code for v in self.failures)


@attrs.frozen
class WorkflowVersion:
    """A workflow version the campaign knows: its ref, its definition and how it was adopted.

    ``number`` counts versions from 1 (the campaign's first workflow); ``ref`` is
    ``name@version#hash``; ``definition`` is ``Workflow.to_dict()``; ``policy`` is ``base``
    for the first version, else the adoption policy (``pin``, ``migrate``, ``from_batch``);
    units of batch ``from_batch`` or later that are added or not yet started take this version;
    ``seq`` is the audit record of the adoption (0 for the first version).
    """

    number: int
    ref: str
    definition: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    policy: str
    from_batch: int = 1
    seq: int = 0


# --- what commands produce --------------------------------------------------------------


@attrs.frozen
class TransitionRecord:
    """A transition applied to a unit: from, to, when, by whom, and its audit sequence number."""

    unit_id: str
    trigger: str
    source: str
    dest: str
    version: int
    on: date
    at: datetime
    actor_id: str
    seq: int
    request_id: str | None = None
    batch: int | None = None


@attrs.frozen
class FactRecord:
    """A fact attached to a unit in a stage; ``version`` is the unit's version when recorded."""

    unit_id: str
    stage: str
    version: int
    fact: Any
    on: date
    at: datetime
    actor_id: str
    seq: int
    request_id: str | None = None
