"""quarantine-pod through the kubernetes client against a stand-in API server on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from bastion.respond.actions.base import ActionError, TargetGone

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed: quarantine-pod not tested")

from bastion.respond.actions.kube import LABEL, POLICY, QuarantinePod


class ApiServer(BaseHTTPRequestHandler):
    """Pods and NetworkPolicies of the core and networking.k8s.io/v1 APIs, in memory."""

    pods: ClassVar[dict[tuple[str, str], dict[str, Any]]] = {}
    policies: ClassVar[dict[tuple[str, str], dict[str, Any]]] = {}
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self) -> None:
        self._send(
            404,
            {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404},
        )

    def _route(self) -> tuple[str, str, str | None, dict[str, list[str]]]:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        self.seen.append((self.command, url.path, self.headers.get("Content-Type", "")))
        if self.headers.get("Authorization") != "Bearer kube-test-token":
            return "denied", "", None, {}
        kind = "pods" if url.path.startswith("/api/v1/") else "networkpolicies"
        namespace = parts[parts.index("namespaces") + 1]
        name = parts[-1] if parts[-1] != kind else None
        return kind, namespace, name, parse_qs(url.query)

    def do_GET(self) -> None:
        kind, namespace, name, query = self._route()
        if kind == "denied":
            return self._send(401, {"kind": "Status", "apiVersion": "v1", "code": 401})
        store = self.pods if kind == "pods" else self.policies
        if name is None:
            wanted = query.get("labelSelector", [""])[0]
            key, _, value = wanted.partition("=")
            items = [
                p
                for (ns, _), p in store.items()
                if ns == namespace and p["metadata"].get("labels", {}).get(key) == value
            ]
            return self._send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})
        found = store.get((namespace, name))
        return self._send(200, found) if found else self._missing()

    def do_PATCH(self) -> None:
        _, namespace, name, _ = self._route()
        pod = self.pods.get((namespace, name or ""))
        if pod is None:
            return self._missing()
        patch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        labels = pod["metadata"].setdefault("labels", {})
        for key, value in patch["metadata"]["labels"].items():
            if value is None:
                labels.pop(key, None)
            else:
                labels[key] = value
        return self._send(200, pod)

    def do_POST(self) -> None:
        _, namespace, _, _ = self._route()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.policies[(namespace, body["metadata"]["name"])] = body
        return self._send(201, body)

    def do_DELETE(self) -> None:
        _, namespace, name, _ = self._route()
        if self.policies.pop((namespace, name or ""), None) is None:
            return self._missing()
        return self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}})


def _pod(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    }


@pytest.fixture
def api() -> Iterator[str]:
    ApiServer.pods = {
        ("shop", "web-1"): _pod("shop", "web-1", {"app": "web"}),
        ("shop", "web-2"): _pod("shop", "web-2", {"app": "web"}),
    }
    ApiServer.policies = {}
    ApiServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_quarantine_round_trip_leaves_the_cluster_as_before(api: str) -> None:
    before = (copy.deepcopy(ApiServer.pods), copy.deepcopy(ApiServer.policies))
    action = QuarantinePod(api, "kube-test-token")
    assert action.check("shop/web-1") == "free"
    saved = action.apply("shop/web-1")
    assert saved == {"labelled": True, "created_policy": True}
    assert ApiServer.pods[("shop", "web-1")]["metadata"]["labels"][LABEL] == "true"
    policy = ApiServer.policies[("shop", POLICY)]
    assert policy["spec"]["podSelector"] == {"matchLabels": {LABEL: "true"}}
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert ("PATCH", "/api/v1/namespaces/shop/pods/web-1", "application/merge-patch+json") in ApiServer.seen
    second = action.apply("shop/web-2")
    assert second == {"labelled": True, "created_policy": False}
    action.undo("shop/web-1", saved)
    assert ("shop", POLICY) in ApiServer.policies  # web-2 is still quarantined
    action.undo("shop/web-2", second)
    action.undo("shop/web-1", {"created_policy": True})
    assert (ApiServer.pods, ApiServer.policies) == before


def test_vanished_pod_and_bad_target(api: str) -> None:
    action = QuarantinePod(api, "kube-test-token")
    with pytest.raises(TargetGone, match="pod shop/gone not found"):
        action.apply("shop/gone")
    with pytest.raises(ActionError, match="not namespace/pod"):
        action.plan("web-1")
    with pytest.raises(ActionError, match="answered 401"):
        QuarantinePod(api, "wrong").check("shop/web-1")
