"""The shipped workflows: each is a data file in this package, proving stages are data."""

from campaignflow.presets._load import (
    PRESETS,
    advanced_nature_2005,
    district_2005,
    load,
    no_stages_2019,
)

__all__ = ["PRESETS", "advanced_nature_2005", "district_2005", "load", "no_stages_2019"]
