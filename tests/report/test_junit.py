"""JUnit XML: parses, counts add up, the gate decides failure vs skipped, odd text survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from bastion.findings import Severity
from bastion.gate import GatePolicy, GateResult
from bastion.report import junit


def parse(result: GateResult) -> ET.Element:
    """Render and parse back."""
    return ET.fromstring(junit.render(result).encode("utf-8"))


def suites(root: ET.Element) -> dict[str, ET.Element]:
    """Test suites by name."""
    return {s.get("name", ""): s for s in root.iter("testsuite")}


def count(element: ET.Element, tag: str) -> int:
    """Test cases below ``element`` that hold a ``tag`` child."""
    return sum(1 for case in element.iter("testcase") if case.find(tag) is not None)


def test_counts_match_contents(case: tuple[str, GateResult]) -> None:
    _, result = case
    root = parse(result)
    for element in [root, *root.iter("testsuite")]:
        assert int(element.get("tests", "-1")) == len(list(element.iter("testcase")))
        assert int(element.get("failures", "-1")) == count(element, "failure")
        assert int(element.get("errors", "-1")) == count(element, "error")
        assert int(element.get("skipped", "-1")) == count(element, "skipped")


def test_declaration_and_trailing_newline(full: GateResult) -> None:
    text = junit.render(full)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    assert text.endswith("</testsuites>\n")


def test_one_suite_per_scanner_in_order_plus_gate(full: GateResult) -> None:
    assert list(suites(parse(full))) == ["secrets", "deps", "sast", "iac", "dast", "gate"]


def test_blocking_findings_fail_and_the_rest_are_skipped(full: GateResult) -> None:
    root = parse(full)
    failed = {c.get("classname") for c in root.iter("testcase") if c.find("failure") is not None}
    assert failed == {f.rule_id for f in full.blocking}
    assert int(root.get("failures", "0")) == len(full.blocking) == 3
    case = next(c for c in root.iter("testcase") if c.get("classname") == "secrets.aws-access-key")
    assert case.get("name") == "src/config.py:3"
    assert case.get("file") == "src/config.py"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "AWS access key"
    assert failure.get("type") == "critical"
    assert "fix: Revoke the key in IAM" in (failure.text or "")


def test_non_blocking_finding_is_skipped_with_a_message(full: GateResult) -> None:
    case = next(
        c for c in parse(full).iter("testcase") if c.get("classname") == "iac.aws.s3-bucket-encryption"
    )
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "medium: S3 bucket without encryption (does not block: fail-on high)"


@pytest.mark.parametrize(("threshold", "failures"), [(None, 0), (Severity.INFO, 8), (Severity.CRITICAL, 1)])
def test_threshold_moves_the_line(full: GateResult, threshold: Severity | None, failures: int) -> None:
    full.policy = GatePolicy(threshold=threshold)
    root = parse(full)
    assert int(root.get("failures", "-1")) == failures == len(full.blocking)


def test_skipped_tool_is_a_skipped_case_in_its_scanner_suite(full: GateResult) -> None:
    sast = suites(parse(full))["sast"]
    case = next(c for c in sast.iter("testcase") if c.get("classname") == "sast.semgrep")
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "skipped sast.semgrep: semgrep not installed"


def test_scanner_crash_is_an_error(crashed: GateResult) -> None:
    iac = suites(parse(crashed))["iac"]
    assert iac.get("errors") == "1"
    error = iac.find("testcase/error")
    assert error is not None
    assert error.text == "RuntimeError: policy engine exploded"


def test_scanner_without_findings_gets_one_passing_case(clean: GateResult) -> None:
    [case] = parse(clean).iter("testcase")
    assert (case.get("classname"), case.get("name")) == ("secrets", "no findings")
    assert list(case) == []


def test_control_characters_are_stripped_and_unicode_kept(full: GateResult) -> None:
    text = junit.render(full)
    assert "\x07" not in text and "\x1b" not in text and "\x00" not in text
    case = next(c for c in parse(full).iter("testcase") if c.get("classname") == "sast.semgrep.odd-text")
    assert case.get("name") == "src/naïve dir/ünï #1.py:2@0123456789ab"
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith('info: Odd <text> & "quotes"')
    assert "Ünïcödé ✓ 日本語 bell [31mred[0m <tag attr='x'> & ]]> end" in (skipped.text or "")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("tab\tnew\nline\rcr", "tab\tnew\nline\rcr"),
        ("nul\x00bell\x07esc\x1b", "nulbellesc"),
        ("vt\x0bff\x0c", "vtff"),
        ("bad\ufffe\uffffend", "badend"),
        ("lone\ud800surrogate", "lonesurrogate"),
        ("emoji 🙂 and \x85 next-line", "emoji 🙂 and \x85 next-line"),
    ],
)
def test_xml_safe(raw: str, clean: str) -> None:
    assert junit.xml_safe(raw) == clean
    parsed = ET.fromstring(f"<a>{escape(junit.xml_safe(raw))}</a>".encode())
    assert parsed.text == clean.replace("\r", "\n")  # XML parsers normalize line ends
