"""One DAST run: fetch the target, crawl with passive rules, optionally run active checks.

:class:`DastScanner` is what ``bastion dast`` calls: it runs Bastion's own crawler
(:func:`run_dast`) or drives a ZAP daemon, and hands back the same
:class:`~bastion.results.ScanResult` as every other scanner (findings with every URL redacted,
notices, the rules file's IGNORE and OUTOFSCOPE findings set aside as suppressed), which the one
gate policy then decides on. It raises :class:`~bastion.errors.InputError` when the target cannot
be scanned at all (bad URL, TLS failure, redirect loop, no answer).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bastion.errors import InputError
from bastion.findings import Finding
from bastion.results import Notice, NoticeKind, ScanResult
from bastion.rules import RuleInfo
from bastion.scan.dast.active import run_active
from bastion.scan.dast.crawl import crawl
from bastion.scan.dast.http import Fetcher, FetcherOptions, FetchError, Scope, check_target
from bastion.scan.dast.issues import Collector, Issue
from bastion.scan.dast.jslibs import AdvisoryLookup, Detection, OsvLookup
from bastion.scan.dast.levels import RuleLevels
from bastion.scan.dast.redact import redact_finding, redact_text_urls
from bastion.scan.dast.rules import list_rules
from bastion.scan.dast.zap import ZapOptions, run_zap

__all__ = ["DastOptions", "DastResult", "DastScanner", "dast_rules", "run_dast", "scan_async", "scan_result"]


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

    def to_scan_result(self, levels: RuleLevels) -> ScanResult:
        """This run as every scanner reports it (see :func:`scan_result`)."""
        return scan_result(self.findings, self.notices, levels, self.pages, self.duration_s)


def scan_result(
    findings: Sequence[Finding], notices: Sequence[str], levels: RuleLevels, pages: int, duration_s: float
) -> ScanResult:
    """A DAST run (Bastion's crawler or ZAP) as a :class:`ScanResult`: no URL leaves with a
    credential in it, the rules file's own notices come first, and its IGNORE and OUTOFSCOPE
    findings are set aside as suppressed."""
    redacted = [redact_finding(finding) for finding in findings]
    texts = [redact_text_urls(text) for text in [*levels.notices, *notices]]
    kept, dropped = levels.apply(redacted)
    return ScanResult(
        root=Path.cwd(),
        scanners=[DastScanner.name],
        findings=kept,
        notices=[Notice(NoticeKind.SCANNER, text, scanner=DastScanner.name) for text in texts],
        files_scanned=pages,
        duration_s=duration_s,
        suppressed=dropped,
    )


@functools.cache
def dast_rules() -> tuple[RuleInfo, ...]:
    """The DAST rules (``rules.toml``) as :class:`RuleInfo`, with the ZAP plugin id as equivalent."""
    return tuple(
        RuleInfo(
            id=rule.id,
            title=rule.title,
            severity=rule.severity,
            scanner=DastScanner.name,
            cwe=(rule.cwe,),
            fix=rule.fix,
            equivalent_ids={"zap": str(rule.zap_id)} if rule.zap_id is not None else {},
            description=rule.description,
        )
        for rule in list_rules()
    )


class DastScanner:
    """Dynamic testing of a running web application at a URL (``bastion dast``), not of a tree:
    no entry point for ``bastion scan``, a rule source for ``bastion rules`` like every scanner."""

    name = "dast"
    description = "running web application: passive rules on every response, safe active probes, ZAP import"

    def rules(self) -> Sequence[RuleInfo]:
        """Every DAST rule."""
        return dast_rules()

    def run(self, options: DastOptions, levels: RuleLevels) -> tuple[ScanResult, DastResult]:
        """Scan with Bastion's crawler: the result, and the run's statistics (requests, pages)."""
        result = run_dast(options)
        return result.to_scan_result(levels), result

    def run_zap(self, target: str, zap: ZapOptions, levels: RuleLevels) -> ScanResult:
        """Drive the ZAP daemon at ``zap.url`` over ``target`` and import its alerts."""
        started = time.perf_counter()
        result = run_zap(target, zap)
        notices = [f"ZAP {result.version}: {result.alerts} alerts imported", *result.notices]
        return scan_result(result.findings, notices, levels, 0, time.perf_counter() - started)


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
