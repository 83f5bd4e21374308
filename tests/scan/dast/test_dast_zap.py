"""Driving ZAP through the zaproxy client, against a fake ZAP daemon on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_zap import fake_zap

from bastion.cli.main import main
from bastion.errors import InputError
from bastion.findings import Severity
from bastion.scan.dast.zap import ZapOptions, alerts_to_findings, run_zap

TARGET = "http://shop.test/"


def test_spider_passive_and_alerts_become_findings() -> None:
    with fake_zap() as zap:
        result = run_zap(TARGET, ZapOptions(zap.url, zap.key, poll_s=0.01))
    assert result.version == "2.15.0" and result.alerts == 4
    assert zap.target == TARGET
    assert "ascan/action/scan" not in zap.calls
    assert zap.polls["spider/view/status"] == 2 and zap.polls["pscan/view/recordsToScan"] == 2
    by_rule = {f.rule_id: f for f in result.findings}
    assert set(by_rule) == {"dast.csp-missing", "dast.zap.10096", "dast.xss-reflected"}
    csp = by_rule["dast.csp-missing"]
    assert csp.metadata["instances"] == 2 and csp.cwe == (693,) and csp.scanner == "dast.zap"
    assert csp.help_uri == "https://developer.mozilla.org/CSP"
    assert by_rule["dast.xss-reflected"].severity is Severity.HIGH


def test_active_scan_is_started_when_asked() -> None:
    with fake_zap() as zap:
        run_zap(TARGET, ZapOptions(zap.url, zap.key, active=True, poll_s=0.01))
    assert "ascan/action/scan" in zap.calls and zap.polls["ascan/view/status"] == 2


def test_wrong_key_is_a_clear_error() -> None:
    with fake_zap() as zap, pytest.raises(InputError, match=r"ZAP at .*: reading the version failed") as info:
        run_zap(TARGET, ZapOptions(zap.url, "wrong-key-value", poll_s=0.01))
    assert "wrong-key-value" not in str(info.value)


def test_zap_error_mid_scan_and_unreachable_zap() -> None:
    with fake_zap() as zap:
        zap.fail = "spider/action/scan"
        with pytest.raises(InputError, match="starting the spider failed"):
            run_zap(TARGET, ZapOptions(zap.url, zap.key, poll_s=0.01))
    with pytest.raises(InputError, match=r"ZAP at http://127\.0\.0\.1:9"):
        run_zap(TARGET, ZapOptions("http://127.0.0.1:9", "k", poll_s=0.01))


def test_time_limit_while_waiting() -> None:
    with fake_zap() as zap:
        result = run_zap(TARGET, ZapOptions(zap.url, zap.key, active=True, time_limit_s=0.0, poll_s=0.01))
    assert len(result.notices) == 3


def test_cli_with_zap(tmp_path: Path) -> None:
    out = tmp_path / "zap.json"
    with fake_zap() as zap:
        code = main(["dast", TARGET, "--zap", zap.url, "--zap-key", zap.key, "-f", "json", "-o", str(out)])
    assert code == 1  # the reflected XSS alert is high
    report = json.loads(out.read_text())
    assert {f["rule_id"] for f in report["findings"]} == {
        "dast.csp-missing",
        "dast.zap.10096",
        "dast.xss-reflected",
    }


def test_alert_shapes() -> None:
    findings = alerts_to_findings(
        [{"pluginId": "", "risk": "odd", "url": "", "cweid": "-1"}, {"pluginId": "x"}]
    )
    assert {f.rule_id for f in findings} == {"dast.zap.unknown", "dast.zap.x"}
    assert all(f.severity is Severity.INFO and f.cwe == () for f in findings)


def test_zap_rules_file_applies_to_imported_alerts(tmp_path: Path) -> None:
    rules = tmp_path / "zap-baseline.conf"
    rules.write_text("10096\tIGNORE\t(Timestamp Disclosure)\n40012\tWARN\t(XSS Reflected)\n10038\tFAIL\n")
    out = tmp_path / "zap.json"
    with fake_zap() as zap:
        args = ["dast", TARGET, "--zap", zap.url, "--zap-key", zap.key, "--rules", str(rules)]
        code = main([*args, "-f", "json", "-o", str(out), "-q"])
    report = json.loads(out.read_text())
    assert {f["rule_id"] for f in report["findings"]} == {"dast.csp-missing", "dast.xss-reflected"}
    assert report["summary"]["blocking"] == 1 and code == 1  # the CSP rule is FAIL, the XSS only WARN
