"""Facts about how a value was built: the constant start of a URL, the builder of a statement.

:class:`BuiltValues` is mixed into :class:`~bastion.scan.sast.taint.expressions.ExpressionAnalysis`.
``url_prefix`` answers "does the constant text this string starts with fix where a redirect
goes?" (``f"/alerts/{x}"``: yes; ``f"/{x}"``, ``"//" + x``: no); ``builder`` answers "is this
method called on a parameterised statement?" (``update(t).where(...).values(name=v)``: the
values are bound, not SQL text).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any, Protocol

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.module import UNKNOWN
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.state import State

if TYPE_CHECKING:
    from bastion.scan.sast.taint.module import ModuleInfo

__all__ = ["BuiltValues"]

_MAX_CHAIN = 200
"""Links of a method chain followed before giving up (generated code)."""
_MAX_PIECES = 8
"""Leading pieces of a built string read for its start."""
_PERCENT = re.compile(r"%(?:(\([^)]*\))|[#0 +*-]*\d*(?:\.\d+)?[a-zA-Z]|(%))")
"""A ``%`` placeholder; group 1 names a mapping key (``%(name)s``), group 2 is ``%%``."""
_BRACES = re.compile(r"\{([^{}!:]*)[^{}]*\}")
"""A ``str.format`` field; group 1 is its name or number (empty: the next argument)."""


def _fstring(node: ast.JoinedStr) -> list[ast.expr | str]:
    """An f-string's pieces: its constant text and the expressions between."""
    return [_fstring_piece(value) for value in node.values]


def _fstring_piece(value: ast.expr) -> ast.expr | str:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if isinstance(value, ast.FormattedValue) and value.conversion == -1 and not value.format_spec:
        return value.value
    return value


def _fill(template: str, holes: re.Pattern[str], values: list[ast.expr]) -> list[ast.expr | str]:
    """A ``%`` or ``str.format`` template's leading pieces: its text and the positional values
    that fill its fields, up to a field filled otherwise (``%(name)s``, ``{name}``)."""
    out: list[ast.expr | str] = []
    cursor = 0
    auto = 0
    for match in holes.finditer(template):
        out.append(template[cursor : match.start()])
        cursor = match.end()
        if holes is _PERCENT:
            field = "%" if match.group(2) else "(" if match.group(1) else ""
        else:
            field = match.group(1).strip()
        if field == "%":
            out.append("%")
            continue
        if field.isdigit():
            index = int(field)
        elif field == "":
            index, auto = auto, auto + 1
        else:
            return out
        if index >= len(values) or len(out) >= _MAX_PIECES:
            return out
        out.append(values[index])
    out.append(template[cursor:])
    return out


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

    def _pieces(self: _Host, node: ast.expr, state: State) -> list[ast.expr | str]: ...

    def _named_builder(self: _Host, name: str, state: State) -> str | None: ...


class BuiltValues:
    """``url_prefix`` and ``builder`` for the expression analysis."""

    def url_prefix(self: _Host, node: ast.expr, state: State) -> bool:
        """True when the text ``node`` surely starts with fixes the site a URL built by it goes to.

        The start is read piece by piece (concatenation, f-strings, ``%`` and ``str.format``
        templates with their arguments) while the pieces are constants or same-site URLs the
        server builds (``url_for(...)``, ``reverse(...)``: counted as ``/``, what a route may
        be), up to the first other value."""
        text = ""
        for piece in self._pieces(node, state):
            if isinstance(piece, str):
                text += piece
                continue
            value = self.const(piece, state)
            if isinstance(value, str):
                text += value
            elif (
                isinstance(piece, ast.Call) and self.qualname(piece.func, state) in self.rules.rules.site_urls
            ):
                text += "/"
            else:
                break
        return shapes.fixed_url_prefix(text)

    def _pieces(self: _Host, node: ast.expr, state: State) -> list[ast.expr | str]:
        """The leading pieces of a string-building expression, in order (at most a few)."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            rights: list[ast.expr] = []
            while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and len(rights) < _MAX_CHAIN:
                rights.append(node.right)
                node = node.left
            out: list[ast.expr | str] = (
                [node]
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
                else self._pieces(node, state)
            )
            for right in reversed(rights):
                if len(out) >= _MAX_PIECES:
                    break
                out.extend(_fstring(right) if isinstance(right, ast.JoinedStr) else [right])
            return out[:_MAX_PIECES]
        if isinstance(node, ast.JoinedStr):
            return _fstring(node)[:_MAX_PIECES]
        template: Any = UNKNOWN
        values: list[ast.expr] = []
        holes = _BRACES
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            template = self.const(node.left, state)
            values = list(node.right.elts) if isinstance(node.right, ast.Tuple) else [node.right]
            holes = _PERCENT
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
        ):
            template = self.const(node.func.value, state)
            values = list(node.args)
        if not isinstance(template, str):
            return [node]
        return _fill(template, holes, values)

    def choices(self: _Host, node: ast.expr, state: State) -> list[ast.expr]:
        """The expressions ``node``'s value is one of, when it is chosen among a few: both
        sides of ``a if c else b``, ``getattr(m, "A", b)`` (``m.A`` or ``b``), or a module-level
        name bound once (its expression); empty otherwise."""
        if isinstance(node, ast.IfExp):
            return [node.body, node.orelse]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 3
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            return [ast.Attribute(value=node.args[0], attr=node.args[1].value, ctx=ast.Load()), node.args[2]]
        if isinstance(node, ast.Name) and not (node.id in state.taint or node.id in state.consts):
            value = self.module.values.get(node.id)
            return [value] if value is not None else []
        return []

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
