"""The one CVSS-to-severity mapping, at every boundary of the specification's table."""

from __future__ import annotations

import pytest

from bastion.advisories.records import parse_record
from bastion.advisories.severity import severity_from_score
from bastion.findings import Severity


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10.0, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (7.0, Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0.0, Severity.INFO),
    ],
)
def test_qualitative_rating(score: float, expected: Severity) -> None:
    assert severity_from_score(score) is expected


def test_osv_records_use_it() -> None:
    record = {
        "id": "GHSA-xxxx",
        "modified": "2024-01-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}],
    }
    advisory = parse_record(record, "x.json")
    assert advisory.score == 9.8 and advisory.severity is severity_from_score(9.8) is Severity.CRITICAL
