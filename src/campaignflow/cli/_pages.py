"""Writing the what-if pages (``compare.html``, ``runs.html`` and their charts) safely.

The same rules as ``simulate``'s outputs (:mod:`campaignflow.cli._outputs`): refused when
present unless ``--overwrite`` and marked as campaignflow's own, never through a link,
created new with ``O_EXCL | O_NOFOLLOW``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from campaignflow.cli._outputs import _create, _mark_html, _mark_png, _remove, check_folder

__all__ = ["write_pages"]


def write_pages(folder: Path, contents: Mapping[str, bytes], replace: list[Path]) -> list[Path]:
    """Create each file of ``contents`` (name -> bytes) in ``folder``, marked as ours.

    ``replace`` are the existing files ``check_outputs`` allowed ``--overwrite`` to replace.
    """
    marked = {
        name: _mark_png(data)
        if name.endswith(".png")
        else _mark_html(data.decode("utf-8")).encode()
        if name.endswith(".html")
        else data
        for name, data in contents.items()
    }
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _remove(p for p in replace if p.name in marked)
    for name, data in marked.items():
        _create(folder / name, data)
    return [folder / name for name in marked]
