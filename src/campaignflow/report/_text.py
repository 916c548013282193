"""The report's words in zh_CN and en (the catalogue's ``report.*`` codes), and its languages."""

from __future__ import annotations

from collections.abc import Mapping

from campaignflow.errors import ValidationError
from campaignflow.i18n import LOCALES, messages

__all__ = ["LANGS", "check_lang", "gate_label", "stage_label", "text"]

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


def stage_label(stage: str, lang: str, labels: Mapping[str, str] | None = None) -> str:
    """A stage's name: from ``labels`` (the workflow's), else the glossary, else its id."""
    if labels and stage in labels:
        return labels[stage]
    return messages.term(stage, lang)


def gate_label(code: str, lang: str) -> str:
    """A failure code's short name (the code itself when the report does not know it)."""
    label = f"report.gate.{code}"
    return messages.render(label, {}, lang) if label in messages else code
