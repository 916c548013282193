"""Showing public names at their public paths: ``campaignflow.Unit``, not ``_words.records``.

Implementation lives in private modules; each public module calls :func:`publish` on its
``__all__`` so reprs, error messages, the API docs and pickles name the path users import.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping

import attrs

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function among ``names`` to ``module``.

    Only names defined in a private module move: one defined in a public module
    (``campaignflow.errors.ValidationError``) keeps the path it already shows. An attrs class has its string annotations resolved first, while its defining module
    is still the one they are looked up in (cattrs and ``typing.get_type_hints`` read them).
    A name exported by several public modules shows the last one published (the package
    face publishes after its subpackages, so ``campaignflow`` wins).
    """
    for name in names:
        obj = namespace[name]
        if not _private(getattr(obj, "__module__", "")):
            continue
        if isinstance(obj, type):
            if attrs.has(obj):
                attrs.resolve_types(obj)
            obj.__module__ = module
        elif inspect.isfunction(obj):
            obj.__module__ = module


def _private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))
