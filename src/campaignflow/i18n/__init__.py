"""zh_CN and en messages for verdict and error codes; text is rendered on demand, never stored.

The texts are data files shipped in the package (``i18n/catalogue/zh_CN.toml`` and ``en.toml``).
"""

from campaignflow._catalogue import LOCALES
from campaignflow._public import publish
from campaignflow.i18n._catalog import (
    ERROR_MESSAGES,
    GLOSSARY,
    PROBLEM_MESSAGES,
    VALIDATION_RULES,
    MessageCatalog,
    messages,
)

__all__ = [
    "ERROR_MESSAGES",
    "GLOSSARY",
    "LOCALES",
    "PROBLEM_MESSAGES",
    "VALIDATION_RULES",
    "MessageCatalog",
    "messages",
]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
