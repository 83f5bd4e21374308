"""Imports only go down (DESIGN.md): no module imports from a higher layer, and no import cycles.

Every module under ``src/bastion`` is parsed with :mod:`ast` (nothing is imported). An edge is
every ``import bastion...`` / ``from bastion... import ...`` / relative import anywhere in the
module: at the top level, under ``if TYPE_CHECKING:``, and inside functions. A function-local
(lazy) import and a type-checking-only import are edges like any other: deferring an import hides
a dependency from the import machinery, not from the design, so both count for the layer check
and for cycles alike (each edge is labelled ``top``, ``lazy`` or ``typing`` in the printout).
``from package import name`` is an edge to ``package.name`` when that is a module, else to
``package``; importing a submodule does not add an edge to its parent package's ``__init__``.

Cycles that existed when this test was written and belong to other areas are listed in
:data:`KNOWN_CYCLES`, each with why it closes: the test fails on any other cycle; a listed one
that is gone is printed as fixed, to be removed from the list (parallel work in progress may
still hold it, so that is not a failure). Run ``python tests/test_layers.py``
to print the counts and every offending edge.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module belongs to the layer of its longest listed prefix.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "ground floor",
        (
            "bastion",
            "bastion.findings",
            "bastion.results",
            "bastion.rules",
            "bastion.errors",
            "bastion.suppressions",
            "bastion.validation",
            "bastion.structured",
            "bastion.atomic",
            "bastion.download",
        ),
    ),
    ("analyzers", ("bastion.scan", "bastion.detect", "bastion.advisories")),
    (
        "decisions and outputs",
        (
            # config reads the scan and report enums it validates, and only the runner and the
            # command line read it, so it sits here rather than on the ground floor.
            "bastion.config",
            "bastion.runner",
            "bastion.gate",
            "bastion.report",
            "bastion.sbom",
            "bastion.comply",
            "bastion.imports",
            "bastion.coverage",
            "bastion.ci",
            "bastion.fix",
            "bastion.store",
            "bastion.respond",
            "bastion.catalog",
            "bastion.drills",
            "bastion.phish",
            "bastion.ready",
            "bastion.jobs",
            "bastion.stream",
            "bastion.integrations",
            "bastion.integrations",
        ),
    ),
    # bastion.ci.hook is the bastion-hook console script (the scan command alone, for pre-commit).
    ("entry points", ("bastion.server", "bastion.cli", "bastion.__main__", "bastion.ci.hook")),
)


KNOWN_CYCLES: dict[tuple[str, ...], str] = {}
"""Cycles accepted for now, each with why it closes (none since 2026-12-07: keep it that way)."""


@dataclass(frozen=True)
class Edge:
    """One import of ``target`` by ``source`` at ``line``."""

    source: str
    target: str
    line: int
    kind: str = "top"
    """``top`` (module level), ``lazy`` (inside a function) or ``typing`` (under TYPE_CHECKING)."""


def module_name(path: Path) -> str:
    """Dotted name of a source file under ``SRC``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted((SRC / "bastion").rglob("*.py"))}


def _resolve(base: str, name: str, known: dict[str, Path]) -> str:
    candidate = f"{base}.{name}" if base else name
    return candidate if candidate in known else base


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    return f"{base}.{target}" if target else base


def _kinds(tree: ast.Module) -> dict[int, str]:
    """``id(node) -> kind`` for every import node that is not at the module's top level."""
    kinds: dict[int, str] = {}

    def mark(node: ast.AST, kind: str) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                kinds.setdefault(id(child), kind)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            mark(node, "lazy")
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                mark(child, "typing")
    return kinds


def edges(known: dict[str, Path]) -> Iterator[Edge]:
    """Every import edge between modules of the package."""
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        kinds = _kinds(tree)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            kind = kinds.get(id(node), "top")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "bastion":
                        yield Edge(module, _known_prefix(alias.name, known), node.lineno, kind)
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _absolute(module, is_package, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                if base.split(".")[0] != "bastion":
                    continue
                for alias in node.names:
                    target = _resolve(_known_prefix(base, known), alias.name, known)
                    yield Edge(module, target, node.lineno, kind)


def _known_prefix(name: str, known: dict[str, Path]) -> str:
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """Index of ``module``'s layer in :data:`LAYERS`, or None when no prefix lists it."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (prefix != "bastion" and module.startswith(prefix + "."))
            if inside and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return best[1] if best else None


def upward(all_edges: list[Edge]) -> list[Edge]:
    """Edges from a lower layer to a higher one."""
    out = []
    for edge in all_edges:
        low, high = layer_of(edge.source), layer_of(edge.target)
        if low is not None and high is not None and high > low:
            out.append(edge)
    return out


def cycles(all_edges: list[Edge]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in all_edges:
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _analyse() -> tuple[dict[str, Path], list[Edge]]:
    known = modules()
    return known, sorted(set(edges(known)), key=lambda e: (e.source, e.line, e.target))


def test_every_module_has_a_layer() -> None:
    known, _ = _analyse()
    missing = [m for m in known if layer_of(m) is None]
    assert missing == [], f"give these modules a layer in tests/test_layers.py LAYERS: {missing}"


def test_no_import_goes_up_a_layer() -> None:
    _, all_edges = _analyse()
    bad = [f"{e.source}:{e.line} -> {e.target}" for e in upward(all_edges)]
    assert bad == [], "imports from a lower layer to a higher one:\n" + "\n".join(bad)


def test_no_import_cycles_beyond_the_known_ones() -> None:
    _, all_edges = _analyse()
    found = {tuple(loop) for loop in cycles(all_edges)}
    assert sorted(found - set(KNOWN_CYCLES)) == [], "new import cycles"


def test_the_analysis_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    known = {
        "bastion": tmp_path / "__init__.py",
        "bastion.gate": tmp_path / "gate.py",
        "bastion.scan": tmp_path / "scan" / "__init__.py",
        "bastion.scan.engine": tmp_path / "scan" / "engine.py",
    }
    (tmp_path / "scan").mkdir()
    known["bastion"].write_text("", encoding="utf-8")
    known["bastion.scan"].write_text("from . import engine\n", encoding="utf-8")
    known["bastion.gate"].write_text("from bastion.scan import engine\n", encoding="utf-8")
    known["bastion.scan.engine"].write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bastion.gate\n"
        "def f():\n    from ..gate import x\n",
        encoding="utf-8",
    )
    found = {(e.source, e.target) for e in edges(known)}
    kinds = {(e.source, e.target): e.kind for e in edges(known)}
    assert kinds[("bastion.scan", "bastion.scan.engine")] == "top"
    assert {e.kind for e in edges(known) if e.source == "bastion.scan.engine"} == {"typing", "lazy"}
    assert found == {
        ("bastion.scan", "bastion.scan.engine"),
        ("bastion.gate", "bastion.scan.engine"),
        ("bastion.scan.engine", "bastion.gate"),
    }
    listed = [Edge(s, t, 1) for s, t in sorted(found)]
    assert [(e.source, e.target) for e in upward(listed)] == [("bastion.scan.engine", "bastion.gate")]
    assert cycles(listed) == [["bastion.gate", "bastion.scan.engine"]]


def main() -> int:
    """Print the counts and every offending edge and cycle (with the edges that close it)."""
    known, all_edges = _analyse()
    bad = upward(all_edges)
    loops = cycles(all_edges)
    missing = [m for m in known if layer_of(m) is None]
    print(f"modules {len(known)}, import edges {len(all_edges)}")
    print(f"upward imports {len(bad)}, cycles {len(loops)}, modules without a layer {len(missing)}")
    for edge in bad:
        print(f"  up: {edge.source}:{edge.line} -> {edge.target} ({edge.kind})")
    for loop in loops:
        members = set(loop)
        known_note = " [known]" if tuple(loop) in KNOWN_CYCLES else ""
        print(f"  cycle{known_note}: {' <-> '.join(loop)}")
        for edge in all_edges:
            if edge.source in members and edge.target in members and edge.source != edge.target:
                print(f"    {edge.source}:{edge.line} -> {edge.target} ({edge.kind})")
    for fixed in sorted(set(KNOWN_CYCLES) - {tuple(loop) for loop in loops}):
        print(f"  fixed, remove from KNOWN_CYCLES: {' <-> '.join(fixed)}")
    for module in missing:
        print(f"  no layer: {module}")
    return 1 if bad or missing or {tuple(loop) for loop in loops} - set(KNOWN_CYCLES) else 0


if __name__ == "__main__":
    sys.exit(main())
