"""The campaign's records: units, actors, organisations, batch windows, a unit's running
state, workflow versions, and what a command produced.

Every record is a frozen attrs class with slots; change one with ``attrs.evolve``. Constructors
validate, so an invalid record cannot exist: bad input raises :class:`ValidationError` naming
the field, the value and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from campaignflow._words.checks import (
    calendar_date,
    field_error,
    identifier,
    key,
    non_empty_text,
    non_negative_int,
    positive_int,
    refuse,
)
from campaignflow.errors import ValidationError

__all__ = [
    "ORG_LEVELS",
    "SYSTEM",
    "Actor",
    "BatchWindow",
    "FactRecord",
    "Organisation",
    "TransitionRecord",
    "Unit",
    "UnitState",
    "WorkflowVersion",
    "trusted_unit",
]


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
