"""Python policies: the checks YAML conditions cannot say. Each is named from a YAML policy's
``check: {python: NAME}`` so every policy still has one schema, id, severity and examples."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bastion.scan.iac.model import Outcome, Ref, Resource, Result, Unresolved

if TYPE_CHECKING:
    from bastion.scan.iac.conditions import Context

__all__ = ["PYTHON_CHECKS"]

_ROOT_USERS = {"root", "0"}


def _network_policy(resource: Resource, ctx: Context) -> Result:
    """A workload's namespace has at least one NetworkPolicy among the scanned manifests."""
    namespace = resource.attrs.get("_namespace", "default")
    for policy in ctx.of_type("k8s.NetworkPolicy"):
        meta = policy.attrs.get("metadata") or {}
        if (meta.get("namespace") or "default") == namespace:
            return Result(Outcome.PASS)
    return Result(
        Outcome.FAIL, "metadata", f"no NetworkPolicy in namespace {namespace!r} restricts its traffic"
    )


def _docker_non_root(resource: Resource, _ctx: Context) -> Result:
    """The final stage switches to a user other than root."""
    user = resource.attrs.get("final_user")
    if user is None:
        return Result(Outcome.FAIL, "", "no USER instruction in the final stage: the container runs as root")
    if str(user).strip().lower() in _ROOT_USERS:
        return Result(Outcome.FAIL, "final_user", f"USER {user} runs the container as root")
    if str(user).startswith("$"):
        return Result(Outcome.UNKNOWN, "final_user", f"USER {user} is set at build time")
    return Result(Outcome.PASS)


def _statements(document: Any) -> list[dict[str, Any]] | Result:
    if isinstance(document, Unresolved):
        return Result(Outcome.UNKNOWN, "policy", document.reason)
    if isinstance(document, Ref):
        return Result(Outcome.UNKNOWN, "policy", f"{document} is known after apply")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return Result(Outcome.UNKNOWN, "policy", "the policy document is not literal JSON")
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _iam_admin(resource: Resource, _ctx: Context) -> Result:
    """No statement allows every action on every resource."""
    key = next((k for k in ("policy", "PolicyDocument", "assume_role_policy") if k in resource.attrs), None)
    if key is None:
        return Result(Outcome.PASS)
    statements = _statements(resource.attrs[key])
    if isinstance(statements, Result):
        return statements
    for statement in statements:
        if str(statement.get("Effect", "Allow")) != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        targets = [str(r) for r in _as_list(statement.get("Resource", []))]
        if "*" in actions and "*" in targets:
            return Result(Outcome.FAIL, key, 'a statement allows Action "*" on Resource "*" (full admin)')
    return Result(Outcome.PASS)


def _iam_wildcard_action(resource: Resource, _ctx: Context) -> Result:
    """No statement allows a whole service (``s3:*``) or every action."""
    key = next((k for k in ("policy", "PolicyDocument") if k in resource.attrs), None)
    if key is None:
        return Result(Outcome.PASS)
    statements = _statements(resource.attrs[key])
    if isinstance(statements, Result):
        return statements
    for statement in statements:
        if str(statement.get("Effect", "Allow")) == "Allow":
            wild = [
                a for a in _as_list(statement.get("Action", [])) if str(a) == "*" or str(a).endswith(":*")
            ]
            if wild:
                return Result(Outcome.FAIL, key, f"a statement allows wildcard actions {wild[:3]}")
    return Result(Outcome.PASS)


PYTHON_CHECKS: Mapping[str, Callable[[Resource, Context], Result]] = {
    "k8s_network_policy": _network_policy,
    "docker_non_root": _docker_non_root,
    "iam_no_admin": _iam_admin,
    "iam_no_wildcard_action": _iam_wildcard_action,
}
