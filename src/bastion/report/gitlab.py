"""GitLab security report (``gl-sast-report.json`` shape, schema version 15.0.7).

GitLab shows these in the merge request widget and the vulnerability report when the
job declares ``artifacts: reports: sast: gl-sast-report.json``. Schema:
https://gitlab.com/gitlab-org/security-products/security-report-schemas

Every vulnerability's ``id`` is a UUID derived from Bastion's fingerprint, so the same
finding keeps its id across pipelines. Only reported findings appear: suppressed and
baselined ones are decisions already taken. Skips, scanner failures and notices become
``scan.messages``. The clock is injected (``now``) so the output can be reproduced.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bastion import __version__
from bastion.findings import Finding, Severity
from bastion.gate import GateResult
from bastion.report.sarif import INFORMATION_URI
from bastion.report.scope import machine_path_scrubber
from bastion.report.table import COUNTED_KINDS
from bastion.results import NoticeKind

__all__ = ["SCHEMA_VERSION", "render", "to_document", "vulnerability_id"]

SCHEMA_VERSION = "15.0.7"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""GitLab's schema pattern: seconds, no zone (UTC is implied)."""
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, INFORMATION_URI)
"""Namespace of vulnerability ids; changing it changes every id GitLab has stored."""

SEVERITY = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}

NAME_LIMIT = 255
"""GitLab's maximum length of a vulnerability name."""
SOLUTION_LIMIT = 7000
"""GitLab's maximum length of a solution: a longer one fails the whole report's validation."""
DESCRIPTION_LIMIT = 1_048_576
"""GitLab's maximum length of a description."""
_URL = re.compile(r"^(https?|ftp)://.+")
"""The only identifier URLs GitLab's schema takes; a rule's own doc link may be anything."""


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis saying it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def vulnerability_id(finding: Finding) -> str:
    """A UUID that is the same for the same finding in every pipeline."""
    return str(uuid.uuid5(NAMESPACE, f"{finding.rule_id}\x1f{finding.fingerprint}"))


def to_document(result: GateResult, *, now: datetime | None = None) -> dict[str, Any]:
    """The report as plain JSON types; ``now`` (default: now; naive is local time) ends the scan."""
    end = (now or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(seconds=result.scan.duration_s)
    tool = {
        "id": "bastion",
        "name": "Bastion",
        "url": INFORMATION_URI,
        "vendor": {"name": "Bastion"},
        "version": __version__,
    }
    scan: dict[str, Any] = {
        "analyzer": dict(tool),
        "scanner": dict(tool),
        "type": "sast",
        "start_time": start.strftime(TIME_FORMAT),
        "end_time": end.strftime(TIME_FORMAT),
        "status": "failure" if result.scan.failures else "success",
    }
    messages = _messages(result)
    if messages:
        scan["messages"] = messages
    document = {
        "version": SCHEMA_VERSION,
        "scan": scan,
        "vulnerabilities": [_vulnerability(f) for f in result.findings],
    }
    scrubbed: dict[str, Any] = machine_path_scrubber(result.scan.root)(document)  # no machine paths
    return scrubbed


def render(result: GateResult, *, now: datetime | None = None) -> str:
    """The GitLab report, indented, with a trailing newline."""
    return json.dumps(to_document(result, now=now), indent=2, ensure_ascii=False) + "\n"


def _vulnerability(finding: Finding) -> dict[str, Any]:
    identifiers: list[dict[str, str]] = [
        {"type": "bastion_rule", "name": finding.rule_id, "value": finding.rule_id}
    ]
    if finding.help_uri and _URL.match(finding.help_uri):
        identifiers[0]["url"] = finding.help_uri
    identifiers.extend(
        {
            "type": "cwe",
            "name": f"CWE-{cwe}",
            "value": str(cwe),
            "url": f"https://cwe.mitre.org/data/definitions/{cwe}.html",
        }
        for cwe in finding.cwe
    )
    vulnerability: dict[str, Any] = {
        "id": vulnerability_id(finding),
        "name": _clip(finding.title, NAME_LIMIT),
        "description": _clip(_description(finding), DESCRIPTION_LIMIT),
        "severity": SEVERITY[finding.severity],
        "identifiers": identifiers,
        "location": _location(finding),
    }
    if finding.fix:
        vulnerability["solution"] = _clip(finding.fix, SOLUTION_LIMIT)
    return vulnerability


def _description(finding: Finding) -> str:
    parts = [finding.message or finding.title]
    if finding.location.url and not finding.location.path:
        parts.append(f"URL: {finding.location.url}")
    if finding.location.purl:
        parts.append(f"Package: {finding.location.purl}")
    if finding.location.commit:
        parts.append(f"Commit: {finding.location.commit}")
    if finding.controls:
        parts.append(f"Controls: {', '.join(finding.controls)}")
    return "\n\n".join(parts)


def _location(finding: Finding) -> dict[str, Any]:
    """The SAST location shape; a URL or purl stands in for the file when there is none."""
    loc = finding.location
    location: dict[str, Any] = {"file": loc.path or loc.url or loc.purl or ""}
    if loc.start_line is not None:
        location["start_line"] = loc.start_line
        location["end_line"] = loc.end_line or loc.start_line
    return location


def _messages(result: GateResult) -> list[dict[str, str]]:
    scan = result.scan
    messages = [{"level": "warn", "value": skip.describe()} for skip in scan.skips]
    messages.extend({"level": "fatal", "value": failure.describe()} for failure in scan.failures)
    counted: dict[NoticeKind, int] = {}
    for notice in scan.notices:
        if notice.kind in COUNTED_KINDS:
            counted[notice.kind] = counted.get(notice.kind, 0) + 1
        else:
            messages.append({"level": "info", "value": notice.describe()})
    messages.extend({"level": "info", "value": f"{n} {COUNTED_KINDS[k]}"} for k, n in counted.items())
    return messages
