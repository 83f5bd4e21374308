"""Constant folding for JavaScript conditions: ``if (false)``, ``1 > 2``, ``DEBUG`` consts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tree_sitter import Node

from bastion.scan.sast.taint.js.parse import children, text_of

__all__ = ["UNKNOWN", "const_value", "literal"]

UNKNOWN = object()
"""Marker: the value is not a compile-time constant."""

_COMPARE: dict[str, Callable[[Any, Any], object]] = {
    "===": lambda a, b: a == b and type(a) is type(b),
    "!==": lambda a, b: not (a == b and type(a) is type(b)),
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "%": lambda a, b: a % b,
}


def literal(node: Node) -> object:
    """The value of a literal node, or :data:`UNKNOWN`."""
    kind = node.type
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind in ("null", "undefined"):
        return None
    if kind == "number":
        try:
            return float(text_of(node).replace("_", ""))
        except ValueError:
            return UNKNOWN
    if kind == "string":
        return text_of(node)[1:-1]
    if kind == "template_string" and not any(c.type == "template_substitution" for c in children(node)):
        return text_of(node)[1:-1]
    return UNKNOWN


def const_value(node: Node | None, consts: Mapping[str, object], depth: int = 0) -> object:
    """The value of ``node`` when it is built from literals and constants only."""
    if node is None or depth > 50:
        return UNKNOWN
    kind = node.type
    if kind == "parenthesized_expression":
        inner = children(node)
        return const_value(inner[-1], consts, depth + 1) if inner else UNKNOWN
    if kind == "identifier":
        return consts.get(text_of(node), UNKNOWN)
    if kind == "unary_expression":
        operand = const_value(node.child_by_field_name("argument"), consts, depth + 1)
        op = text_of(node.child_by_field_name("operator"))
        if operand is UNKNOWN:
            return UNKNOWN
        if op == "!":
            return not operand
        return -operand if op == "-" and isinstance(operand, float) else UNKNOWN
    if kind == "binary_expression":
        return _binary(node, consts, depth)
    return literal(node)


def _binary(node: Node, consts: Mapping[str, object], depth: int) -> object:
    op = text_of(node.child_by_field_name("operator"))
    left = const_value(node.child_by_field_name("left"), consts, depth + 1)
    if op == "&&" and left is not UNKNOWN and not left:
        return left
    if op == "||" and left is not UNKNOWN and left:
        return left
    right = const_value(node.child_by_field_name("right"), consts, depth + 1)
    if op == "&&" and right is not UNKNOWN and not right:
        return False  # `anything && false` never holds (as a condition)
    if op == "||" and right is not UNKNOWN and right:
        return True
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if op in ("&&", "||"):
        return right
    func = _COMPARE.get(op)
    if func is None:
        return UNKNOWN
    try:
        return func(left, right)
    except TypeError:
        return UNKNOWN
