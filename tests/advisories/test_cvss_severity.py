"""The one CVSS-to-severity mapping, at every boundary of the specification's table."""

from __future__ import annotations

import pytest

from bastion.advisories.records import CvssKind, parse_record
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


def test_each_cvss_version_is_scored_and_the_newest_preferred() -> None:
    assert [k.value for k in CvssKind] == ["CVSS_V4", "CVSS_V3", "CVSS_V2"]
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    v2 = "AV:N/AC:L/Au:N/C:P/I:P/A:P"
    record = {
        "id": "GHSA-yyyy",
        "modified": "2024-01-01T00:00:00Z",
        "severity": [{"type": "CVSS_V2", "score": v2}, {"type": "CVSS_V4", "score": v4}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}],
    }
    assert CvssKind.V2.base_score(v2) == 7.5
    advisory = parse_record(record, "y.json")
    assert advisory.vector == v4 and advisory.severity is Severity.CRITICAL
    broken = {**record, "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/nonsense"}]}
    assert parse_record(broken, "z.json").severity_source == "none"
