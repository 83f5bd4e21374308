"""Evaluate the simple Terraform expressions found in real templates: references to
variables, locals, count/each and other resources, string templates, and ``a == b ? x : y``.
Anything else becomes :class:`~bastion.scan.iac.model.Unresolved` with the reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bastion.scan.iac.model import Ref, Unresolved

__all__ = ["Scope", "resolve"]

_WHOLE = re.compile(r"^\$\{([^{}]*)\}$", re.S)
_PART = re.compile(r"\$\{([^{}]*)\}")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_REF = re.compile(r"^([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)((?:\[[^\]]*\])?(?:\.[\w-]+|\[[^\]]*\])*)$")
_CONDITIONAL = re.compile(r"^([^?:]+?)\s*\?\s*([^?:]+?)\s*:\s*([^?:]+)$")
_COMPARE = re.compile(r"^(.+?)\s*(==|!=)\s*(.+)$")

Lookup = Callable[[str, str, list[str]], Any]
"""(namespace, name, rest of the path) -> value; namespaces: var, local, count, each, resource."""


class Scope:
    """Where names resolve: a module's variables, locals and resources, and count/each."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup


def _path(rest: str) -> list[str]:
    parts: list[str] = []
    for piece in re.findall(r"\.([\w-]+)|\[([^\]]*)\]", rest):
        key = piece[0] or piece[1].strip().strip('"')
        parts.append(key)
    return parts


def _atom(expr: str, scope: Scope) -> Any:
    expr = expr.strip()
    if expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1].strip()
    if len(expr) >= 2 and expr[0] == expr[-1] == '"' and '"' not in expr[1:-1]:
        return expr[1:-1]
    if expr in ("true", "false"):
        return expr == "true"
    if expr == "null":
        return None
    if _NUMBER.match(expr):
        return float(expr) if "." in expr else int(expr)
    match = _REF.match(expr)
    if match:
        return scope.lookup(match[1], match[2], _path(match[3]))
    return Unresolved(f"expression `{expr[:60]}` is not evaluated")


def _expression(expr: str, scope: Scope) -> Any:
    cond = _CONDITIONAL.match(expr.strip())
    if cond:
        test = _test(cond[1], scope)
        if isinstance(test, Unresolved):
            return test
        return _atom(cond[2] if test else cond[3], scope)
    compare = _COMPARE.match(expr.strip())
    if compare:
        return _test(expr, scope)
    return _atom(expr, scope)


def _test(expr: str, scope: Scope) -> Any:
    compare = _COMPARE.match(expr.strip())
    if compare:
        left, right = _atom(compare[1], scope), _atom(compare[3], scope)
        for side in (left, right):
            if isinstance(side, Unresolved | Ref):
                return side if isinstance(side, Unresolved) else Unresolved(f"{side} is known after apply")
        return (left == right) if compare[2] == "==" else (left != right)
    value = _atom(expr, scope)
    if isinstance(value, Ref):
        return Unresolved(f"{value} is known after apply")
    return value if isinstance(value, Unresolved) else bool(value)


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every ``${...}`` evaluated, recursively through lists and maps."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        whole = _WHOLE.match(value)
        if whole:
            return _expression(whole[1], scope)
        if re.search(r"\$\{[^}]*\{", value):
            return Unresolved(f"expression `{value[:60]}` is not evaluated")
        pieces: list[str] = []
        for part in _PART.finditer(value):
            got = _expression(part[1], scope)
            if isinstance(got, Unresolved):
                return got
            if isinstance(got, Ref):
                return Unresolved(f"{got} is known after apply")
            pieces.append(str(got).lower() if isinstance(got, bool) else str(got))
        texts = iter(pieces)
        return _PART.sub(lambda _m: next(texts), value)
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, scope) for key, item in value.items()}
    return value
