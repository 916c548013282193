"""``import campaignflow`` loads the words only; every other public name loads on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import campaignflow as cf


def _fresh(code: str) -> object:
    """What ``code`` prints as JSON, run in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_importing_the_package_leaves_the_heavy_rooms_unloaded() -> None:
    """No runtime, store, rules, audit, transitions or database driver loads with the package."""
    loaded = _fresh(
        "import sys, json, campaignflow; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.startswith(('campaignflow', 'transitions', 'sqlite3', 'psycopg')))))"
    )
    assert isinstance(loaded, list)
    heavy = (
        "campaignflow.campaign",
        "campaignflow.store",
        "campaignflow.guards",
        "campaignflow.workflow",
        "campaignflow.audit",
        "campaignflow.presets",
        "campaignflow.simulation",
        "campaignflow.observability",
        "transitions",
        "sqlite3",
        "psycopg",
    )
    assert [m for m in loaded if m.startswith(heavy)] == []


def test_every_public_name_loads_on_first_use_and_is_listed() -> None:
    """Each lazy name resolves in a fresh interpreter, shows its public path, and dir() lists it."""
    shown = _fresh(
        "import json, campaignflow as cf; "
        "listed = set(dir(cf)); "
        "print(json.dumps({n: [n in listed, getattr(getattr(cf, n), '__module__', '')] "
        "for n in cf.__all__}))"
    )
    assert isinstance(shown, dict)
    assert sorted(shown) == sorted(cf.__all__)
    for name, (listed, module) in shown.items():
        assert listed, name
        assert not any(part.startswith("_") for part in str(module).split(".")), (name, module)


def test_subpackages_are_attributes_and_unknown_names_fail() -> None:
    """``cf.simulation`` imports the subpackage; an unknown name is an AttributeError."""
    assert cf.simulation.__name__ == "campaignflow.simulation"
    assert cf.Campaign is cf.campaign.Campaign
    with pytest.raises(AttributeError, match="NoSuchThing"):
        cf.NoSuchThing  # noqa: B018  (the attribute access is the test)
