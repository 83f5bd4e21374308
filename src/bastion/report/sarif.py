"""SARIF 2.1.0 report, shaped for GitHub code scanning and other SARIF consumers.

One run, one rule per distinct ``rule_id``. GitHub reads the rule's
``properties.security-severity`` (a number as a string) to rank alerts, and its
``tags`` (``security``, ``external/cwe/cwe-79``) to group them; ``partialFingerprints``
carries Bastion's own line-independent fingerprint so alerts survive code moving.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html and
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning

Each run carries ``automationDetails.id``, ``<category>/<run id>`` (SARIF 2.1.0 section 3.17.4):
GitHub keeps one set of alerts per category (the part before the last ``/``), so uploads of
several scans of one commit (one per subfolder of a monorepo) do not close each other's alerts.
The category is ``bastion/<scanned folder relative to the repository root>``, plain ``bastion``
for the whole repository (or a scan outside any repository): no folder name can collide with it.
A run of a pipeline stage (``bastion scan --stage deploy``) puts the stage first, as
``stage:<name>`` (``bastion/stage:deploy``, ``bastion/stage:deploy/services/api``): two stages
scanning one folder keep apart sets of alerts. The ``key:value`` segment is the form GitHub's own
CodeQL action uses for its categories (``language:python``), and no folder can collide with it in
practice (``:`` is not allowed in a Windows path, so no portable repository holds a folder named
``stage:deploy``); the stage name is percent-encoded, so it never adds a ``/``. A run that is not
a code scan of the tree but another analysis of the same commit (the coverage gate, a DAST run:
``SEPARATE_ANALYSES``) adds ``analysis:<scanner>`` (``bastion/analysis:coverage``): uploaded under
the scan's own category, it would close every alert of the scan (the upload action's ``category``
input cannot prevent it, since it only fills in a run without ``automationDetails``).
The run id is a digest of what the run reported, so rendering one run twice gives the same document.

Suppressed findings are results with an ``inSource`` suppression (GitHub closes them);
baselined findings are left out, as they are of every other report but JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from bastion import __version__
from bastion.findings import Confidence, Finding, Location, Severity
from bastion.gate import GateResult
from bastion.report.scope import machine_path_scrubber, scan_scope
from bastion.report.table import COUNTED_KINDS
from bastion.results import NoticeKind

__all__ = [
    "FINGERPRINT_KEY",
    "INFORMATION_URI",
    "SCHEMA_URI",
    "SEPARATE_ANALYSES",
    "automation_category",
    "render",
    "to_document",
]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/bastion-security/bastion"
FINGERPRINT_KEY = "bastionFingerprint/v1"
"""Versioned key: a new fingerprint algorithm gets a new key, so old alerts still match."""
CATEGORY_PREFIX = "bastion"
"""First part of every ``automationDetails`` category; the stage and the scanned folder follow it."""
STAGE_KEY = "stage:"
"""Marks the category segment naming the pipeline stage."""
ANALYSIS_KEY = "analysis:"
"""Marks the category segment naming a separate analysis (``SEPARATE_ANALYSES``)."""
SEPARATE_ANALYSES = frozenset({"coverage", "dast"})
"""Scanners whose runs are uploaded beside the code scan of the same commit, not instead of it:
``bastion coverage`` and ``bastion dast`` each file their alerts under a category of their own."""
_STAGE_SAFE = "-_.~+=@,;!$&'()*"
"""What a stage name keeps unescaped in the category: anything but ``/`` (a new segment), ``%``
and ``:`` is escaped, so a stage named ``a/b`` cannot pose as a stage and a folder."""
SRCROOT = "%SRCROOT%"
SRCROOT_TEXT = "The repository root (the scanned directory when it is in no git work tree)"
"""%SRCROOT% carries no URI: an absolute path of the scanning machine would leak into the report,
and code scanning resolves it to the checkout itself."""
_URI_SAFE = "/!$&'()*+,;=@-._~"

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
"""GitHub maps >9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low."""

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}

_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def to_document(result: GateResult) -> dict[str, Any]:
    """The SARIF log as plain JSON types."""
    entries: list[tuple[Finding, str | None]] = [(f, None) for f in result.findings]
    entries.extend((s.finding, s.reason) for s in result.suppressed)
    rules, index = _rules([finding for finding, _ in entries])
    driver: dict[str, Any] = {
        "name": "bastion",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    if _SEMVER.match(__version__):
        driver["semanticVersion"] = __version__
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [_invocation(result)],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": SRCROOT_TEXT}}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id], reason) for f, reason in entries],
    }
    scope = scan_scope(result.scan)
    if scope is not None:
        run["properties"] = {"bastionScope": scope}
        if scope["repository"] and scope["root"] != ".":
            _rebase(run, quote(scope["root"], safe=_URI_SAFE) + "/")
    run = machine_path_scrubber(result.scan.root)(run)
    root = scope["root"] if scope is not None else None
    category = automation_category(root, result.scan.stage, _analysis(result.scan.scanners))
    run["automationDetails"] = {
        "id": f"{category}/{_run_id(run)}",
        "description": {"text": _category_text(root, result.scan.stage, _analysis(result.scan.scanners))},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def automation_category(root: str | None, stage: str | None = None, analysis: str | None = None) -> str:
    """The code scanning category of a scan of ``root`` (POSIX, relative to the repository root;
    ``.`` or None for the whole repository) in pipeline stage ``stage`` (None: no stage), by
    ``analysis`` (one of ``SEPARATE_ANALYSES``; None for a code scan): ``bastion/services/api``,
    ``bastion``, ``bastion/stage:deploy``, ``bastion/stage:deploy/services/api``,
    ``bastion/analysis:coverage``."""
    parts = [CATEGORY_PREFIX]
    if stage is not None:
        parts.append(STAGE_KEY + quote(stage, safe=_STAGE_SAFE))
    if analysis is not None:
        parts.append(ANALYSIS_KEY + quote(analysis, safe=_STAGE_SAFE))
    folder = _folder(root)
    if folder is not None:
        parts.append(folder)
    return "/".join(parts)


def _analysis(scanners: list[str]) -> str | None:
    """The separate analysis a run of ``scanners`` is (``coverage``, ``dast``), or None for a code scan."""
    return scanners[0] if len(scanners) == 1 and scanners[0] in SEPARATE_ANALYSES else None


def _folder(root: str | None) -> str | None:
    folder = (root or ".").strip("/")
    return None if folder in {"", "."} else folder


def _category_text(root: str | None, stage: str | None, analysis: str | None) -> str:
    folder = _folder(root)
    text = f"Bastion {analysis or 'scan'} of {'the repository root' if folder is None else folder}"
    return text if stage is None else f"{text}, stage {stage}"


def _run_id(run: dict[str, Any]) -> str:
    """A digest of the run's reported content (results, notifications, scope, tool version)."""
    text = json.dumps(run, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def render(result: GateResult) -> str:
    """The SARIF log, indented, with a trailing newline."""
    return json.dumps(to_document(result), indent=2, ensure_ascii=False) + "\n"


def _rebase(node: Any, prefix: str) -> None:
    """Prefix every URI under %SRCROOT% with ``prefix`` (the scanned folder relative to the
    repository), in place: %SRCROOT% is then the repository root, as GitHub resolves it."""
    if isinstance(node, list):
        for item in node:
            _rebase(item, prefix)
    elif isinstance(node, dict):
        if node.get("uriBaseId") == SRCROOT and isinstance(node.get("uri"), str):
            node["uri"] = prefix if node["uri"] == "." else prefix + node["uri"]
        for value in node.values():
            if isinstance(value, dict | list):
                _rebase(value, prefix)


def _rules(findings: list[Finding]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule_id in sorted(by_rule):
        index[rule_id] = len(rules)
        rules.append(_rule(rule_id, by_rule[rule_id]))
    return rules, index


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    """Describe a rule from its findings; the worst severity sets the rule's default."""
    first = findings[0]
    severity = max(f.severity for f in findings)
    confidence = max((f.confidence for f in findings), key=lambda c: c.rank)
    cwes = sorted({c for f in findings for c in f.cwe})
    help_text = first.fix or first.message or first.title
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": first.title},
        "fullDescription": {"text": first.message or first.title},
        "help": {"text": help_text, "markdown": _help_markdown(first, cwes)},
    }
    if first.help_uri:
        rule["helpUri"] = first.help_uri
    rule["defaultConfiguration"] = {"level": LEVEL[severity]}
    rule["properties"] = {
        "security-severity": SECURITY_SEVERITY[severity],
        "tags": ["security", *(f"external/cwe/cwe-{c}" for c in cwes)],
        "precision": PRECISION[confidence],
    }
    return rule


def _help_markdown(finding: Finding, cwes: list[int]) -> str:
    parts = [f"**{finding.title}**"]
    if finding.message and finding.message != finding.title:
        parts.append(finding.message)
    if finding.fix:
        parts.append(f"**Fix:** {finding.fix}")
    if cwes:
        links = ", ".join(f"[CWE-{c}](https://cwe.mitre.org/data/definitions/{c}.html)" for c in cwes)
        parts.append(f"Weakness: {links}")
    if finding.help_uri:
        parts.append(f"[Documentation]({finding.help_uri})")
    return "\n\n".join(parts)


def _result(finding: Finding, rule_index: int, suppression: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "controls": list(finding.controls),
        "scanner": finding.scanner,
    }
    if finding.location.commit:
        properties["commit"] = finding.location.commit
    if finding.evidence:
        properties["evidence"] = finding.evidence
    if finding.metadata:
        properties["metadata"] = dict(finding.metadata)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message or finding.title},
        "locations": _locations(finding.location),
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    code_flows = _code_flows(finding)
    if code_flows:
        result["codeFlows"] = code_flows
    if suppression is not None:
        entry: dict[str, Any] = {"kind": "inSource"}
        if suppression:
            entry["justification"] = suppression
        result["suppressions"] = [entry]
    result["properties"] = properties
    return result


def _code_flows(finding: Finding) -> list[dict[str, Any]]:
    """``codeFlows`` from a dataflow finding's ``metadata["flow"]`` (source to sink, one step per
    ``{"path", "line", "note"}``), so GitHub shows the trace; ``[]`` for other findings."""
    steps = finding.metadata.get("flow")
    if not isinstance(steps, list):
        return []
    locations: list[dict[str, Any]] = []
    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("path"), str):
            continue
        line = step.get("line")
        physical: dict[str, Any] = {"artifactLocation": _artifact(step["path"])}
        if isinstance(line, int) and line > 0:
            physical["region"] = {"startLine": line}
        entry: dict[str, Any] = {"physicalLocation": physical}
        if step.get("note"):
            entry["message"] = {"text": str(step["note"])}
        locations.append({"location": entry})
    if not locations:
        return []
    return [{"threadFlows": [{"locations": locations}]}]


def _locations(location: Location) -> list[dict[str, Any]]:
    """Exactly one location, always with a physical part.

    GitHub rejects the whole log when any result lacks ``physicalLocation.artifactLocation``
    (https://github.com/github/codeql-action/issues/1738), so a package without a lockfile
    path uses its purl (itself an absolute URI) as the artifact, and a finding with no
    place at all is anchored at the scan root.
    """
    physical: dict[str, Any]
    if location.path:
        physical = {"artifactLocation": _artifact(location.path)}
        region = _region(location)
        if region:
            physical["region"] = region
    elif location.url:
        physical = {"artifactLocation": {"uri": location.url}}
    elif location.purl:
        physical = {"artifactLocation": {"uri": location.purl}}
    else:
        physical = {"artifactLocation": {"uri": ".", "uriBaseId": SRCROOT}}
    sarif: dict[str, Any] = {"physicalLocation": physical}
    if location.purl:
        sarif["logicalLocations"] = [{"fullyQualifiedName": location.purl, "kind": "package"}]
    return [sarif]


def _artifact(path: str) -> dict[str, str]:
    """A relative path as a URI reference under %SRCROOT% (spaces, ``%``, ``:``, ``#`` escaped)."""
    return {"uri": quote(path, safe=_URI_SAFE), "uriBaseId": SRCROOT}


def _region(location: Location) -> dict[str, int]:
    if location.start_line is None:
        return {}
    fields = {
        "startLine": location.start_line,
        "endLine": location.end_line,
        "startColumn": location.start_column,
        "endColumn": location.end_column,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _invocation(result: GateResult) -> dict[str, Any]:
    """Skips and notices are warnings and notes, scanner crashes errors (and a failed run)."""
    scan = result.scan
    notes: list[dict[str, Any]] = [
        _notification("bastion.skip", "warning", skip.describe()) for skip in scan.skips
    ]
    notes.extend(_notification("bastion.failure", "error", f.describe()) for f in scan.failures)
    counted: dict[NoticeKind, int] = {}
    for notice in scan.notices:
        if notice.kind in COUNTED_KINDS:
            counted[notice.kind] = counted.get(notice.kind, 0) + 1
        else:
            notes.append(
                _notification(
                    f"bastion.notice.{notice.kind.value}", "note", notice.message, notice.path, notice.scanner
                )
            )
    notes.extend(
        _notification(f"bastion.notice.{kind.value}", "note", f"{count} {COUNTED_KINDS[kind]}")
        for kind, count in counted.items()
    )
    invocation: dict[str, Any] = {"executionSuccessful": not scan.failures}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _notification(
    kind: str, level: str, text: str, path: str | None = None, scanner: str | None = None
) -> dict[str, Any]:
    note: dict[str, Any] = {"descriptor": {"id": kind}, "level": level, "message": {"text": text}}
    if path:
        note["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(path)}}]
    if scanner:
        note["properties"] = {"scanner": scanner}  # the server blocks fixes for that scanner only
    return note
