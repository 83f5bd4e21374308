"""A small evaluator for Terraform expressions as python-hcl2 writes them (``${...}`` text).

It parses the expression language (literals, templates, lists, objects, traversals, operators,
conditionals, ``for`` expressions, splats, function calls) and computes what is computable from
the files: variables with defaults, locals, ``jsonencode``, ``merge``, ``concat``, ``lookup``,
``format``, ``cidrsubnet`` and the other pure functions. A value that depends on something outside
the files stays :class:`~bastion.scan.iac.model.Unresolved` with the reason; a reference to another
resource's attribute stays a :class:`~bastion.scan.iac.model.Ref` (set, value known after apply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bastion.scan.iac.model import Ref, Unresolved
from bastion.scan.iac.tffuncs import FUNCTIONS, blocker, to_text
from bastion.scan.iac.tfparse import Node, ParseError, parse, scan_raw_template

__all__ = ["Lookup", "ParseError", "evaluate_expression", "evaluate_template"]

Lookup = Callable[[str, str, list[str]], Any]
"""(namespace, name, rest of the path) -> value."""
Functions = dict[str, Callable[..., Any]]
"""Functions bound to where the expression is (``file()`` reads relative to its module)."""

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
        parts, _ = scan_raw_template(text)
    except ParseError as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")
    evaluator = _Evaluator(lookup, bound or {}, functions)
    try:
        return evaluator._settle(evaluator._tmpl(tuple(parts)))
    except (ParseError, RecursionError) as exc:
        return Unresolved(f"expression `{text[:60]}` is not evaluated ({exc})")
