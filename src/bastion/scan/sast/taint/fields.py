"""Which argument of a constructor call ends up in which attribute of the new object.

``Input(name=raw, role="guest")`` on a dataclass, or on a class whose ``__init__`` does
``self.name = name``, gives ``obj.name`` the taint of ``raw`` and ``obj.role`` none: the
object's fields are tracked as access paths instead of one taint for the whole object.
"""

from __future__ import annotations

import ast
from typing import Protocol

from bastion.scan.sast.taint.state import State
from bastion.scan.sast.taint.values import Step, Taint, add_step

__all__ = ["constructor_fields", "literal_dict_items", "returned_keys"]


class _Evaluator(Protocol):
    """What :func:`returned_keys` uses of the function analysis."""

    def eval(self, node: ast.expr, state: State) -> Taint:
        """The taint of ``node``."""
        ...

    def key(self, node: ast.expr) -> str | None:
        """The access path of ``node``."""
        ...

    def step(self, line: int) -> Step:
        """A trace step at ``line``."""
        ...


def returned_keys(
    analysis: _Evaluator, node: ast.expr, state: State, line: int
) -> dict[str | int, Taint] | None:
    """Each key's taint of a returned dict: a literal with literal keys, or a variable bound to
    one and since written only under literal keys (its ``keyed`` tag); None otherwise."""
    if isinstance(node, ast.Dict):
        items = literal_dict_items(node)
        if items is None:
            return None
        return {name: add_step(analysis.eval(item, state), analysis.step(line)) for name, item in items}
    base = analysis.key(node)
    if base is None or not state.has_tag(base, "keyed"):
        return None
    out: dict[str | int, Taint] = {}
    prefix = base + "["
    for path, value in state.taint.items():
        if not path.startswith(prefix) or not path.endswith("]"):
            continue
        try:
            name = ast.literal_eval(path[len(prefix) : -1])
        except (ValueError, SyntaxError):
            continue
        if isinstance(name, str | int) and not isinstance(name, bool) and path == f"{prefix}{name!r}]":
            out[name] = add_step(value, analysis.step(line))
    return out


def _assigned_in_methods(cls: ast.ClassDef) -> set[str]:
    """Attributes some method assigns through ``self`` (anywhere in its body)."""
    names: set[str] = set()
    for item in cls.body:
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(item):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    names.add(target.attr)
    return names


def _init(cls: ast.ClassDef) -> ast.FunctionDef | None:
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return item
    return None


def _bind(params: list[str], call: ast.Call) -> dict[str, ast.expr] | None:
    """Parameter name -> argument expression; None when the call cannot be bound plainly."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    if len(call.args) > len(params):
        return None
    bound = dict(zip(params, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg not in params or keyword.arg in bound:
            return None
        bound[keyword.arg] = keyword.value
    return bound


def constructor_fields(cls: ast.ClassDef, call: ast.Call) -> dict[str, ast.expr | None] | None:
    """Attribute -> the argument stored there (None: a constant the class sets itself).

    Only what is certain is listed: a parameter stored unchanged by ``__init__`` (or a dataclass
    field), and class-level constants no method reassigns. None when the call cannot be bound.
    """
    init = _init(cls)
    reassigned = _assigned_in_methods(cls)
    fields: dict[str, ast.expr | None] = {}
    for item in cls.body:
        if (
            isinstance(item, ast.Assign)
            and len(item.targets) == 1
            and isinstance(item.targets[0], ast.Name)
            and isinstance(item.value, ast.Constant)
            and item.targets[0].id not in reassigned
        ):
            fields[item.targets[0].id] = None
    if init is None:
        decorated = any("dataclass" in ast.unparse(d) for d in cls.decorator_list) or any(
            isinstance(b, ast.Name) and b.id in ("BaseModel", "NamedTuple") for b in cls.bases
        )
        if not decorated:
            return fields or None
        params = [
            item.target.id
            for item in cls.body
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
        ]
        bound = _bind(params, call)
        if bound is None:
            return None
        for name in params:
            fields[name] = bound.get(name, item_default(cls, name))
        return fields
    args = init.args
    params = [a.arg for a in (*args.posonlyargs, *args.args)][1:] + [a.arg for a in args.kwonlyargs]
    bound = _bind(params, call)
    if bound is None:
        return None
    for stmt in init.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Attribute)
            and isinstance(stmt.targets[0].value, ast.Name)
            and stmt.targets[0].value.id == "self"
        ):
            attr, value = stmt.targets[0].attr, stmt.value
            if isinstance(value, ast.Name) and value.id in params and value.id in bound:
                fields[attr] = bound[value.id]
            elif isinstance(value, ast.Constant):
                fields[attr] = None
            else:
                fields.pop(attr, None)
    return fields


def item_default(cls: ast.ClassDef, name: str) -> ast.expr | None:
    """The default a dataclass field is declared with (None when it has none or it is constant)."""
    for item in cls.body:
        if (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and item.target.id == name
            and item.value is not None
            and not isinstance(item.value, ast.Constant)
        ):
            return item.value
    return None


def literal_dict_items(node: ast.Dict) -> list[tuple[str | int, ast.expr]] | None:
    """``{"a": x, "b": y}`` -> [("a", x), ("b", y)]; None when a key is not a literal or ``**``."""
    items: list[tuple[str | int, ast.expr]] = []
    if len(node.keys) > 64:
        return None
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None or not isinstance(key, ast.Constant):
            return None
        if not isinstance(key.value, str | int) or isinstance(key.value, bool):
            return None
        items.append((key.value, value))
    return items
