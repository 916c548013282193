"""zh_CN and en messages for verdict and error codes; text is rendered on demand, never stored."""

from campaignflow.i18n._catalog import LOCALES, MessageCatalog, messages
from campaignflow.i18n._errors import ERROR_MESSAGES, PROBLEM_MESSAGES, VALIDATION_RULES
from campaignflow.i18n._glossary import GLOSSARY

messages.register_terms(GLOSSARY)
messages.register_terms(VALIDATION_RULES)
messages.register_many(ERROR_MESSAGES)
messages.register_many(PROBLEM_MESSAGES)

__all__ = [
    "ERROR_MESSAGES",
    "GLOSSARY",
    "LOCALES",
    "PROBLEM_MESSAGES",
    "VALIDATION_RULES",
    "MessageCatalog",
    "messages",
]
