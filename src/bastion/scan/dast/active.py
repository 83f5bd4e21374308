"""Active checks (``--active``): requests crafted to prove a vulnerability, never to harm.

Reflected XSS (a unique marker per parameter, reported only when it comes back as markup),
SQL injection (database error messages, then boolean conditions that must change the page
the way true and false do, confirmed with a second pair), open redirects, path traversal,
well-known sensitive paths (``sensitive_paths.toml``, confirmed by content so soft 404s do
not count) and TRACE. Only GET parameters are varied; POST forms, PUT and DELETE are tried
only with ``--allow-unsafe`` because they may store data.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from bastion.findings import Severity
from bastion.scan.dast.crawl import CrawlResult, InjectionPoint
from bastion.scan.dast.http import BudgetExhausted, Fetcher, FetchError, Response
from bastion.scan.dast.issues import Collector, Issue

__all__ = ["SensitivePath", "run_active", "sensitive_paths"]

PATHS_FILE = Path(__file__).with_name("sensitive_paths.toml")
MAX_PARAMS_PER_POINT = 10
REDIRECT_HOST = "redirect.bastion.invalid"
SIMILAR, DIFFERENT = 0.98, 0.90
"""Boolean SQLi: the true page must match the original this closely, the false page less than that."""

_SQL_ERRORS = re.compile(
    r"SQL syntax.{0,80}MySQL|Warning.{0,40}\bmysqli?_|MySqlException|valid MySQL result"
    r"|PostgreSQL.{0,40}ERROR|pg_query\(\)|unterminated quoted string at or near|syntax error at or near \""
    r"|sqlite3\.OperationalError|SQLITE_ERROR|unrecognized token: \"|near \"[^\"]{0,40}\": syntax error"
    r"|Unclosed quotation mark after the character string|Microsoft OLE DB Provider for SQL Server"
    r"|ORA-0\d{4}|quoted string not properly terminated|SQLSTATE\[\w+\]|JDBC(?:Exception|Driver)"
    r"|org\.hibernate\.QueryException|You have an error in your SQL syntax",
    re.IGNORECASE,
)
_PASSWD = re.compile(r"root:[x*!]?:0:0:")
_WIN_INI = re.compile(r"; for 16-bit app support|\[(?:fonts|extensions|mci extensions)\]")
_REDIRECT_NAMES = re.compile(
    r"redir|url|next|return|goto|dest|target|continue|forward|callback|^r$|^u$", re.I
)
_FILE_NAMES = re.compile(
    r"file|path|page|doc|template|include|inc$|dir|folder|load|read|download|view|img|image", re.I
)
_TRAVERSALS = (
    ("../" * 10 + "etc/passwd", _PASSWD),
    ("/etc/passwd", _PASSWD),
    ("..\\" * 10 + "windows\\win.ini", _WIN_INI),
)


@dataclass(frozen=True)
class SensitivePath:
    """A well-known path and the content that proves it is exposed."""

    path: str
    signature: re.Pattern[str]
    severity: Severity
    what: str


@cache
def sensitive_paths() -> tuple[SensitivePath, ...]:
    """The probes from ``sensitive_paths.toml``."""
    data = tomllib.loads(PATHS_FILE.read_text(encoding="utf-8"))
    return tuple(
        SensitivePath(
            str(e["path"]),
            re.compile(str(e["signature"])),
            Severity.parse(str(e["severity"])),
            str(e["what"]),
        )
        for e in data["path"]
    )


class _Active:
    def __init__(self, fetcher: Fetcher, collector: Collector, allow_unsafe: bool) -> None:
        self.fetcher = fetcher
        self.collector = collector
        self.allow_unsafe = allow_unsafe
        self.notices: list[str] = []

    async def send(self, point: InjectionPoint, name: str, value: str) -> Response:
        params = {k: (value if k == name else v) for k, v in point.params}
        if point.method == "GET":
            return await self.fetcher.request("GET", point.url, params=params)
        return await self.fetcher.request(point.method, point.url, data=params)

    async def point(self, point: InjectionPoint) -> None:
        base: Response | None = None
        for name, value in point.params[:MAX_PARAMS_PER_POINT]:
            try:
                await self.xss(point, name, value)
                if base is None:
                    base = await self.send(point, name, value)
                await self.sqli(point, name, value, base)
                if _REDIRECT_NAMES.search(name) or value.startswith(("http://", "https://", "/")):
                    await self.redirect(point, name)
                if _FILE_NAMES.search(name) or re.search(r"\.\w{2,4}$|/", value):
                    await self.traversal(point, name, base)
            except FetchError as exc:
                self.notices.append(f"active check of {name!r} at {point.url} stopped: {exc}")

    def where(self, point: InjectionPoint, name: str) -> str:
        return f"{point.method} {point.url} [{name}]"

    async def xss(self, point: InjectionPoint, name: str, value: str) -> None:
        marker = f"bx{secrets.token_hex(4)}"
        response = await self.send(point, name, f"{value}{marker}\"'><{marker}>")
        if response.is_html and f"<{marker}>" in response.text:
            self.collector.add(
                Issue(
                    "dast.xss-reflected",
                    point.url,
                    self.where(point, name),
                    f"Parameter {name!r} is reflected into HTML without encoding",
                    evidence=f"<{marker}> came back unencoded",
                    metadata={"parameter": name, "method": point.method},
                )
            )

    async def sqli(self, point: InjectionPoint, name: str, value: str, base: Response) -> None:
        for quote in ("'", '"'):
            response = await self.send(point, name, value + quote)
            match = _SQL_ERRORS.search(response.text)
            if match and not _SQL_ERRORS.search(base.text):
                self.collector.add(
                    Issue(
                        "dast.sql-injection",
                        point.url,
                        self.where(point, name),
                        f"A {quote} in parameter {name!r} causes a database error",
                        evidence=match.group(0),
                        metadata={"parameter": name, "technique": "error-based"},
                    )
                )
                return
        numeric = value.isdigit()
        pairs = (
            [(" AND 1=1", " AND 1=2"), (" AND 2>1", " AND 2<1")]
            if numeric
            else [("' AND '1'='1", "' AND '1'='2"), ("' AND 'b'='b", "' AND 'b'='c")]
        )
        for true_suffix, false_suffix in pairs:
            true = await self.send(point, name, value + true_suffix)
            if not _same(base, true, value + true_suffix):
                return
            false = await self.send(point, name, value + false_suffix)
            if _same(base, false, value + false_suffix, DIFFERENT):
                return
        self.collector.add(
            Issue(
                "dast.sql-injection",
                point.url,
                self.where(point, name),
                f"Boolean conditions in parameter {name!r} change the response "
                "(true keeps the page, false changes it, confirmed twice)",
                evidence=f"{name}={value}{pairs[0][0]} vs {name}={value}{pairs[0][1]}",
                metadata={"parameter": name, "technique": "boolean-based"},
            )
        )

    async def redirect(self, point: InjectionPoint, name: str) -> None:
        for payload in (f"https://{REDIRECT_HOST}/", f"//{REDIRECT_HOST}/"):
            response = await self.send(point, name, payload)
            target = response.headers.get("location", "") if 300 <= response.status < 400 else ""
            if urlsplit(target if "//" in target else "").hostname == REDIRECT_HOST:
                self.collector.add(
                    Issue(
                        "dast.open-redirect",
                        point.url,
                        self.where(point, name),
                        f"Parameter {name!r} redirects to any host",
                        evidence=f"{response.status} Location: {target}",
                        metadata={"parameter": name},
                    )
                )
                return

    async def traversal(self, point: InjectionPoint, name: str, base: Response) -> None:
        for payload, signature in _TRAVERSALS:
            response = await self.send(point, name, payload)
            match = signature.search(response.text)
            if match and not signature.search(base.text):
                self.collector.add(
                    Issue(
                        "dast.path-traversal",
                        point.url,
                        self.where(point, name),
                        f"Parameter {name!r} reads files outside the web root",
                        evidence=f"{name}={payload} -> {match.group(0)}",
                        metadata={"parameter": name},
                    )
                )
                return

    async def paths(self) -> None:
        origin = self.fetcher.scope.origin
        for probe in sensitive_paths():
            url = origin + probe.path
            if not self.fetcher.scope.allows(url):
                continue
            try:
                response = await self.fetcher.request("GET", url)
            except FetchError as exc:
                self.notices.append(str(exc))
                continue
            body = response.body.decode("latin-1")
            if response.status == 200 and (match := probe.signature.search(body)):
                evidence = match.group(0)[:80]
                if probe.path in ("/.env", "/.aws/credentials", "/.htpasswd"):
                    evidence = evidence.split("=")[0].split(":")[0] + "\u2026"  # never show values
                self.collector.add(
                    Issue(
                        "dast.sensitive-path",
                        url,
                        url,
                        f"{probe.path} is served: {probe.what}",
                        evidence=evidence,
                        severity=probe.severity,
                        metadata={"path": probe.path},
                    )
                )

    async def methods(self, url: str) -> None:
        marker = f"bastion-{secrets.token_hex(6)}"
        try:
            response = await self.fetcher.request("TRACE", url, headers={"X-Bastion-Trace": marker})
        except FetchError:
            response = None
        if response is not None and response.status == 200 and marker in response.text:
            self.collector.add(
                Issue(
                    "dast.http-methods",
                    url,
                    f"{self.fetcher.scope.origin} TRACE",
                    "TRACE is enabled and echoes request headers (cross-site tracing)",
                    evidence=f"TRACE {response.status}, header echoed",
                    metadata={"method": "TRACE"},
                )
            )
        if self.allow_unsafe:
            await self.put(marker)

    async def put(self, marker: str) -> None:
        url = f"{self.fetcher.scope.origin}/{marker}.txt"
        try:
            stored = await self.fetcher.request("PUT", url, content=marker.encode())
            if stored.status not in (200, 201, 204):
                return
            back = await self.fetcher.request("GET", url)
            if back.status == 200 and marker in back.text:
                self.collector.add(
                    Issue(
                        "dast.http-methods",
                        url,
                        f"{self.fetcher.scope.origin} PUT",
                        "PUT stores files that are then served (unauthenticated upload)",
                        evidence=f"PUT {stored.status}, GET 200 returned the content",
                        severity=Severity.HIGH,
                        metadata={"method": "PUT"},
                    )
                )
                await self.fetcher.request("DELETE", url)
        except FetchError:
            return


def _same(base: Response, other: Response, payload: str, threshold: float = SIMILAR) -> bool:
    if base.status != other.status:
        return False
    a = base.text[:20_000]
    b = other.text[:20_000].replace(payload, "")
    return difflib.SequenceMatcher(None, a, b).ratio() >= threshold


async def run_active(
    fetcher: Fetcher, crawled: CrawlResult, collector: Collector, start_url: str, allow_unsafe: bool
) -> list[str]:
    """Run every active check within the fetcher's budget; returns notices."""
    runner = _Active(fetcher, collector, allow_unsafe)
    notices: list[str] = []
    points = [p for p in crawled.points.values() if p.method == "GET" or allow_unsafe]
    skipped = len(crawled.points) - len(points)
    if skipped:
        notices.append(f"{skipped} POST form(s) not tested: they may store data (use --allow-unsafe)")
    tasks = [runner.paths(), runner.methods(start_url), *(runner.point(p) for p in _ordered(points))]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    notices.extend(runner.notices)
    stopped = next((o for o in outcomes if isinstance(o, BudgetExhausted)), None)
    if stopped is not None:
        notices.append(f"active checks stopped: {stopped}")
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, BudgetExhausted):
            raise outcome
    return notices


def _ordered(points: Iterable[InjectionPoint]) -> list[InjectionPoint]:
    return sorted(points, key=lambda p: (p.url, p.method, p.params))
