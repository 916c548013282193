"""The message catalog: one template per (code, locale), formatted with a verdict's params.

The texts and the filling-in live in :mod:`campaignflow._catalogue` (below ``errors.py``, which
renders through it); this is the public face that refuses bad input with a ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaignflow._catalogue import DEFAULT_TEXTS, Texts
from campaignflow.errors import ValidationError, check_locale


class MessageCatalog:
    """Templates keyed by verdict code; one default instance, hosts may build their own.

    A template is a ``str.format`` pattern over the verdict's params, so the numbers stay data
    (``{actual}``, ``{required:.0%}``) and only the words are translated. ``MessageCatalog()``
    starts empty; :meth:`packaged` starts with the texts campaignflow ships.
    """

    __slots__ = ("_templates", "_terms", "_texts")

    def __init__(self) -> None:
        self._use(Texts())

    def _use(self, texts: Texts) -> None:
        self._texts = texts
        self._templates = texts.templates
        self._terms = texts.terms

    @classmethod
    def packaged(cls) -> MessageCatalog:
        """A new catalog with the texts shipped in the package (read once, kept by the catalog)."""
        return cls._over(Texts.packaged())

    @classmethod
    def _over(cls, texts: Texts) -> MessageCatalog:
        catalog = cls.__new__(cls)
        catalog._use(texts)
        return catalog

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
        return self._texts.term(name, locale)

    def register_many(self, table: Mapping[str, Mapping[str, str]]) -> None:
        """Register ``{code: {"zh_CN": ..., "en": ...}}`` in one call."""
        for code, texts in table.items():
            self.register(code, zh_CN=texts["zh_CN"], en=texts["en"])

    def render(self, code: str, params: Mapping[str, Any], locale: str = "zh_CN") -> str:
        """The text for ``code`` in ``locale``; an unknown code renders as the code and params.

        Raises:
            ValidationError: ``locale`` is not one of :data:`~campaignflow.i18n.LOCALES`.
        """
        check_locale(locale)
        return self._texts.render(code, params, locale)


#: The default catalog, over the texts read from the package once per process (the ones
#: ``errors.py`` renders with); a guard's ``@guard(messages=...)`` adds its codes here.
messages = MessageCatalog._over(DEFAULT_TEXTS)

#: The domain's glossary (docs/concepts.md and docs/presets.md): identifiers with their zh_CN and en terms.
GLOSSARY: dict[str, dict[str, str]] = dict(DEFAULT_TEXTS.sections["glossary"])
#: One entry per error code the library raises (``CampaignflowError.code``).
ERROR_MESSAGES: dict[str, dict[str, str]] = dict(DEFAULT_TEXTS.sections["errors"])
#: One entry per code of a :class:`~campaignflow.errors.Problem` (a line of a
#: DefinitionError or of a ValidationError listing several problems).
PROBLEM_MESSAGES: dict[str, dict[str, str]] = dict(DEFAULT_TEXTS.sections["problems"])
#: The rules field validators state, as terms, so ``validation.field`` reads in Chinese.
VALIDATION_RULES: dict[str, dict[str, str]] = dict(DEFAULT_TEXTS.sections["rules"])
