"""The campaign's argument checks, and who may act on a unit.

Each check raises :class:`~campaignflow.errors.ValidationError` (or ``UnknownUnit`` for a
unit id no unit can have) naming the argument, the rule and the value, before anything is
read or written. :func:`authorize` answers whether an actor may act, as data a denial's
audit record keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from campaignflow._words.checks import is_valid_unicode, refuse, whole_number
from campaignflow._words.records import Actor, Organisation, Unit
from campaignflow.audit import Checkpoint
from campaignflow.errors import NotAuthorized, Problem, UnknownUnit, ValidationError
from campaignflow.i18n import messages
from campaignflow.workflow import Workflow

__all__ = [
    "BACKDATE_ROLE",
    "DEFER",
    "START",
    "START_ROLES",
    "UNRECORDABLE",
    "authorize",
    "check_actor",
    "check_batch",
    "check_campaign_id",
    "check_limit",
    "check_org_id",
    "check_request_id",
    "check_stage_name",
    "check_stream",
    "check_sweep_name",
    "check_sweep_trigger",
    "check_trigger",
    "check_unit_id",
    "checkpoint_list",
    "item_list",
    "movers",
    "not_authorized",
    "parents_first",
    "stage_map_of",
    "starter_roles",
    "unit_list",
    "unrecordable",
]

# What encoding a record raises on data a host's own fact type or guard carries that JSON
# cannot hold exactly (NaN, an object; a lone surrogate fails when the text is hashed).
UNRECORDABLE = (UnicodeEncodeError, ValueError, TypeError)


def unrecordable(command: str, exc: BaseException) -> ValidationError:
    """The command is refused (its transaction rolls back): its record cannot be written."""
    return ValidationError(
        code="campaign.payload_unrecordable", params={"command": command, "exc": str(exc)}
    )


def check_unit_id(unit_id: object) -> None:
    if not isinstance(unit_id, str):
        refuse("unit_id", unit_id, "must be text")
    if not is_valid_unicode(unit_id):
        raise UnknownUnit(unit_id)


def unit_list(units: object) -> list[Any]:
    if isinstance(units, Unit):
        return [units]
    if isinstance(units, str | bytes) or not isinstance(units, Iterable):
        refuse("units", units, "must be an iterable of campaignflow.Unit")
    return list(units)


def checkpoint_list(checkpoints: object) -> tuple[Checkpoint, ...]:
    if isinstance(checkpoints, str | bytes) or not isinstance(checkpoints, Iterable):
        refuse("checkpoints", checkpoints, "must be a sequence of Checkpoint")
    listed = tuple(checkpoints)
    for i, checkpoint in enumerate(listed):
        if not isinstance(checkpoint, Checkpoint):
            refuse(f"checkpoints[{i}]", checkpoint, "must be a Checkpoint")
    return listed


def check_trigger(trigger: object) -> None:
    if not isinstance(trigger, str):
        refuse("trigger", trigger, "must be the name of a transition")


#: The trigger ``defer`` fires: a deferral, whatever the call (defer's batch rules apply).
DEFER = "defer"
#: The trigger ``start_batch`` fires.
START = "start"
#: Who starts units when the workflow's start transition names no roles (领导小组).
START_ROLES = frozenset({"leading_group"})
#: The one role trusted to date a start before today (``start_batch(on=...)``): a records
#: office entering a start held on paper. Nobody may date one after today.
BACKDATE_ROLE = "records_office"


def movers(by: frozenset[str], trigger: str) -> frozenset[str]:
    """Who may fire a transition of ``trigger`` whose ``by`` names these roles (empty: anyone).

    A ``start`` transition naming nobody belongs to the leading group, on every path that
    fires it (``start_batch``, ``advance(trigger="start")``, a sweep of ``start``).
    """
    if by:
        return by
    return START_ROLES if trigger == START else frozenset()


def starter_roles(workflow: Workflow) -> frozenset[str]:
    """The roles that may start the workflow's units (any one of them will do)."""
    named = [t.by for t in workflow.transitions if t.trigger == START]
    return frozenset().union(*named) if named and all(named) else START_ROLES


def check_sweep_trigger(trigger: object) -> None:
    """A sweep's trigger: a transition name other than ``defer`` (a deferral is one unit's)."""
    check_trigger(trigger)
    if trigger == DEFER:
        raise ValidationError(code="campaign.sweep_cannot_defer", params={"trigger": DEFER})


def check_sweep_name(sweep: object) -> None:
    """A sweep's name: 1-200 characters of storable text."""
    if not isinstance(sweep, str) or not sweep or len(sweep) > 200:
        raise ValidationError(code="campaign.bad_sweep_name", params={"value": repr(sweep)[:80]})
    if not is_valid_unicode(sweep):
        raise ValidationError(code="campaign.bad_sweep_name", params={"value": repr(sweep)})


def check_campaign_id(campaign_id: object) -> None:
    """A campaign id: 1-200 characters every store can keep (it keys every row)."""
    if (
        not isinstance(campaign_id, str)
        or not 0 < len(campaign_id) <= 200
        or not is_valid_unicode(campaign_id)
    ):
        raise ValidationError(
            code="campaign.bad_campaign_id", params={"value": repr(campaign_id)[:80]}
        )


def check_stream(stream: object) -> None:
    """Where ``export_audit`` writes: an open text stream (writing "" to it must work)."""
    write = getattr(stream, "write", None)
    try:
        if not callable(write):
            raise TypeError("no write()")
        write("")  # a binary or closed stream refuses even this, before anything is read
    except (TypeError, ValueError, OSError):
        raise ValidationError(
            code="audit.bad_stream", params={"value": repr(stream)[:80]}
        ) from None


def check_stage_name(stage: object) -> None:
    """A stage asked for by name (``facts(stage=...)``): None or text."""
    if stage is not None and (not isinstance(stage, str) or not is_valid_unicode(stage)):
        refuse("stage", stage, "must be text in valid Unicode, without NUL")


def check_batch(batch: object) -> None:
    if batch is not None:
        whole_number("batch", batch, minimum=1)


def check_limit(limit: object) -> None:
    whole_number("limit", limit, minimum=1)


def check_actor(actor: object) -> None:
    if not isinstance(actor, Actor):
        refuse("actor", actor, "must be a campaignflow.Actor")


_REQUEST_ID = re.compile(r"\S{1,200}")


def check_request_id(request_id: object) -> None:
    if request_id is None:
        return
    if (
        not isinstance(request_id, str)
        or not _REQUEST_ID.fullmatch(request_id)
        or not request_id.isprintable()
    ):
        refuse("request_id", request_id, "must be 1-200 printable characters without white space")


def authorize(
    actor: Actor, unit: Unit, roles: set[str] | frozenset[str], *, action: str
) -> dict[str, Any] | None:
    """None when ``actor`` may act; otherwise the denial reason as code and params."""
    if roles and not (actor.roles & roles):
        return {
            "code": "not_authorized.missing_role",
            "params": {"actor": actor.id, "roles": sorted(roles), "action": action},
        }
    if roles and actor.unit == unit.id and action != "move":
        return {
            "code": "not_authorized.own_unit",
            "params": {"actor": actor.id, "unit": unit.id, "action": action},
        }
    return None


def not_authorized(reason: Mapping[str, Any], actor: Actor, unit_id: str | None) -> NotAuthorized:
    return NotAuthorized(
        messages.render(reason["code"], reason["params"], "en"),
        actor_id=actor.id,
        unit_id=unit_id,
        rule=reason["code"],
        params=reason["params"],
    )


def item_list(items: object, kind: type, name: str) -> list[Any]:
    if isinstance(items, kind):
        return [items]
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ValidationError(
            code="validation.iterable_of",
            params={"field": name, "kind": kind.__name__, "value": repr(items)},
        )
    return list(items)


def parents_first(orgs: Sequence[Organisation], problems: list[str]) -> list[Organisation]:
    """``orgs`` ordered so each parent in the call comes before its children; cycles reported."""
    by_id = {o.id: o for o in orgs}
    ordered: list[Organisation] = []
    placed: set[str] = set()
    for org in orgs:
        chain: list[Organisation] = []
        current: Organisation | None = org
        while current is not None and current.id not in placed:
            if current in chain:
                problems.append(
                    Problem("organisations", "campaign.org_cycle", {"org": repr(org.id)})
                )
                return ordered
            chain.append(current)
            current = by_id.get(current.parent) if current.parent is not None else None
        for item in reversed(chain):
            placed.add(item.id)
            ordered.append(item)
    return ordered


def check_org_id(name: str, value: object) -> None:
    if (
        not isinstance(value, str)
        or not value
        or any(ch.isspace() or not ch.isprintable() for ch in value)
    ):
        refuse(name, value, "must be an organisation id (text)")


def stage_map_of(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        refuse("stage_map", value, "must be a mapping of old stage id to new")
    mapping: dict[str, str] = {}
    for old, new in value.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise ValidationError(
                code="versions.stage_map_entry", params={"old": repr(old), "new": repr(new)}
            )
        mapping[old] = new
    return mapping
