"""Where the fact types used to live; they are in :mod:`campaignflow._words.facts` now.

A plain re-export kept while imports move.
"""

from campaignflow._words.facts import FactTypes, fact_type, fact_types

__all__ = ["FactTypes", "fact_type", "fact_types"]
