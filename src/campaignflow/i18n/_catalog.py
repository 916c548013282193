"""The message catalog: one template per (code, locale), formatted with a verdict's params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaignflow.errors import ValidationError

__all__ = ["LOCALES", "MessageCatalog", "messages"]

#: Locales every message must have. zh_CN first: it is the campaign's working language.
LOCALES: tuple[str, ...] = ("zh_CN", "en")


class _Params(dict[str, Any]):
    """Format mapping that leaves a missing placeholder visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class MessageCatalog:
    """Templates keyed by verdict code; one default instance, hosts may build their own.

    A template is a ``str.format`` pattern over the verdict's params, so the numbers stay data
    (``{actual}``, ``{required:.0%}``) and only the words are translated.
    """

    __slots__ = ("_templates", "_terms")

    def __init__(self) -> None:
        self._templates: dict[str, dict[str, str]] = {}
        self._terms: dict[str, dict[str, str]] = {}

    def __repr__(self) -> str:
        return f"<MessageCatalog with {len(self._templates)} codes>"

    def __contains__(self, code: object) -> bool:
        return code in self._templates

    def codes(self) -> frozenset[str]:
        """Every code that has templates."""
        return frozenset(self._templates)

    def register(self, code: str, *, zh_CN: str, en: str, replace: bool = False) -> None:
        """Add the templates for ``code`` in both locales.

        Raises:
            ValidationError: the code is already registered with other text and ``replace``
                is false, or a template is empty.
        """
        for locale, text in (("zh_CN", zh_CN), ("en", en)):
            if not isinstance(text, str) or not text.strip():
                raise ValidationError(
                    code="i18n.empty_text", params={"code": repr(code), "locale": locale}
                )
        new = {"zh_CN": zh_CN, "en": en}
        old = self._templates.get(code)
        if old is not None and old != new and not replace:
            raise ValidationError(code="i18n.already_registered", params={"code": repr(code)})
        self._templates[code] = new

    def register_terms(self, terms: Mapping[str, Mapping[str, str]]) -> None:
        """Add glossary terms (``{"supervision_group": {"zh_CN": "督导组", "en": ...}}``).

        A template shows a param as its term with the ``term`` format spec: ``{role:term}``.
        """
        for name, texts in terms.items():
            self._terms[name] = {"zh_CN": texts["zh_CN"], "en": texts["en"]}

    def term(self, name: str, locale: str = "zh_CN") -> str:
        """The glossary term for ``name`` in ``locale`` (``name`` itself when unknown)."""
        return _term(name, locale, self._terms)

    def register_many(self, table: Mapping[str, Mapping[str, str]]) -> None:
        """Register ``{code: {"zh_CN": ..., "en": ...}}`` in one call."""
        for code, texts in table.items():
            self.register(code, zh_CN=texts["zh_CN"], en=texts["en"])

    def render(self, code: str, params: Mapping[str, Any], locale: str = "zh_CN") -> str:
        """The text for ``code`` in ``locale``; an unknown code renders as the code and params.

        Raises:
            ValidationError: ``locale`` is not one of :data:`LOCALES`.
        """
        if locale not in LOCALES:
            raise ValidationError(
                f"locale: must be one of {', '.join(LOCALES)}, got {locale!r}",
                code="validation.locale",
                params={"choices": list(LOCALES), "value": repr(locale)},
            )
        templates = self._templates.get(code)
        if templates is None:
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
            return f"{code} ({shown})" if shown else code
        values = {k: _display(v, locale, self._terms) for k, v in params.items()}
        return templates[locale].format_map(_Params(values))


class _Term(str):
    """A text param that formats as itself, or as its glossary term with ``:term``."""

    _locale: str
    _terms: Mapping[str, Mapping[str, str]]

    def __new__(cls, value: str, locale: str, terms: Mapping[str, Mapping[str, str]]) -> _Term:
        self = super().__new__(cls, value)
        self._locale = locale
        self._terms = terms
        return self

    def __format__(self, spec: str) -> str:
        if spec == "term":
            return _term(str(self), self._locale, self._terms)
        return format(str(self), spec)


class _Terms(tuple[str, ...]):
    """A list param: prose joined by the locale's separator; ``:term`` translates each item."""

    _locale: str = "en"
    _terms: Mapping[str, Mapping[str, str]] = {}

    def __format__(self, spec: str) -> str:
        sep = "、" if self._locale == "zh_CN" else ", "
        items = [_term(v, self._locale, self._terms) if spec == "term" else v for v in self]
        return sep.join(items)


def _term(value: str, locale: str, terms: Mapping[str, Mapping[str, str]]) -> str:
    entry = terms.get(value)
    return entry[locale] if entry else value


def _display(value: Any, locale: str, terms: Mapping[str, Mapping[str, str]]) -> Any:
    # Lists (missing milestones, roles) read as prose, not as Python reprs.
    if isinstance(value, list | tuple):
        items = _Terms(str(v) for v in value)
        items._locale, items._terms = locale, terms
        return items
    if isinstance(value, str):
        return _Term(value, locale, terms)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: The default catalog; built-in guards register their codes here when imported.
messages = MessageCatalog()
