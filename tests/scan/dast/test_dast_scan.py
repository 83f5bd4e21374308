"""End-to-end scans of the vulnerable app and its hardened twin: every seed found once, the twin clean."""

from __future__ import annotations

from collections import Counter

from dast_app import SEEDED, SEEDED_ACTIVE, SEEDED_UNSAFE
from dast_helpers import rule_counts, scan

from bastion.findings import Severity


def test_passive_scan_finds_every_seeded_vulnerability_once(vulnerable_url: str) -> None:
    result = scan(vulnerable_url + "/")
    counts = rule_counts(result)
    assert counts == dict.fromkeys(SEEDED.values(), 1)
    assert result.pages >= 20
    # robots.txt, sitemap.xml and the script were crawled: their seeds are found
    urls = {f.rule_id: f.location.url for f in result.findings}
    assert urls["dast.suspicious-comment"].endswith("/admin-panel")
    assert urls["dast.private-ip"].endswith("/hidden-report")
    assert urls["dast.cors-reflected-origin"].endswith("/api/data")
    assert any("jquery 1.8.3" in n for n in result.notices)


def test_passive_findings_carry_rule_data_and_redacted_secrets(vulnerable_url: str) -> None:
    result = scan(vulnerable_url + "/")
    by_rule = {f.rule_id: f for f in result.findings}
    secret = by_rule["dast.secret-in-response"]
    assert secret.severity >= Severity.HIGH
    assert secret.evidence.startswith("ghp_") and "chars" in secret.evidence
    assert len(secret.evidence) < 20
    csp = by_rule["dast.csp-missing"]
    assert csp.cwe == (693,) and csp.metadata["zap_plugin_id"] == 10038
    assert csp.metadata["instances"] > 5 and csp.location.url == vulnerable_url + "/"
    cookie = by_rule["dast.cookie-no-httponly"]
    assert "session=\u2026" in cookie.evidence  # the session id itself is not shown
    assert all(f.scanner == "dast" and f.fix for f in result.findings)


def test_fingerprints_are_stable_between_runs(vulnerable_url: str) -> None:
    first = {f.fingerprint for f in scan(vulnerable_url + "/").findings}
    second = {f.fingerprint for f in scan(vulnerable_url + "/", concurrency=1).findings}
    assert first == second


def test_active_scan_finds_the_active_seeds(vulnerable_url: str) -> None:
    result = scan(vulnerable_url + "/", active=True)
    counts = Counter(f.rule_id for f in result.findings)
    expected = Counter(SEEDED_ACTIVE.values())
    for rule_id, count in expected.items():
        assert counts[rule_id] == count, rule_id
    techniques = {f.metadata.get("technique") for f in result.findings if f.rule_id == "dast.sql-injection"}
    assert techniques == {"error-based", "boolean-based"}
    assert any("POST form" in n for n in result.notices)
    assert not any(f.metadata.get("method") == "PUT" for f in result.findings)


def test_allow_unsafe_adds_post_forms_and_put(vulnerable_url: str) -> None:
    result = scan(vulnerable_url + "/", active=True, allow_unsafe=True)
    methods = {f.metadata.get("method") for f in result.findings if f.rule_id == "dast.http-methods"}
    assert methods == {"TRACE", "PUT"}
    xss = {f.metadata.get("method") for f in result.findings if f.rule_id == "dast.xss-reflected"}
    assert xss == {"GET", "POST"}
    assert len(result.findings) == len(SEEDED) + len(SEEDED_ACTIVE) + len(SEEDED_UNSAFE)


def test_hardened_twin_gives_zero_findings(hardened_url: str) -> None:
    result = scan(hardened_url + "/", active=True, allow_unsafe=True)
    assert result.findings == []
    assert result.pages >= 20


def test_plain_http_skips_https_only_rules(plain_url: str) -> None:
    counts = rule_counts(scan(plain_url + "/"))
    assert "dast.hsts-missing" not in counts
    assert "dast.cookie-no-secure" not in counts
    assert "dast.mixed-content" not in counts
    assert counts["dast.cookie-no-httponly"] == 1
