"""Facts about how a value was built: the constant start of a URL, the builder of a statement.

:class:`BuiltValues` is mixed into :class:`~bastion.scan.sast.taint.expressions.ExpressionAnalysis`.
``url_prefix`` answers "does the constant text this string starts with fix where a redirect
goes?" (``f"/alerts/{x}"``: yes; ``f"/{x}"``, ``"//" + x``: no); ``builder`` answers "is this
method called on a parameterised statement?" (``update(t).where(...).values(name=v)``: the
values are bound, not SQL text).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Protocol

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.state import State

if TYPE_CHECKING:
    from bastion.scan.sast.taint.module import ModuleInfo

__all__ = ["BuiltValues"]

_MAX_CHAIN = 200
"""Links of a method chain followed before giving up (generated code)."""


class _Host(Protocol):
    """What these checks use of the expression analysis they are mixed into."""

    module: ModuleInfo
    rules: RuleBook
    built: dict[int, str]

    def const(self, node: ast.expr, state: State) -> Any:
        """The constant value of ``node``."""
        ...

    def qualname(self, node: ast.expr, state: State) -> str | None:
        """The qualified name of ``node``."""
        ...

    def _head(self: _Host, node: ast.expr, state: State) -> Any: ...

    def _named_builder(self: _Host, name: str, state: State) -> str | None: ...


class BuiltValues:
    """``url_prefix`` and ``builder`` for the expression analysis."""

    def url_prefix(self: _Host, node: ast.expr, state: State) -> bool:
        """True when the constant text ``node`` starts with fixes the site a URL built by it goes
        to: concatenation, ``%`` and ``str.format`` up to their first placeholder, f-strings up to
        their first value."""
        return shapes.fixed_url_prefix(self._head(node, state))

    def _head(self: _Host, node: ast.expr, state: State) -> Any:
        for _ in range(_MAX_CHAIN):
            if not isinstance(node, ast.BinOp):
                break
            if isinstance(node.op, ast.Mod):
                template = self.const(node.left, state)
                return template.split("%", 1)[0] if isinstance(template, str) else None
            left = self.const(node.left, state)
            if isinstance(left, str):
                return left
            node = node.left
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            template = self.const(node.func.value, state)
            return template.split("{", 1)[0] if isinstance(template, str) else None
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            return head.value if isinstance(head, ast.Constant) else None
        return self.const(node, state)

    def builder(self: _Host, func: ast.expr, state: State) -> str | None:
        """The statement builder a method call's receiver chain starts from (``sqlalchemy.update``
        for ``update(t).where(...).values``, ``sqlalchemy.Table`` for ``users.insert().values``
        where ``users = Table(...)``), or None."""
        builders = self.rules.builders
        if not builders or not isinstance(func, ast.Attribute):
            return None
        node: ast.expr = func.value
        for _ in range(_MAX_CHAIN):
            if isinstance(node, ast.Call):
                called = self.qualname(node.func, state) or self.built.get(id(node))
                if called in builders:
                    return called
                node = node.func
            elif isinstance(node, ast.Attribute | ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Name):
                return self._named_builder(node.id, state)
            else:
                return None
        return None

    def _named_builder(self: _Host, name: str, state: State) -> str | None:
        for tag in state.tags.get(name, ()):
            if tag.startswith("type:") and tag[len("type:") :] in self.rules.builders:
                return tag[len("type:") :]
        if name in state.taint:
            return None
        found = self.module.built_by.get(name)
        return found if found in self.rules.builders else None
