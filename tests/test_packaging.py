"""Packaging a user can trust: one version source, real classifiers, no placeholder URL, a user's changelog."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

import campaignflow as cf

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT: dict[str, Any] = PYPROJECT["project"]
#: Hosts and words that mark a URL nobody can visit.
PLACEHOLDERS = ("example.", "invalid", "localhost", "todo", "placeholder", "your-org", "xxx")
#: The section kinds Keep a Changelog allows under a version.
CHANGE_KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_version_has_one_source() -> None:
    """pyproject takes the version from campaignflow/__init__.py; no file repeats it."""
    assert "version" not in PROJECT
    assert "version" in PROJECT["dynamic"]
    source = ROOT / PYPROJECT["tool"]["hatch"]["version"]["path"]
    assert source == ROOT / "src" / "campaignflow" / "__init__.py"
    written = re.findall(r'^__version__ = "([^"]+)"$', source.read_text(encoding="utf-8"), re.M)
    assert written == [cf.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", cf.__version__)
    literal = re.compile(rf"""version\s*=\s*["']{re.escape(cf.__version__)}["']""")
    for path in [ROOT / "pyproject.toml", ROOT / "docs" / "conf.py"]:
        assert not literal.search(path.read_text(encoding="utf-8")), path


def test_the_installed_metadata_carries_that_version() -> None:
    """An installed campaignflow reports the version __init__ holds (CI installs the tree)."""
    try:
        installed = metadata.version("campaignflow")
    except metadata.PackageNotFoundError:
        pytest.skip("campaignflow is not installed (run from the source tree only)")
    dist = metadata.distribution("campaignflow")
    if not str(dist.locate_file("")).startswith(str(ROOT)) and installed != cf.__version__:
        pytest.skip(f"the installed campaignflow comes from elsewhere ({dist.locate_file('')})")
    assert installed == cf.__version__


def test_classifiers_say_what_the_package_is() -> None:
    """Python versions within requires-python, typed, licensed as declared, Chinese and English."""
    classifiers = PROJECT["classifiers"]
    assert len(classifiers) == len(set(classifiers))
    assert "Typing :: Typed" in classifiers
    assert (ROOT / "src" / "campaignflow" / "py.typed").is_file()
    assert "Natural Language :: Chinese (Simplified)" in classifiers
    assert "Natural Language :: English" in classifiers
    assert PROJECT["license"] == "MIT"
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT")
    floor = re.fullmatch(r">=(\d+)\.(\d+)", PROJECT["requires-python"])
    assert floor is not None
    minimum = tuple(int(p) for p in floor.groups())
    versions = [
        tuple(int(p) for p in m.groups())
        for c in classifiers
        if (m := re.fullmatch(r"Programming Language :: Python :: (\d+)\.(\d+)", c))
    ]
    assert versions, "name the Python versions"
    assert min(versions) == minimum
    assert all(v >= minimum for v in versions)
    for classifier in classifiers:
        assert re.fullmatch(r"[A-Z][\w /()+.-]*( :: [\w /()+.,-]+)+", classifier), classifier


def test_urls_are_real_or_absent() -> None:
    """Every project URL is https and no placeholder (none at all is fine)."""
    for label, url in PROJECT.get("urls", {}).items():
        parsed = urlparse(url)
        assert parsed.scheme == "https", (label, url)
        assert not any(word in url.lower() for word in PLACEHOLDERS), (label, url)


def test_every_extra_is_in_the_test_extra() -> None:
    """The test extra installs every runtime extra's packages (so CI exercises them all)."""
    extras = PROJECT["optional-dependencies"]
    test = {re.split(r"[<>=\[]", r)[0].lower() for r in extras["test"]}
    for name, requirements in extras.items():
        if name in {"test", "dev", "docs"}:
            continue
        for requirement in requirements:
            assert re.split(r"[<>=\[]", requirement)[0].lower() in test, (name, requirement)


def test_the_changelog_is_for_users_in_keep_a_changelog_form() -> None:
    """An Unreleased section on top; under each version only Keep a Changelog's kinds."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "Keep a Changelog" in text
    versions = re.findall(r"^## (.+)$", text, re.M)
    assert versions[0] == "Unreleased"
    for version in versions[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", version), version
    kinds = re.findall(r"^### (.+)$", text, re.M)
    assert kinds
    assert set(kinds) <= CHANGE_KINDS
    # Speed work and its figures live with the benchmarks, not in the users' changelog.
    assert not re.search(r"units/s|\d+ ?ms\b|ratio to the SQL floor", text)
    assert "Speed work" in (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md", "docs/zh_CN/quickstart.md"])
def test_quickstarts_install_from_a_checkout_or_a_wheel(page: str) -> None:
    """No quickstart tells a user to install campaignflow from an index it is not on."""
    text = (ROOT / page).read_text(encoding="utf-8")
    assert not re.search(r"pip install campaignflow\s*$", text, re.M)
    assert "pip install ." in text or "pip install '.[" in text
    if page != "README.md":
        assert "pip wheel --no-deps --wheel-dir dist ." in text
        assert "dist/campaignflow-*.whl" in text
