"""The message catalogue's core: the zh_CN and en text of every code and term, and how a
template is filled in with a verdict's or an error's params.

This is the ground under the words layer. ``errors.py`` renders through it, and
:mod:`campaignflow.i18n` (the public face: ``MessageCatalog``, ``messages``) wraps it with the
checks that refuse bad input with a ``ValidationError``. It imports nothing of campaignflow and
raises nothing of its own, so both can import it and no circle forms. (It sits beside ``i18n/``
rather than inside: importing any module of a package runs the package's ``__init__`` first,
and the face imports ``errors.py``.)

The texts are data, shipped in the package: ``i18n/catalogue/zh_CN.toml`` and ``en.toml``,
one table per area (``[terms.glossary]``, ``[messages.errors]``, ``[messages.guards]``, ...).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

__all__ = ["DEFAULT_TEXTS", "LOCALES", "Texts"]

#: Locales every message must have. zh_CN first: it is the campaign's working language.
LOCALES: tuple[str, ...] = ("zh_CN", "en")

#: Where the shipped catalogue lives, as package data (see pyproject: the wheel takes it along).
_FILES = ("campaignflow", "i18n", "catalogue")


class _Params(dict[str, Any]):
    """Format mapping that leaves a missing placeholder visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Texts:
    """Templates by code and terms by name, each in every locale; one object per catalogue.

    ``templates`` maps a code to ``{"zh_CN": ..., "en": ...}``; a template is a ``str.format``
    pattern over params, so the numbers stay data (``{actual}``, ``{required:.0%}``) and only
    the words are translated. ``terms`` maps a name to its text in each locale; a template
    shows a param as its term with the ``term`` format spec (``{role:term}``). ``sections``
    keeps each shipped area's entries as the files group them.
    """

    __slots__ = ("sections", "templates", "terms")

    def __init__(self) -> None:
        self.templates: dict[str, dict[str, str]] = {}
        self.terms: dict[str, dict[str, str]] = {}
        self.sections: dict[str, dict[str, dict[str, str]]] = {}

    @classmethod
    def packaged(cls) -> Texts:
        """The texts shipped with campaignflow, read from the package's data files.

        This is the one loader: each call reads the files once into a new object, and the
        object keeps them for its lifetime (:data:`DEFAULT_TEXTS` lives as long as the process).
        """
        by_locale = {locale: _read(f"{locale}.toml") for locale in LOCALES}
        texts = cls()
        first = by_locale[LOCALES[0]]
        for kind, target in (("terms", texts.terms), ("messages", texts.templates)):
            for area, entries in first[kind].items():
                section = {
                    key: {locale: by_locale[locale][kind][area][key] for locale in LOCALES}
                    for key in entries
                }
                texts.sections[area] = section
                target.update(section)
        return texts

    def render(self, code: str, params: Mapping[str, Any], locale: str) -> str:
        """The text for ``code`` in ``locale`` (one of :data:`LOCALES`; the caller checks it).

        An unknown code renders as the code and its params.
        """
        templates = self.templates.get(code)
        if templates is None:
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
            return f"{code} ({shown})" if shown else code
        values = {k: _display(v, locale, self.terms) for k, v in params.items()}
        return templates[locale].format_map(_Params(values))

    def term(self, name: str, locale: str) -> str:
        """The term for ``name`` in ``locale`` (``name`` itself when unknown)."""
        return _term(name, locale, self.terms)


def _read(name: str) -> dict[str, Any]:
    folder = files(_FILES[0]).joinpath(*_FILES[1:])
    return tomllib.loads(folder.joinpath(name).read_text(encoding="utf-8"))


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


#: The texts of the default catalogue (``campaignflow.i18n.messages``): read from the package
#: once, when campaignflow is imported, and kept for the life of the process. A host's own
#: ``@guard(messages=...)`` adds to it.
DEFAULT_TEXTS = Texts.packaged()
