"""What guards and the engine say: verdicts, candidate transitions, decisions and refusals.

A verdict's text is rendered on demand from its code and params (:mod:`campaignflow.i18n`);
only codes and numbers are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NoReturn

import attrs

from campaignflow.errors import check_locale
from campaignflow.i18n import MessageCatalog, messages

__all__ = ["Candidate", "Decision", "ParamValue", "Refusal", "StageTitles", "Verdict"]

#: JSON-able values a verdict may carry as params (numbers, text, lists of names).
ParamValue = int | float | str | bool | None | list[str]


class StageTitles(dict[str, tuple[str, str]]):
    """Stages' zh_CN and en titles, by stage id, as decisions carry them: read-only.

    A workflow makes one per pair of stages and every decision between them shares it (no
    copy per decision); a dict still, so it is pickled, copied and written as JSON as one.
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a decision's stage titles are read-only")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = __ior__ = _read_only

    def __reduce__(self) -> tuple[type[StageTitles], tuple[dict[str, tuple[str, str]]]]:
        return (StageTitles, (dict(self),))


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
    titles: Mapping[str, Sequence[str]] = attrs.field(factory=dict, eq=False, repr=False)
    #: The version that judged the unit (``name@version#hash``), set by ``Campaign``.
    judged_by: str = attrs.field(default="", eq=False)
    #: Whether the campaign has adopted more than one version: ``explain`` then names it.
    versioned: bool = attrs.field(default=False, eq=False, repr=False)
    #: The earliest date the unit may move if nothing but the date changes: ``judged_on``
    #: when allowed; None when no date will do as things stand (see ``needs``) or when a
    #: gate's dates are unknown (``rejudge``).
    earliest: date | None = attrs.field(default=None, eq=False, repr=False)
    #: The fact kinds whose arrival could let the unit move, when no date will do alone.
    needs: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)
    #: A gate holding the unit declares no dates or reads the host's data: it is judged
    #: afresh on any change, every day.
    rejudge: bool = attrs.field(default=False, eq=False, repr=False)

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

    def _outlook(self, locale: str) -> list[str]:
        """When a held unit may move if only the date changes (nothing when no date will do:
        the failing gates already say which facts are missing)."""
        if self.earliest is None:
            return []
        return [
            messages.render("decision.may_move_from", {"on": self.earliest.isoformat()}, locale)
        ]

    def explain(self, locale: str = "zh_CN") -> str:
        """A short text saying whether the unit may move, and which gates hold it, with numbers."""
        check_locale(locale)
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
        if not self.allowed:
            lines.extend(self._outlook(locale))
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
