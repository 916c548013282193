"""zh_CN and en messages for verdict codes; text is rendered on demand, never stored."""

from campaignflow.i18n._catalog import LOCALES, MessageCatalog, messages
from campaignflow.i18n._glossary import GLOSSARY

messages.register_terms(GLOSSARY)

__all__ = ["GLOSSARY", "LOCALES", "MessageCatalog", "messages"]
