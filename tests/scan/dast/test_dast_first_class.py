"""DAST as a first-class run: the same ScanResult as every scanner, rules as RuleInfo."""

from __future__ import annotations

import re

from bastion.findings import Finding, Location, Severity
from bastion.gate import GatePolicy, evaluate
from bastion.results import NoticeKind
from bastion.rules import RuleLevel, RuleSource
from bastion.scan.dast.levels import RuleLevels
from bastion.scan.dast.rules import list_rules
from bastion.scan.dast.scanner import DastScanner, scan_result


def _finding(rule: str, url: str, severity: Severity = Severity.MEDIUM) -> Finding:
    return Finding(rule, "dast", "t", severity, Location(url=url), "m", f"fp-{rule}-{url}")


def test_every_dast_rule_is_listed_with_its_zap_equivalent() -> None:
    scanner = DastScanner()
    assert isinstance(scanner, RuleSource)
    infos = {rule.id: rule for rule in scanner.rules()}
    assert list(infos) == [rule.id for rule in list_rules()]
    for rule in list_rules():
        info = infos[rule.id]
        assert info.scanner == "dast" and info.severity is rule.severity and info.cwe == (rule.cwe,)
        assert info.equivalent_ids.get("zap") == (str(rule.zap_id) if rule.zap_id is not None else None)


def test_the_run_is_a_scan_result_with_set_aside_findings_and_redacted_urls() -> None:
    levels = RuleLevels(notices=["rules.tsv: ZAP rule 10096 has no Bastion equivalent"])
    levels.set(["dast.csp-missing"], RuleLevel.IGNORE)
    levels.out_of_scope.append(("*", re.compile("/legacy/")))
    findings = [
        _finding("dast.csp-missing", "https://s.test/"),
        _finding("dast.xss-reflected", "https://s.test/legacy/a"),
        _finding("dast.sql-injection", "https://user:hunter2@s.test/q?token=abc123", Severity.HIGH),
    ]
    scan = scan_result(
        findings, ["crawl stopped early: https://u:pw@s.test/x"], levels, pages=3, duration_s=1.5
    )
    assert scan.scanners == ["dast"] and scan.files_scanned == 3 and scan.duration_s == 1.5
    assert [f.rule_id for f in scan.findings] == ["dast.sql-injection"]
    assert "hunter2" not in str(scan.findings[0].location.url)
    assert [s.reason for s in scan.suppressed] == ["rules file: IGNORE", "rules file: OUTOFSCOPE /legacy/"]
    assert [n.kind for n in scan.notices] == [NoticeKind.SCANNER, NoticeKind.SCANNER]
    assert scan.notices[0].message.startswith("rules.tsv:") and "pw@" not in scan.notices[1].message
    result = evaluate(scan, GatePolicy(Severity.CRITICAL, levels=levels.levels), read_text=lambda _: None)
    assert not result.failed and len(result.suppressed) == 2
