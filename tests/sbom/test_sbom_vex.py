"""CycloneDX vulnerability entries (VEX) built from advisory matches: ratings, sources, KEV."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from bastion.advisories import VulnerabilityMatch
from bastion.findings import Severity
from bastion.sbom.build import Inventory, cyclonedx_json
from bastion.sbom.validate import cyclonedx_problems
from bastion.sbom.vex import ComponentVulnerability, VulnerabilityCheck
from bastion.scan.deps.model import Package

PACKAGE = Package(ecosystem="PyPI", name="demo", version="1.0", path="requirements.txt", line=1)
MATCH = VulnerabilityMatch(
    id="PYSEC-2020-1",
    aliases=(),
    summary="",
    severity=Severity.HIGH,
    severity_source="unrated",
    score=None,
    vector=None,
    fixed_versions=(),
    published=date(2020, 1, 2),
    kev=False,
    kev_date_added=None,
    kev_ransomware=None,
    cwes=("CWE-79", "NVD-CWE-Other"),
    records=("PYSEC-2020-1",),
)


def _entry(match: VulnerabilityMatch) -> dict[str, object]:
    check = VulnerabilityCheck(checked=True, found=[ComponentVulnerability(PACKAGE, match, "Remove demo")])
    text = cyclonedx_json(Inventory("app", [PACKAGE]), vulns=check)
    assert cyclonedx_problems(text) == []
    entries = json.loads(text)["vulnerabilities"]
    assert len(entries) == 1
    entry: dict[str, object] = entries[0]
    return entry


def test_unrated_is_unknown_with_the_reason() -> None:
    entry = _entry(MATCH)
    assert entry["ratings"] == [
        {
            "source": {"name": "Bastion"},
            "severity": "unknown",
            "method": "other",
            "justification": "no advisory rates it; bastion scan counts it as high until reviewed",
        }
    ]
    assert entry["source"] == {"name": "OSV", "url": "https://osv.dev/vulnerability/PYSEC-2020-1"}
    assert entry["cwes"] == [79]  # NVD-CWE-Other is no CWE number
    assert entry["published"] == "2020-01-02T00:00:00Z"
    assert "description" not in entry and "references" not in entry


@pytest.mark.parametrize(
    ("vector", "method"),
    [
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSSv4"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv31"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv3"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSSv2"),
    ],
)
def test_cvss_rating_alone_when_it_decided(vector: str, method: str) -> None:
    match = replace(MATCH, severity=Severity.HIGH, severity_source="cvss", score=7.5, vector=vector)
    assert _entry(match)["ratings"] == [
        {
            "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/PYSEC-2020-1"},
            "score": 7.5,
            "severity": "high",
            "method": method,
            "vector": vector,
        }
    ]


def test_kev_adds_bastions_rating_and_properties() -> None:
    match = replace(
        MATCH,
        id="CVE-2021-1",
        aliases=("GHSA-aaaa-bbbb-cccc",),
        severity=Severity.CRITICAL,
        severity_source="kev",
        score=7.5,
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        kev=True,
        kev_date_added="2022-01-01",
        kev_ransomware="Known",
        records=("GHSA-aaaa-bbbb-cccc",),
    )
    entry = _entry(match)
    ratings = entry["ratings"]
    assert isinstance(ratings, list)
    assert [r["severity"] for r in ratings] == ["high", "critical"]
    assert ratings[0]["source"]["name"] == "GitHub"
    assert ratings[1]["justification"] == "critical: known exploited (CISA KEV)"
    assert {"name": "bastion:kev", "value": "true"} in entry["properties"]  # type: ignore[operator]
    assert {"name": "bastion:kev-ransomware-use", "value": "Known"} in entry["properties"]  # type: ignore[operator]
    assert entry["references"] == [
        {
            "id": "GHSA-aaaa-bbbb-cccc",
            "source": {"name": "GitHub", "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"},
        }
    ]
    assert entry["analysis"] == {"state": "in_triage", "detail": entry["analysis"]["detail"]}  # type: ignore[index]


def test_validator_catches_an_affects_ref_to_no_component() -> None:
    check = VulnerabilityCheck(checked=True, found=[ComponentVulnerability(PACKAGE, MATCH, "Remove demo")])
    bom = json.loads(cyclonedx_json(Inventory("app", [PACKAGE]), vulns=check))
    bom["vulnerabilities"][0]["affects"][0]["ref"] = "pkg:pypi/other@1"
    assert any("affects 'pkg:pypi/other@1'" in p for p in cyclonedx_problems(json.dumps(bom)))
