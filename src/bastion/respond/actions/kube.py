"""Quarantine a Kubernetes pod: label it and make sure a deny-all NetworkPolicy selects the label.

Through the official ``kubernetes`` client. Apply merges the label ``bastion.io/quarantine=true``
into the pod and creates the NetworkPolicy ``bastion-quarantine`` in its namespace (empty ingress
and egress: nothing in, nothing out) when it is not there. Undo removes the label (if apply added
it) and deletes the policy (if apply created it and no other pod still carries the label).
The target is ``namespace/pod``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.respond.actions.base import ActionError, Plan, TargetGone, TargetKind

__all__ = ["QuarantinePod"]

LABEL = "bastion.io/quarantine"
POLICY = "bastion-quarantine"
MERGE_PATCH = "application/merge-patch+json"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$")


def policy_body(namespace: str) -> dict[str, Any]:
    """The deny-all NetworkPolicy for quarantined pods."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": POLICY,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "bastion"},
        },
        "spec": {"podSelector": {"matchLabels": {LABEL: "true"}}, "policyTypes": ["Ingress", "Egress"]},
    }


@dataclass
class QuarantinePod:
    """``quarantine-pod``."""

    api_url: str
    token: str
    kind: TargetKind = TargetKind.HOST

    def _split(self, target: str) -> tuple[str, str]:
        if not _NAME.match(target):
            raise ActionError(f"quarantine-pod: {target!r} is not namespace/pod")
        namespace, pod = target.split("/", 1)
        return namespace, pod

    def _apis(self) -> tuple[Any, Any, Any]:
        try:
            from kubernetes import client
        except ImportError:
            raise ActionError(
                "quarantine-pod needs the kubernetes client (pip install 'bastion[respond]')"
            ) from None
        config = client.Configuration(host=self.api_url)
        if self.token:
            config.api_key = {"BearerToken": self.token}
            config.api_key_prefix = {"BearerToken": "Bearer"}
        api = client.ApiClient(config)
        return client.CoreV1Api(api), client.NetworkingV1Api(api), client.exceptions.ApiException

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        _, _, api_exception = self._apis()
        try:
            return func(*args, **kwargs)
        except api_exception as exc:
            if exc.status == 404:
                raise TargetGone(f"quarantine-pod: {what} not found") from None
            raise ActionError(f"quarantine-pod: Kubernetes API answered {exc.status} for {what}") from None
        except OSError as exc:
            raise ActionError(
                f"quarantine-pod: cannot reach the Kubernetes API ({type(exc).__name__})"
            ) from None

    def plan(self, target: str) -> Plan:
        """The two API requests that would be made."""
        namespace, pod = self._split(target)
        return Plan(
            "quarantine-pod",
            target,
            f"isolate pod {pod} in {namespace}: label {LABEL}=true and a deny-all NetworkPolicy",
            (
                f"PATCH /api/v1/namespaces/{namespace}/pods/{pod} metadata.labels.{LABEL}=true",
                f"POST /apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies {POLICY}"
                " (if absent)",
            ),
        )

    def check(self, target: str) -> str:
        """``quarantined`` when the pod carries the label, else ``free``."""
        namespace, pod = self._split(target)
        core, _, _ = self._apis()
        found = self._call(f"pod {target}", core.read_namespaced_pod, pod, namespace)
        labels = (found.metadata.labels or {}) if found.metadata else {}
        return "quarantined" if labels.get(LABEL) == "true" else "free"

    def _policy_exists(self, namespace: str) -> bool:
        _, net, _ = self._apis()
        try:
            self._call("policy", net.read_namespaced_network_policy, POLICY, namespace)
        except TargetGone:
            return False
        return True

    def apply(self, target: str) -> dict[str, Any]:
        """Label the pod, then create the policy if needed."""
        namespace, pod = self._split(target)
        core, net, _ = self._apis()
        labelled = self.check(target) == "free"
        if labelled:
            body = {"metadata": {"labels": {LABEL: "true"}}}
            self._call(
                f"pod {target}", core.patch_namespaced_pod, pod, namespace, body, _content_type=MERGE_PATCH
            )
        created = not self._policy_exists(namespace)
        if created:
            from kubernetes.client import V1NetworkPolicy

            policy = V1NetworkPolicy.from_dict(policy_body(namespace))
            self._call("policy", net.create_namespaced_network_policy, namespace, policy)
        return {"labelled": labelled, "created_policy": created}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Remove what apply added."""
        namespace, pod = self._split(target)
        core, net, _ = self._apis()
        if saved.get("labelled"):
            body = {"metadata": {"labels": {LABEL: None}}}
            self._call(
                f"pod {target}", core.patch_namespaced_pod, pod, namespace, body, _content_type=MERGE_PATCH
            )
        if saved.get("created_policy"):
            others = self._call("pods", core.list_namespaced_pod, namespace, label_selector=f"{LABEL}=true")
            if not others.items and self._policy_exists(namespace):
                self._call("policy", net.delete_namespaced_network_policy, POLICY, namespace)
