"""Secure response headers and the sign-in rate limiter."""

from __future__ import annotations

import threading
import time
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "LoginLimiter", "SecureHeaders"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_STATIC = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
MAX_KEYS = 10_000
"""Past this many tracked keys, keys without a failure in the window are dropped."""
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecureHeaders:
    """ASGI middleware adding CSP (no unsafe-inline) and friends; HSTS over TLS only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to every HTTP response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"
        static = str(scope.get("path", "")).startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_STATIC)
                if tls:
                    headers.append(HSTS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per key (client address, user name) per window."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait before another try, 0 when allowed."""
        now = time.monotonic()
        with self._lock:
            waits = [
                int(times[0] + self.window_s - now) + 1
                for key in keys
                if len(times := self._recent(key, now)) >= self.attempts
            ]
        return max(waits, default=0)

    def failed(self, keys: list[str]) -> None:
        """Record one failed sign-in under each key (forgetting keys gone quiet once many)."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > MAX_KEYS:
                for key in [k for k, times in self._failures.items() if not self._recent(k, now)]:
                    del self._failures[key]

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of a user who signed in."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
