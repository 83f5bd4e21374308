"""Passive rules: what every response tells without sending anything extra.

Headers (CSP, HSTS, framing, nosniff, Referrer-Policy, Permissions-Policy, version
disclosure, caching of authenticated responses), cookies, and body content (stack traces,
debug pages, private IPs, secrets through the secrets scanner's detector, mixed content,
directory listings, suspicious comments).
"""

from __future__ import annotations

import ipaddress
import re
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from bastion.findings import Confidence, Severity
from bastion.scan.dast.http import Response, origin_of
from bastion.scan.dast.issues import Issue
from bastion.scan.dast.page import Page

__all__ = ["check_page", "check_response", "check_secrets"]

HSTS_MIN_AGE = 15_552_000  # 180 days, the threshold ZAP and the HSTS preload list use
MAX_TEXT = 1_000_000
"""Body characters the content rules read."""

_VERSION = re.compile(r"\d+\.\d+")
_STACK_TRACES = (
    ("Python", re.compile(r"Traceback \(most recent call last\):")),
    ("Java", re.compile(r"\bat (?:[a-zA-Z_$][\w$]*\.){2,}[\w$<>]+\([\w$]+\.java:\d+\)")),
    (".NET", re.compile(r"\bat [\w.`<>]+\(.*?\) in [^\n]{1,300}:line \d+")),
    (
        "Node.js",
        re.compile(r"\bat (?:[\w.<>]+ )?\(?(?:/|[A-Za-z]:\\)[^\s()]{1,300}\.(?:js|mjs|ts):\d+:\d+\)?"),
    ),
    (
        "PHP",
        re.compile(
            r"(?:PHP )?(?:Fatal|Parse) error(?:</b>)?:.{0,300}? on line (?:<b>)?\d+"
            r"|Stack trace:\s*(?:<br\s*/?>)?\s*#0 "
        ),
    ),
    ("Ruby", re.compile(r"\.rb:\d+:in `")),
)
_DEBUG_PAGES = (
    ("Werkzeug", re.compile(r"Werkzeug Debugger|The debugger caught an exception in your WSGI application")),
    ("Django", re.compile(r"You're seeing this error because you have <code>DEBUG = True</code>")),
    ("Express", re.compile(r"<pre>\w*Error: [^<]*<br> &nbsp; &nbsp;at ")),
    ("Spring Boot", re.compile(r"<h1>Whitelabel Error Page</h1>")),
    ("ASP.NET", re.compile(r"Server Error in '[^']*' Application\.|<b>\s*Stack Trace:\s*</b>")),
    ("Laravel", re.compile(r"Whoops, looks like something went wrong|<title>Whoops! There was an error")),
    ("Rails", re.compile(r"<title>Action Controller: Exception caught</title>")),
    ("Starlette", re.compile(r"<title>Starlette Debugger</title>")),
)
_DIRECTORY_LISTING = re.compile(
    r"<title>\s*(?:Index of /|Directory listing for /)|<h1>\s*(?:Index of /|Directory listing for /)"
    r"|\[To Parent Directory\]",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\d.])(?:10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.]|\w)")
_SUSPICIOUS = re.compile(
    r"\b(?:TODO|FIXME|HACK|XXX)\b.{0,120}?\b(?:password|passwd|secret|token|credential|admin|auth|bypass|"
    r"security|vulnerab|hard-?coded)|\b(?:password|passwd|api[_ -]?key|secret)\s*[:=]\s*\S",
    re.IGNORECASE | re.DOTALL,
)
_UNSAFE_SOURCE = re.compile(
    r"'unsafe-inline'|'unsafe-eval'|(?<![\w.-])\*(?![\w.-])|\bhttps?:(?=\s|;|$)|\bdata:"
)


def check_response(response: Response) -> list[Issue]:
    """Header and cookie rules for one response."""
    issues: list[Issue] = []
    origin = origin_of(response.url)
    headers = response.headers
    ok = 200 <= response.status < 300
    issues.extend(_disclosure(response, origin))
    issues.extend(_cookies(response, origin))
    if not ok:
        return issues
    if response.body and "nosniff" not in headers.get("x-content-type-options", "").lower():
        issues.append(
            Issue(
                "dast.content-type-options",
                response.url,
                origin,
                "Responses lack X-Content-Type-Options: nosniff",
            )
        )
    if response.url.startswith("https://"):
        issues.extend(_hsts(response, origin))
    if (
        response.credentialed
        and response.is_text
        and response.content_type
        in (
            "text/html",
            "application/json",
            "application/xhtml+xml",
            "text/plain",
            "application/xml",
        )
    ):
        cache = headers.get("cache-control", "").lower()
        if "no-store" not in cache and "private" not in cache:
            evidence = (
                f"Cache-Control: {headers.get('cache-control')}" if cache else "no Cache-Control header"
            )
            issues.append(
                Issue(
                    "dast.cache-control",
                    response.url,
                    origin,
                    f"Responses to authenticated requests can be cached ({evidence})",
                    evidence=evidence,
                )
            )
    if response.is_html:
        issues.extend(_html_headers(response, origin))
    return issues


def _hsts(response: Response, origin: str) -> list[Issue]:
    value = response.headers.get("strict-transport-security", "")
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    if match and int(match.group(1)) >= HSTS_MIN_AGE:
        return []
    why = f"max-age below 180 days ({value})" if match else "no Strict-Transport-Security header"
    return [Issue("dast.hsts-missing", response.url, origin, f"HTTPS responses: {why}", evidence=value)]


def _html_headers(response: Response, origin: str) -> list[Issue]:
    headers = response.headers
    issues: list[Issue] = []
    csp = headers.get("content-security-policy", "")
    directives = _csp_directives(csp)
    if not csp:
        issues.append(
            Issue("dast.csp-missing", response.url, origin, "HTML responses set no Content-Security-Policy")
        )
    else:
        script = directives.get("script-src", directives.get("default-src"))
        weak = (
            sorted(set(_UNSAFE_SOURCE.findall(script)))
            if script is not None
            else ["no script-src/default-src"]
        )
        if weak:
            issues.append(
                Issue(
                    "dast.csp-weak",
                    response.url,
                    origin,
                    f"Content-Security-Policy allows {', '.join(weak)} for scripts",
                    evidence=csp[:300],
                )
            )
    if "frame-ancestors" not in directives and headers.get("x-frame-options", "").strip().upper() not in (
        "DENY",
        "SAMEORIGIN",
    ):
        issues.append(
            Issue(
                "dast.clickjacking",
                response.url,
                origin,
                "HTML responses set neither X-Frame-Options nor CSP frame-ancestors",
            )
        )
    referrer = headers.get("referrer-policy", "").lower()
    last = referrer.split(",")[-1].strip()
    if not last or last in ("unsafe-url", "no-referrer-when-downgrade"):
        why = f"Referrer-Policy: {referrer}" if referrer else "no Referrer-Policy header"
        issues.append(
            Issue("dast.referrer-policy", response.url, origin, f"HTML responses: {why}", evidence=referrer)
        )
    if "permissions-policy" not in headers and "feature-policy" not in headers:
        issues.append(
            Issue("dast.permissions-policy", response.url, origin, "HTML responses set no Permissions-Policy")
        )
    return issues


def _csp_directives(csp: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in csp.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives.setdefault(name.lower(), value.strip())
    return directives


def _disclosure(response: Response, origin: str) -> list[Issue]:
    issues: list[Issue] = []
    server = response.headers.get("server", "")
    if _VERSION.search(server):
        issues.append(
            Issue(
                "dast.server-version",
                response.url,
                origin,
                f"Server header discloses a version: {server}",
                evidence=f"Server: {server}",
            )
        )
    issues.extend(
        Issue(
            "dast.x-powered-by",
            response.url,
            origin,
            f"{name} header discloses the technology: {value}",
            evidence=f"{name}: {value}",
        )
        for name in ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")
        if (value := response.headers.get(name, ""))
    )
    return issues


def _cookies(response: Response, origin: str) -> list[Issue]:
    issues: list[Issue] = []
    https = response.url.startswith("https://")
    for raw in response.headers.get_list("set-cookie"):
        name, attributes = _parse_cookie(raw)
        if name is None or _is_deletion(attributes):
            continue
        key = f"{origin} cookie {name}"
        if https and "secure" not in attributes:
            issues.append(
                Issue(
                    "dast.cookie-no-secure",
                    response.url,
                    key,
                    f"Cookie {name} is set without Secure",
                    evidence=_cookie_evidence(raw),
                )
            )
        if "httponly" not in attributes:
            issues.append(
                Issue(
                    "dast.cookie-no-httponly",
                    response.url,
                    key,
                    f"Cookie {name} is set without HttpOnly",
                    evidence=_cookie_evidence(raw),
                )
            )
        samesite = attributes.get("samesite", "").lower()
        if samesite not in ("lax", "strict"):
            why = "SameSite=None" if samesite == "none" else "no SameSite attribute"
            issues.append(
                Issue(
                    "dast.cookie-no-samesite",
                    response.url,
                    key,
                    f"Cookie {name} is set with {why}",
                    evidence=_cookie_evidence(raw),
                )
            )
    return issues


def _parse_cookie(raw: str) -> tuple[str | None, dict[str, str]]:
    first, *rest = raw.split(";")
    name = first.split("=", 1)[0].strip()
    if not name:
        return None, {}
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, value = part.strip().partition("=")
        attributes[key.strip().lower()] = value.strip()
    try:  # validate the name the way the standard library does; skip garbage headers
        SimpleCookie().load(f"{name}=x")
    except CookieError:
        return None, {}
    return name, attributes


def _is_deletion(attributes: dict[str, str]) -> bool:
    return attributes.get("max-age") == "0" or "1970" in attributes.get("expires", "")


def _cookie_evidence(raw: str) -> str:
    """The Set-Cookie header with the value hidden (a session id is a credential)."""
    first, sep, rest = raw.partition(";")
    name = first.split("=", 1)[0]
    return f"Set-Cookie: {name}=\u2026{sep}{rest}"


def check_page(response: Response, page: Page | None) -> list[Issue]:
    """Content rules for one textual response (``page`` when it is HTML)."""
    if not response.is_text or not response.body:
        return []
    text = response.text[:MAX_TEXT]
    issues: list[Issue] = []
    where = _page_key(response.url)
    debug = next(((name, m) for name, rx in _DEBUG_PAGES if (m := rx.search(text))), None)
    if debug:
        name, match = debug
        issues.append(
            Issue(
                "dast.debug-page",
                response.url,
                where,
                f"{name} debug page is served",
                evidence=match.group(0),
                metadata={"framework": name},
            )
        )
    else:
        trace = next(((name, m) for name, rx in _STACK_TRACES if (m := rx.search(text))), None)
        if trace:
            name, match = trace
            issues.append(
                Issue(
                    "dast.stack-trace",
                    response.url,
                    where,
                    f"{name} stack trace in the response",
                    evidence=match.group(0),
                    metadata={"language": name},
                )
            )
    issues.extend(_private_ips(response, text, where))
    if response.is_html and _DIRECTORY_LISTING.search(text[:5000]):
        issues.append(
            Issue("dast.directory-listing", response.url, where, "The server lists a directory's files")
        )
    if page is not None:
        issues.extend(_page_issues(response, page, where))
    return issues


def _page_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{origin_of(url)}{parts.path}"


def _private_ips(response: Response, text: str, where: str) -> list[Issue]:
    host = urlsplit(response.url).hostname or ""
    header_text = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    found: list[str] = []
    for candidate in _IPV4.findall(header_text + "\n" + text):
        try:
            address = ipaddress.IPv4Address(candidate)
        except ValueError:
            continue
        if address.is_private and not address.is_loopback and candidate != host and candidate not in found:
            found.append(candidate)
    if not found:
        return []
    return [
        Issue(
            "dast.private-ip",
            response.url,
            where,
            f"Private IP address disclosed: {', '.join(found[:5])}",
            evidence=", ".join(found[:5]),
            confidence=Confidence.MEDIUM,
        )
    ]


def _page_issues(response: Response, page: Page, where: str) -> list[Issue]:
    issues: list[Issue] = []
    if response.url.startswith("https://"):
        insecure = sorted(
            {f"<{tag}> {url}" for tag, url in page.subresources if url.lower().startswith("http://")}
        )
        if insecure:
            severity = (
                Severity.MEDIUM
                if any(i.startswith(("<script", "<iframe", "<link")) for i in insecure)
                else Severity.LOW
            )
            issues.append(
                Issue(
                    "dast.mixed-content",
                    response.url,
                    where,
                    f"HTTPS page loads {len(insecure)} resource(s) over HTTP",
                    evidence="; ".join(insecure[:5]),
                    severity=severity,
                )
            )
    comments = [*page.comments, *(c for script in page.inline_scripts for c in _js_comments(script))]
    for comment in comments:
        match = _SUSPICIOUS.search(comment)
        if match:
            snippet = " ".join(comment.split())[:160]
            issues.append(
                Issue(
                    "dast.suspicious-comment",
                    response.url,
                    where,
                    "Comment mentions credentials or unfinished security work",
                    evidence=snippet,
                    confidence=Confidence.LOW,
                )
            )
            break
    return issues


_JS_COMMENT = re.compile(r"/\*(.*?)\*/|(?<![:\\'\"\w])//([^\n]*)", re.DOTALL)


def _js_comments(script: str) -> list[str]:
    return [a or b for a, b in _JS_COMMENT.findall(script[:MAX_TEXT])]


def check_script(response: Response) -> list[Issue]:
    """Suspicious comments in an external JavaScript file."""
    if not response.body or "javascript" not in response.content_type:
        return []
    for comment in _js_comments(response.text):
        if not comment.lstrip().startswith("!") and _SUSPICIOUS.search(comment):
            snippet = " ".join(comment.split())[:160]
            return [
                Issue(
                    "dast.suspicious-comment",
                    response.url,
                    _page_key(response.url),
                    "Comment mentions credentials or unfinished security work",
                    evidence=snippet,
                    confidence=Confidence.LOW,
                )
            ]
    return []


def check_secrets(response: Response) -> list[Issue]:
    """Secrets in a textual response, found by the secrets scanner's provider rules, redacted."""
    if not response.is_text or not response.body:
        return []
    from bastion.scan.secrets.redact import redact, secret_digest
    from bastion.scan.secrets.scanner import detector_for

    detector = detector_for((), frozenset(), False)
    path = urlsplit(response.url).path or "/"
    issues: list[Issue] = []
    for hit in detector.detect(response.text[:MAX_TEXT], path):
        if hit.confidence is Confidence.LOW:
            continue
        evidence = redact(hit.secret)
        issues.append(
            Issue(
                "dast.secret-in-response",
                response.url,
                f"{_page_key(response.url)} {secret_digest(hit.secret)}",
                f"{hit.title} in the response ({evidence})",
                evidence=evidence,
                severity=hit.severity if hit.severity > Severity.MEDIUM else Severity.HIGH,
                confidence=hit.confidence,
                metadata={"secret_rule": hit.rule_id, "line": hit.line},
            )
        )
    return issues
