"""Remote actions against stand-ins on 127.0.0.1: Microsoft Graph, AWS IAM (moto server),
webhooks (signed), Slack/Teams payloads, SMTP (aiosmtpd), tickets; and the IaC revert proposal."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from respond_helpers import alert

from bastion.respond.actions.base import ActionError, TargetGone
from bastion.respond.actions.cloud import AwsDeactivateKey, EntraDisableUser, EntraRevokeSessions
from bastion.respond.actions.iac import IacRevert
from bastion.respond.actions.notify import SIGNATURE_HEADER, build_notifier, payload
from bastion.respond.actions.params import EmailParams, TicketParams, WebhookParams
from bastion.respond.actions.registry import ActionContext


class StandIn(BaseHTTPRequestHandler):
    """Speaks Graph's /users endpoints and records every webhook POST."""

    users: ClassVar[dict[str, dict[str, Any]]] = {}
    posts: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _send(self, code: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self) -> dict[str, Any] | None:
        if self.headers.get("Authorization") != "Bearer graph-test-token":
            self._send(401, {"error": {"code": "InvalidAuthenticationToken"}})
            return None
        name = self.path.split("?")[0].split("/")[3]
        user = self.users.get(name)
        if user is None:
            self._send(404, {"error": {"code": "Request_ResourceNotFound"}})
        return user

    def do_GET(self) -> None:
        user = self._user()
        if user is not None:
            self._send(200, {"id": user["id"], "accountEnabled": user["accountEnabled"]})

    def do_PATCH(self) -> None:
        user = self._user()
        if user is not None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            user.update(body)
            self._send(204)

    def do_POST(self) -> None:
        if self.path.startswith("/v1.0/users/"):
            user = self._user()
            if user is not None:
                user["revoked"] = user.get("revoked", 0) + 1
                self._send(200, {"value": True})
            return
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append((self.path, dict(self.headers), data))
        self._send(201 if "ticket" in self.path else 200, {"ok": True})


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.users = {"eve@example.org": {"id": "1", "accountEnabled": True}}
    StandIn.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_entra_disable_round_trip(stand_in: str) -> None:
    with httpx.Client() as http:
        action = EntraDisableUser(http, stand_in + "/v1.0", "graph-test-token")
        saved = action.apply("eve@example.org")
        assert StandIn.users["eve@example.org"]["accountEnabled"] is False
        assert action.check("eve@example.org") == "disabled"
        action.undo("eve@example.org", saved)
        assert StandIn.users["eve@example.org"] == {"id": "1", "accountEnabled": True}
        with pytest.raises(TargetGone):
            action.apply("ghost@example.org")
        with pytest.raises(ActionError, match="HTTP 401"):
            EntraDisableUser(http, stand_in + "/v1.0", "wrong").check("eve@example.org")
        with pytest.raises(ActionError, match="no bearer token"):
            EntraDisableUser(http, stand_in + "/v1.0", "").check("eve@example.org")


def test_entra_revoke_sessions(stand_in: str) -> None:
    with httpx.Client() as http:
        action = EntraRevokeSessions(http, stand_in + "/v1.0", "graph-test-token")
        assert action.plan("eve@example.org").reversible is False
        action.apply("eve@example.org")
        assert StandIn.users["eve@example.org"]["revoked"] == 1
        action.undo("eve@example.org", {})


def test_signed_webhook_slack_and_teams(stand_in: str) -> None:
    ctx = ActionContext(http=httpx.Client(), env={"HOOK_KEY": "k3y-for-tests"})
    generic = build_notifier(WebhookParams(url=stand_in + "/hook", secret_env="HOOK_KEY"), alert(), ctx)
    generic.apply("203.0.113.7")
    _, headers, body = StandIn.posts[-1]
    expected = "sha256=" + hmac.new(b"k3y-for-tests", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert json.loads(body)["alert"]["entity"] == "203.0.113.7"
    build_notifier(WebhookParams(url=stand_in + "/slack", format="slack"), alert(), ctx).apply("x")
    assert SIGNATURE_HEADER not in StandIn.posts[-1][1]
    assert "203.0.113.7" in json.loads(StandIn.posts[-1][2])["text"]
    teams = payload("teams", alert())
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard"
    with pytest.raises(ActionError, match="ConnectError"):
        build_notifier(WebhookParams(url="http://127.0.0.1:9/x"), alert(), ctx).apply("x")


def test_ticket_from_template(stand_in: str) -> None:
    ctx = ActionContext(http=httpx.Client())
    template = '{"summary": "Block {{ alert.entity }}", "labels": {{ alert.techniques | tojson }}}'
    ticket = build_notifier(TicketParams(url=stand_in + "/ticket", template=template), alert(), ctx)
    assert "Block 203.0.113.7" in ticket.plan("x").steps[0]
    ticket.apply("x")
    assert json.loads(StandIn.posts[-1][2]) == {"summary": "Block 203.0.113.7", "labels": ["T1110.003"]}
    with pytest.raises(ActionError, match="does not render to JSON"):
        build_notifier(TicketParams(url=stand_in, template="{{ alert.nope }}"), alert(), ctx)


def test_email_over_smtp() -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed: SMTP round trip not run")
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            got.append(message)

    with socket.socket() as probe:  # a free loopback port (the controller's self-check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        params = EmailParams(port=port, sender="bastion@example.org", to=("soc@example.org",))
        mail = build_notifier(params, alert(), ActionContext())
        mail.apply("x")
    finally:
        controller.stop()
    assert got[0]["Subject"] == "[bastion] high alert on 203.0.113.7"
    assert "40 failed sign-ins" in got[0].get_payload()


def test_aws_key_round_trip_against_moto_server() -> None:
    pytest.importorskip("boto3", reason="boto3 is not installed")
    server_mod = pytest.importorskip(
        "moto.server", reason="moto (with flask) is not installed: AWS stand-in not run"
    )
    import boto3

    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }  # moto accepts any signature
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
            iam.create_user(UserName="deploy")
            key_id = iam.create_access_key(UserName="deploy")["AccessKey"]["AccessKeyId"]
            action = AwsDeactivateKey(endpoint, "us-east-1")
            assert action.check(key_id) == "Active"
            saved = action.apply(key_id)
            assert iam.list_access_keys(UserName="deploy")["AccessKeyMetadata"][0]["Status"] == "Inactive"
            action.undo(key_id, saved)
            assert iam.list_access_keys(UserName="deploy")["AccessKeyMetadata"][0]["Status"] == "Active"
            assert key_id[:8] in action.plan(key_id).summary and key_id not in action.plan(key_id).summary
            with pytest.raises(TargetGone):
                action.check("AKIAIOSFODNN7NOTHERE")
    finally:
        server.stop()


def test_iac_revert_writes_a_proposal_and_undo_removes_it(tmp_path: Path) -> None:
    drift = alert(
        entity="aws_s3_bucket.logs", kind="resource", detector="drift.terraform",
        path="infra/s3.tf", current='acl = "public-read"\n', expected='acl = "private"\n',
    )  # fmt: skip
    action = IacRevert(tmp_path / "changes", drift)
    assert action.check("x") == "absent"
    saved = action.apply("x")
    patch = Path(saved["files"][0]).read_text()
    assert '-acl = "public-read"' in patch and '+acl = "private"' in patch
    assert "never applies" in Path(saved["files"][1]).read_text()
    action.undo("x", saved)
    assert list((tmp_path / "changes").iterdir()) == []
    with pytest.raises(ActionError, match="relative inside"):
        IacRevert(tmp_path, alert(path="../../etc/passwd", current="a", expected="b")).plan("x")
