"""Python policies: the checks YAML conditions cannot say. Each is named from a YAML policy's
``check: {python: NAME}`` so every policy still has one schema, id, severity and examples."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bastion.scan.iac.iamdoc import IAM_CHECKS
from bastion.scan.iac.model import Outcome, Resource, Result
from bastion.scan.iac.secretcheck import SECRET_CHECKS

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


PYTHON_CHECKS: Mapping[str, Callable[[Resource, Context], Result]] = {
    "k8s_network_policy": _network_policy,
    "docker_non_root": _docker_non_root,
    **IAM_CHECKS,
    **SECRET_CHECKS,
}
