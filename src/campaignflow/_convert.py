"""Where the converter used to live; it is in :mod:`campaignflow._words.checks` now.

A plain re-export kept while imports move.
"""

from campaignflow._words.checks import converter, problems_of, structure

__all__ = ["converter", "problems_of", "structure"]
