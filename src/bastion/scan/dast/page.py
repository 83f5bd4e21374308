"""What a page holds for the crawler and the passive rules: links, forms, scripts, comments.

Parsed with the standard library's tolerant :class:`html.parser.HTMLParser`; URLs in
scripts are found by a conservative regex (quoted strings that look like same-site paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bastion.scan.dast.http import normalize_url

__all__ = ["Form", "Page", "parse_page", "robots_urls", "script_urls", "sitemap_urls"]

LINK_ATTRS = {
    "a": "href",
    "area": "href",
    "link": "href",
    "iframe": "src",
    "frame": "src",
    "script": "src",
    "img": "src",
    "source": "src",
    "embed": "src",
    "object": "data",
    "form": "action",
}
SUBRESOURCE_TAGS = frozenset({"script", "link", "iframe", "frame", "img", "source", "embed", "object"})
CRAWLABLE_TAGS = frozenset({"a", "area", "iframe", "frame", "script", "link"})

_SCRIPT_URL = re.compile(r"""["'`]((?:https?://[^"'`\s<>]{1,300})|(?:/[A-Za-z0-9_\-./?=&%~+]{1,300}))["'`]""")
_META_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)


@dataclass
class Form:
    """An HTML form with its fields and their default values."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    """The parts of an HTML page the scanner uses."""

    url: str
    links: list[str] = field(default_factory=list)
    """Absolute URLs the crawler may follow (anchors, frames, scripts, stylesheets)."""
    subresources: list[tuple[str, str]] = field(default_factory=list)
    """(tag, raw URL) of everything the page loads, for mixed-content checks."""
    scripts: list[str] = field(default_factory=list)
    """Absolute URLs of external scripts."""
    inline_scripts: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.base = page.url
        self._form: Form | None = None
        self._in_script = False
        self._script: list[str] = []

    def _url(self, raw: str) -> str | None:
        return normalize_url(raw, self.base)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and values.get("href"):
            self.base = self._url(values["href"]) or self.base
            return
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            match = _META_REFRESH.search(values.get("content", ""))
            if match and (url := self._url(match.group(1))):
                self.page.links.append(url)
            return
        attr = LINK_ATTRS.get(tag)
        raw = values.get(attr, "") if attr else ""
        if (
            raw
            and tag in SUBRESOURCE_TAGS
            and not (tag == "link" and "stylesheet" not in values.get("rel", ""))
        ):
            self.page.subresources.append((tag, raw))
        url = self._url(raw) if raw else None
        if url and tag in CRAWLABLE_TAGS:
            self.page.links.append(url)
        if tag == "script":
            if url:
                self.page.scripts.append(url)
            else:
                self._in_script = True
                self._script = []
        elif tag == "form":
            action = self._url(raw) if raw else self.page.url
            self._form = Form(action or self.page.url, (values.get("method") or "get").lower())
            self.page.forms.append(self._form)
        elif tag in ("input", "textarea", "select", "button") and self._form is not None:
            name = values.get("name")
            if name and values.get("type", "").lower() not in ("submit", "button", "image", "reset", "file"):
                self._form.fields[name] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "script" and self._in_script:
            self._in_script = False
            self.page.inline_scripts.append("".join(self._script))

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self._script.append(data)

    def handle_comment(self, data: str) -> None:
        self.page.comments.append(data)


def parse_page(url: str, html: str) -> Page:
    """Parse ``html`` served at ``url``; never raises on malformed markup."""
    page = Page(url)
    parser = _Parser(page)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is tolerant; belt and braces
        pass
    for script in page.inline_scripts:
        page.links.extend(script_urls(script, url))
    return page


def script_urls(text: str, base: str) -> list[str]:
    """Absolute URLs of quoted paths and http(s) URLs in script text."""
    urls: list[str] = []
    for match in _SCRIPT_URL.finditer(text[:500_000]):
        raw = match.group(1)
        if raw.startswith("//"):
            continue
        url = normalize_url(raw, base)
        if url:
            urls.append(url)
    return urls


def robots_urls(text: str, base: str) -> list[str]:
    """URLs named by ``Allow``, ``Disallow`` and ``Sitemap`` lines of a robots.txt."""
    urls: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        value = value.split("#")[0].strip()
        if key.strip().lower() in ("allow", "disallow", "sitemap") and value and "*" not in value:
            url = normalize_url(value.replace("$", ""), base)
            if url:
                urls.append(url)
    return urls


_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.IGNORECASE)


def sitemap_urls(text: str, base: str) -> list[str]:
    """URLs in the ``<loc>`` elements of a sitemap (or a sitemap index)."""
    return [url for raw in _LOC.findall(text) if (url := normalize_url(raw.replace("&amp;", "&"), base))]
