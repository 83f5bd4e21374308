"""The parser behind :mod:`bastion.scan.iac.tfeval`: Terraform expression text as python-hcl2 writes
it (the inside of ``${...}``) to a small tree of :class:`Node` s, and template text to its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "Node", "ParseError", "parse", "scan_raw_template"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<ident>[A-Za-z_][\w-]*)
    | (?P<str>")
    | (?P<op>\.\.\.|==|!=|<=|>=|&&|\|\||=>|[-+*/%!<>?:.,()\[\]{}=])
    )""",
    re.X,
)
MAX_DEPTH = 64


class ParseError(Exception):
    """The text is not an expression this evaluator reads."""


@dataclass(frozen=True)
class Node:
    """One node of the expression tree."""

    kind: str
    args: tuple[Any, ...]


def _scan_string(text: str, at: int) -> tuple[list[Any], int]:
    """The parts (str or expression text) of the quoted string starting after ``at``'s quote."""
    parts: list[Any] = []
    buf: list[str] = []
    i = at
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                buf.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            buf.append(escapes.get(nxt, nxt))
            i += 2
            continue
        if ch == '"':
            if buf:
                parts.append("".join(buf))
            return parts, i + 1
        after = _template_part(text, i, buf, parts)
        if after is not None:
            i = after
            continue
        buf.append(ch)
        i += 1
    raise ParseError("unterminated string")


def _template_part(text: str, i: int, buf: list[str], parts: list[Any]) -> int | None:
    """At ``text[i]``: an escaped ``$${``/``%%{`` (its two characters go to ``buf``) or a
    ``${...}`` interpolation (``buf`` is flushed to ``parts``, then the expression text);
    the index after it, or None when neither starts there. Directives (``%{``) are refused."""
    if text.startswith("$${", i) or text.startswith("%%{", i):
        buf.append(text[i + 1 : i + 3])
        return i + 3
    if text.startswith("${", i) or text.startswith("%{", i):
        if text[i] == "%":
            raise ParseError("template directives are not evaluated")
        end = _matching(text, i + 2)
        if buf:
            parts.append("".join(buf))
            buf.clear()
        parts.append(Node("expr_text", (text[i + 2 : end],)))
        return end + 1
    return None


def _matching(text: str, at: int) -> int:
    """Index of the ``}`` closing a ``${`` whose body starts at ``at``."""
    depth = 0
    i = at
    while i < len(text):
        ch = text[i]
        if ch == '"':
            _, i = _scan_string(text, i + 1)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise ParseError("unbalanced braces")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, Any]] = []
        i = 0
        while True:
            match = _TOKEN.match(text, i)
            if match is None:
                if text[i:].strip():
                    raise ParseError(f"unexpected {text[i : i + 10]!r}")
                break
            kind = match.lastgroup or ""
            if kind == "str":
                parts, i = _scan_string(text, match.end())
                self.tokens.append(("str", parts))
                continue
            self.tokens.append((kind, match.group(kind)))
            i = match.end()
        self.at = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> tuple[str, Any]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if value is not None and token[1] != value:
            raise ParseError(f"expected {value!r}, got {token[1]!r}")
        self.at += 1
        return token

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] in ("op", "ident"):
            self.at += 1
            return True
        return False

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("expression nested too deep")
        cond = self.binary(0)
        if self.accept("?"):
            yes = self.expression()
            self.take(":")
            no = self.expression()
            cond = Node("cond", (cond, yes, no))
        self.depth -= 1
        return cond

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self._LEVELS[level]:
            op = self.take()[1]
            left = Node("bin", (op, left, self.binary(level + 1)))
        return left

    def unary(self) -> Node:
        if self.peek() in (("op", "!"), ("op", "-")):
            op = self.take()[1]
            return Node("un", (op, self.unary()))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            kind, value = self.peek()
            if (kind, value) == ("op", ".") and self.peek(1) == ("op", "*"):
                self.at += 2
                node = Node("splat", (node,))
                continue
            if (kind, value) == ("op", "["):
                if self.peek(1) == ("op", "*"):
                    self.at += 3
                    node = Node("splat", (node,))
                    continue
                self.take("[")
                index = self.expression()
                self.take("]")
                node = Node("get", (node, index))
            elif (kind, value) == ("op", "."):
                self.take(".")
                name_kind, name = self.take()
                if name_kind not in ("ident", "num"):
                    raise ParseError("expected an attribute name")
                node = Node("get", (node, Node("lit", (name,))))
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Node("lit", (float(value) if any(c in value for c in ".eE") else int(value),))
        if kind == "str":
            return Node("tmpl", (tuple(value),))
        if kind == "ident":
            if value in ("true", "false"):
                return Node("lit", (value == "true",))
            if value == "null":
                return Node("lit", (None,))
            if self.peek() == ("op", "("):
                return self.call(value)
            return Node("name", (value,))
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if value == "[":
            return self.sequence()
        if value == "{":
            return self.mapping()
        raise ParseError(f"unexpected {value!r}")

    def call(self, name: str) -> Node:
        self.take("(")
        args: list[Node] = []
        expand = False
        while not self.accept(")"):
            args.append(self.expression())
            if self.accept("..."):
                expand = True
            if not self.accept(","):
                self.take(")")
                break
        return Node("call", (name, tuple(args), expand))

    def sequence(self) -> Node:
        if self.peek() == ("ident", "for"):
            return self.for_expr("]")
        items: list[Node] = []
        while not self.accept("]"):
            items.append(self.expression())
            if not self.accept(","):
                self.take("]")
                break
        return Node("list", (tuple(items),))

    def mapping(self) -> Node:
        if self.peek() == ("ident", "for"):
            return self.for_expr("}")
        pairs: list[tuple[Node, Node]] = []
        while not self.accept("}"):
            key_kind, key_value = self.peek()
            if key_kind == "ident" and self.peek(1)[1] in ("=", ":"):
                self.at += 1
                key: Node = Node("lit", (key_value,))
            else:
                key = self.expression()
            if not (self.accept("=") or self.accept(":")):
                raise ParseError("expected = in an object")
            pairs.append((key, self.expression()))
            self.accept(",")
        return Node("obj", (tuple(pairs),))

    def for_expr(self, close: str) -> Node:
        self.take("for")
        names = [self.take()[1]]
        if self.accept(","):
            names.append(self.take()[1])
        self.take("in")
        collection = self.expression()
        self.take(":")
        first = self.expression()
        second = None
        group = False
        if close == "}":
            self.take("=>")
            second = self.expression()
            group = self.accept("...")
        condition = None
        if self.accept("if"):
            condition = self.expression()
        self.take(close)
        return Node("for", (tuple(names), collection, first, second, condition, group, close))


def parse(text: str) -> Node:
    """The expression tree of ``text``; :class:`ParseError` when it is not one expression."""
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek()[0] != "end":
        raise ParseError(f"unexpected {parser.peek()[1]!r}")
    return node


def scan_raw_template(text: str) -> tuple[list[Any], int]:
    """Parts of an unquoted template: literal text as is, ``${...}`` as expression text."""
    parts: list[Any] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        after = _template_part(text, i, buf, parts)
        if after is not None:
            i = after
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append("".join(buf))
    return parts, i
