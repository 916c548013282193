"""Reminder and escalation rules: when a unit's wait is long enough to tell someone, as data.

A workflow's ``[[reminders]]`` tables are read here into frozen :class:`Reminder` records,
every problem reported with its path like the rest of the definition. Three conditions:

- ``"awaiting approval"``: the unit's stage asks an approval (of ``role``, or of any role the
  stage asks) that is still missing ``after_days`` after the unit entered the stage;
- ``"window closing"``: the unit's batch window closes within ``within_days`` days and the
  unit is not past stage ``not_past`` (in the workflow's stage order);
- ``"stuck"``: the unit has stayed ``after_days`` in its stage with a gate still holding it.

``notify`` names the roles to remind; ``escalate_after_days`` and ``escalate_to`` (both or
neither) name a later, second level. The ``id`` names the rule across workflow versions: a
unit reminded under one version is not reminded again by the same rule after adoption.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import attrs

from campaignflow._words.checks import rule_problem
from campaignflow.errors import Problem
from campaignflow.workflow._parts import Stage

__all__ = ["REMINDER_WHEN", "Reminder", "ReminderWhen", "read_reminders"]

#: The conditions a reminder rule may name.
ReminderWhen = Literal["awaiting approval", "window closing", "stuck"]
REMINDER_WHEN: tuple[str, ...] = get_args(ReminderWhen)

_KEYS = (
    "id",
    "when",
    "role",
    "after_days",
    "within_days",
    "not_past",
    "notify",
    "escalate_after_days",
    "escalate_to",
)
# The keys each condition needs, and those it may not have.
_NEEDS: Mapping[str, tuple[str, ...]] = {
    "awaiting approval": ("after_days",),
    "window closing": ("within_days", "not_past"),
    "stuck": ("after_days",),
}
_FORBIDS: Mapping[str, tuple[str, ...]] = {
    "awaiting approval": ("within_days", "not_past"),
    "window closing": ("role", "after_days", "escalate_after_days", "escalate_to"),
    "stuck": ("role", "within_days", "not_past"),
}


@attrs.frozen(kw_only=True)
class Reminder:
    """One reminder rule of a workflow: when it is due, whom it notifies, when it escalates."""

    id: str
    when: ReminderWhen
    notify: tuple[str, ...]
    role: str | None = None
    after_days: int | None = None
    within_days: int | None = None
    not_past: str | None = None
    escalate_after_days: int | None = None
    escalate_to: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The rule as a ``[[reminders]]`` table holds it (keys left unset are left out)."""
        data: dict[str, Any] = {}
        for name in _KEYS:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            data[name] = list(value) if isinstance(value, tuple) else value
        return data


def read_reminders(
    rules: Sequence[Reminder | Mapping[str, Any]], stages: Sequence[Stage]
) -> tuple[tuple[Reminder, ...], list[str]]:
    """The rules as records, and every problem of them (paths ``$.reminders[i].key``)."""
    stage_ids = [s.id for s in stages if isinstance(s, Stage)]
    found: list[Reminder] = []
    problems: list[str] = []
    ids: dict[str, int] = {}
    for i, rule in enumerate(rules):
        path = f"$.reminders[{i}]"
        data = rule.to_data() if isinstance(rule, Reminder) else rule
        if not isinstance(data, Mapping):
            problems.append(Problem(path, "definition.reminder_not_table", {"value": repr(data)}))
            continue
        before = len(problems)
        reminder = _read(data, path, stage_ids, problems)
        if reminder is None or len(problems) > before:
            continue
        if reminder.id in ids:
            problems.append(
                Problem(
                    f"{path}.id",
                    "definition.duplicate_reminder",
                    {"id": repr(reminder.id), "first": ids[reminder.id]},
                )
            )
            continue
        ids[reminder.id] = i
        found.append(reminder)
    return tuple(found), problems


def _read(
    data: Mapping[str, Any], path: str, stage_ids: list[str], problems: list[str]
) -> Reminder | None:
    extra = sorted(str(k) for k in data if k not in _KEYS)
    if extra:
        problems.append(Problem(path, "problem.unknown_keys", {"keys": ", ".join(extra)}))
    for key in ("id", "when", "notify"):
        if key not in data:
            problems.append(Problem(f"{path}.{key}", "problem.required"))
    rule_id, when = data.get("id"), data.get("when")
    if "id" in data and (not isinstance(rule_id, str) or not rule_id.isidentifier()):
        problems.append(rule_problem(f"{path}.id", rule_id, "must be a Python-style name"))
    known = when in REMINDER_WHEN
    if "when" in data and not known:
        _unknown_when(when, f"{path}.when", problems)
    for key in _NEEDS.get(str(when), ()):
        if key not in data:
            problems.append(Problem(f"{path}.{key}", "problem.required"))
    for key in _FORBIDS.get(str(when), ()):
        if key in data:
            problems.append(
                Problem(f"{path}.{key}", "definition.reminder_key", {"key": key, "when": when})
            )
    days = {
        key: _days(data[key], f"{path}.{key}", problems)
        for key in ("after_days", "within_days", "escalate_after_days")
        if key in data
    }
    notify = _roles(data.get("notify"), f"{path}.notify", problems, required=True)
    escalate_to = _roles(data.get("escalate_to", []), f"{path}.escalate_to", problems)
    if ("escalate_after_days" in data) != bool(escalate_to):
        problems.append(Problem(path, "definition.reminder_escalation_pair"))
    first, later = days.get("after_days"), days.get("escalate_after_days")
    if first is not None and later is not None and later <= first:
        problems.append(
            Problem(
                f"{path}.escalate_after_days",
                "definition.reminder_escalation_early",
                {"after_days": first, "value": later},
            )
        )
    role, not_past = data.get("role"), data.get("not_past")
    if role is not None and (not isinstance(role, str) or not role):
        problems.append(rule_problem(f"{path}.role", role, "must name a role"))
    if not_past is not None and not_past not in stage_ids:
        _unknown_stage(not_past, f"{path}.not_past", stage_ids, problems)
    if not isinstance(rule_id, str) or not known:
        return None
    return Reminder(
        id=rule_id,
        when=when,  # type: ignore[arg-type]  # checked against REMINDER_WHEN above
        notify=notify,
        role=role if isinstance(role, str) else None,
        after_days=days.get("after_days"),
        within_days=days.get("within_days"),
        not_past=not_past if isinstance(not_past, str) else None,
        escalate_after_days=later,
        escalate_to=escalate_to,
    )


def _unknown_when(value: Any, path: str, problems: list[str]) -> None:
    close = difflib.get_close_matches(str(value), REMINDER_WHEN, n=1, cutoff=0.5)
    if close:
        problems.append(
            Problem(
                path,
                "definition.reminder_when_close",
                {"value": repr(value), "close": repr(close[0]), "choices": list(REMINDER_WHEN)},
            )
        )
    else:
        problems.append(
            Problem(path, "problem.one_of", {"choices": list(REMINDER_WHEN), "value": repr(value)})
        )


def _unknown_stage(value: Any, path: str, stage_ids: list[str], problems: list[str]) -> None:
    close = difflib.get_close_matches(str(value), stage_ids, n=1, cutoff=0.6)
    if close:
        problems.append(
            Problem(
                path,
                "definition.reminder_stage_close",
                {"stage": repr(value), "close": repr(close[0])},
            )
        )
    else:
        problems.append(Problem(path, "definition.unknown_stage", {"stage": repr(value)}))


def _days(value: Any, path: str, problems: list[str]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 36_500:
        return value
    problems.append(
        Problem(
            path, "problem.whole_number", {"minimum": 0, "maximum": 36_500, "value": repr(value)}
        )
    )
    return None


def _roles(
    value: Any, path: str, problems: list[str], *, required: bool = False
) -> tuple[str, ...]:
    names = isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)
    if names and (value or not required):
        return tuple(value)
    problems.append(rule_problem(path, value, "must name a role"))
    return ()
