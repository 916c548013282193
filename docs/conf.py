"""Sphinx configuration for the campaignflow documentation (furo theme, MyST Markdown pages).

Build (CI runs exactly this, in a venv with only ``pip install '.[docs]'``; warnings are
errors):

    python -m sphinx -W --keep-going -b html docs build/docs

The pages' Python examples are doctests run by ``tests/test_docs.py``, not by Sphinx, so the
same pages read well on GitHub and in the built site.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
# Document the source tree (an editable install points there too); autodoc imports it.
sys.path.insert(0, str(ROOT / "src"))

import campaignflow  # noqa: E402  (after the path is set)

project = "campaignflow"
author = "campaignflow developers"
copyright = "2026, campaignflow developers"
release = campaignflow.__version__
version = ".".join(release.split(".")[:2])
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: ``{directive}`` fences, ``:::`` fences, definition lists for the glossary, and
# anchors for headings so ``page.md#section`` links resolve.
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3


# autodoc: signatures from the type hints, documented members in source order.
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "show-inheritance": True,
}
# The integrations' API pages import their frameworks; the ``docs`` extra alone builds the
# site (CI builds it in a venv with only that extra), so autodoc stands mocks in for them.
autodoc_mock_imports = ["django", "sqlalchemy"]
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False


html_theme = "furo"
html_title = f"campaignflow {release}"
html_static_path: list[str] = []

# Pages other parts of the project add (simulation, CLI, integrations, ...). The Guides toctree
# in index.md names them in reading order; a name listed here that has no page yet is left
# out of the table of contents instead of failing the build. Any other page in docs/ that no
# toctree lists is appended to Guides, so no page is ever orphaned and every name that is
# neither planned nor present still fails the build.
PLANNED_PAGES = frozenset(
    {
        "workflow-versions",
        "org-tree",
        "simulation",
        "simulation-fast",
        "report",
        "cli",
        "testing",
    }
)
_GUIDES = re.compile(r"(```\{toctree\}\n:caption: Guides\n(?::[^\n]*\n)*\n)(.*?)(\n```)", re.S)
_ENTRIES = re.compile(r"```\{toctree\}\n(?::[^\n]*\n)*\n(.*?)\n```", re.S)


def _guides_toctree(app: Sphinx, docname: str, source: list[str]) -> None:
    """Expand the Guides toctree of index.md against the pages that exist."""
    if docname != root_doc:
        return
    text = source[0]
    match = _GUIDES.search(text)
    if match is None:
        raise ValueError("index.md: the Guides toctree is missing")
    pages = sorted(p.stem for p in Path(app.srcdir).glob("*.md") if p.stem != root_doc)
    listed = {line.strip() for block in _ENTRIES.findall(text) for line in block.splitlines()}
    entries: list[str] = []
    for entry in match.group(2).splitlines():
        entry = entry.strip()
        if any(c in entry for c in "*?["):
            entries += [p for p in fnmatch.filter(pages, entry) if p not in listed]
        elif entry in pages or entry not in PLANNED_PAGES:
            entries.append(entry)
    seen = set(entries) | listed
    entries += [p for p in pages if p not in seen]
    source[0] = text[: match.start(2)] + "\n".join(entries) + text[match.end(2) :]


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the Guides toctree expansion."""
    app.connect("source-read", _guides_toctree)
    return {"parallel_read_safe": True}
