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
    """Failed sign-ins, counted per (account, client address) and per client address.

    - Guessing one account from one address: after ``attempts`` failures in ``window_s`` that
      pair is refused. The same account from elsewhere, and every other account from the same
      address (colleagues behind one NAT), are not: a lock-out is not a denial of service.
    - Spraying many accounts from one address: after ``address_attempts`` failures the address
      is refused, except for accounts that have signed in from it before; those keep only their
      own pair limit, so the people who use that address every day still get in.
    - Each attempt is counted *before* its password is checked (:meth:`begin`, under a lock), so
      concurrent wrong passwords cannot all get verified; a successful sign-in gives its slot back.
    """

    def __init__(self, attempts: int, window_s: float, address_attempts: int | None = None) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.address_attempts = address_attempts if address_attempts is not None else attempts * 4
        self._failures: dict[str, deque[float]] = {}
        self._known: dict[str, float] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _wait(self, times: deque[float], limit: int, now: float) -> float | None:
        if len(times) < limit:
            return None
        return times[len(times) - limit] + self.window_s - now

    def begin(self, account: str, address: str) -> int:
        """Count one sign-in attempt and return 0, or return the seconds to wait (nothing counted)."""
        pair, site = _pair(account, address), f"ip:{address}"
        now = time.monotonic()
        with self._lock:
            pair_times, site_times = self._recent(pair, now), self._recent(site, now)
            waits = [self._wait(pair_times, self.attempts, now)]
            if pair not in self._known:
                waits.append(self._wait(site_times, self.address_attempts, now))
            longest = max((w for w in waits if w is not None), default=None)
            if longest is not None:
                return int(longest) + 1
            pair_times.append(now)
            site_times.append(now)
            if len(self._failures) > MAX_KEYS:
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[key]
        return 0

    def succeeded(self, account: str, address: str) -> None:
        """The attempt begun for ``account`` was right: forget the pair's failures, give the
        address its slot back and remember the account as one that signs in from there."""
        pair, site = _pair(account, address), f"ip:{address}"
        with self._lock:
            self._failures.pop(pair, None)
            site_times = self._failures.get(site)
            if site_times:
                site_times.pop()
            self._known[pair] = time.monotonic()
            if len(self._known) > MAX_KEYS:
                for key in sorted(self._known, key=self._known.__getitem__)[: MAX_KEYS // 10]:
                    del self._known[key]


def _pair(account: str, address: str) -> str:
    return f"user:{account.lower()}|ip:{address}"
