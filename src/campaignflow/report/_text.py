"""The report's words in zh_CN and en (the catalogue's ``report.*`` codes), and its languages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from campaignflow.errors import ValidationError
from campaignflow.i18n import LOCALES, messages

__all__ = [
    "GLOSSARY_BOX",
    "LANGS",
    "batch_label",
    "batch_short",
    "check_lang",
    "finished_on",
    "gate_label",
    "mode_label",
    "stage_label",
    "text",
    "words",
]

#: The report's glossary box: each term (a ``report.*`` heading) and its explanation
#: (``report.explain.*``), explained once, in the order the summary shows them.
GLOSSARY_BOX: tuple[tuple[str, str], ...] = (
    ("remedial", "remedial"),
    ("remedial_units", "remedial_units"),
    ("remedial_rounds", "remedial_rounds"),
    ("on_time", "on_time"),
    ("deferred_in", "deferred"),
    ("time_in_stage", "days"),
    ("count", "blocking"),
    ("audit_head", "audit_head"),
)

#: Languages a report can be written in.
LANGS: tuple[str, ...] = LOCALES


def check_lang(lang: object) -> str:
    """``lang`` itself when it is a report language.

    Raises:
        ValidationError: not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise ValidationError(
            f"lang: must be one of {', '.join(LANGS)}, got {lang!r}",
            code="validation.locale",
            params={"choices": list(LANGS), "value": repr(lang)},
        )
    return str(lang)


def text(key: str, lang: str, **values: object) -> str:
    """The report's word for ``key`` in ``lang``, formatted with ``values`` (the catalogue's
    ``report.<key>``)."""
    return messages.render(f"report.{key}", values, lang)


def words(lang: str) -> Callable[..., str]:
    """:func:`text` in one language: ``t = words(lang)``, then ``t("title", scenario=...)``."""

    def t(key: str, /, **values: object) -> str:
        return text(key, lang, **values)

    return t


def finished_on(day: date | None, lang: str) -> str:
    """The day something finished, or "not finished" in ``lang``."""
    return day.isoformat() if day is not None else text("not_finished", lang)


def stage_label(stage: str, lang: str, labels: Mapping[str, str] | None = None) -> str:
    """A stage's name: from ``labels`` (the workflow's), else the glossary, else its id."""
    if labels and stage in labels:
        return labels[stage]
    return messages.term(stage, lang)


def gate_label(code: str, lang: str) -> str:
    """A failure code's short name (the code itself when the report does not know it)."""
    label = f"report.gate.{code}"
    return messages.render(label, {}, lang) if label in messages else code


def mode_label(mode: str, lang: str) -> str:
    """A simulation mode's name in ``lang`` (``exact``, ``fast``, ``recorded``)."""
    key = f"report.mode_{mode}"
    return messages.render(key, {}, lang) if key in messages else mode


def batch_label(batch: int, lang: str, titles: Mapping[int, str] | None = None) -> str:
    """``第1批`` / ``Batch 1``, with the batch's title from the scenario when it has one."""
    name = text("batch_n", lang, n=batch)
    title = (titles or {}).get(batch)
    if not title:
        return name
    if lang == "zh_CN":
        # A scenario's title usually names the batch itself ("第一批：党政机关…").
        return title if title.startswith("第") else f"{name}：{title}"
    return f"{name}: {title}"


def batch_short(batch: int, lang: str, titles: Mapping[int, str] | None = None) -> str:
    """A batch's name where room is short (a chart's row, a side-by-side table): the first
    clause of its title (``第一批`` of ``第一批：党政机关…``), at most 16 characters.

    Under en a title that is only a Chinese ordinal (``第一批``) adds nothing to ``Batch 1``.
    """
    name = text("batch_n", lang, n=batch)
    title = (titles or {}).get(batch, "")
    head = title.split("：")[0].split(": ")[0].strip()
    if not head or (lang != "zh_CN" and head.startswith("第")):
        return name
    if lang == "zh_CN" and head.startswith("第"):
        short = head
    else:
        short = f"{name}：{head}" if lang == "zh_CN" else f"{name}: {head}"
    return short if len(short) <= 16 else short[:15].rstrip() + "…"
