"""The data model: ordering, fingerprints, and lossless JSON round-trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bastion.findings import Alert, Confidence, Finding, Location, Severity, make_fingerprint


def test_severity_order_is_info_to_critical() -> None:
    assert sorted([Severity.CRITICAL, Severity.INFO, Severity.HIGH, Severity.LOW, Severity.MEDIUM]) == [
        Severity.INFO,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    ]
    assert Severity.HIGH >= Severity.HIGH
    assert Severity.MEDIUM < Severity.HIGH
    assert Severity.CRITICAL > Severity.LOW
    assert Severity.LOW <= Severity.MEDIUM


def test_severity_comparison_with_other_types_is_rejected() -> None:
    with pytest.raises(TypeError):
        _ = Severity.HIGH < 3


def test_severity_parse_names_choices_on_error() -> None:
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(ValueError, match="choose from info, low, medium, high, critical"):
        Severity.parse("severe")


def test_fingerprint_ignores_line_numbers_and_indentation() -> None:
    at_3 = Location(path="app.py", start_line=3)
    at_40 = Location(path="app.py", start_line=40)
    assert make_fingerprint("r", at_3, "eval(x)") == make_fingerprint("r", at_40, "    eval(x)  ")


def test_fingerprint_changes_with_content_rule_and_file() -> None:
    loc = Location(path="app.py", start_line=3)
    base = make_fingerprint("r", loc, "eval(x)")
    assert base != make_fingerprint("r", loc, "eval(y)")
    assert base != make_fingerprint("other", loc, "eval(x)")
    assert base != make_fingerprint("r", Location(path="lib.py", start_line=3), "eval(x)")


def _finding() -> Finding:
    location = Location(path="src/app.py", start_line=3, end_line=4, start_column=5, end_column=9)
    return Finding(
        rule_id="sast.bandit.B602",
        scanner="sast",
        title="subprocess call with shell=True",
        severity=Severity.HIGH,
        location=location,
        message="shell injection risk: ünïcode ok",
        fingerprint=make_fingerprint("sast.bandit.B602", location, "call(x, shell=True)"),
        evidence="call(x, shell=True)",
        confidence=Confidence.MEDIUM,
        cwe=(78,),
        controls=("nist-800-53-r5:SI-10",),
        fix="pass a list and shell=False",
        help_uri="https://bandit.readthedocs.io/",
        metadata={"test_name": "subprocess_popen_with_shell_equals_true", "n": 1},
    )


def test_finding_json_round_trip_is_lossless() -> None:
    finding = _finding()
    restored = Finding.from_dict(json.loads(json.dumps(finding.to_dict())))
    assert restored == finding


def test_location_describe_covers_every_kind() -> None:
    assert Location(path="a.py", start_line=2).describe() == "a.py:2"
    assert Location(path="a.py", start_line=2, commit="0123456789abcdef").describe() == "a.py:2@0123456789ab"
    assert Location(url="https://x.test/").describe() == "https://x.test/"
    assert Location(purl="pkg:pypi/django@2.2").describe() == "pkg:pypi/django@2.2"
    assert Location().describe() == "-"


def test_finding_is_immutable_and_with_changes_copies() -> None:
    finding = _finding()
    with pytest.raises(AttributeError):
        finding.title = "x"
    changed = finding.with_changes(severity=Severity.LOW)
    assert changed.severity is Severity.LOW and finding.severity is Severity.HIGH


def test_alert_json_round_trip_is_lossless() -> None:
    alert = Alert(
        detector="watch.pca",
        severity=Severity.MEDIUM,
        score=0.93,
        entity="blk_-1608999687919862906",
        entity_kind="session",
        window_start=datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
        window_end=datetime(2026, 11, 1, 10, 5, tzinfo=UTC),
        explanation="template E7 never seen in training",
        evidence=("081109 203615 148 INFO dfs.DataNode$PacketResponder: ...",),
        techniques=("T1110",),
        metadata={"templates": ["E7"]},
    )
    assert Alert.from_dict(json.loads(json.dumps(alert.to_dict()))) == alert
