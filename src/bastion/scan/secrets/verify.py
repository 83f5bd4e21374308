"""Live verification (``--verify``): ask each provider whether a secret found in the code is live.

Off by default. A rule's ``verify`` table (:class:`~bastion.scan.secrets.rules.VerifySpec`)
names one read-only identity endpoint (``GET /user``, ``POST auth.test``) and where the
secret goes. :class:`Verifier` sends that request and turns the answer into a
:class:`Verdict`:

- *verified*: a status in ``ok`` (and ``require_true`` is ``true``): the secret works now;
- *invalid*: a status in ``invalid`` (or ``require_true`` is ``false``): revoked or fake;
- *unknown*: anything else, a redirect (never followed), a 429, a 5xx, a timeout, a
  refused connection, a TLS failure. Unknown is never read as invalid.

Never leaking the secret is the design constraint. The client builds every request
*without* the secret; :class:`CredentialTransport`, the last step before the wire, puts
it in a copy of the request. So the request the client logs (httpx logs each URL at
INFO), keeps on the response and puts in its exceptions holds ``{secret}`` at most,
even for the providers that want the secret in the URL path (Telegram). Errors are kept
as their class name only (``ConnectTimeout``), and this module logs secrets redacted.

Each distinct request (provider, URL, auth style, secret) is sent once per
:class:`Verifier`; :meth:`Verifier.verify_all` sends a batch a few at a time. The HTTP
transport is injected, so tests use a loopback server or ``httpx.MockTransport``.
The default transport connects directly and honours ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``;
proxy variables are ignored, because a proxy transport would bypass the credential step.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import assert_never
from urllib.parse import quote, urlsplit

import httpx

from bastion import __version__
from bastion.scan.secrets.redact import redact, secret_digest
from bastion.scan.secrets.rules import SECRET_PLACEHOLDER, AuthKind, VerifySpec

__all__ = ["USER_AGENT", "CredentialTransport", "Outcome", "Verdict", "Verifier", "check_base_url"]

log = logging.getLogger(__name__)

USER_AGENT = f"bastion-secrets-verify/{__version__}"
"""Sent with every verification request, so providers can tell what is calling."""
WORKERS = 4
"""Requests in flight at once; providers rate-limit, and a scan rarely holds many live secrets."""
MAX_BODY = 65_536
"""Bytes of a response body read at most (only ``require_true`` reads the body)."""
_CREDENTIAL = "bastion.credential"
"""Request extension carrying the secret from the verifier to :class:`CredentialTransport`."""
_PLACEHOLDER_RAW = httpx.URL(f"https://placeholder/{SECRET_PLACEHOLDER}").raw_path[1:]
"""``{secret}`` as it appears in an encoded URL path (``%7Bsecret%7D``)."""
_LOOPBACK_NAMES = frozenset({"localhost"})


class Verdict(enum.Enum):
    """What the provider said about a secret."""

    VERIFIED = "verified"
    """The provider accepted it: the credential is live."""
    INVALID = "invalid"
    """The provider rejected it: revoked, expired or never real."""
    UNKNOWN = "unknown"
    """No clear answer: network error, timeout, rate limit, server error, unexpected status."""


@dataclass(frozen=True)
class Outcome:
    """A verdict and the reason for it, which never contains the secret."""

    verdict: Verdict
    """What the provider said."""
    detail: str
    """Why: ``http 401``, ``http 200, ok=true``, ``ConnectTimeout``."""


@dataclass(frozen=True)
class _Credential:
    spec: VerifySpec
    secret: str

    def __repr__(self) -> str:
        return f"_Credential({self.spec.provider}, {redact(self.secret)})"


def check_base_url(url: str) -> str:
    """Return ``url`` if it may replace a provider's URL origin, else raise ``ValueError``.

    It must be absolute, without credentials, query or fragment, and ``https`` unless its
    host is a loopback address (a test server, a local tunnel).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    if parts.username is not None or parts.query or parts.fragment:
        raise ValueError(f"{url!r} must not hold credentials, a query or a fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{url!r} must use https (http only for loopback hosts)")
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CredentialTransport(httpx.BaseTransport):
    """Wraps a transport and adds each request's secret just before it is sent.

    The request the client holds (and logs) is left untouched: the secret lives only in
    the copy handed to the inner transport.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        """Send through ``inner`` (``httpx.HTTPTransport``, or a test double)."""
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, with its credential applied if it carries one."""
        credential = request.extensions.get(_CREDENTIAL)
        if isinstance(credential, _Credential):
            request = _with_credential(request, credential)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the inner transport."""
        self._inner.close()


def _with_credential(request: httpx.Request, credential: _Credential) -> httpx.Request:
    spec, secret = credential.spec, credential.secret
    headers = request.headers.copy()
    url = request.url
    kind = spec.auth_kind
    if kind is AuthKind.BEARER:
        headers["Authorization"] = f"Bearer {secret}"
    elif kind is AuthKind.BASIC_USER:
        headers["Authorization"] = _basic(secret, "")
    elif kind is AuthKind.BASIC_PASSWORD:
        headers["Authorization"] = _basic(spec.username or "", secret)
    elif kind is AuthKind.HEADER:
        headers[spec.auth_name] = secret
    elif kind is AuthKind.QUERY:
        url = url.copy_merge_params({spec.auth_name: secret})
    elif kind is AuthKind.PATH:
        raw = url.raw_path.replace(_PLACEHOLDER_RAW, quote(secret, safe=":").encode("ascii"))
        url = url.copy_with(raw_path=raw)
    else:
        assert_never(kind)
    extensions = {key: value for key, value in request.extensions.items() if key != _CREDENTIAL}
    return httpx.Request(request.method, url, headers=headers, content=request.content, extensions=extensions)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("ascii")).decode("ascii")


_Key = tuple[str, str, str, str, str]


def _key(spec: VerifySpec, secret: str) -> _Key:
    return (spec.provider, spec.method, spec.url, spec.auth, secret_digest(secret))


class Verifier:
    """Checks secrets against their providers, each distinct request once, a few at a time.

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        base_urls: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        workers: int = WORKERS,
    ) -> None:
        """Prepare a client; nothing is sent yet.

        ``timeout`` bounds each phase of a request (connect, read, write) in seconds.
        ``base_urls`` maps a provider to the base URL that replaces the origin of its
        verify URLs (``{"github": "https://ghe.example.com/api/v3"}``; see
        :func:`check_base_url`). ``transport`` is where requests go (default: the network).
        Raises ``ValueError`` for a non-positive timeout or worker count, or a bad base URL.
        """
        if timeout <= 0 or workers < 1:
            raise ValueError("timeout and workers must be positive")
        self._base_urls = {name: httpx.URL(check_base_url(url)) for name, url in (base_urls or {}).items()}
        self._workers = workers
        self._cache: dict[_Key, Outcome] = {}
        inner = transport if transport is not None else httpx.HTTPTransport(trust_env=True)
        self._client = httpx.Client(
            transport=CredentialTransport(inner),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    def __enter__(self) -> Verifier:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and its connections."""
        self._client.close()

    def verify(self, spec: VerifySpec, secret: str) -> Outcome:
        """The provider's verdict on ``secret``, asked at most once per verifier."""
        return self.verify_all([(spec, secret)])[0]

    def verify_all(self, candidates: Sequence[tuple[VerifySpec, str]]) -> list[Outcome]:
        """Verdicts for ``candidates``, in order; distinct requests run ``workers`` at a time."""
        pending: dict[_Key, tuple[VerifySpec, str]] = {}
        for spec, secret in candidates:
            key = _key(spec, secret)
            if key not in self._cache:
                pending.setdefault(key, (spec, secret))
        if pending:
            workers = min(self._workers, len(pending))
            log.debug("verifying %d secret(s), %d at a time", len(pending), workers)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bastion-verify") as pool:
                futures = {key: pool.submit(self._check, *candidate) for key, candidate in pending.items()}
                self._cache.update({key: future.result() for key, future in futures.items()})
        return [self._cache[_key(spec, secret)] for spec, secret in candidates]

    def _url(self, spec: VerifySpec) -> httpx.URL:
        template = httpx.URL(spec.url)
        base = self._base_urls.get(spec.provider)
        if base is None:
            return template
        return base.copy_with(raw_path=base.raw_path.rstrip(b"/") + template.raw_path)

    def _check(self, spec: VerifySpec, secret: str) -> Outcome:
        if not (secret.isascii() and secret.isprintable()):
            outcome = Outcome(Verdict.UNKNOWN, "not printable ASCII, not sent")
        else:
            outcome = self._ask(spec, secret)
        log.debug(
            "verify %s %s: %s (%s)", spec.provider, redact(secret), outcome.verdict.value, outcome.detail
        )
        return outcome

    def _ask(self, spec: VerifySpec, secret: str) -> Outcome:
        headers = dict(spec.headers)
        if spec.body is not None:
            headers["Content-Type"] = "application/json"
        request = self._client.build_request(
            spec.method,
            self._url(spec),
            headers=headers,
            content=spec.body.encode("utf-8") if spec.body is not None else None,
            extensions={_CREDENTIAL: _Credential(spec, secret)},
        )
        try:
            response = self._client.send(request, stream=True)
            try:
                return _judge(spec, response)
            finally:
                response.close()
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            # Only the class name: some messages quote the request, and tracebacks hold locals.
            return Outcome(Verdict.UNKNOWN, type(exc).__name__)


def _judge(spec: VerifySpec, response: httpx.Response) -> Outcome:
    status = response.status_code
    detail = f"http {status}"
    if status in spec.invalid:
        return Outcome(Verdict.INVALID, detail)
    if status not in spec.ok:
        return Outcome(Verdict.UNKNOWN, detail)
    if spec.require_true is None:
        return Outcome(Verdict.VERIFIED, detail)
    flag = _json_field(response, spec.require_true)
    if flag is True:
        return Outcome(Verdict.VERIFIED, f"{detail}, {spec.require_true}=true")
    if flag is False:
        return Outcome(Verdict.INVALID, f"{detail}, {spec.require_true}=false")
    return Outcome(Verdict.UNKNOWN, f"{detail}, no boolean {spec.require_true!r} in the body")


def _json_field(response: httpx.Response, name: str) -> object:
    """A top-level field of a JSON response body, reading at most :data:`MAX_BODY` bytes."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= MAX_BODY:
            break
    try:
        data = json.loads(bytes(body[:MAX_BODY]))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return data.get(name) if isinstance(data, dict) else None
