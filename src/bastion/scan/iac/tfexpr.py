"""Resolve the ``${...}`` expressions python-hcl2 leaves in Terraform values, recursively through
lists and maps, with :mod:`bastion.scan.iac.tfeval`. What cannot be computed from the files becomes
:class:`~bastion.scan.iac.model.Unresolved` with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion.scan.iac.tfeval import Functions, evaluate_template

__all__ = ["Scope", "resolve"]

Lookup = Callable[[str, str, list[str]], Any]
"""(namespace, name, rest of the path) -> value; namespaces: var, local, count, each, data, module,
or a resource type."""


class Scope:
    """Where names resolve: a module's variables, locals and resources, and count/each."""

    def __init__(self, lookup: Lookup, functions: Functions | None = None) -> None:
        self.lookup = lookup
        self.functions = functions


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every ``${...}`` evaluated, recursively through lists and maps."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        return evaluate_template(value, scope.lookup, scope.functions)
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, scope) for key, item in value.items()}
    return value
