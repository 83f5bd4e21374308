"""Helpers shared by the DAST tests."""

from __future__ import annotations

import asyncio
from typing import Any

from bastion.scan.dast.http import FetcherOptions
from bastion.scan.dast.scanner import DastOptions, DastResult, scan_async


def scan(url: str, **options: Any) -> DastResult:
    """Scan ``url`` (TLS not verified, no rate limit unless given) and return the result."""
    fetcher = {"insecure": True, "rate": 0.0}
    for key in (
        "max_requests",
        "rate",
        "concurrency",
        "timeout_s",
        "max_response_bytes",
        "time_limit_s",
        "insecure",
        "headers",
        "cookies",
    ):
        if key in options:
            fetcher[key] = options.pop(key)
    return asyncio.run(scan_async(DastOptions(url, FetcherOptions(**fetcher), **options)))


def rule_counts(result: DastResult) -> dict[str, int]:
    """Findings per rule id."""
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.rule_id] = counts.get(finding.rule_id, 0) + 1
    return counts
