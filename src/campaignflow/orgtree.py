"""The organisation tree's overview: roll-ups of progress and the list of stuck units.

The records live in ``campaignflow._words.overview`` (the roll-up itself in the campaign's
overview room); this module re-exports the records under their old path.
"""

from campaignflow._words.overview import (
    STUCK_ORDERS,
    GroupCounts,
    OrgProgress,
    Satisfaction,
    StuckOrder,
    StuckPage,
    StuckUnit,
    order_key,
)

__all__ = [
    "STUCK_ORDERS",
    "GroupCounts",
    "OrgProgress",
    "Satisfaction",
    "StuckOrder",
    "StuckPage",
    "StuckUnit",
    "order_key",
]
