"""Loading the shipped presets from the package's data files, and handing out their text."""

from __future__ import annotations

import difflib
import tomllib
from importlib.resources import files

from campaignflow.errors import ValidationError
from campaignflow.workflow import Workflow

__all__ = ["PRESETS", "advanced_nature_2005", "district_2005", "load", "no_stages_2019", "source"]

#: Names of the shipped presets.
PRESETS: tuple[str, ...] = ("advanced_nature_2005", "district_2005", "no_stages_2019")


def _text(name: str) -> str:
    return files("campaignflow.presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load(name: str) -> Workflow:
    """The shipped preset ``name`` (one of :data:`PRESETS`).

    Raises:
        ValidationError: no such preset.
    """
    if name not in PRESETS:
        raise ValidationError(
            code="validation.one_of",
            params={"field": "preset", "choices": list(PRESETS), "value": repr(name)},
        )
    return Workflow.from_dict(tomllib.loads(_text(name)), source=f"preset {name}")


def source(name: str) -> str:
    """The TOML text of the shipped preset ``name``, comments and all: a start for your own.

    ``Workflow.from_dict(tomllib.loads(source(name)))`` is the workflow :func:`load` gives.
    Save the text as a file, change its ``name`` and whatever your policy changes, and load
    it with ``Workflow.from_file``. Its comments tag each number with where it comes from
    (see "The three presets" in the documentation).

    Raises:
        ValidationError: ``name`` is not one of :data:`PRESETS`; the message lists them and
            names the closest, as a "did you mean", when one is close.
    """
    if name not in PRESETS:
        known = ", ".join(PRESETS)
        close = (
            difflib.get_close_matches(name, PRESETS, n=1, cutoff=0.5)
            if isinstance(name, str)
            else []
        )
        if close:
            params = {"value": repr(name), "close": repr(close[0]), "known": known}
            raise ValidationError(code="preset.unknown_close", params=params)
        raise ValidationError(code="preset.unknown", params={"value": repr(name), "known": known})
    return _text(name)


def district_2005(*, satisfaction_rate: float = 0.6) -> Workflow:
    """The district speech's campaign: a satisfaction gate at *every* stage transition.

    A unit whose satisfied rate is below ``satisfaction_rate`` (0.60) is not accepted and does
    not move on; it goes to make-up (补课) of the stage, then is assessed again.
    """
    workflow = load("district_2005")
    if satisfaction_rate != 0.6:
        workflow = workflow.with_params("satisfaction_rate_at_least", rate=satisfaction_rate)
    return workflow


def advanced_nature_2005(*, dissatisfied_rate: float = 0.5) -> Workflow:
    """The central rules: one assessment at the end; > 50 % dissatisfied sends a unit to make-up."""
    workflow = load("advanced_nature_2005")
    if dissatisfied_rate != 0.5:
        workflow = workflow.with_params("dissatisfied_rate_at_most", rate=dissatisfied_rate)
    return workflow


def no_stages_2019() -> Workflow:
    """The 2019 campaign: no stages, every unit at least three months (90 days)."""
    return load("no_stages_2019")
