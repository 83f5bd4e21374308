"""The crawler: breadth first from the target, within scope, depth, budget and time.

Sources of URLs: links, frames, scripts and stylesheets of HTML pages, GET forms (submitted
with their default values), redirects, robots.txt, sitemap.xml and same-origin paths
quoted in scripts. Every response goes through the passive rules as it arrives. Query
parameters and forms become injection points for the active checks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from bastion.scan.dast import passive
from bastion.scan.dast.http import BudgetExhausted, Fetcher, FetchError, Response
from bastion.scan.dast.issues import Collector, Issue
from bastion.scan.dast.jslibs import Detection, detect_libraries
from bastion.scan.dast.page import Page, parse_page, robots_urls, script_urls, sitemap_urls

__all__ = ["CrawlResult", "InjectionPoint", "crawl"]

log = logging.getLogger(__name__)

MAX_VARIANTS_PER_PATH = 5
"""Query-string variants of one path crawled (calendars and filters never end)."""
FOREIGN_ORIGIN = "https://cors-check.bastion.invalid"


@dataclass(frozen=True)
class InjectionPoint:
    """A request whose parameters the active checks may vary."""

    method: str
    url: str
    """Without query string."""
    params: tuple[tuple[str, str], ...]

    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Identity: method, URL and parameter names (values do not make a new point)."""
        return self.method, self.url, tuple(sorted(name for name, _ in self.params))


@dataclass
class CrawlResult:
    """What the crawl saw besides the issues it recorded."""

    pages: list[str] = field(default_factory=list)
    points: dict[tuple[str, str, tuple[str, ...]], InjectionPoint] = field(default_factory=dict)
    libraries: list[Detection] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    stopped: str = ""
    """Why the crawl stopped early (budget, time), or empty."""


class _Crawler:
    def __init__(self, fetcher: Fetcher, collector: Collector, max_depth: int) -> None:
        self.fetcher = fetcher
        self.collector = collector
        self.max_depth = max_depth
        self.result = CrawlResult()
        self.seen: set[str] = set()
        self.variants: dict[str, int] = {}
        self.cors_probed: set[str] = set()
        self.origin = fetcher.scope.origin

    def admit(self, url: str | None) -> bool:
        """Whether ``url`` is new, in scope and within the per-path variant cap."""
        if url is None or url in self.seen or not self.fetcher.scope.allows(url):
            return False
        parts = urlsplit(url)
        if parts.query:
            path = f"{self.origin}{parts.path}"
            if self.variants.get(path, 0) >= MAX_VARIANTS_PER_PATH:
                return False
            self.variants[path] = self.variants.get(path, 0) + 1
        self.seen.add(url)
        return True

    async def run(self, start: Response) -> CrawlResult:
        self.seen.add(start.url)
        level = [u for u in self.process(start) if self.admit(u)]
        for extra in ("/robots.txt", "/sitemap.xml"):
            url = f"{self.origin}{extra}"
            if self.admit(url):
                level.append(url)
        depth = 1
        while level and depth <= self.max_depth:
            results = await asyncio.gather(*(self.visit(url) for url in level))
            level = [u for found in results for u in found if self.admit(u)]
            depth += 1
            if self.result.stopped:
                break
        if level and not self.result.stopped:
            self.result.notices.append(
                f"crawl stopped at depth {self.max_depth}; {len(level)} URLs not visited"
            )
        return self.result

    async def visit(self, url: str) -> list[str]:
        if self.result.stopped:
            return []
        try:
            response = await self.fetcher.request("GET", url, headers={"Origin": self.origin})
        except BudgetExhausted as exc:
            self.result.stopped = str(exc)
            return []
        except FetchError as exc:
            self.result.notices.append(str(exc))
            return []
        found = self.process(response)
        await self.cors_probe(response)
        return found

    def process(self, response: Response) -> list[str]:
        """Run the passive rules on ``response`` and return the URLs it links to."""
        self.result.pages.append(response.url)
        if response.truncated:
            self.result.notices.append(
                f"{response.url}: response larger than {self.fetcher.options.max_response_bytes} bytes; "
                "only the first part was read"
            )
        self.collector.extend(passive.check_response(response))
        self.note_point("GET", response.url)
        if response.location:
            return [response.location]
        if not response.is_text or not response.body:
            return []
        page = parse_page(response.url, response.text) if response.is_html else None
        self.collector.extend(passive.check_page(response, page))
        self.collector.extend(passive.check_secrets(response))
        path = urlsplit(response.url).path
        if page is not None:
            return self.from_page(page)
        if "javascript" in response.content_type or path.endswith((".js", ".mjs")):
            self.collector.extend(passive.check_script(response))
            self.result.libraries.extend(detect_libraries(response.url, response.text))
            return script_urls(response.text, response.url)
        if path == "/robots.txt" and response.status == 200:
            return robots_urls(response.text, response.url)
        head = response.text[:2000]
        if "<urlset" in head or "<sitemapindex" in head:
            return sitemap_urls(response.text, response.url)
        return []

    def from_page(self, page: Page) -> list[str]:
        links = list(page.links)
        for script in page.scripts:
            if not self.fetcher.scope.allows(script):  # a CDN script: known by its URL alone
                self.result.libraries.extend(detect_libraries(script, None))
        for form in page.forms:
            params = tuple(form.fields.items())
            if not self.fetcher.scope.allows(form.action):
                continue
            if form.method == "get":
                query = urlencode([(k, v or "bastion") for k, v in params])
                base = form.action.split("?")[0]
                links.append(f"{base}?{query}" if query else base)
            else:
                self.add_point(InjectionPoint("POST", form.action.split("?")[0], params))
        return links

    def note_point(self, method: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.query:
            params = tuple(parse_qsl(parts.query, keep_blank_values=True))
            base = url.split("?")[0]
            if params:
                self.add_point(InjectionPoint(method, base, params))

    def add_point(self, point: InjectionPoint) -> None:
        self.result.points.setdefault(point.key(), point)

    async def cors_probe(self, response: Response) -> None:
        """Re-request a CORS-enabled URL with a foreign Origin: reflected with credentials?"""
        allowed = response.headers.get("access-control-allow-origin", "")
        path = response.url.split("?")[0]
        if not allowed or allowed == "*" or path in self.cors_probed:
            return
        self.cors_probed.add(path)
        try:
            probe = await self.fetcher.request("GET", response.url, headers={"Origin": FOREIGN_ORIGIN})
        except (BudgetExhausted, FetchError):
            return
        reflected = probe.headers.get("access-control-allow-origin", "") == FOREIGN_ORIGIN
        credentials = probe.headers.get("access-control-allow-credentials", "").lower() == "true"
        if reflected and credentials:
            self.collector.add(
                Issue(
                    "dast.cors-reflected-origin",
                    response.url,
                    path,
                    f"Access-Control-Allow-Origin echoes any Origin ({FOREIGN_ORIGIN}) "
                    "with credentials allowed",
                    evidence=f"Access-Control-Allow-Origin: {FOREIGN_ORIGIN}; "
                    "Access-Control-Allow-Credentials: true",
                )
            )


async def crawl(fetcher: Fetcher, start: Response, collector: Collector, max_depth: int) -> CrawlResult:
    """Crawl from the already fetched ``start`` response; issues go to ``collector``."""
    return await _Crawler(fetcher, collector, max_depth).run(start)
