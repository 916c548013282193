"""The house's structural rules, checked on the source text of ``src/campaignflow``.

Four rules from DESIGN.md and the style guide, each a plain walk over the files (nothing is
imported, so a broken module still gets a precise report):

* no import circles: the module graph has no strongly connected component of two or more
  modules;
* no source file is over 600 lines;
* no ``exec(``, no ``c_make_encoder``, no module-level ``_NAME = {}`` cache and no ``global``
  statement (the same patterns as ``grep -rn "exec(\\|c_make_encoder\\|^_[A-Z_]* = {}\\|global " src``);
* implementation modules are private: a module or package whose dotted path has no ``_`` part
  is a public path and must be one of ``PUBLIC_MODULES``.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 600

#: The public module paths: what README, docs/, examples/ and the tests import, plus the package
#: faces of the rooms DESIGN.md names. Everything else under campaignflow is implementation and
#: lives in a ``_private`` module or package. ``campaignflow.contrib`` and everything below it is
#: public too (Django finds ``apps`` and ``migrations`` by those names).
PUBLIC_MODULES = frozenset(
    {
        "campaignflow",
        "campaignflow.audit",
        "campaignflow.campaign",
        "campaignflow.cli",
        "campaignflow.clock",
        "campaignflow.errors",
        "campaignflow.guards",
        "campaignflow.i18n",
        "campaignflow.observability",
        "campaignflow.presets",
        "campaignflow.report",
        "campaignflow.simulation",
        "campaignflow.simulation.behaviour",
        "campaignflow.simulation.bulk",
        "campaignflow.simulation.exact",
        "campaignflow.simulation.results",
        "campaignflow.simulation.scenario",
        "campaignflow.simulation.summary",
        "campaignflow.store",
        "campaignflow.store.memory",
        "campaignflow.store.postgres",
        "campaignflow.store.sqlite",
        "campaignflow.testing",
        "campaignflow.testing.guards",
        "campaignflow.testing.machine",
        "campaignflow.testing.paths",
        "campaignflow.testing.pytest_plugin",
        "campaignflow.testing.strategies",
        "campaignflow.workflow",
    }
)
PUBLIC_TREES = ("campaignflow.contrib",)

#: ``grep -rn "exec(\|c_make_encoder\|^_[A-Z_]* = {}\|global " src``, pattern by pattern.
FORBIDDEN = {
    "exec(": re.compile(r"exec\("),
    "c_make_encoder": re.compile(r"c_make_encoder"),
    "^_[A-Z_]* = {}": re.compile(r"^_[A-Z_]* = \{\}"),
    "global ": re.compile(r"global "),
}


def modules(src: Path = SRC) -> dict[str, Path]:
    """Every module of the campaignflow package by dotted name; a package is its ``__init__.py``."""
    found = {}
    for path in sorted((src / "campaignflow").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@attrs.frozen
class Edge:
    """One import statement that makes ``source`` run ``target``'s module body."""

    source: str
    target: str
    file: str
    line: int
    how: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}  ({self.file}:{self.line}, {self.how})"


def _ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b", "a.b.c"]``."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _imports(
    nodes: Iterable[ast.AST], where: str = "module level"
) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement among ``nodes`` and below, and when it runs."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, where
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(ast.iter_child_nodes(node), "inside a function")
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _imports(node.body, "under TYPE_CHECKING")
            yield from _imports(node.orelse, where)
        else:
            yield from _imports(ast.iter_child_nodes(node), where)


def import_edges(src: Path = SRC) -> dict[str, list[Edge]]:
    """The package's import graph, from every import statement wherever it sits.

    ``import a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``; ``from a.b import n`` runs ``a`` and
    ``a.b``, then ``a.b.n`` when that is a module, else needs the name ``n`` from ``a.b``'s own
    body. A package the importing module sits in is already running, so it is an edge only
    when a name is taken from its body (``from campaignflow import __version__``). Imports in
    functions and under ``TYPE_CHECKING`` count: both are arrows between rooms.
    """
    known = modules(src)
    edges: dict[str, list[Edge]] = {name: [] for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        enclosing = set(_ancestors(name)[:-1]) | ({name} if is_package else set())
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        file = str(path.relative_to(src.parent))
        for node, how in _imports(tree.body):
            targets: set[str] = set()
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.update(p for p in _ancestors(alias.name) if p not in enclosing)
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets.update(p for p in _ancestors(module) if p not in enclosing)
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in known else module)
            for target in sorted(targets):
                if target in known and target != name:
                    edges[name].append(Edge(name, target, file, node.lineno, how))
    return edges


def circles(edges: dict[str, list[Edge]]) -> list[list[str]]:
    """The strongly connected components with two or more modules (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterator[Edge]]] = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                target = child.target
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges[target])))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def a_cycle(component: list[str], edges: dict[str, list[Edge]]) -> list[Edge]:
    """One shortest import cycle through the component's first module, edge by edge."""
    members = set(component)
    start = component[0]
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in edges[node]:
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came_by[path[0].source])
                return path
            if edge.target in members and edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    raise AssertionError(f"no cycle through {start} in {component}")  # pragma: no cover


def test_the_import_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The walker follows absolute, relative, in-function, TYPE_CHECKING and package-face imports."""
    files = {
        "__init__.py": "from campaignflow.a import A\nfrom . import b\nfrom .sub import d\n",
        "a.py": "import campaignflow.sub.c\nA = 1\n",
        "b.py": "def f():\n    from .sub import c\n",
        "sub/__init__.py": "",
        "sub/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..b import f\n",
        "sub/d.py": "from campaignflow.sub import c\nfrom campaignflow import A\n",
        "e.py": "import os\nfrom campaignflow.sub.c import x\n",
    }
    for name, text in files.items():
        (tmp_path / "src" / "campaignflow" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / "campaignflow" / name).write_text(text)
    edges = import_edges(tmp_path / "src")
    found = {(e.source, e.target, e.how) for es in edges.values() for e in es}
    assert found == {
        ("campaignflow", "campaignflow.a", "module level"),
        ("campaignflow", "campaignflow.b", "module level"),
        ("campaignflow", "campaignflow.sub", "module level"),
        ("campaignflow", "campaignflow.sub.d", "module level"),
        ("campaignflow.a", "campaignflow.sub", "module level"),
        ("campaignflow.a", "campaignflow.sub.c", "module level"),
        ("campaignflow.b", "campaignflow.sub", "inside a function"),
        ("campaignflow.b", "campaignflow.sub.c", "inside a function"),
        ("campaignflow.sub.c", "campaignflow.b", "under TYPE_CHECKING"),
        ("campaignflow.sub.d", "campaignflow.sub.c", "module level"),
        ("campaignflow.sub.d", "campaignflow", "module level"),
        ("campaignflow.e", "campaignflow.sub", "module level"),
        ("campaignflow.e", "campaignflow.sub.c", "module level"),
    }
    assert circles(edges) == [
        ["campaignflow", "campaignflow.sub.d"],
        ["campaignflow.b", "campaignflow.sub.c"],
    ]
    assert [str(e) for e in a_cycle(["campaignflow.b", "campaignflow.sub.c"], edges)] == [
        "campaignflow.b -> campaignflow.sub.c  (src/campaignflow/b.py:2, inside a function)",
        "campaignflow.sub.c -> campaignflow.b  (src/campaignflow/sub/c.py:3, under TYPE_CHECKING)",
    ]


def test_no_import_circles() -> None:
    """No two modules of campaignflow import each other, directly or through others."""
    edges = import_edges()
    found = circles(edges)
    report = []
    for component in found:
        cycle = "\n      ".join(str(e) for e in a_cycle(component, edges))
        report.append(f"  {len(component)} modules: {', '.join(component)}\n    e.g.  {cycle}")
    assert not found, f"{len(found)} import circle(s):\n" + "\n".join(report)


def test_no_source_file_is_over_600_lines() -> None:
    """Every Python file under src/ is at most 600 lines, a room read in one sitting."""
    long = {
        str(path.relative_to(SRC.parent)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    listing = "\n".join(f"  {path}: {lines} lines" for path, lines in long.items())
    assert not long, f"{len(long)} file(s) over {MAX_LINES} lines:\n{listing}"


def test_no_exec_private_encoder_module_cache_or_global() -> None:
    """No line under src/ matches the forbidden patterns (the issue's grep, in Python)."""
    hits = []
    for path in sorted(p for p in SRC.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for label, pattern in FORBIDDEN.items():
                if pattern.search(line):
                    where = path.relative_to(SRC.parent)
                    hits.append(f"  {where}:{number}: [{label}] {line.strip()}")
    assert not hits, f"{len(hits)} forbidden line(s):\n" + "\n".join(hits)


def test_implementation_modules_are_private() -> None:
    """A module whose path has no ``_`` part is public, so it must be a listed public path."""
    public = [
        (name, path)
        for name, path in modules().items()
        if not any(part.startswith("_") for part in name.split("."))
    ]
    stray = [
        f"  {name}  ({path.relative_to(SRC.parent)})"
        for name, path in public
        if name not in PUBLIC_MODULES
        and not any(name == tree or name.startswith(tree + ".") for tree in PUBLIC_TREES)
    ]
    assert not stray, (
        f"{len(stray)} implementation module(s) with a public path; name them _private "
        "(or add a public path to PUBLIC_MODULES in tests/test_architecture.py):\n"
        + "\n".join(stray)
    )
