"""A loopback stand-in for a ZAP daemon: answers the JSON API the way ZAP does.

The zaproxy client talks to ``http://zap/JSON/<component>/<view|action>/<name>/`` through
ZAP as an HTTP proxy, so requests arrive with an absolute URI; the API key comes in the
``X-ZAP-API-Key`` header. Scans report progress over a few polls, like the real daemon.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeZap", "fake_zap"]

ALERTS = [
    {
        "pluginId": "10038",
        "alertRef": "10038-1",
        "alert": "Content Security Policy (CSP) Header Not Set",
        "name": "Content Security Policy (CSP) Header Not Set",
        "risk": "Medium",
        "confidence": "High",
        "url": "{target}",
        "param": "",
        "evidence": "",
        "cweid": "693",
        "wascid": "15",
        "solution": "Set a CSP header.",
        "reference": "https://developer.mozilla.org/CSP\nhttps://w3.org",
    },
    {
        "pluginId": "10038",
        "alert": "Content Security Policy (CSP) Header Not Set",
        "risk": "Medium",
        "confidence": "High",
        "url": "{target}about",
        "param": "",
        "cweid": "693",
    },
    {
        "pluginId": "10096",
        "alert": "Timestamp Disclosure - Unix",
        "risk": "Low",
        "confidence": "Low",
        "url": "{target}",
        "param": "",
        "evidence": "1700000000",
        "cweid": "497",
    },
    {
        "pluginId": "40012",
        "alert": "Cross Site Scripting (Reflected)",
        "risk": "High",
        "confidence": "Medium",
        "url": "{target}search?q=x",
        "param": "q",
        "evidence": "<script>alert(1);</script>",
        "cweid": "79",
    },
]


@dataclass
class FakeZap:
    """State of the fake daemon and what it was asked."""

    key: str
    url: str = ""
    calls: list[str] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    target: str = ""
    fail: str = ""
    """An endpoint name that answers HTTP 500."""

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        name = path.removeprefix("/JSON/").strip("/")
        self.calls.append(name)
        if name == self.fail:
            return 500, {"code": "internal_error", "message": "boom"}
        if name == "core/view/version":
            return 200, {"version": "2.15.0"}
        if name == "core/action/accessUrl":
            self.target = query.get("url", "")
            return 200, {"accessUrl": []}
        if name in ("spider/action/scan", "ascan/action/scan"):
            return 200, {"scan": "3"}
        if name in ("spider/view/status", "ascan/view/status"):
            count = self.polls[name] = self.polls.get(name, 0) + 1
            return 200, {"status": str(min(100, count * 50))}
        if name == "pscan/view/recordsToScan":
            count = self.polls[name] = self.polls.get(name, 0) + 1
            return 200, {"recordsToScan": str(max(0, 2 - count))}
        if name == "core/view/alerts":
            alerts = [{k: str(v).replace("{target}", self.target) for k, v in a.items()} for a in ALERTS]
            start, count = int(query.get("start", 0)), int(query.get("count", 0) or len(alerts))
            return 200, {"alerts": alerts[start : start + count]}
        return 400, {"code": "bad_view", "message": f"no such API call {name}"}


@contextmanager
def fake_zap(key: str = "zap-test-key") -> Iterator[FakeZap]:
    """Run the fake ZAP on 127.0.0.1; yields its state (``url`` is its address)."""
    state = FakeZap(key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if self.headers.get("X-ZAP-API-Key") != state.key:
                status, body = 400, {"code": "bad_api_key", "message": "Missing or invalid API key"}
            else:
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                status, body = state.answer(parts.path, query)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, _format: str, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
