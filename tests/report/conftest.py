"""Hand-built gate results for the formatter tests, fixed down to the version string.

Cases:
- ``full``: every severity, a suppressed and a baselined finding, a skip, notices,
  a URL-located (DAST) finding, purl-located ones (with and without a lockfile path),
  a gate finding from a scanner outside ``scanners``, and unicode plus control
  characters and markup in a message and a path.
- ``clean``: no findings at all, one scanner.
- ``failure``: a scanner crashed next to one that found something below the threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.gate import GatePolicy, GateResult
from bastion.report import gitlab, json_report, sarif
from bastion.results import Notice, NoticeKind, ScannerFailure, ScanResult, Skip, Suppressed

ROOT = Path("/src/project")
VERSION = "1.2.3"
CASES = ("full", "clean", "failure")


def finding(
    rule_id: str, severity: Severity, location: Location, title: str, message: str, **extra: object
) -> Finding:
    """A finding whose fingerprint is computed the way scanners compute it."""
    scanner = str(extra.pop("scanner", rule_id.split(".", 1)[0]))
    return Finding(
        rule_id=rule_id,
        scanner=scanner,
        title=title,
        severity=severity,
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, message),
        **extra,
    )


def full_result() -> GateResult:
    """The rich case: every kind of finding and record a report has to render."""
    findings = [
        finding(
            "secrets.aws-access-key",
            Severity.CRITICAL,
            Location("src/config.py", 3, 3, 11, 31),
            "AWS access key",
            "AWS access key id committed to the repository",
            evidence="AKIA****************",
            cwe=(798,),
            controls=("nist-800-53-r5:IA-5", "cis-v8:3.11", "iso27001-2022:A.8.24"),
            fix="Revoke the key in IAM, then load it from the environment",
            help_uri="https://docs.example.org/rules/secrets.aws-access-key",
        ),
        finding(
            "sast.bandit.B602",
            Severity.HIGH,
            Location("src/app.py", 12, 14),
            "subprocess call with shell=True",
            "subprocess.Popen(cmd, shell=True) runs a shell on user input",
            confidence=Confidence.MEDIUM,
            evidence="subprocess.Popen(cmd, shell=True)",
            cwe=(78,),
            controls=("nist-800-53-r5:SI-10",),
            fix="Pass a list of arguments and shell=False",
            metadata={"bandit_test": "B602", "more_info": ["a", 1]},
        ),
        finding(
            "deps.GHSA-j8r2-6x86-q33q",
            Severity.HIGH,
            Location("poetry.lock", purl="pkg:pypi/requests@2.19.0"),
            "requests: Proxy-Authorization header leaked",
            "requests 2.19.0 is affected by GHSA-j8r2-6x86-q33q",
            cwe=(200, 669),
            fix="2.31.0",
            help_uri="https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q",
            metadata={"aliases": ["CVE-2023-32681"]},
        ),
        finding(
            "iac.aws.s3-bucket-encryption",
            Severity.MEDIUM,
            Location("infra/main.tf", 5, 9),
            "S3 bucket without encryption",
            "aws_s3_bucket.logs has no server-side encryption",
            cwe=(311,),
            controls=("nist-800-53-r5:SC-28",),
        ),
        finding(
            "deps.GHSA-c2qf-rxjj-qqgw",
            Severity.MEDIUM,
            Location(purl="pkg:npm/semver@5.7.1"),
            "semver: Regular Expression Denial of Service",
            "semver 5.7.1 is affected by GHSA-c2qf-rxjj-qqgw",
            cwe=(1333,),
            fix="5.7.2",
        ),
        finding(
            "dast.csp-missing",
            Severity.LOW,
            Location(url="https://app.example.com/login?next=%2F&lang=en"),
            "Content-Security-Policy header missing",
            "GET /login answered without a Content-Security-Policy header",
            cwe=(693,),
        ),
        finding(
            "bastion.suppression-without-reason",
            Severity.LOW,
            Location("src/app.py", 20, 20),
            "Suppression without a reason",
            "bastion: ignore[sast.bandit.B101] gives no reason; say why the finding is accepted",
            scanner="gate",
        ),
        finding(
            "sast.semgrep.odd-text",
            Severity.INFO,
            Location(
                "src/naïve dir/ünï #1.py", 2, 2, 1, 5, commit="0123456789abcdef0123456789abcdef01234567"
            ),
            'Odd <text> & "quotes"',
            "Ünïcödé ✓ 日本語 \x07bell \x1b[31mred\x1b[0m <tag attr='x'> & ]]> end",
            confidence=Confidence.LOW,
            evidence="x = '\x00\x0b\ufffe'",
        ),
    ]
    suppressed = finding(
        "sast.bandit.B105",
        Severity.MEDIUM,
        Location("src/settings.py", 8, 8),
        "Hard-coded password string",
        "PASSWORD = 'hunter2' looks like a hard-coded password",
        cwe=(259,),
    )
    baselined = finding(
        "secrets.generic-api-key",
        Severity.HIGH,
        Location("legacy/old.py", 40, 40),
        "Generic API key",
        "api_key = '****' looks like an API key",
        cwe=(798,),
    )
    scan = ScanResult(
        root=ROOT,
        scanners=["secrets", "deps", "sast", "iac", "dast"],
        findings=[*findings, suppressed, baselined],
        notices=[
            Notice(
                NoticeKind.ENCODING,
                "not valid UTF-8 (byte 17); scanned with replacement characters",
                path="data/latin1.txt",
                scanner="secrets",
            ),
            Notice(NoticeKind.BINARY, "binary file skipped", path="img/logo.png"),
            Notice(NoticeKind.BINARY, "binary file skipped", path="img/icon.ico"),
        ],
        skips=[Skip("sast.semgrep", "semgrep not installed")],
        files_scanned=42,
        bytes_scanned=123456,
        duration_s=1.2345,
    )
    return GateResult(
        scan=scan,
        findings=findings,
        suppressed=[Suppressed(suppressed, "test fixture, not a real password")],
        baselined=[baselined],
        below_confidence=1,
        policy=GatePolicy(threshold=Severity.HIGH),
    )


def clean_result() -> GateResult:
    """Nothing found."""
    scan = ScanResult(root=ROOT, scanners=["secrets"], files_scanned=3, bytes_scanned=300, duration_s=0.05)
    return GateResult(scan=scan, findings=[], policy=GatePolicy(threshold=Severity.HIGH))


def failure_result() -> GateResult:
    """One scanner crashed; the other found something that does not block."""
    found = finding(
        "secrets.generic-password",
        Severity.MEDIUM,
        Location("app.env", 1, 1),
        "Password in environment file",
        "PASSWORD=**** in app.env",
        cwe=(798,),
    )
    scan = ScanResult(
        root=ROOT,
        scanners=["secrets", "iac"],
        findings=[found],
        failures=[ScannerFailure("iac", "RuntimeError: policy engine exploded")],
        files_scanned=5,
        bytes_scanned=500,
        duration_s=0.5,
    )
    return GateResult(scan=scan, findings=[found], policy=GatePolicy(threshold=Severity.HIGH))


BUILDERS: dict[str, Callable[[], GateResult]] = {
    "full": full_result,
    "clean": clean_result,
    "failure": failure_result,
}


@pytest.fixture(autouse=True)
def pinned_version(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Pin the version the formatters print, so golden files survive releases."""
    for module in (json_report, sarif, gitlab):
        monkeypatch.setattr(module, "__version__", VERSION)
    yield VERSION


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> tuple[str, GateResult]:
    """Each named case with a freshly built result."""
    name = str(request.param)
    return name, BUILDERS[name]()


@pytest.fixture
def full() -> GateResult:
    """The rich case."""
    return full_result()


@pytest.fixture
def clean() -> GateResult:
    """The case with nothing found."""
    return clean_result()


@pytest.fixture
def crashed() -> GateResult:
    """The case where a scanner crashed."""
    return failure_result()
