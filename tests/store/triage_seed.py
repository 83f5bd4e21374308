"""Dependency findings shaped like the deps scanner's, for the triage workflow's tests."""

from __future__ import annotations

from bastion.findings import Finding, Location, Severity, make_fingerprint

__all__ = ["URLLIB3", "dep"]

URLLIB3 = (  # (advisory, severity, fixed versions): six advisories of urllib3 1.26.3
    ("GHSA-q2q7-5pp4-w6pg", Severity.HIGH, ["1.26.5"]),
    ("GHSA-v845-jxx5-vc9f", Severity.MEDIUM, ["1.26.17", "2.0.6"]),
    ("GHSA-g4mx-q9vg-27p4", Severity.MEDIUM, ["1.26.18", "2.0.7"]),
    ("GHSA-34jh-p97f-mpxf", Severity.MEDIUM, ["1.26.19", "2.2.2"]),
    ("GHSA-wqvq-5m8c-6g24", Severity.LOW, ["1.26.4"]),
    ("GHSA-fake-none-0000", Severity.CRITICAL, []),
)


def dep(name: str, version: str, advisory: str, severity: Severity, fixed: list[str]) -> Finding:
    """A dependency finding shaped like the deps scanner's (metadata keys included)."""
    purl = f"pkg:pypi/{name}@{version}"
    location = Location(path="requirements.txt", start_line=2, purl=purl)
    rule = f"deps.{advisory}"
    return Finding(
        rule_id=rule,
        scanner="deps",
        title=f"Vulnerable dependency: {name} {version} ({advisory})",
        severity=severity,
        location=location,
        message=f"{name} {version} is affected by {advisory}",
        fingerprint=make_fingerprint(rule, location, f"PyPI:{name}@{version}"),
        metadata={
            "ecosystem": "PyPI",
            "package": name,
            "installed_version": version,
            "advisory": advisory,
            "fixed_versions": fixed,
        },
    )


def triage_findings() -> list[Finding]:
    """urllib3 1.26.3 with its six advisories, jinja2 2.10 with one, three SQL injections and an eval."""
    items = [dep("urllib3", "1.26.3", a, s, f) for a, s, f in URLLIB3]
    items.append(dep("jinja2", "2.10", "GHSA-462w-v97r-4m45", Severity.HIGH, ["2.10.1"]))
    for index in range(3):
        location = Location(path=f"app/{index}.py", start_line=3)
        items.append(
            Finding(
                rule_id="sast.sqli",
                scanner="sast",
                title="sqli title",
                severity=Severity.HIGH,
                location=location,
                message=f"sqli at app/{index}.py",
                fingerprint=make_fingerprint("sast.sqli", location, str(index)),
            )
        )
    location = Location(path="app/x.py", start_line=3)
    items.append(
        Finding(
            rule_id="sast.eval",
            scanner="sast",
            title="eval title",
            severity=Severity.LOW,
            location=location,
            message='=HYPERLINK("http://x") eval at app/x.py',
            fingerprint=make_fingerprint("sast.eval", location, "x"),
        )
    )
    return items
