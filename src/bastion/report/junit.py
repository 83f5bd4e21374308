"""JUnit XML report, for CI test views (GitLab ``artifacts:reports:junit``, Jenkins ``junit``).

Layout: ``<testsuites>`` holds one ``<testsuite>`` per scanner; each reported finding is
one ``<testcase>`` with ``classname`` = rule id and ``name`` = location.

- A finding at or above ``--fail-on`` (it blocks the gate) is a ``<failure>``: CI shows
  it red, exactly when ``bastion scan`` exits 1.
- A finding below the threshold is ``<skipped>`` with a message: GitLab and Jenkins
  list skipped tests with their message, so the finding is visible, but neither marks
  the pipeline failed or unstable for it. A ``<failure>`` would make the test view
  disagree with the gate; a passing test would hide the finding.
- A scanner that crashed is an ``<error>`` test case; a skipped tool (``sast.semgrep``)
  a ``<skipped>`` one. A suite with nothing else gets one passing ``no findings`` case,
  so every scanner that ran shows up.

Suppressed and baselined findings are left out, as in the table. XML 1.0 cannot carry
most control characters, even escaped, so they are removed from every text and attribute.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # bastion: ignore[sast.bandit.B405] builds XML, never parses it
from dataclasses import dataclass, field

from bastion.findings import Finding
from bastion.gate import GateResult

__all__ = ["render", "xml_safe"]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (tab, LF and CR are kept)."""
    return _XML_INVALID.sub("", text)


@dataclass
class _Suite:
    name: str
    cases: list[ET.Element] = field(default_factory=list)
    failures: int = 0
    errors: int = 0
    skipped: int = 0


def render(result: GateResult) -> str:
    """The JUnit XML document, with an XML declaration and a trailing newline."""
    suites = list(_suites(result).values())
    for suite in suites:
        if not suite.cases:
            suite.cases.append(_case(suite.name, "no findings"))
    root = ET.Element("testsuites", _counts("bastion", suites))
    root.set("time", f"{result.scan.duration_s:.3f}")
    for suite in suites:
        element = ET.SubElement(root, "testsuite", _counts(suite.name, [suite]))
        element.extend(suite.cases)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _suites(result: GateResult) -> dict[str, _Suite]:
    scan = result.scan
    names = list(scan.scanners)
    names.extend(sorted({f.scanner for f in result.findings} - set(names)))
    suites = {name: _Suite(name) for name in names}

    def suite_for(component: str) -> _Suite:
        name = component.split(".", 1)[0]
        if name not in suites:
            suites[name] = _Suite(name)
        return suites[name]

    blocking = {id(f) for f in result.blocking}
    fail_on = result.fail_on_label
    for finding in result.findings:
        suite = suites[finding.scanner]
        case = _case(finding.rule_id, finding.location.describe(), finding.location.path)
        detail = _detail(finding)
        if id(finding) in blocking:
            _child(case, "failure", detail, message=finding.title, type=finding.severity.value)
            suite.failures += 1
        else:
            message = f"{finding.severity.value}: {finding.title} (does not block: fail-on {fail_on})"
            _child(case, "skipped", detail, message=message)
            suite.skipped += 1
        suite.cases.append(case)
    for failure in scan.failures:
        suite = suite_for(failure.scanner)
        case = _case(failure.scanner, "scanner failed")
        _child(case, "error", failure.error, message=failure.describe(), type="scanner-failure")
        suite.errors += 1
        suite.cases.append(case)
    for skip in scan.skips:
        suite = suite_for(skip.component)
        case = _case(skip.component, "not run")
        _child(case, "skipped", None, message=skip.describe())
        suite.skipped += 1
        suite.cases.append(case)
    return suites


def _counts(name: str, suites: list[_Suite]) -> dict[str, str]:
    return {
        "name": xml_safe(name),
        "tests": str(sum(len(s.cases) for s in suites)),
        "failures": str(sum(s.failures for s in suites)),
        "errors": str(sum(s.errors for s in suites)),
        "skipped": str(sum(s.skipped for s in suites)),
    }


def _case(classname: str, name: str, file: str | None = None) -> ET.Element:
    case = ET.Element("testcase", {"classname": xml_safe(classname), "name": xml_safe(name)})
    if file:
        case.set("file", xml_safe(file))
    case.set("time", "0")
    return case


def _child(parent: ET.Element, tag: str, text: str | None, **attributes: str) -> None:
    child = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attributes.items()})
    if text:
        child.text = xml_safe(text)


def _detail(finding: Finding) -> str:
    """The text CI shows when the test case is opened."""
    lines = [
        f"{finding.severity.value.upper()} {finding.rule_id} at {finding.location.describe()}",
        finding.message or finding.title,
    ]
    if finding.evidence:
        lines.append(f"evidence: {finding.evidence}")
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    if finding.cwe:
        lines.append("cwe: " + ", ".join(f"CWE-{c}" for c in finding.cwe))
    if finding.controls:
        lines.append("controls: " + ", ".join(finding.controls))
    if finding.help_uri:
        lines.append(f"help: {finding.help_uri}")
    lines.append(f"fingerprint: {finding.fingerprint}")
    return "\n".join(lines)
