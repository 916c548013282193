"""``Campaign.inbox``: the work items (待办) awaiting an actor, paged in O(page).

Work items are kept by the commands that change them, in their own transactions
(:mod:`._items`), with the seq of the audit record they reflect. ``inbox`` reads the page by
an index, in key order, in one transaction; before it, :func:`catch_up` does what no command
does (the day roll, and the backfill of records the items do not reflect yet), which on most
calls is reading the mark. So a page reflects every committed command and costs O(page).

A unit's items come from its ``check()``: the failing gates of the move it would make, split
by who must act — the approving role (``approval``), the assessing role (``assessment``),
the unit itself (``facts``), or nobody but the unit's own people when nothing holds it
(``advance``); and the leading group's ``deferral`` while a window rule is due. Scope: role
items for the actor's roles under ``under`` (every organisation when None); the unit's own
items for an actor belonging to the unit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from campaignflow._words.checks import one_of, whole_number
from campaignflow._words.records import Actor
from campaignflow._words.work import WORK_KINDS, InboxPage, InboxQuery
from campaignflow.campaign._checks import check_actor, check_org_id
from campaignflow.campaign._core import Core
from campaignflow.campaign._items import refresh_items, roll_day
from campaignflow.errors import ValidationError
from campaignflow.store._protocol import StoreSession

__all__ = ["MAX_LIMIT", "catch_up", "inbox"]

#: The most items one page may hold.
MAX_LIMIT = 1_000

#: Audit records that change no unit's gates (reminders, and the items' own records).
_NOT_CHANGING = frozenset({"remind", "work_item"})


def inbox(
    core: Core,
    actor: Actor,
    under: str | None,
    kind: str | None,
    due_before: date | None,
    limit: int,
    after: str | None,
) -> InboxPage:
    """``Campaign.inbox``: bring the items up to date, then the actor's page of them."""
    check_actor(actor)
    if under is not None:
        check_org_id("under", under)
    if kind is not None:
        one_of("kind", kind, WORK_KINDS)
    if due_before is not None and (
        not isinstance(due_before, date) or isinstance(due_before, datetime)
    ):
        raise ValidationError(code="inbox.bad_due_before", params={"value": repr(due_before)})
    whole_number("limit", limit, minimum=1)
    if limit > MAX_LIMIT:
        raise ValidationError(
            code="inbox.limit_too_large", params={"limit": limit, "maximum": MAX_LIMIT}
        )
    query = InboxQuery(
        roles=actor.roles,
        unit=actor.unit,
        under=under,
        kind=kind,
        due_before=due_before,
        after=_cursor_key(after),
        limit=limit + 1,
    )
    with core.store.transaction() as tx:
        catch_up(core, tx)
        found = tx.page_work_items(query)
    items = tuple(found[:limit])
    cursor = _cursor_text(query.key(items[-1])) if items else after
    return InboxPage(items=items, cursor=cursor, more=len(found) > limit)


def catch_up(core: Core, tx: StoreSession) -> None:
    """Bring the items to the chain's head and today: the day roll, and a backfill.

    Commands keep the items in their own transactions (:func:`~._items.keep_items`), so
    on most calls this reads the mark and returns. On a new day the day roll judges the
    units again (:func:`~._items.roll_day`). Records the items do not reflect yet (a store
    written before items were kept in the transaction, or while no inbox was read, or
    records written since a purge) are caught up here: the units they name are judged
    again, and the first call on a store marks it, so commands keep its items from then on.
    """
    through, on = tx.work_items_through()
    head, _ = tx.audit_head()
    now = core.now()
    today = now.date()
    if head <= through and on == today:
        return
    # Marked first: on PostgreSQL the update locks the campaign's row, so two callers
    # catching up at once queue here instead of writing the same items side by side.
    tx.mark_work_items(head, today)
    anchor = tx.audit_anchor()
    if on != today or (anchor is not None and through < anchor.seq):
        roll_day(core, tx, now)
    else:
        host = core.host_for(None)
        for unit_id in dict.fromkeys(_touched(tx, through, head)):
            found = tx.get_unit_state(unit_id)
            if found is not None:
                refresh_items(core, tx, now, found[0], found[1], host=host)
    written, _ = tx.audit_head()
    if written != head:
        tx.mark_work_items(written, today)


def _touched(tx: StoreSession, through: int, head: int) -> Iterable[str]:
    """The units the audit records after ``through`` (to ``head``) name (an adoption names
    those it moved); refusals change no unit."""
    for record in tx.iter_audit(after_seq=through):
        if record.seq > head:
            return
        if record.command in _NOT_CHANGING or record.outcome != "ok":
            continue
        if record.unit_id is not None:
            yield record.unit_id
        elif record.command == "adopt":
            for change in record.payload.get("changes") or ():
                yield str(change[0])


def _cursor_text(key: tuple[str, str, str]) -> str:
    return json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))


def _cursor_key(after: str | None) -> tuple[str, str, str] | None:
    if after is None:
        return None
    try:
        key = json.loads(after) if isinstance(after, str) else None
    except ValueError:
        key = None
    if not (isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise ValidationError(code="inbox.bad_cursor", params={"value": repr(after)})
    return (key[0], key[1], key[2])
