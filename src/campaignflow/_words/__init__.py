"""The ground floor: the records, facts, verdicts and checks every other room builds on.

``records``: units, actors, organisations, batch windows, a unit's state, workflow versions and
what commands produce. ``facts``: what a unit records and the fact-type registry. ``verdicts``:
what guards and the engine say. ``checks``: the attrs validators and the cattrs converter.
They import only :mod:`campaignflow.errors` and :mod:`campaignflow.i18n` (and each other,
downward: checks < records, facts < verdicts); the public names live on :mod:`campaignflow`,
so each room imports what it uses from the module that defines it and this package re-exports
nothing (one import list per user, not a second copy here).
"""
