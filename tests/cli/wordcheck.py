"""A word-list check for untranslated English in Chinese output (tests/cli/test_chinese.py).

What may stay in Latin letters in a zh_CN line: identifiers and codes (``study_hours``,
``district_2005@2005.1``, ``cf.guard``), file names and paths (``report.html``,
``sqlite:///x.db``), options (``--lang``, ``-h``), metavars and acronyms in capitals
(``FILE``, ``TOML``), class names (``GuardContext``), a field or argument before ``：``,
``=`` or ``(`` (``store：``, ``replace=True``), quoted literals (``'stages'``), placeholders
(``{name}``), a ``campaignflow`` command line, and the technical words in :data:`ALLOWED`
(product and format names, library names, the values a user types).
Every other run of two or more ASCII letters is an English word, and is reported.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED", "english_words"]

#: Technical tokens a Chinese line may hold as they are: products, formats, Python and
#: library names, and the literal values a user types (modes, policies, languages).
ALLOWED = frozenset(
    [
        "campaignflow",
        "cf",
        "pip",
        "install",
        "python",
        "Python",
        "TOML",
        "JSON",
        "SQLite",
        "PostgreSQL",
        "psycopg",
        "numpy",
        "matplotlib",
        "graphviz",
        "approval",
        "assessment",
        "facts",
        "advance",
        "cryptography",
        "openpyxl",
        "mermaid",
        "dot",
        "Unicode",
        "Django",
        "SQLAlchemy",
        "ORM",
        "URL",
        "DB",
        "API",
        "id",
        "ids",
        "exact",
        "fast",
        "auto",
        "pin",
        "migrate",
        "en",
        "zh",
        "CN",
        "mode",
        "true",
        "false",
        "True",
        "False",
        "None",
        "NUL",
        "Ed",
        "Store",
        "MemoryStore",
        "Dialect",
        "GuardSpec",
        "Checkpoint",
        "Workflow",
        "Scenario",
        "Actor",
        "Unit",
        "Organisation",
        "Recipe",
        "Verdict",
        "Campaign",
        "Stage",
        "Transition",
        "Connection",
        "Session",
        "Campaign",
        "CampaignMachine",
        "stages",
        "workflow",
        "roster",
        "behaviour",
        "counts",
        "csv",
        "kinds",
        "low",
        "high",
        "min",
        "max",
        "done",
        "total",
        "plugins",
        "kind",
        "final",
        "sim",
        "pg",
        "plot",
        "diagram",
        "cli",
        "xlsx",
        "docs",
        "manage",
        "py",
        "migrate",
        "INSTALLED_APPS",
        "apt",
        "get",
        "fonts",
        "wqy",
        "microhei",
        "Debian",
        "Ubuntu",
        "attrs",
        "opens",
        "closes",
        "locale",
        "synchronous",
        "Survey",
    ]
)

# Spans that are not words, removed before looking for words (order matters).
_SPANS = (
    re.compile(r"\{[^{}]*\}"),  # placeholders
    re.compile(r"[a-z][a-z0-9+.-]*://\S*"),  # URLs
    re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`"),  # quoted literals
    re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*"),  # options
    re.compile(r"[\w.@]+\([^()]*\)"),  # a call with its arguments: fact_type(name)
    re.compile(r"[\w$/.@:\[\]<>*-]*[_./@\d$\[\]<>*][\w$/.@:\[\]<>*-]*"),  # ids, codes, paths
    re.compile(r"\b[A-Z][A-Z0-9_]+\b"),  # metavars and acronyms
    re.compile(r"\b[A-Z][a-z]+[A-Z]\w*"),  # CamelCase class names (GuardContext)
    re.compile(r"\bcampaignflow(?: [a-z]+)+"),  # a command line: campaignflow audit verify
    re.compile(r"(?<![A-Za-z])[a-z]\w*(?=[：:=(])"),  # field prefixes, keyword arguments, calls
)
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The English words in ``text`` outside identifiers, codes, file names and options
    (and ``names``, such as the command names, which are identifiers too)."""
    for span in _SPANS:
        text = span.sub(" ", text)
    return [w for w in _WORD.findall(text) if w not in ALLOWED and w not in names]
