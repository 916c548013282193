"""Work items (待办): what a unit is waiting for, and from whom, as ``Campaign.inbox`` lists them.

A work item is kept per unit and per kind of wait: an approval by a role, a mass satisfaction
assessment, facts the unit itself owes, the unit's own move once nothing holds it, or its
deferral by the leading group when its batch window is about to close. Each
carries the failing verdicts (codes and numbers) and explains itself in zh_CN or en.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

import attrs

from campaignflow._words.verdicts import Verdict
from campaignflow.i18n import MessageCatalog

__all__ = ["WORK_KINDS", "InboxPage", "InboxQuery", "WorkItem", "WorkKind"]

#: What an item waits for. ``approval``: the role's approval of the stage exit (the
#: supervision group, 督导组); ``assessment``: the mass satisfaction assessment (the superior
#: organisation); ``facts``: what the unit itself owes (study hours, reports, plans);
#: ``advance``: nothing holds the unit, its own people may move it on; ``deferral``: the
#: unit's batch window is about to close (a ``window closing`` reminder rule is due) and the
#: leading group (领导小组) may defer it to a later batch (``Campaign.defer``).
WorkKind = Literal["approval", "assessment", "facts", "advance", "deferral"]

#: Every work kind.
WORK_KINDS: tuple[str, ...] = get_args(WorkKind)


@attrs.frozen(kw_only=True)
class WorkItem:
    """One wait of one unit: what is awaited, from which role, since when, until when.

    ``role`` is None for the unit's own items (``facts``, ``advance``): the unit's own actors
    see them. ``parent`` is the unit's organisation (scopes the inbox by sub-tree);
    ``since`` the day the unit entered its stage; ``deadline`` the batch window's close, or
    sooner when a reminder rule of the workflow asks the wait to end sooner.
    """

    unit_id: str
    kind: WorkKind
    role: str | None = None
    parent: str | None = None
    stage: str
    since: date | None = None
    deadline: date | None = None
    verdicts: tuple[Verdict, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the gates the item waits on."""
        return tuple(v.code for v in self.verdicts)

    def explain(self, locale: str = "zh_CN", *, catalog: MessageCatalog | None = None) -> str:
        """The gates the item waits on, one per line, in ``locale``."""
        return "\n".join(v.message(locale, catalog=catalog) for v in self.verdicts)


@attrs.frozen(kw_only=True)
class InboxPage:
    """A page of an actor's work items, the cursor to read on from, and whether more follow."""

    items: tuple[WorkItem, ...]
    cursor: str | None
    more: bool


@attrs.frozen(kw_only=True)
class InboxQuery:
    """What a store's ``page_work_items`` selects: an actor's scope, filters and page.

    Items of ``roles`` under organisation ``under`` (every organisation when None), and the
    own items (``role`` None) of unit ``unit``; of ``kind``, due before ``due_before``; after
    the key ``after`` (unit id, kind, role or ``""``) in key order; at most ``limit``.
    """

    roles: frozenset[str]
    unit: str | None = None
    under: str | None = None
    kind: str | None = None
    due_before: date | None = None
    after: tuple[str, str, str] | None = None
    limit: int

    def key(self, item: WorkItem) -> tuple[str, str, str]:
        """The item's key in page order."""
        return (item.unit_id, item.kind, item.role or "")

    def selects(self, item: WorkItem, under_ids: frozenset[str] | None) -> bool:
        """Whether the query selects ``item`` (``under_ids``: the units under ``under``)."""
        if item.role is None:
            if item.unit_id != self.unit:
                return False
        elif item.role not in self.roles or (
            under_ids is not None and item.unit_id not in under_ids
        ):
            return False
        if self.kind is not None and item.kind != self.kind:
            return False
        if self.due_before is not None and (
            item.deadline is None or item.deadline >= self.due_before
        ):
            return False
        return self.after is None or self.key(item) > self.after
