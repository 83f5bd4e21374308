"""Invariants over all formats (STYLE practice 14).

Every ``ReportFormat`` renders every case; the JSON report serializes every ``Finding``
field; and every other format either shows each field or says here, on purpose, that it
leaves it out. Adding a field to ``Finding`` fails these tests until each format decides.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bastion.findings import Confidence, Finding, Location, Severity
from bastion.gate import GatePolicy, GateResult
from bastion.report import ReportFormat, render
from bastion.results import ScanResult

FINDING_FIELDS = {f.name for f in dataclasses.fields(Finding)}
LOCATION_FIELDS = {f.name for f in dataclasses.fields(Location)}

SENTINEL = Finding(
    rule_id="sentinel.rule-id",
    scanner="sentinelscanner",
    title="Sentinel title",
    severity=Severity.CRITICAL,
    location=Location("sentinel/path.py", 7, 8, 2, 9),
    message="sentinel message",
    fingerprint="f1ngerpr1nt5ent1nel",
    evidence="sentinel-evidence",
    confidence=Confidence.MEDIUM,
    cwe=(4321,),
    controls=("sentinel-ctl:1",),
    fix="sentinel fix",
    help_uri="https://sentinel.example/doc",
    metadata={"sentinel_key": "sentinel-value"},
)

SHOWN = {
    "rule_id": SENTINEL.rule_id,
    "scanner": SENTINEL.scanner,
    "title": SENTINEL.title,
    "severity": SENTINEL.severity.value,
    "location": "sentinel/path.py",
    "message": SENTINEL.message,
    "fingerprint": SENTINEL.fingerprint,
    "evidence": SENTINEL.evidence,
    "confidence": SENTINEL.confidence.value,
    "cwe": "4321",
    "controls": "sentinel-ctl:1",
    "fix": SENTINEL.fix,
    "help_uri": SENTINEL.help_uri,
    "metadata": "sentinel_key",
}
"""What to look for in the output to know a field got there (case-insensitive)."""

LEFT_OUT: dict[ReportFormat, set[str]] = {
    ReportFormat.JSON: set(),
    ReportFormat.SARIF: set(),
    # GitLab's vulnerability has no place for these; the id is derived from the fingerprint.
    ReportFormat.GITLAB: {"scanner", "fingerprint", "evidence", "confidence", "metadata"},
    ReportFormat.JUNIT: {"confidence", "metadata"},
    # A PR comment shows what a reviewer acts on; the SARIF/JSON report has the rest.
    ReportFormat.MARKDOWN: {"scanner", "fingerprint", "evidence", "confidence", "controls", "metadata"},
    ReportFormat.HTML: {"fingerprint", "metadata"},
    # The terminal table stays readable; the JSON report has the rest.
    ReportFormat.TABLE: {
        "scanner",
        "fingerprint",
        "evidence",
        "confidence",
        "cwe",
        "controls",
        "help_uri",
        "metadata",
    },
}


def sentinel_result() -> GateResult:
    """Just the sentinel finding, nothing else that could contain its values."""
    scan = ScanResult(root=Path("/p"), scanners=["sentinelscanner"])
    return GateResult(scan=scan, findings=[SENTINEL], policy=GatePolicy(threshold=Severity.HIGH))


def test_shown_covers_every_finding_field() -> None:
    assert set(SHOWN) == FINDING_FIELDS


def test_every_format_has_a_decision() -> None:
    assert set(LEFT_OUT) == set(ReportFormat)
    for fmt, fields in LEFT_OUT.items():
        assert fields <= FINDING_FIELDS, f"{fmt.value} lists fields Finding no longer has"


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=lambda f: f.value)
def test_every_field_is_shown_unless_left_out_on_purpose(fmt: ReportFormat) -> None:
    output = render(sentinel_result(), fmt, width=300).lower()
    for name, needle in SHOWN.items():
        present = needle.lower() in output
        if name in LEFT_OUT[fmt]:
            assert not present, f"{fmt.value} now shows {name}; drop it from LEFT_OUT"
        else:
            assert present, f"{fmt.value} does not show Finding.{name}"


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=lambda f: f.value)
def test_every_format_renders_every_case(fmt: ReportFormat, case: tuple[str, GateResult]) -> None:
    _, result = case
    output = render(result, fmt)
    assert isinstance(output, str)
    assert output.endswith("\n")
    assert output.strip()


def test_json_findings_carry_exactly_the_finding_fields(full: GateResult) -> None:
    doc = json.loads(render(full, ReportFormat.JSON))
    for entry in [*doc["findings"], *doc["baselined"], *(s["finding"] for s in doc["suppressed"])]:
        assert set(entry) == FINDING_FIELDS
        assert set(entry["location"]) <= LOCATION_FIELDS


def test_json_carries_every_location_field() -> None:
    location = Location("a.py", 1, 2, 3, 4, commit="c0ffee", url="https://x.example/", purl="pkg:pypi/x@1")
    finding = dataclasses.replace(SENTINEL, location=location)
    result = sentinel_result()
    result.findings = [finding]
    doc = json.loads(render(result, ReportFormat.JSON))
    assert set(doc["findings"][0]["location"]) == LOCATION_FIELDS
    assert Finding.from_dict(doc["findings"][0]) == finding
