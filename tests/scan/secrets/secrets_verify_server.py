"""A loopback stand-in for the providers' identity endpoints, for the live-verification tests.

It records every request and answers by the secret it finds anywhere in the request (path,
query, header values, HTTP Basic credentials): a scripted :class:`Reply` for known secrets,
401 for the rest, like a provider that does not know the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

__all__ = ["ProviderServer", "Reply", "Seen", "serve"]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    """Raw request target: path and query, still percent-encoded."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def text(self) -> str:
        """Everything a secret could hide in, decoded: path, header values, Basic credentials."""
        parts = [unquote(self.path), *self.headers.values()]
        auth = self.headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                parts.append(base64.b64decode(auth[6:]).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError):
                parts.append("<undecodable basic credentials>")
        return "\n".join(parts)


@dataclass(frozen=True)
class Reply:
    """What the server answers for one secret."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    delay: float = 0.0
    location: str | None = None


class ProviderServer(ThreadingHTTPServer):
    """Answers like a provider; ``script`` maps a secret to its reply, everything else is 401."""

    daemon_threads = True

    def __init__(self) -> None:
        """Bind to a free port on 127.0.0.1; :meth:`start` serves it from a thread."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: dict[str, Reply] = {}
        self.default_delay = 0.0
        self.requests: list[Seen] = []
        self.errors: list[str] = []
        self.release = threading.Event()
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        """Serve from a daemon thread."""
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Wake slow handlers, stop serving and close the socket."""
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def reply_for(self, seen: Seen) -> Reply:
        """The scripted reply for the first known secret in ``seen``, else a 401."""
        text = seen.text()
        for secret, reply in self.script.items():
            if secret in text:
                return reply
        return Reply(status=401, body={"ok": False, "error": "invalid_auth"}, delay=self.default_delay)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record instead of printing: a client that timed out has closed its socket."""
        self.errors.append(f"{type(request).__name__} from {client_address}")


class _Handler(BaseHTTPRequestHandler):
    server: ProviderServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the tests read :attr:`ProviderServer.requests` instead."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            self.command,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            self.rfile.read(length),
        )
        server = self.server
        with server.lock:
            server.requests.append(seen)
            server.inflight += 1
            server.max_inflight = max(server.max_inflight, server.inflight)
        reply = server.reply_for(seen)
        try:
            if reply.delay:
                server.release.wait(reply.delay)
        finally:
            # Counted down before the answer goes out: once the client has it, it may send the next.
            with server.lock:
                server.inflight -= 1
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.location:
            self.send_header("Location", reply.location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve() -> ProviderServer:
    """A started server; call :meth:`ProviderServer.stop` when done."""
    server = ProviderServer()
    server.start()
    return server
