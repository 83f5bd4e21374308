"""Constant folding for the Python taint analysis: values known before the program runs.

:class:`ConstantValues` is mixed into :class:`~bastion.scan.sast.taint.expressions.ExpressionAnalysis`;
``if DEBUG:``, ``(7 * 18) + 106 > 200`` and ``"a" in ("a", "b")`` are decided here, so dead
branches are skipped and constant arguments are known safe.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.module import UNKNOWN, literal
from bastion.scan.sast.taint.state import State

if TYPE_CHECKING:
    from bastion.scan.sast.taint.module import ModuleInfo

__all__ = ["ConstantValues"]

_BIG = 10_000
"""Containers and strings longer than this are not folded (generated data)."""


class ConstantValues:
    """``const(node, state)``: the value of an expression built from constants, else ``UNKNOWN``."""

    module: ModuleInfo

    def const(self, node: ast.expr, state: State) -> Any:
        """The value of ``node`` when it is known before running the program, else ``UNKNOWN``."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in state.consts:
                return state.consts[node.id]
            if node.id in state.taint:
                return UNKNOWN
            return self.module.constants.get(node.id, UNKNOWN)
        if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
            return (
                literal(node)
                if len(node.elts if not isinstance(node, ast.Dict) else node.keys) < _BIG
                else UNKNOWN
            )
        if isinstance(node, ast.UnaryOp):
            value = self.const(node.operand, state)
            if value is UNKNOWN:
                return UNKNOWN
            if isinstance(node.op, ast.Not):
                return not value
            return -value if isinstance(node.op, ast.USub) and isinstance(value, int | float) else UNKNOWN
        if isinstance(node, ast.BoolOp):
            conjunction = isinstance(node.op, ast.And)
            unknown = False
            for sub in node.values:
                value = self.const(sub, state)
                if value is UNKNOWN:
                    unknown = True
                elif bool(value) != conjunction:
                    return value  # short-circuit: a false operand of `and`, a true one of `or`
            return UNKNOWN if unknown else value
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self.const(node.left, state), self.const(node.comparators[0], state)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return shapes.compare(node.ops[0], left, right)
        if isinstance(node, ast.BinOp):
            left, right = self.const(node.left, state), self.const(node.right, state)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return shapes.arith(node.op, left, right)
        if isinstance(node, ast.Subscript):
            value, index = self.const(node.value, state), self.const(node.slice, state)
            if (
                isinstance(value, str | tuple | list | dict)
                and isinstance(index, int | str)
                and len(value) < _BIG
            ):
                try:
                    return value[index]  # type: ignore[index]
                except (IndexError, KeyError, TypeError):
                    return UNKNOWN
            return UNKNOWN
        fold = shapes.fold(node)
        if fold is not None:
            value = self.const(fold[1], state)
            if value is UNKNOWN:
                return UNKNOWN
            try:
                return shapes.FOLDS[fold[0]](value)
            except (TypeError, ValueError):
                return UNKNOWN
        return UNKNOWN
