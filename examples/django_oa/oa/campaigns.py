"""The campaign the OA runs, on Django's database through campaignflow's DjangoStore."""

from __future__ import annotations

import functools

from django.conf import settings

import campaignflow as cf
from campaignflow.contrib.django import DjangoStore

#: The rules: the 2005 district preset (a real deployment may load its own TOML file).
WORKFLOW = cf.presets.district_2005()


def database() -> str:
    """The Django database alias the OA's tables and the campaign share."""
    return str(getattr(settings, "OA_DATABASE", "default"))


@functools.lru_cache(maxsize=64)
def _store(using: str, campaign_id: str) -> DjangoStore:
    # One store per campaign serves every thread: it takes the thread's connection per command.
    return DjangoStore(campaign_id=campaign_id, using=using)


def campaign(campaign_id: str) -> cf.Campaign:
    """The campaign ``campaign_id``; commands run inside the caller's ``transaction.atomic()``."""
    today = getattr(settings, "OA_TODAY", None)
    clock = cf.FixedClock(today) if today is not None else cf.SystemClock()
    return cf.Campaign(
        WORKFLOW, store=_store(database(), campaign_id), clock=clock, campaign_id=campaign_id
    )
