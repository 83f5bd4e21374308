"""Small builders shared by the store tests."""

from __future__ import annotations

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.accounts import create_project
from bastion.store.coverage import Coverage, Scope
from bastion.store.db import Store
from bastion.store.parse import ParsedScan


def finding(
    rule: str, path: str, content: str, severity: Severity = Severity.HIGH, scanner: str = "sast"
) -> Finding:
    """A Finding with a real fingerprint."""
    location = Location(path=path, start_line=3)
    return Finding(
        rule_id=f"{scanner}.{rule}",
        scanner=scanner,
        title=f"{rule} title",
        severity=severity,
        location=location,
        message=f"{rule} at {path}",
        fingerprint=make_fingerprint(f"{scanner}.{rule}", location, content),
    )


def scan_of(*findings: Finding, scanners: tuple[str, ...] = ("sast",)) -> ParsedScan:
    """A parsed Bastion scan of the whole repository holding ``findings`` (every scanner ran)."""
    scope = Scope(".", (), frozenset(scanners), frozenset(scanners))
    return ParsedScan("bastion", "bastion test", list(scanners), list(findings), Coverage(scopes=(scope,)))


def new_project(store: Store, slug: str = "demo") -> int:
    """Create a project, return its id."""
    with store.write() as session:
        return create_project(session, slug, slug.title(), "tester").id
