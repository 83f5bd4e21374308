"""Issues found on responses, grouped into findings (one per rule and subject, many instances).

A header missing on 200 pages is one problem with 200 instances, as in ZAP's alerts: the
:class:`Collector` groups issues by ``(rule, key)`` where the key is what the problem is
about (the origin for site-wide headers, the cookie name, the page for page content), and
turns each group into one :class:`~bastion.findings.Finding` with the instance count and
example URLs in its metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.scan.dast.redact import redact_finding
from bastion.scan.dast.rules import get_rule

__all__ = ["Collector", "Issue"]

SCANNER = "dast"
EXAMPLES = 5


@dataclass(frozen=True)
class Issue:
    """One occurrence of a rule on one URL."""

    rule_id: str
    url: str
    key: str
    """What the issue is about; issues with the same rule and key are one finding."""
    message: str
    evidence: str = ""
    severity: Severity | None = None
    """Overrides the rule's severity when set."""
    confidence: Confidence = Confidence.HIGH
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Group:
    first: Issue
    urls: set[str] = field(default_factory=set)


class Collector:
    """Thread-safe grouping of issues into findings."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], _Group] = {}
        self._lock = threading.Lock()

    def add(self, issue: Issue) -> None:
        """Record ``issue``; the first of a group supplies message and evidence, but the
        reported URL is the smallest, so the report does not depend on crawl order."""
        get_rule(issue.rule_id)  # unknown rule ids are bugs: fail loudly in tests
        with self._lock:
            group = self._groups.setdefault((issue.rule_id, issue.key), _Group(issue))
            if issue.url < group.first.url and issue.message == group.first.message:
                group.first = issue
            group.urls.add(issue.url)

    def extend(self, issues: list[Issue]) -> None:
        """Record several issues."""
        for issue in issues:
            self.add(issue)

    def __len__(self) -> int:
        return len(self._groups)

    def findings(self) -> list[Finding]:
        """One finding per group, ordered by rule and key."""
        findings = []
        for (rule_id, key), group in sorted(self._groups.items()):
            rule = get_rule(rule_id)
            issue = group.first
            urls = sorted(group.urls)
            location = Location(url=urls[0])
            metadata: dict[str, Any] = {"instances": len(urls), "urls": urls[:EXAMPLES]}
            if rule.zap_id is not None:
                metadata["zap_plugin_id"] = rule.zap_id
            metadata.update(issue.metadata)
            findings.append(
                Finding(
                    rule_id=rule_id,
                    scanner=SCANNER,
                    title=rule.title,
                    severity=issue.severity or rule.severity,
                    location=location,
                    message=issue.message + (f" ({len(urls)} URLs)" if len(urls) > 1 else ""),
                    fingerprint=make_fingerprint(rule_id, Location(url=key), key),
                    evidence=issue.evidence[:300],
                    confidence=issue.confidence,
                    cwe=(rule.cwe,),
                    fix=rule.fix,
                    metadata=metadata,
                )
            )
        # Crawled URLs carry whatever the site put in its links, credentials included.
        return [redact_finding(finding) for finding in findings]
