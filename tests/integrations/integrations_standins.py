"""Local stand-ins for the integrations tests, all on 127.0.0.1: one HTTP server that speaks the
GitHub, GitLab and Jira issue endpoints Bastion uses (and only those) plus chat/webhook
receivers, and an aiosmtpd SMTP server (fixtures re-exported by this folder's conftest)."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

# Generated for these tests, grant nothing.
GITHUB_TOKEN = "gh-standin-token-0123456789"
GITLAB_TOKEN = "gl-standin-token-0123456789"
JIRA_TOKEN = "me@example.com:jira-standin-token-0123"


@dataclass
class Remote:
    """What the stand-ins hold and saw."""

    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    """key (``acme/shop#1``, ``grp/app#1``, ``SEC-1``) -> issue as stored."""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    posts: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    fail_next: dict[str, int] = field(default_factory=dict)
    """path -> how many more 503s to answer there."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_closed(self, key: str, closed: bool) -> None:
        """Close or reopen an issue as a person would in the tracker."""
        self.issues[key]["closed"] = closed


_GH = re.compile(r"^/repos/([^/]+/[^/]+)/issues(?:/(\d+))?$")
_GL = re.compile(r"^/api/v4/projects/([^/]+)/issues(?:/(\d+))?$")
_JIRA = re.compile(r"^/rest/api/2/issue(?:/([A-Z]+-\d+))?$")


class _Handler(BaseHTTPRequestHandler):
    remote: Remote
    port: int

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, data: Any = None) -> None:
        body = json.dumps(data if data is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, _query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        remote = self.remote
        with remote.lock:
            remote.requests.append((method, path, headers, body))
            if remote.fail_next.get(path, 0) > 0:
                remote.fail_next[path] -= 1
                self._answer(503, {"message": "try later"})
                return
        if path.startswith("/hooks/"):
            with remote.lock:
                remote.posts.setdefault(path, []).append((headers, body))
            self._answer(200, {"ok": True})
            return
        base = f"http://127.0.0.1:{self.port}"
        if (match := _GH.match(path)) is not None:
            if headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
                self._answer(401, {"message": "Bad credentials"})
                return
            repo, number = match.groups()
            if method == "POST" and number is None:
                data = json.loads(body)
                with remote.lock:
                    n = 1 + sum(k.startswith(f"{repo}#") for k in remote.issues)
                    remote.issues[f"{repo}#{n}"] = {**data, "closed": False}
                self._answer(201, {"number": n, "html_url": f"{base}/{repo}/issues/{n}", "state": "open"})
                return
            issue = remote.issues.get(f"{repo}#{number}")
            if method == "GET" and issue is not None:
                state = "closed" if issue["closed"] else "open"
                self._answer(
                    200,
                    {
                        "number": int(number or 0),
                        "html_url": f"{base}/{repo}/issues/{number}",
                        "state": state,
                    },
                )
                return
        elif (match := _GL.match(path)) is not None:
            if headers.get("private-token") != GITLAB_TOKEN:
                self._answer(401, {"message": "401 Unauthorized"})
                return
            project = match.group(1).replace("%2F", "/")
            iid = match.group(2)
            if method == "POST" and iid is None:
                data = json.loads(body)
                with remote.lock:
                    n = 1 + sum(k.startswith(f"{project}#") for k in remote.issues)
                    remote.issues[f"{project}#{n}"] = {**data, "closed": False}
                self._answer(201, {"iid": n, "web_url": f"{base}/{project}/-/issues/{n}", "state": "opened"})
                return
            issue = remote.issues.get(f"{project}#{iid}")
            if method == "GET" and issue is not None:
                state = "closed" if issue["closed"] else "opened"
                self._answer(
                    200, {"iid": int(iid or 0), "web_url": f"{base}/{project}/-/issues/{iid}", "state": state}
                )
                return
        elif (match := _JIRA.match(path)) is not None:
            expected = "Basic " + base64.b64encode(JIRA_TOKEN.encode()).decode()
            if headers.get("authorization") != expected:
                self._answer(401, {"errorMessages": ["unauthorized"]})
                return
            key = match.group(1)
            if method == "POST" and key is None:
                fields = json.loads(body)["fields"]
                project = fields["project"]["key"]
                with remote.lock:
                    n = 1 + sum(k.startswith(f"{project}-") for k in remote.issues)
                    remote.issues[f"{project}-{n}"] = {**fields, "closed": False}
                self._answer(
                    201,
                    {
                        "id": str(10000 + n),
                        "key": f"{project}-{n}",
                        "self": f"{base}/rest/api/2/issue/{10000 + n}",
                    },
                )
                return
            issue = remote.issues.get(key or "")
            if method == "GET" and issue is not None:
                category = "done" if issue["closed"] else "indeterminate"
                self._answer(
                    200,
                    {"key": key, "fields": {"status": {"name": "x", "statusCategory": {"key": category}}}},
                )
                return
        self._answer(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        """GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """POST."""
        self._handle("POST")


@dataclass
class StandIn:
    """The HTTP stand-in's base URL and state."""

    url: str
    remote: Remote


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """GitHub, GitLab, Jira and webhook receivers on one loopback port."""
    remote = Remote()
    handler = type("Handler", (_Handler,), {"remote": remote, "port": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(f"http://127.0.0.1:{server.server_address[1]}", remote)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@dataclass
class Smtp:
    """An aiosmtpd server on loopback and what it received."""

    url: str
    inbox: _Inbox


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """An SMTP server on 127.0.0.1 (aiosmtpd)."""
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(f"smtp://127.0.0.1:{port}", inbox)
    finally:
        controller.stop()
