"""Clocks: where a campaign gets "now". The core only ever asks an injected clock.

A clock is anything with ``now() -> datetime`` returning an aware UTC datetime (see
:class:`Clock`). Use :class:`FixedClock` or :class:`SimulatedClock` in tests and simulations;
:class:`SystemClock` reads the wall clock and is what a host gets when it passes none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, runtime_checkable

from campaignflow._words.checks import field_error, refuse
from campaignflow.errors import ValidationError

__all__ = ["Clock", "FixedClock", "SimulatedClock", "SystemClock", "as_utc"]


@runtime_checkable
class Clock(Protocol):
    """The clock protocol: ``now()`` returns an aware datetime in UTC."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def as_utc(moment: datetime | date, *, field: str = "moment") -> datetime:
    """``moment`` as an aware UTC datetime; a date means its midnight UTC.

    Raises:
        ValidationError: a naive datetime (its zone would be a guess) or another type.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            refuse(field, moment, "must be timezone-aware (a naive time's zone is a guess)")
        return moment.astimezone(UTC)
    if isinstance(moment, date):
        return datetime.combine(moment, time(0, 0), tzinfo=UTC)
    raise field_error(field, moment, "must be a date or an aware datetime")


class SystemClock:
    """The wall clock, in UTC."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SystemClock()"

    def now(self) -> datetime:
        """The current wall-clock time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that always says the same instant until told otherwise with :meth:`set`."""

    __slots__ = ("_now",)

    def __init__(self, moment: datetime | date) -> None:
        self._now = as_utc(moment)

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()!r})"

    def now(self) -> datetime:
        """The fixed instant."""
        return self._now

    def set(self, moment: datetime | date) -> None:
        """Move the clock to ``moment`` (backwards too: a fixed clock is a test tool)."""
        self._now = as_utc(moment)


class SimulatedClock:
    """A clock a simulation or test moves forward; it never goes backwards.

    Raises:
        ValidationError: from :meth:`advance` with a negative step, or :meth:`set` to the past.
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime | date) -> None:
        self._now = as_utc(start, field="start")

    def __repr__(self) -> str:
        return f"SimulatedClock({self._now.isoformat()!r})"

    def now(self) -> datetime:
        """The simulated instant."""
        return self._now

    def today(self) -> date:
        """The simulated date."""
        return self._now.date()

    def advance(self, *, days: int = 0, hours: int = 0) -> datetime:
        """Move forward by ``days`` and ``hours``; returns the new instant."""
        step = timedelta(days=days, hours=hours)
        if step < timedelta(0):
            raise ValidationError(
                code="validation.field",
                params={
                    "field": "advance",
                    "rule": "a simulated clock only moves forward",
                    "value": step,
                },
            )
        self._now += step
        return self._now

    def set(self, moment: datetime | date) -> None:
        """Jump forward to ``moment``."""
        target = as_utc(moment)
        if target < self._now:
            raise ValidationError(
                code="clock.backwards",
                params={"target": target.isoformat(), "now": self._now.isoformat()},
            )
        self._now = target
