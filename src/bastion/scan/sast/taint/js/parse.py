"""Parsing JavaScript/TypeScript with tree-sitter (no node needed) and reading module names.

:func:`parse` picks the grammar by suffix (``.ts``: TypeScript, ``.tsx``: TSX, else
JavaScript) and reports a file with syntax errors as a :class:`JsParseError` naming the first
error line. :func:`module_aliases` maps local names to what ``require``/``import`` bound them
to (``cp`` -> ``child_process``, ``exec`` -> ``child_process.exec``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser

__all__ = [
    "JS_SUFFIXES",
    "JsParseError",
    "access_path",
    "children",
    "module_aliases",
    "parse",
    "text_of",
    "walk",
]

JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})
"""Files the JavaScript/TypeScript taint analysis reads."""


class JsParseError(ValueError):
    """A file tree-sitter could not parse cleanly (one line: where)."""


@functools.cache
def _parser(kind: str) -> Parser:
    if kind == "ts":
        return Parser(Language(tree_sitter_typescript.language_typescript()))
    if kind == "tsx":
        return Parser(Language(tree_sitter_typescript.language_tsx()))
    return Parser(Language(tree_sitter_javascript.language()))


def _kind(relpath: str) -> str:
    lower = relpath.lower()
    if lower.endswith((".ts", ".mts", ".cts")):
        return "ts"
    return "tsx" if lower.endswith(".tsx") else "js"


def parse(relpath: str, source: bytes) -> Node:
    """The syntax tree of ``source``; :class:`JsParseError` when it has syntax errors."""
    tree = _parser(_kind(relpath)).parse(source)
    root = tree.root_node
    if root.has_error:
        line = next((n.start_point[0] + 1 for n in walk(root, named=False) if n.is_error or n.is_missing), 1)
        raise JsParseError(f"syntax error near line {line}")
    return root


def walk(root: Node, named: bool = True) -> Iterator[Node]:
    """Every (named) node under ``root``, pre-order, iterative: deep trees cannot overflow the stack."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.named_children if named else node.children))


def children(node: Node) -> list[Node]:
    """Named children without comments."""
    return [c for c in node.named_children if c.type != "comment"]


def text_of(node: Node | None) -> str:
    """The source text of ``node`` ('' for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _string_value(node: Node | None) -> str | None:
    """A module name from a string literal; ``node:fs`` is ``fs``."""
    if node is None or node.type != "string":
        return None
    return text_of(node)[1:-1].removeprefix("node:")


def required_module(node: Node | None) -> str | None:
    """``'x'`` for ``require('x')`` (also ``await import('x')``), else None."""
    while node is not None and node.type in ("await_expression", "parenthesized_expression"):
        node = children(node)[0] if children(node) else None
    if node is None or node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if func is None or args is None or text_of(func) not in ("require", "import"):
        return None
    first = children(args)
    return _string_value(first[0]) if first else None


def module_aliases(root: Node, nodes: list[Node] | None = None) -> dict[str, str]:
    """Local name -> qualified name bound by ``require``/``import`` anywhere in the file
    (``nodes``: the file's nodes when already listed)."""
    out: dict[str, str] = {}
    for node in nodes if nodes is not None else walk(root):
        if node.type == "variable_declarator":
            _from_require(node, out)
        elif node.type == "import_statement":
            _from_import(node, out)
    return out


def _from_require(node: Node, out: dict[str, str]) -> None:
    value = node.child_by_field_name("value")
    name = node.child_by_field_name("name")
    base = required_module(value)
    if base is None and value is not None and value.type == "member_expression":
        inner = required_module(value.child_by_field_name("object"))
        if inner is not None:
            base = f"{inner}.{text_of(value.child_by_field_name('property'))}"
    if base is None or name is None:
        return
    if name.type == "identifier":
        out[text_of(name)] = base
        return
    if name.type == "object_pattern":
        for prop in children(name):
            if prop.type == "shorthand_property_identifier_pattern":
                out[text_of(prop)] = f"{base}.{text_of(prop)}"
            elif prop.type == "pair_pattern":
                key, local = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                if local is not None and local.type == "identifier":
                    out[text_of(local)] = f"{base}.{text_of(key)}"


def _from_import(node: Node, out: dict[str, str]) -> None:
    base = _string_value(node.child_by_field_name("source"))
    if base is None:
        return
    for clause in children(node):
        if clause.type != "import_clause":
            continue
        for part in children(clause):
            if part.type == "identifier":
                out[text_of(part)] = base
            elif part.type == "namespace_import":
                for ident in children(part):
                    out[text_of(ident)] = base
            elif part.type == "named_imports":
                for spec in children(part):
                    name = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias") or name
                    out[text_of(alias)] = f"{base}.{text_of(name)}"


def access_path(node: Node | None) -> str | None:
    """``a.b.c`` for identifiers, member reads and constant subscripts; None otherwise."""
    parts: list[str] = []
    while node is not None:
        kind = node.type
        if kind in ("identifier", "this", "shorthand_property_identifier"):
            parts.append(text_of(node))
            return ".".join(reversed(parts))
        if kind == "member_expression":
            parts.append(text_of(node.child_by_field_name("property")))
            node = node.child_by_field_name("object")
        elif kind == "subscript_expression":
            index = node.child_by_field_name("index")
            if index is None or index.type not in ("string", "number"):
                return None
            raw = text_of(index)
            parts.append(raw[1:-1] if index.type == "string" else raw)
            node = node.child_by_field_name("object")
        elif kind in ("parenthesized_expression", "non_null_expression", "as_expression"):
            inner = children(node)
            node = inner[0] if inner else None
        else:
            return None
    return None
