"""The parts a workflow is written with: :class:`Stage` and :class:`Transition`."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from campaignflow.guards import GuardSpec

__all__ = ["STAGE_KINDS", "Stage", "Transition"]

#: The kinds of stage a workflow may have.
STAGE_KINDS = ("waiting", "stage", "remedial", "final")


def _stage_ids(value: str | Sequence[str]) -> tuple[str, ...]:
    # One stage id or several; a bare string must not become a tuple of its letters.
    return (value,) if isinstance(value, str) else tuple(value)


def _specs(value: Sequence[GuardSpec]) -> tuple[GuardSpec, ...]:
    return tuple(value)


def _roles(value: str | Sequence[str] | frozenset[str]) -> frozenset[str]:
    return frozenset({value}) if isinstance(value, str) else frozenset(value)


@attrs.frozen
class Stage:
    """One stage (阶段) a unit passes through.

    ``kind``: ``waiting`` (before the unit starts), ``stage`` (concentrated work),
    ``remedial`` (补课 make-up of the stage named by ``remedial_of``), ``final`` (accepted;
    no way out needed).
    """

    id: str
    title: str = ""
    title_en: str = ""
    # A plain str, not the Literal: a wrong kind is reported by the definition check with
    # its path and the allowed kinds, not as a type error from the loader.
    kind: str = "stage"
    remedial_of: str | None = None

    def label(self, locale: str = "zh_CN") -> str:
        """The stage's title in ``locale``, falling back to its id."""
        text = self.title if locale == "zh_CN" else self.title_en
        return text or self.id


@attrs.frozen
class Transition:
    """A way from ``source`` stage(s) to ``dest`` when ``trigger`` fires and the gates hold.

    ``guards`` must all pass and ``unless`` must all fail (transitions' conditions/unless).
    Candidates for the same trigger and source are tried in the order they are written.
    ``by``: roles allowed to fire it (empty: anyone; the gates still apply).
    """

    source: tuple[str, ...] = attrs.field(converter=_stage_ids)
    dest: str
    trigger: str = "advance"
    guards: tuple[GuardSpec, ...] = attrs.field(default=(), converter=_specs)
    unless: tuple[GuardSpec, ...] = attrs.field(default=(), converter=_specs)
    by: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
