"""The one way the DAST scanner talks to a target: bounded, rate limited, in scope.

Every request goes through :class:`Fetcher`, which enforces the budget
(``max_requests``), the rate (requests per second, shared by all concurrent tasks), a
per-request deadline (so a server that drips one byte a second cannot hold a worker),
a cap on the bytes read from any response, the scope (the target's origin plus the
optional ``--scope`` regex) and a bounded number of redirects.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from bastion.errors import InputError, UsageError

__all__ = [
    "BudgetExhausted",
    "FetchError",
    "Fetcher",
    "FetcherOptions",
    "Response",
    "Scope",
    "normalize_url",
    "origin_of",
]

USER_AGENT = "bastion-dast (+https://github.com/bastion-security/bastion)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
"""What a browser asks for: servers answer it with the pages people see (debug pages included)."""


class BudgetExhausted(Exception):
    """``--max-requests`` or the time limit is used up; the scan stops sending requests."""


class FetchError(Exception):
    """One request failed (timeout, connection, TLS); the message says which and why."""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` with the default port left out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment, or None for mailto:, javascript: and the like."""
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        absolute, _ = urldefrag(absolute)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return None
    path = parts.path or "/"
    return f"{origin_of(absolute)}{path}" + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Scope:
    """What the scanner may request: the target's origin, narrowed by a regex when given."""

    origin: str
    pattern: re.Pattern[str] | None = None

    @classmethod
    def for_target(cls, target: str, regex: str | None) -> Scope:
        """Scope of ``target``; :class:`UsageError` for a bad regex or a target outside it."""
        pattern = None
        if regex:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise UsageError(f"--scope: invalid regular expression {regex!r}: {exc}") from None
        scope = cls(origin_of(target), pattern)
        if not scope.allows(target):
            raise UsageError(f"{target}: target is outside --scope {regex!r}; refusing to scan it")
        return scope

    def allows(self, url: str) -> bool:
        """Whether ``url`` is on the target's origin and matches the scope regex."""
        if origin_of(url) != self.origin:
            return False
        return self.pattern is None or self.pattern.search(url) is not None


@dataclass(frozen=True)
class FetcherOptions:
    """Limits of one scan."""

    max_requests: int = 500
    rate: float = 20.0
    """Requests per second across all workers; 0 means unlimited."""
    concurrency: int = 8
    timeout_s: float = 10.0
    """Deadline of one request, connect to last byte."""
    max_response_bytes: int = 2_000_000
    max_redirects: int = 5
    time_limit_s: float = 300.0
    insecure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """What came back, with the body capped at ``max_response_bytes``."""

    url: str
    method: str
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    credentialed: bool
    """The request carried an Authorization header or cookies."""
    request_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        """HTML by its Content-Type (or by its first bytes when none is given)."""
        if self.content_type:
            return self.content_type in ("text/html", "application/xhtml+xml")
        return self.body[:200].lstrip().lower().startswith((b"<!doctype html", b"<html"))

    @property
    def is_text(self) -> bool:
        """Textual content worth reading (HTML, JS, JSON, XML, CSS, plain text)."""
        ctype = self.content_type
        return (
            ctype.startswith("text/")
            or ctype.endswith(("json", "javascript", "xml", "ecmascript"))
            or (not ctype and b"\x00" not in self.body[:1024])
        )

    @property
    def text(self) -> str:
        """The body decoded with its charset (UTF-8 by default), errors replaced."""
        charset = "utf-8"
        match = re.search(r"charset=([\w-]+)", self.headers.get("content-type", ""), re.IGNORECASE)
        if match:
            charset = match.group(1)
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str | None:
        """The absolute redirect target of a 3xx response."""
        if 300 <= self.status < 400 and "location" in self.headers:
            return normalize_url(self.headers["location"], self.url)
        return None


class Fetcher:
    """Sends requests within the limits; one per scan, used as an async context manager."""

    def __init__(
        self, scope: Scope, options: FetcherOptions, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.scope = scope
        self.options = options
        self.requests = 0
        self.truncated = 0
        self.started = time.monotonic()
        self._semaphore = asyncio.Semaphore(max(1, options.concurrency))
        self._rate_lock = asyncio.Lock()
        self._next_slot = 0.0
        self._client = httpx.AsyncClient(
            verify=not options.insecure,
            follow_redirects=False,
            timeout=httpx.Timeout(options.timeout_s),
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, **dict(options.headers)},
            cookies=dict(options.cookies),
            transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    @property
    def remaining(self) -> int:
        """Requests left in the budget."""
        return max(0, self.options.max_requests - self.requests)

    def out_of_time(self) -> bool:
        """Whether the scan's time limit has passed."""
        return time.monotonic() - self.started >= self.options.time_limit_s

    async def _reserve(self) -> None:
        if self.requests >= self.options.max_requests:
            raise BudgetExhausted(f"--max-requests {self.options.max_requests} reached")
        if self.out_of_time():
            raise BudgetExhausted(f"time limit of {self.options.time_limit_s:g}s reached")
        self.requests += 1
        if self.options.rate <= 0:
            return
        async with self._rate_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            if slot - self.started >= self.options.time_limit_s:
                self.requests -= 1
                raise BudgetExhausted(f"time limit of {self.options.time_limit_s:g}s reached")
            self._next_slot = slot + 1.0 / self.options.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request to an in-scope URL, no redirect followed.

        Raises :class:`BudgetExhausted` when the budget is spent, :class:`FetchError` when
        the request fails, and :class:`UsageError` for a URL outside the scope (a bug in
        the caller, never sent).
        """
        if not self.scope.allows(url):
            raise UsageError(f"{url}: outside the scan scope; not requested")
        await self._reserve()
        async with self._semaphore:
            try:
                try:
                    return await asyncio.wait_for(
                        self._send(method, url, params, data, content, headers), self.options.timeout_s
                    )
                except httpx.RemoteProtocolError:
                    # A keep-alive connection the server closed as we reused it: one fresh try,
                    # which counts against the budget like any request.
                    if self.requests >= self.options.max_requests:
                        raise
                    self.requests += 1
                    return await asyncio.wait_for(
                        self._send(method, url, params, data, content, headers), self.options.timeout_s
                    )
            except TimeoutError:
                raise FetchError(f"{url}: no complete answer within {self.options.timeout_s:g}s") from None
            except httpx.HTTPError as exc:
                raise FetchError(_describe(url, exc)) from None

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        request = self._client.build_request(
            method, url, params=params, data=data, content=content, headers=headers
        )
        credentialed = "authorization" in request.headers or "cookie" in request.headers
        response = await self._client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            truncated = False
            limit = self.options.max_response_bytes
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    truncated = True
                    break
            body = b"".join(chunks)[:limit]
        finally:
            await response.aclose()
        if truncated:
            self.truncated += 1
        return Response(
            url=str(request.url),
            method=method,
            status=response.status_code,
            headers=response.headers,
            body=body,
            truncated=truncated,
            credentialed=credentialed,
            request_headers=dict(request.headers),
        )

    async def get_following(self, url: str) -> Response:
        """GET ``url`` following in-scope redirects, at most ``max_redirects``; loops are errors."""
        seen = [url]
        response = await self.request("GET", url)
        while (target := response.location) is not None:
            if target in seen:
                chain = " -> ".join([*seen, target])
                raise FetchError(f"{url}: redirect loop ({chain})")
            if len(seen) > self.options.max_redirects:
                raise FetchError(f"{url}: more than {self.options.max_redirects} redirects")
            if not self.scope.allows(target):
                return response
            seen.append(target)
            response = await self.request("GET", target)
        return response


def _describe(url: str, exc: httpx.HTTPError) -> str:
    """One line naming what went wrong, with advice for TLS."""
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"{url}: TLS certificate verification failed ({_short(text)}); "
            "use --insecure to scan a site with a self-signed or untrusted certificate"
        )
    if isinstance(cause, ssl.SSLError) or "SSL" in text:
        return f"{url}: TLS handshake failed ({_short(text)})"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url}: timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"{url}: cannot connect ({_short(text)})"
    return f"{url}: request failed ({type(exc).__name__}: {_short(text)})"


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line[:200]


def check_target(url: str) -> str:
    """The target URL normalized; :class:`InputError` naming what is wrong with it."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise InputError(f"{url!r}: not an http(s) URL (give e.g. https://staging.example.com/)")
    if not parts.hostname:
        raise InputError(f"{url!r}: URL has no host")
    try:
        _ = parts.port
    except ValueError:
        raise InputError(f"{url!r}: URL has an invalid port") from None
    normalized = normalize_url(text)
    if normalized is None:  # pragma: no cover - the checks above cover normalize_url's rejections
        raise InputError(f"{url!r}: not a usable URL")
    return normalized
