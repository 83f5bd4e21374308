"""``bastion scan --check/--skip-check/--severity``: ids, globs and other tools' ids pick what is
reported; a name matching no rule is a usage error naming it; what is left out is counted."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from bastion.ci.checks import CheckSelection, gitleaks_ids, parse_severities, resolve_selection
from bastion.cli.main import main
from bastion.errors import UsageError
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.rules import RuleInfo
from bastion.scan.registry import Registry, rule_catalog

AWS_KEY_ID = "ACCARYFKRUSWHCIOAAJN"  # the rule file's own generated example, grants nothing


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        'resource "aws_s3_bucket" "site" {\n  bucket = "site"\n  acl = "public-read"\n}\n', encoding="utf-8"
    )
    (root / "settings.py").write_text(f'token = "{AWS_KEY_ID}"\n', encoding="utf-8")
    return root


def _scan(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = root.parent / "report.json"
    code = main(["scan", str(root), "-s", "iac,secrets", "-f", "json", "-o", str(out), "-q", *args])
    return code, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def _rules(report: dict[str, object]) -> set[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {f["rule_id"] for f in findings}


def test_without_flags_both_scanners_report(tmp_path: Path) -> None:
    code, report = _scan(_tree(tmp_path))
    assert code == 1
    assert {"iac.aws.s3-bucket-public-acl", "secrets.aws-access-key-id"} <= _rules(report)


def test_checkov_id_selects_the_equivalent_policy(tmp_path: Path) -> None:
    code, report = _scan(_tree(tmp_path), "--check", "ckv_aws_20")
    assert code == 1
    assert _rules(report) == {"iac.aws.s3-bucket-public-acl"}
    assert "not reported: outside --check" in json.dumps(report["notices"])


def test_glob_and_gitleaks_id(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    _, by_glob = _scan(root, "--check", "iac.aws.*")
    assert _rules(by_glob) and all(r.startswith("iac.aws.") for r in _rules(by_glob))
    _, by_gitleaks = _scan(root, "--check", "aws-access-token")
    assert _rules(by_gitleaks) == {"secrets.aws-access-key-id"}


def test_skip_check_and_severity(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    _, skipped = _scan(root, "--skip-check", "secrets.*")
    assert _rules(skipped) and not any(r.startswith("secrets.") for r in _rules(skipped))
    code, critical = _scan(root, "--severity", "critical")
    assert code == 1
    assert _rules(critical) == {"iac.aws.s3-bucket-public-acl"}
    # --severity filters what is reported; --fail-on still gates on it
    code, medium = _scan(root, "--check", "secrets.aws-access-key-id", "--severity", "medium+")
    assert code == 0 and _rules(medium) == {"secrets.aws-access-key-id"}
    code, _ = _scan(root, "--check", "secrets.aws-access-key-id", "--fail-on", "medium")
    assert code == 1


def test_unknown_checks_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _scan(_tree(tmp_path), "--check", "CKV_NOPE_1,iac.aws.*", "--skip-check", "nope.*")
    assert code == 2 and report == {}
    err = capsys.readouterr().err
    assert "--check CKV_NOPE_1" in err and "--skip-check nope.*" in err and "iac.aws.*" not in err
    code, _ = _scan(_tree(tmp_path / "b"), "--severity", "severe")
    assert code == 2
    assert "unknown severity 'severe'" in capsys.readouterr().err


def test_every_gitleaks_mapping_names_installed_rules() -> None:
    ids = {rule.id for rule in rule_catalog(Registry.from_entry_points(), ["secrets"]).rules}
    for gitleaks_id, targets in gitleaks_ids().items():
        assert targets, gitleaks_id
        for target in targets:
            assert any(fnmatch.fnmatchcase(rule, target) for rule in ids), (gitleaks_id, target)


def _finding(rule_id: str, severity: Severity = Severity.HIGH, **metadata: object) -> Finding:
    location = Location("a.py", 1)
    return Finding(
        rule_id=rule_id,
        scanner=rule_id.split(".", 1)[0],
        title=rule_id,
        severity=severity,
        location=location,
        message=rule_id,
        fingerprint=make_fingerprint(rule_id, location, rule_id),
        metadata=metadata,
    )


def test_bandit_ids_families_and_imported_equivalents() -> None:
    rules = [
        RuleInfo(id="sast.bandit.B602", title="sh", severity=Severity.LOW, equivalent_ids={"bandit": "B602"}),
        RuleInfo(id="deps.CVE-*", title="advisory", severity=Severity.HIGH),
    ]
    selection = resolve_selection(["b602", "deps.CVE-2024-1"], [], None, rules)
    assert selection.keeps(_finding("sast.bandit.B602"))
    assert selection.keeps(_finding("deps.CVE-2024-1"))
    assert not selection.keeps(_finding("deps.CVE-2024-2"))
    # a finding converted from another tool carries the id it matched
    assert selection.keeps(_finding("checkov.CKV_X", equivalent_ids=["B602"]))
    skip = resolve_selection([], ["B602"], None, rules)
    assert not skip.keeps(_finding("bandit.B602", equivalent_ids=["b602"]))
    assert skip.keeps(_finding("deps.CVE-2024-1"))


def test_severity_forms() -> None:
    assert parse_severities("high,critical") == {Severity.HIGH, Severity.CRITICAL}
    assert parse_severities("Medium+") == {Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL}
    assert parse_severities(None) is None
    with pytest.raises(UsageError, match="at least one"):
        parse_severities(" , ")
    assert not CheckSelection().active
