"""One parsed Python module as the analyzer sees it: imports, functions, classes, constants.

Parsing uses :mod:`ast`; a file the running interpreter cannot parse (newer syntax such
as PEP 695 ``type`` aliases and generics, or PEP 701 f-strings) is retried after
:func:`bastion.scan.sast.taint.compat.downgrade` rewrites those constructs into older
equivalents with the same lines, and becomes a :class:`ParseError` only if that fails too.
"""

from __future__ import annotations

import ast
import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bastion.scan.sast.taint.compat import downgrade

__all__ = ["FunctionInfo", "ModuleInfo", "ParseError", "module_names", "parse_module"]

_FRAMEWORKS = ("flask", "django", "fastapi", "starlette", "werkzeug", "tornado", "pyramid", "bottle")


class ParseError(Exception):
    """The file could not be parsed; the message is one line naming why."""


@dataclass
class FunctionInfo:
    """A function or method definition."""

    qualname: str
    """``helper`` or ``Class.method``, relative to the module."""
    node: ast.FunctionDef | ast.AsyncFunctionDef
    class_name: str | None = None
    """Enclosing class (for ``self`` calls and attributes)."""


@dataclass
class ModuleInfo:
    """A parsed module and the tables read from it."""

    relpath: str
    name: str
    """Dotted module name (``app.views``)."""
    tree: ast.Module
    lines: list[str]
    aliases: dict[str, str] = field(default_factory=dict)
    """Local name -> qualified name, from every import in the file."""
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    """Module-level names bound once to a literal."""
    values: dict[str, ast.expr] = field(default_factory=dict)
    """Module-level names bound once: the expression they are bound to."""
    built_by: dict[str, str] = field(default_factory=dict)
    """Module-level names bound once to a call: the callee's qualified name
    (``users = sa.Table(...)`` -> ``sqlalchemy.Table``)."""
    frameworks: frozenset[str] = frozenset()
    """Web frameworks the module imports (``flask``, ``fastapi``...)."""

    def line_text(self, line: int) -> str:
        """The stripped source line, cut to 100 characters, for trace steps."""
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1].strip()
            return text if len(text) <= 100 else text[:99] + "\u2026"
        return ""


def module_names(relpath: str) -> list[str]:
    """Dotted names a file may be imported as: ``src/app/views.py`` -> ``src.app.views``,
    ``app.views``, ``views`` (longest first)."""
    parts = relpath[: -len(".py")].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[i:]) for i in range(len(parts)) if parts[i:]]


def parse_module(relpath: str, text: str) -> ModuleInfo:
    """Parse ``text`` and index it; :class:`ParseError` when it cannot be parsed."""
    tree = _parse(text)
    names = module_names(relpath)
    info = ModuleInfo(relpath=relpath, name=names[0] if names else relpath, tree=tree, lines=text.split("\n"))
    package = info.name if relpath.endswith("__init__.py") else info.name.rpartition(".")[0]
    _index_imports(info, package)
    _index_definitions(info)
    info.frameworks = frozenset(
        fw for fw in _FRAMEWORKS if any(q == fw or q.startswith(fw + ".") for q in info.aliases.values())
    )
    return info


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except SyntaxError as first:
            rewritten = downgrade(text)
            if rewritten is not None:
                # the rewrite failing too reports the original error, which names the user's line
                with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
                    return ast.parse(rewritten)
            raise ParseError(f"syntax error at line {first.lineno}: {first.msg}") from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise ParseError(f"cannot parse: {type(exc).__name__}: {str(exc)[:100]}") from None


def _statements(body: list[ast.stmt], into_definitions: bool = True) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without visiting expressions."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if not into_definitions and isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(stmt, name, None)
            if inner:
                stack.extend(reversed(inner))


def _index_imports(info: ModuleInfo, package: str) -> None:
    for node in _statements(info.tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    info.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    info.aliases[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".") if package else []
                if node.level > 1:
                    parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                if alias.name != "*":
                    info.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name


def _index_definitions(info: ModuleInfo) -> None:
    assigned: dict[str, int] = {}
    for stmt in info.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            info.functions[stmt.name] = FunctionInfo(stmt.name, stmt)
        elif isinstance(stmt, ast.ClassDef):
            info.classes[stmt.name] = stmt
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    qual = f"{stmt.name}.{item.name}"
                    info.functions[qual] = FunctionInfo(qual, item, class_name=stmt.name)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = assigned.get(target.id, 0) + 1
                    value = literal(stmt.value)
                    if value is not _UNKNOWN:
                        info.constants[target.id] = value
                    info.values[target.id] = stmt.value
                    callee = _callee(info, stmt.value)
                    if callee is not None:
                        info.built_by[target.id] = callee
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            assigned[stmt.target.id] = assigned.get(stmt.target.id, 0) + 1
            info.values[stmt.target.id] = stmt.value
            value = literal(stmt.value)
            if value is not _UNKNOWN:
                info.constants[stmt.target.id] = value
    for name, count in assigned.items():
        if count > 1:
            info.constants.pop(name, None)
            info.built_by.pop(name, None)
            info.values.pop(name, None)
    for outer in list(info.functions.values()):
        _index_nested(info, outer)


def _callee(info: ModuleInfo, node: ast.expr) -> str | None:
    """The qualified name of the function ``node`` calls (imports resolved), or None."""
    if not isinstance(node, ast.Call):
        return None
    parts: list[str] = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    return ".".join([info.aliases.get(func.id, func.id), *reversed(parts)])


def _index_nested(info: ModuleInfo, outer: FunctionInfo) -> None:
    """Functions defined inside functions (``def init(app): @app.route(...) def view(): ...``)."""
    for stmt in _statements(outer.node.body, into_definitions=False):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            qual = f"{outer.qualname}.<locals>.{stmt.name}"
            if qual not in info.functions:
                nested = FunctionInfo(qual, stmt, class_name=outer.class_name)
                info.functions[qual] = nested
                _index_nested(info, nested)


_UNKNOWN = object()


def literal(node: ast.expr) -> Any:
    """The value of a literal expression (constants and containers of them), or ``UNKNOWN``."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _UNKNOWN


UNKNOWN = _UNKNOWN
"""Returned by :func:`literal` and constant evaluation when the value is not known."""
