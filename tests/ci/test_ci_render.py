"""``bastion ci render``: one scan's JSON report in every pipeline format, GitLab's three report
types split correctly, and the reload of a report keeping the gate's decision."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from gitlab_shapes import check_report

from bastion.ci.gitlab_reports import GitLabReport, split_findings, to_report
from bastion.ci.reload import load_report
from bastion.cli.main import main
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.gate import GatePolicy, GateResult
from bastion.report import json_report
from bastion.results import Notice, NoticeKind, ScannerFailure, ScanResult, Skip, Suppressed


def _finding(
    rule_id: str,
    scanner: str,
    severity: Severity,
    location: Location,
    cwe: tuple[int, ...] = (),
    **meta: object,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        scanner=scanner,
        title=f"title of {rule_id}",
        severity=severity,
        location=location,
        message="m",
        fingerprint=make_fingerprint(rule_id, location, rule_id),
        metadata=meta,
        cwe=cwe,
    )


def sample(strict: bool = False, failures: bool = False) -> GateResult:
    """Secrets (from two scanners), deps with CVE and GHSA ids, sast and iac findings."""
    findings = [
        _finding("secrets.stripe-live-secret-key", "secrets", Severity.CRITICAL, Location("app.py", 1, 1)),
        _finding("iac.aws.hardcoded-key", "iac", Severity.HIGH, Location("main.tf", 3, 3), cwe=(798,)),
        _finding(
            "deps.CVE-2019-12308",
            "deps",
            Severity.MEDIUM,
            Location("requirements.txt", 1, 1, purl="pkg:pypi/django@2.2.0"),
            package="Django",
            installed_version="2.2.0",
            advisory="CVE-2019-12308",
            aliases=["GHSA-7rp2-fm2h-wchj", "PYSEC-2019-79"],
            smallest_fix="2.2.28",
            direct=True,
        ),
        _finding("sast.bandit.B602", "sast", Severity.HIGH, Location("tool.py", 4, 4)),
        _finding("iac.aws.s3-public-acl", "iac", Severity.HIGH, Location("main.tf", 1, 4)),
    ]
    scan = ScanResult(
        root=Path("."),
        scanners=["secrets", "deps", "sast", "iac"],
        findings=list(findings),
        notices=[Notice(NoticeKind.TOO_LARGE, "over 5MB", "big.bin")],
        skips=[Skip("sast.semgrep", "semgrep not installed")],
        failures=[ScannerFailure("dast", "boom")] if failures else [],
        files_scanned=5,
        bytes_scanned=500,
        duration_s=1.5,
    )
    suppressed = [
        Suppressed(_finding("sast.bandit.B101", "sast", Severity.LOW, Location("t.py", 1)), "tests")
    ]
    return GateResult(
        scan=scan, findings=findings, suppressed=suppressed, policy=GatePolicy(Severity.HIGH, strict=strict)
    )


def test_reload_round_trips_the_json_report(tmp_path: Path) -> None:
    for result in (sample(), sample(strict=True), sample(failures=True)):
        path = tmp_path / "r.json"
        path.write_text(json_report.render(result), encoding="utf-8")
        again = load_report(path)
        assert json_report.render(again) == json_report.render(result)
        assert again.failed == result.failed


def test_reload_keeps_a_strict_failure() -> None:
    result = GateResult(
        scan=ScanResult(root=Path("."), scanners=["deps"], skips=[Skip("deps", "no database")]),
        findings=[],
        policy=GatePolicy(Severity.HIGH, strict=True),
    )
    assert result.failed


def test_reload_strict_only_failure(tmp_path: Path) -> None:
    result = GateResult(
        scan=ScanResult(root=Path("."), scanners=["deps"], skips=[Skip("deps", "no database")]),
        findings=[],
        policy=GatePolicy(Severity.HIGH, strict=True),
    )
    path = tmp_path / "r.json"
    path.write_text(json_report.render(result), encoding="utf-8")
    assert load_report(path).failed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "not a Bastion JSON report"),
        ('{"schema_version": 1, "findings": [{"x": 1}]}', "malformed entry"),
        ('{"schema_version": 1, "findings": [], "stage": 3}', "malformed entry.*stage must be"),
        ('{"schema_version": 1, "findings": [], "stage": ""}', "malformed entry.*stage must be"),
        ('{"schema_version": 1, "findings": [], "scope": "x"}', "malformed entry.*scope must be"),
        ('{"schema_version": 1, "findings": [], "scope": {"excludes": "a"}}', "scope.excludes must be"),
    ],
)
def test_reload_refuses_other_documents(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Exception, match=message):
        load_report(path)


def test_split_puts_each_finding_in_one_report_type() -> None:
    parts = split_findings(sample())
    assert [f.rule_id for f in parts[GitLabReport.SECRET_DETECTION].findings] == [
        "secrets.stripe-live-secret-key",
        "iac.aws.hardcoded-key",
    ]
    assert [f.rule_id for f in parts[GitLabReport.DEPENDENCY_SCANNING].findings] == ["deps.CVE-2019-12308"]
    assert [f.rule_id for f in parts[GitLabReport.SAST].findings] == [
        "sast.bandit.B602",
        "iac.aws.s3-public-acl",
    ]
    assert sum(len(p.findings) for p in parts.values()) == len(sample().findings)


def test_each_gitlab_report_has_its_shape() -> None:
    result = sample()
    for kind in GitLabReport:
        check_report(to_report(result, kind), kind.value)
    deps = to_report(result, GitLabReport.DEPENDENCY_SCANNING)
    vuln = deps["vulnerabilities"][0]
    assert vuln["location"] == {
        "file": "requirements.txt",
        "dependency": {"package": {"name": "Django"}, "version": "2.2.0", "direct": True},
    }
    assert [i["type"] for i in vuln["identifiers"]][:1] == ["cve"]
    assert {"ghsa", "pysec"} <= {i["type"] for i in vuln["identifiers"]}
    assert vuln["solution"] == "Upgrade Django to 2.2.28"
    assert deps["dependency_files"] == [
        {
            "path": "requirements.txt",
            "package_manager": "pip",
            "dependencies": [{"package": {"name": "Django"}, "version": "2.2.0"}],
        }
    ]
    odd = replace(result, findings=[result.findings[0].with_changes(help_uri="docs/rules.md")])
    check_report(to_report(odd, GitLabReport.SECRET_DETECTION), "secret_detection")
    secrets = to_report(result, GitLabReport.SECRET_DETECTION)
    assert secrets["vulnerabilities"][0]["location"]["commit"] == {"sha": "0000000"}


def test_cli_render_every_target(tmp_path: Path) -> None:
    report = tmp_path / "bastion.json"
    report.write_text(json_report.render(sample()), encoding="utf-8")
    names = [
        "table",
        "json",
        "sarif",
        "gitlab",
        "junit",
        "markdown",
        "html",
        "gitlab-secret-detection",
        "gitlab-dependency-scanning",
        "gitlab-sast",
    ]
    args = [arg for name in names for arg in ("--to", f"{name}={tmp_path / name}")]
    assert main(["ci", "render", str(report), *args]) == 0
    assert all((tmp_path / name).stat().st_size > 0 for name in names)
    assert main(["ci", "render", str(report), "--to", f"markdown={tmp_path / 'x.md'}", "--gate"]) == 1
    assert json.loads((tmp_path / "gitlab-sast").read_text(encoding="utf-8"))["scan"]["type"] == "sast"


@pytest.mark.parametrize(("arg", "message"), [("sarif", "write FORMAT=FILE"), ("pdf=x", "unknown format")])
def test_cli_render_usage_errors(
    tmp_path: Path, arg: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "bastion.json"
    report.write_text(json_report.render(sample()), encoding="utf-8")
    assert main(["ci", "render", str(report), "--to", arg]) == 2
    assert message in capsys.readouterr().err


def test_cli_stages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "stages"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("commit   scanners=secrets")
    assert "deploy" in out
