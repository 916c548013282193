"""The public face: every exported name imports, is documented, typed, and shows its public module.

The public modules are the paths ``tests/test_architecture.py`` allows to have no ``_`` part,
plus the ``campaignflow.contrib`` integrations; every name in each one's ``__all__`` is checked.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import import_module

import pytest

import campaignflow as cf
from tests.test_architecture import PUBLIC_MODULES

PACKAGES = sorted(
    PUBLIC_MODULES
    | {"campaignflow.contrib", "campaignflow.contrib.django", "campaignflow.contrib.sqlalchemy"}
)
PUBLIC = [(pkg, name) for pkg in PACKAGES for name in import_module(pkg).__all__]

#: Public classes and functions whose ``__module__`` may name a path that does not export them,
#: by ``"package.name"``, each with its reason. Empty: every public name shows a public path.
MODULE_EXCEPTIONS: dict[str, str] = {}


def _exporters(obj: object) -> set[str]:
    """The public modules whose ``__all__`` lists this very object."""
    return {
        pkg
        for pkg in PACKAGES
        for name in import_module(pkg).__all__
        if getattr(import_module(pkg), name) is obj
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_all_has_no_repeats(package: str) -> None:
    """Each package's __all__ names every export once (ruff's RUF022 keeps it sorted)."""
    names = import_module(package).__all__
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("package", "name"), PUBLIC, ids=[f"{p}.{n}" for p, n in PUBLIC])
def test_every_public_name_imports_and_is_documented(package: str, name: str) -> None:
    """Every name in __all__ exists; classes and functions carry a docstring and annotations."""
    obj = getattr(import_module(package), name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), f"{package}.{name} has no docstring"
    if inspect.isfunction(obj):
        hints = obj.__annotations__
        assert "return" in hints, f"{package}.{name} has no return annotation"


@pytest.mark.parametrize(("package", "name"), PUBLIC, ids=[f"{p}.{n}" for p, n in PUBLIC])
def test_every_public_name_shows_its_public_module(package: str, name: str) -> None:
    """A public class or function names a public path that exports it as its __module__."""
    obj = getattr(import_module(package), name)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return
    if f"{package}.{name}" in MODULE_EXCEPTIONS:
        return
    exporters = _exporters(obj)
    assert obj.__module__ in exporters, (
        f"{package}.{name}.__module__ is {obj.__module__!r}; set it to the public path that "
        f"exports it: {' or '.join(repr(e) for e in sorted(exporters))}"
    )


def test_records_are_frozen_and_slotted() -> None:
    """Every record type is immutable and uses slots."""
    for record in (
        cf.Unit,
        cf.Actor,
        cf.StudySession,
        cf.Survey,
        cf.Milestone,
        cf.Approval,
        cf.UnitState,
        cf.Verdict,
        cf.Decision,
        cf.TransitionRecord,
        cf.FactRecord,
        cf.AuditRecord,
        cf.BatchWindow,
        cf.Stage,
        cf.Transition,
    ):
        assert "__slots__" in vars(record), record
        instance_fields = [a.name for a in record.__attrs_attrs__]  # type: ignore[attr-defined]
        assert instance_fields
        assert record.__setattr__ is not object.__setattr__, record


def test_error_tree_has_one_root_and_builtin_bases() -> None:
    """Every error derives from CampaignflowError and from the builtin callers already catch."""
    assert issubclass(cf.ValidationError, cf.CampaignflowError)
    assert issubclass(cf.ValidationError, ValueError)
    assert issubclass(cf.UnknownUnit, cf.ValidationError)
    assert issubclass(cf.UnknownUnit, KeyError)
    assert issubclass(cf.DefinitionError, ValueError)
    assert issubclass(cf.NotAuthorized, PermissionError)
    for error in (
        cf.TransitionRejected,
        cf.ConcurrencyConflict,
        cf.AuditTampered,
        cf.DefinitionError,
        cf.NotAuthorized,
    ):
        assert issubclass(error, cf.CampaignflowError)


def test_core_imports_no_optional_dependency() -> None:
    """Importing campaignflow loads no database driver, CLI, plotting or numeric library."""
    code = (
        "import sys, campaignflow as cf; cf.presets.district_2005(); "
        "bad = [m for m in ('psycopg', 'click', 'rich', 'matplotlib', 'numpy', 'hypothesis', 'graphviz') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_package_is_typed() -> None:
    """The package ships py.typed so type checkers use its inline annotations."""
    from importlib.resources import files

    assert files("campaignflow").joinpath("py.typed").is_file()
