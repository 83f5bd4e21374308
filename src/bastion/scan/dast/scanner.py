"""One DAST run: fetch the target, crawl with passive rules, optionally run active checks.

:func:`run_dast` is the library entry point the CLI calls; it returns findings in the core
model plus the run's statistics and notices, and raises :class:`~bastion.errors.InputError`
when the target cannot be scanned at all (bad URL, TLS failure, redirect loop, no answer).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bastion.errors import InputError
from bastion.findings import Finding
from bastion.scan.dast.active import run_active
from bastion.scan.dast.crawl import crawl
from bastion.scan.dast.http import Fetcher, FetcherOptions, FetchError, Scope, check_target
from bastion.scan.dast.issues import Collector, Issue
from bastion.scan.dast.jslibs import AdvisoryLookup, Detection, OsvLookup
from bastion.scan.dast.redact import redact_text_urls

__all__ = ["DastOptions", "DastResult", "run_dast", "scan_async"]


@dataclass(frozen=True)
class DastOptions:
    """Everything one scan needs."""

    target: str
    fetcher: FetcherOptions = field(default_factory=FetcherOptions)
    scope: str | None = None
    max_depth: int = 5
    active: bool = False
    allow_unsafe: bool = False
    advisory_db: Path | None = None


@dataclass
class DastResult:
    """Findings and statistics of one scan."""

    target: str
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    requests: int = 0
    pages: int = 0
    libraries: list[Detection] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def requests_per_second(self) -> float:
        """Request rate achieved."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


async def scan_async(
    options: DastOptions,
    transport: httpx.AsyncBaseTransport | None = None,
    advisories: AdvisoryLookup | None = None,
) -> DastResult:
    """The scan as a coroutine (``transport`` and ``advisories`` are seams for tests)."""
    started = time.perf_counter()
    target = check_target(options.target)
    scope = Scope.for_target(target, options.scope)
    result = DastResult(target=target)
    collector = Collector()
    async with Fetcher(scope, options.fetcher, transport) as fetcher:
        try:
            start = await fetcher.get_following(target)
        except FetchError as exc:
            raise InputError(str(exc)) from None
        crawled = await crawl(fetcher, start, collector, options.max_depth)
        result.notices.extend(crawled.notices)
        if crawled.stopped:
            result.notices.append(f"crawl stopped early: {crawled.stopped}")
        if options.active:
            result.notices.extend(
                await run_active(fetcher, crawled, collector, start.url, options.allow_unsafe)
            )
        result.requests = fetcher.requests
        result.pages = len(crawled.pages)
    result.libraries = _unique(crawled.libraries)
    lookup = advisories if advisories is not None else OsvLookup(options.advisory_db)
    result.notices.extend(_match_libraries(result.libraries, lookup, collector))
    result.findings = collector.findings()
    result.notices = [redact_text_urls(text) for text in result.notices]
    result.duration_s = time.perf_counter() - started
    return result


def run_dast(options: DastOptions) -> DastResult:
    """Run a scan to completion (blocking)."""
    return asyncio.run(scan_async(options))


def _unique(detections: list[Detection]) -> list[Detection]:
    seen: dict[tuple[str, str], Detection] = {}
    for detection in sorted(detections, key=lambda d: (d.name, d.version, d.url)):
        seen.setdefault((detection.name, detection.version), detection)
    return list(seen.values())


def _match_libraries(libraries: list[Detection], lookup: AdvisoryLookup, collector: Collector) -> list[str]:
    if not libraries:
        return []
    names = ", ".join(f"{d.name} {d.version}" for d in libraries)
    if not lookup.available():
        reason = getattr(lookup, "reason", "") or "advisory database absent"
        return [f"JavaScript libraries detected ({names}) but not checked for vulnerabilities: {reason}"]
    for library in libraries:
        advisories = lookup.find(library.name, library.version)
        if not advisories:
            continue
        ids = sorted(a.id for a in advisories)
        severities = [a.severity for a in advisories if a.severity is not None]
        fixed = sorted({f for a in advisories for f in a.fixed})
        collector.add(
            Issue(
                "dast.vulnerable-js-library",
                library.url,
                f"npm {library.name}@{library.version}",
                f"{library.name} {library.version} has {len(ids)} known vulnerabilit"
                f"{'y' if len(ids) == 1 else 'ies'}: {', '.join(ids[:5])}",
                evidence=f"{library.name} {library.version} ({library.how})",
                severity=max(severities) if severities else None,
                metadata={
                    "package": f"pkg:npm/{library.name}@{library.version}",
                    "advisories": ids,
                    "fixed_versions": fixed,
                },
            )
        )
    return list(getattr(lookup, "errors", []))
