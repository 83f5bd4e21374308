"""A small evaluator for Terraform expressions as python-hcl2 writes them (``${...}`` text).

It parses the expression language (literals, templates, lists, objects, traversals, operators,
conditionals, ``for`` expressions, splats, function calls) and computes what is computable from
the files: variables with defaults, locals, ``jsonencode``, ``merge``, ``concat``, ``lookup``,
``format``, ``cidrsubnet`` and the other pure functions. A value that depends on something outside
the files stays :class:`~bastion.scan.iac.model.Unresolved` with the reason; a reference to another
resource's attribute stays a :class:`~bastion.scan.iac.model.Ref` (set, value known after apply).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bastion.scan.iac.model import Ref, Unresolved
from bastion.scan.iac.tffuncs import FUNCTIONS, blocker, to_text

__all__ = ["Lookup", "ParseError", "evaluate_expression", "evaluate_template"]

Lookup = Callable[[str, str, list[str]], Any]
"""(namespace, name, rest of the path) -> value."""
Functions = dict[str, Callable[..., Any]]
"""Functions bound to where the expression is (``file()`` reads relative to its module)."""

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
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _matching(text, i + 2)
            if text[i] == "%":
                raise ParseError("template directives are not evaluated")
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(Node("expr_text", (text[i + 2 : end],)))
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    raise ParseError("unterminated string")


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


_ROOTS = {"var", "local", "count", "each", "data", "module", "path", "terraform", "self"}


class _Evaluator:
    def __init__(self, lookup: Lookup, bound: dict[str, Any], functions: Functions | None = None) -> None:
        self.lookup = lookup
        self.bound = bound
        self.functions = functions or {}

    def run(self, node: Node) -> Any:
        handler = getattr(self, f"_{node.kind}")
        return handler(*node.args)

    def _lit(self, value: Any) -> Any:
        return value

    def _expr_text(self, text: str) -> Any:
        return self._settle(self.run(parse(text)))

    def _tmpl(self, parts: tuple[Any, ...]) -> Any:
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.run(part)
            if len(parts) == 1:
                return value  # "${x}" is x itself, not its text
            stop = blocker(value)
            if stop is not None:
                return stop
            text = to_text(value)
            if isinstance(text, Unresolved):
                return text
            pieces.append(text)
        return "".join(pieces)

    def _name(self, name: str) -> Any:
        if name in self.bound:
            return self.bound[name]
        return _Traversal(name, [])

    def _get(self, base: Node, index: Node) -> Any:
        target = self.run(base)
        key = self._settle(self.run(index))
        if isinstance(target, _Traversal):
            if isinstance(key, Unresolved | Ref):
                return _unknown(key)
            return _Traversal(target.root, [*target.rest, to_text_key(key)])
        return _index(target, key)

    def _settle(self, value: Any) -> Any:
        if not isinstance(value, _Traversal):
            return value
        if not value.rest:
            if value.root in _ROOTS:
                return Unresolved(f"`{value.root}` used on its own")
            return Unresolved(f"`{value.root}` is not a known name")
        head, *rest = value.rest
        if value.root == "data" and rest:
            return self.lookup("data", f"{head}.{rest[0]}", rest[1:])
        if value.root == "path":
            return self.lookup("path", head, rest)
        if value.root == "terraform":
            return Unresolved(f"terraform.{head} depends on the workspace")
        if value.root == "self":
            return Unresolved(f"self.{head} is known after apply")
        return self.lookup(value.root, head, rest)

    def _splat(self, base: Node) -> Any:
        value = self._settle(self.run(base))
        if isinstance(value, Unresolved | Ref):
            return value
        return Unresolved("splat expressions over resources are known after apply")

    def _list(self, items: tuple[Node, ...]) -> Any:
        return [self._settle(self.run(item)) for item in items]

    def _obj(self, pairs: tuple[tuple[Node, Node], ...]) -> Any:
        out: dict[str, Any] = {}
        for key_node, value_node in pairs:
            key = self._settle(self.run(key_node))
            if isinstance(key, Unresolved | Ref):
                return _unknown(key)
            out[to_text_key(key)] = self._settle(self.run(value_node))
        return out

    def _cond(self, test: Node, yes: Node, no: Node) -> Any:
        value = self._settle(self.run(test))
        if isinstance(value, Unresolved | Ref):
            return _unknown(value)
        if not isinstance(value, bool):
            return Unresolved(f"condition is {value!r}, not a bool")
        return self._settle(self.run(yes if value else no))

    def _un(self, op: str, operand: Node) -> Any:
        value = self._settle(self.run(operand))
        if isinstance(value, Unresolved | Ref):
            return _unknown(value)
        if op == "!":
            return not value if isinstance(value, bool) else Unresolved(f"!{value!r} is not a bool")
        number = _number(value)
        return -number if number is not None else Unresolved(f"-{value!r} is not a number")

    def _bin(self, op: str, left_node: Node, right_node: Node) -> Any:
        left = self._settle(self.run(left_node))
        if op in ("&&", "||") and isinstance(left, bool) and left == (op == "||"):
            return left
        right = self._settle(self.run(right_node))
        for side in (left, right):
            stop = blocker(side)
            if stop is not None:
                return stop
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        if op in ("&&", "||"):
            if not isinstance(left, bool) or not isinstance(right, bool):
                return Unresolved(f"{op} on non-bool values")
            return (left and right) if op == "&&" else (left or right)
        a, b = _number(left), _number(right)
        if a is None or b is None:
            return Unresolved(f"{op} on non-numbers")
        if op in ("<", ">", "<=", ">="):
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if op in ("/", "%") and b == 0:
            return Unresolved("division by zero")
        result = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "%": a % b}[op]
        return int(result) if isinstance(result, float) and result.is_integer() and op != "/" else result

    def _call(self, name: str, args: tuple[Node, ...], expand: bool) -> Any:
        short = name.split("::")[-1]
        function = self.functions.get(short) or FUNCTIONS.get(short)
        if function is None:
            return Unresolved(f"function {name}() is not evaluated")
        values = [self._settle(self.run(arg)) for arg in args]
        if expand and values:
            last = values.pop()
            if not isinstance(last, list):
                return (
                    _unknown(last) if isinstance(last, Unresolved | Ref) else Unresolved("... on a non-list")
                )
            values.extend(last)
        try:
            return function(*values)
        except (TypeError, ValueError, IndexError, KeyError, ArithmeticError) as exc:
            return Unresolved(f"{name}() failed on these arguments: {exc}"[:120], error=True)

    def _for(
        self,
        names: tuple[str, ...],
        collection: Node,
        first: Node,
        second: Node | None,
        condition: Node | None,
        group: bool,
        close: str,
    ) -> Any:
        source = self._settle(self.run(collection))
        if isinstance(source, Unresolved | Ref):
            return _unknown(source)
        if isinstance(source, dict):
            pairs = list(source.items())
        elif isinstance(source, list):
            pairs = list(enumerate(source))
        else:
            return Unresolved("for over a value that is not a collection")
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        for key, item in pairs:
            bound = dict(self.bound)
            if len(names) == 2:
                bound[names[0]], bound[names[1]] = key, item
            else:
                bound[names[0]] = item
            inner = _Evaluator(self.lookup, bound, self.functions)
            if condition is not None:
                keep = inner._settle(inner.run(condition))
                if not isinstance(keep, bool):
                    return (
                        _unknown(keep) if isinstance(keep, Unresolved | Ref) else Unresolved("for condition")
                    )
                if not keep:
                    continue
            value = inner._settle(inner.run(first))
            if close == "]":
                out_list.append(value)
                continue
            if isinstance(value, Unresolved | Ref):
                return _unknown(value)
            result = inner._settle(inner.run(second)) if second is not None else None
            label = to_text_key(value)
            if group:
                out_map.setdefault(label, []).append(result)
            else:
                out_map[label] = result
        return out_list if close == "]" else out_map


@dataclass
class _Traversal:
    """A reference not yet looked up (``var.x``, ``aws_s3_bucket.b``): its root and path."""

    root: str
    rest: list[str]


def _unknown(value: Any) -> Unresolved:
    return value if isinstance(value, Unresolved) else Unresolved(f"{value} is known after apply")


def to_text_key(value: Any) -> str:
    """An object key as Terraform writes it (``true``, ``1``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return None
    return None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    a, b = _number(left), _number(right)
    if isinstance(left, int | float) and isinstance(right, int | float) and a is not None:
        return a == b
    return bool(left == right)


def _index(target: Any, key: Any) -> Any:
    if isinstance(target, Unresolved | Ref):
        return target
    if isinstance(key, Unresolved | Ref):
        return _unknown(key)
    if isinstance(target, dict):
        label = to_text_key(key)
        return target[label] if label in target else Unresolved(f"no key {label!r} in the map", error=True)
    if isinstance(target, list):
        number = _number(key)
        if isinstance(number, int) and 0 <= number < len(target):
            return target[number]
        return Unresolved(f"index {key!r} is out of range", error=True)
    return Unresolved(f"cannot index {type(target).__name__}", error=True)


def evaluate_expression(
    text: str, lookup: Lookup, bound: dict[str, Any] | None = None, functions: Functions | None = None
) -> Any:
    """The value of one expression (the inside of ``${...}``)."""
    try:
        node = parse(text)
    except (ParseError, RecursionError, ValueError) as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")
    evaluator = _Evaluator(lookup, bound or {}, functions)
    try:
        return evaluator._settle(evaluator.run(node))
    except (ParseError, RecursionError) as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")


def evaluate_template(
    text: str, lookup: Lookup, functions: Functions | None = None, bound: dict[str, Any] | None = None
) -> Any:
    """The value of a string as python-hcl2 writes it: literal text with ``${...}`` parts."""
    try:
        parts, _ = _scan_raw_template(text)
    except ParseError as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")
    evaluator = _Evaluator(lookup, bound or {}, functions)
    try:
        return evaluator._settle(evaluator._tmpl(tuple(parts)))
    except (ParseError, RecursionError) as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")


def _scan_raw_template(text: str) -> tuple[list[Any], int]:
    """Parts of an unquoted template: literal text as is, ``${...}`` as expression text."""
    parts: list[Any] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            if text[i] == "%":
                raise ParseError("template directives are not evaluated")
            end = _matching(text, i + 2)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(Node("expr_text", (text[i + 2 : end],)))
            i = end + 1
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append("".join(buf))
    return parts, i
