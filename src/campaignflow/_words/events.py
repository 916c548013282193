"""The event feed's records: what happened in a campaign, as the host's messaging reads it.

An :class:`Event` is a projection of one audit record (the feed has no write path of its
own): its ``cursor`` is the record's seq, its ``id`` is ``campaign:seq``, and it carries a
code and params like a verdict, rendered on demand in zh_CN or en.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, get_args

import attrs

from campaignflow.i18n import MessageCatalog, messages

__all__ = ["EVENT_KINDS", "Event", "EventKind", "EventPage"]

#: What an event says happened. ``unit_added``: a unit joined the campaign;
#: ``unit_advanced``: a unit moved (started, advanced, deferred); ``refused``: a command was
#: denied and only its audit record was written; ``fact_recorded``: a fact (an approval too)
#: was recorded for a unit; ``reminder_due`` and ``escalated``: a reminder rule of the
#: workflow fell due (``Campaign.send_reminders``) at its first or its escalation level;
#: ``work_item_overdue``: after the batch window closed, a work item of the unit is past its
#: deadline (also written by ``send_reminders``); ``work_item_created`` / ``work_item_done``:
#: a work item appeared or went when the work items were brought up to date.
EventKind = Literal[
    "unit_added",
    "unit_advanced",
    "refused",
    "fact_recorded",
    "reminder_due",
    "escalated",
    "work_item_created",
    "work_item_done",
    "work_item_overdue",
]

#: Every event kind, in the order the documentation lists them.
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)


@attrs.frozen(kw_only=True)
class Event:
    """One thing that happened, read from the audit record written in the same transaction.

    ``id`` (``"campaign:seq"``) is stable: the same event always has the same id, so a
    consumer can key its writes on it. ``cursor`` is the seq to pass as ``after=`` to read
    on from this event. ``code`` and ``params`` say what happened (``event.unit_advanced``
    with ``unit``, ``source``, ``dest``, ``trigger``); :meth:`explain` renders them.
    """

    id: str
    cursor: int
    kind: EventKind
    code: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    unit_id: str | None = None
    on: date
    at: datetime
    actor_id: str
    request_id: str | None = None

    def explain(self, locale: str = "zh_CN", *, catalog: MessageCatalog | None = None) -> str:
        """The event as a sentence in ``locale`` (``zh_CN`` or ``en``), e.g. for a message."""
        return (catalog or messages).render(self.code, self.params, locale)


@attrs.frozen(kw_only=True)
class EventPage:
    """A page of the feed: its events, the cursor to read on from, and whether more follow.

    ``cursor`` is the seq of the last audit record this page read, which may be past the
    last event (records that make no event of the kinds asked for are skipped, not re-read).
    Pass it as ``after=`` for the next page; when ``more`` is False the feed is read to its
    end for now.
    """

    events: tuple[Event, ...]
    cursor: int
    more: bool
