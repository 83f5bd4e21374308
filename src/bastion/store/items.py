"""One uploaded finding or SARIF result into a :class:`~bastion.findings.Finding`, checked.

The pieces :mod:`bastion.store.stream` reads an upload with. Other tools' SARIF comes in as
findings of a scanner named after the tool (``semgrep``, ``codeql``...), rule ids namespaced
with it; results without a fingerprint
get one from :func:`bastion.findings.make_fingerprint`. Results SARIF marks suppressed
are left out, as are Bastion's own inline suppressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bastion.advisories.severity import severity_from_score
from bastion.errors import InputError
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.scan.secrets.scrub import scrub
from bastion.store.coverage import Coverage

__all__ = [
    "BASTION_FINGERPRINT_KEY",
    "DEFAULT_MAX_RESULTS",
    "ParsedScan",
    "check_types",
    "sarif_result",
    "too_many",
    "tool_slug",
]

DEFAULT_MAX_RESULTS = 200_000
"""Results (findings) one upload may hold; more is refused with one line, never half-stored."""

_SARIF_LEVEL = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}
_TOOL_SLUG = re.compile(r"[^a-z0-9]+")


def tool_slug(name: str) -> str:
    """The scanner name another tool's SARIF run is stored under (``Other Tool`` -> ``other-tool``)."""
    return _TOOL_SLUG.sub("-", name.lower()).strip("-") or "sarif"


_CWE = re.compile(r"cwe[-/](\d+)", re.IGNORECASE)
BASTION_FINGERPRINT_KEY = "bastionFingerprint/v1"


@dataclass
class ParsedScan:
    """What one upload says: its format, the tool, the scanners it covered and its findings."""

    source_format: str
    tool: str
    scanners: list[str]
    findings: list[Finding] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    """What the scan checked: the store fixes only findings inside it."""


_TEXT_FIELDS = ("rule_id", "scanner", "title", "message", "fingerprint", "evidence", "fix", "help_uri")
_PLACE_FIELDS = ("path", "commit", "url", "purl")
_LINE_FIELDS = ("start_line", "end_line", "start_column", "end_column")


def check_types(finding: Finding, where: str) -> None:
    """:class:`InputError` unless every field of a finding read from JSON has its declared type
    (``Finding.from_dict`` trusts the document; the store must not)."""
    location = finding.location
    wrong = [f for f in _TEXT_FIELDS if not isinstance(getattr(finding, f), str)]
    wrong += [f"location.{f}" for f in _PLACE_FIELDS if not isinstance(getattr(location, f), str | None)]
    wrong += [
        f"location.{f}"
        for f in _LINE_FIELDS
        if getattr(location, f) is not None
        and (isinstance(getattr(location, f), bool) or not isinstance(getattr(location, f), int))
    ]
    if not all(isinstance(c, str) for c in finding.controls):
        wrong.append("controls")
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in finding.cwe):
        wrong.append("cwe")
    if not isinstance(finding.metadata, dict):
        wrong.append("metadata")
    if wrong:
        raise InputError(f"{where}: wrong type for {', '.join(wrong)}")


def too_many(name: str, count: int, max_results: int) -> None:
    if count > max_results:
        raise InputError(
            f"{name}: more than {max_results} results in one upload; split it or raise BASTION_MAX_RESULTS"
        )


def _rule_for(result: dict[str, Any], rules: list[Any], by_id: dict[Any, Any]) -> dict[str, Any]:
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules):
        rule = rules[index]
        if isinstance(rule, dict):
            return rule
    rule = by_id.get(result.get("ruleId"))
    return rule if isinstance(rule, dict) else {}


def _text(value: Any) -> str:
    return str(value.get("text", "")) if isinstance(value, dict) else ""


def _severity(result: dict[str, Any], rule: dict[str, Any], props: dict[str, Any]) -> Severity:
    named = props.get("severity")
    if isinstance(named, str) and named.strip().lower() in {level.value for level in Severity}:
        return Severity.parse(named)
    score = (rule.get("properties") or {}).get("security-severity")
    try:
        value = float(score) if score is not None else None
    except (TypeError, ValueError):
        value = None
    if value is not None:
        return severity_from_score(value)
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    return _SARIF_LEVEL.get(str(level), Severity.MEDIUM)


def _location(result: dict[str, Any]) -> tuple[Location, str]:
    locations = result.get("locations") or []
    first = locations[0] if locations and isinstance(locations[0], dict) else {}
    physical = first.get("physicalLocation") or {}
    uri = unquote(str((physical.get("artifactLocation") or {}).get("uri", "")))
    region = physical.get("region") or {}
    logical = first.get("logicalLocations") or []
    purl = None
    if logical and isinstance(logical[0], dict) and logical[0].get("kind") == "package":
        purl = logical[0].get("fullyQualifiedName")
    snippet = _text(region.get("snippet"))

    def _int(key: str) -> int | None:
        value = region.get(key)
        return value if isinstance(value, int) and value > 0 else None

    if uri.startswith(("http://", "https://")):
        return Location(url=uri), snippet
    if uri.startswith("pkg:"):
        return Location(purl=uri), snippet
    return (
        Location(
            path=uri or None,
            start_line=_int("startLine"),
            end_line=_int("endLine"),
            start_column=_int("startColumn"),
            end_column=_int("endColumn"),
            purl=purl,
        ),
        snippet,
    )


def sarif_result(
    result: dict[str, Any],
    rules: list[Any],
    by_id: dict[Any, Any],
    slug: str,
    native: bool,
    where: str,
) -> Finding:
    if not isinstance(result.get("ruleId", ""), str):
        raise InputError(f"{where}: ruleId must be a string")
    rule = _rule_for(result, rules, by_id)
    raw_rule = result.get("ruleId") or rule.get("id")
    if not raw_rule:
        raise InputError(f"{where} has no ruleId")
    raw_props = result.get("properties")
    props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
    scanner = str(props.get("scanner") or slug) if native else slug
    rule_id = str(raw_rule) if native else f"{slug}.{raw_rule}"
    location, snippet = _location(result)
    message = _text(result.get("message"))
    title = _text(rule.get("shortDescription")) or message or rule_id
    evidence = str(props.get("evidence", ""))
    if not native:
        # Another tool's words may quote the secret it found (Bastion's never do): scrub them.
        message, title, evidence = scrub(message), scrub(title), scrub(evidence)
    fingerprints = result.get("partialFingerprints") or {}
    fingerprint = fingerprints.get(BASTION_FINGERPRINT_KEY) if isinstance(fingerprints, dict) else None
    if not fingerprint:
        other = {
            **(result.get("fingerprints") or {}),
            **(fingerprints if isinstance(fingerprints, dict) else {}),
        }
        if other:
            key = sorted(other)[0]
            fingerprint = make_fingerprint(rule_id, location, f"{key}={other[key]}")
        else:
            fingerprint = make_fingerprint(rule_id, location, snippet or message)
    tags = (rule.get("properties") or {}).get("tags")
    tags = tags if isinstance(tags, list) else []
    cwe = tuple(sorted({int(m.group(1)) for t in tags if isinstance(t, str) for m in _CWE.finditer(t)}))
    confidence = props.get("confidence", "high")
    metadata = props.get("metadata") if isinstance(props.get("metadata"), dict) else {}
    raw_controls = props.get("controls")
    controls: list[Any] = raw_controls if isinstance(raw_controls, list) else []
    return Finding(
        rule_id=rule_id,
        scanner=scanner,
        title=title,
        severity=_severity(result, rule, props),
        location=location,
        message=message,
        fingerprint=str(fingerprint),
        evidence=evidence,
        confidence=Confidence(confidence) if confidence in ("low", "medium", "high") else Confidence.HIGH,
        cwe=cwe,
        controls=tuple(str(c) for c in controls),
        help_uri=str(rule.get("helpUri", "")),
        metadata=dict(metadata or {}),
    )
