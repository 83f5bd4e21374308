"""Never a false "fixed": an upload fixes only what it says it checked (issue 13, item 1).

Uploads here are real documents (Bastion JSON reports and SARIF logs as the formatters and
other tools write them) parsed by the same code the server runs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from helpers_store import new_project
from sqlalchemy import select

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord, Scan
from bastion.store.parse import parse_document, parse_upload

DATA = Path(__file__).parent / "data"


def _finding(scanner: str, rule: str, path: str) -> Finding:
    location = Location(path=path, start_line=1)
    rule_id = f"{scanner}.{rule}"
    return Finding(
        rule_id=rule_id,
        scanner=scanner,
        title=rule,
        severity=Severity.HIGH,
        location=location,
        message=f"{rule} in {path}",
        fingerprint=make_fingerprint(rule_id, location, rule),
    )


def _report(
    findings: list[Finding],
    scanners: list[str],
    skipped: list[dict[str, str]] | None = None,
    failures: list[dict[str, str]] | None = None,
    notices: list[dict[str, Any]] | None = None,
    scope: dict[str, Any] | bool | None = True,
) -> dict[str, Any]:
    """A Bastion JSON report as ``bastion scan --format json`` writes it (``scope`` True: of the
    whole repository, every scanner complete; False: an older report without a scope)."""
    if scope is True:
        scope = full_scope(scanners)
    document = {
        "schema_version": 1,
        "tool": {"name": "bastion", "version": "0.1.0"},
        "target": ".",
        "scanners": scanners,
        "duration_s": 0.1,
        "summary": {},
        "findings": [f.to_dict() for f in findings],
        "suppressed": [],
        "baselined": [],
        "skipped": skipped or [],
        "failures": failures or [],
        "notices": notices or [],
    }
    if scope:
        document["scope"] = scope
    return document


def full_scope(scanners: list[str], root: str = ".", excludes: list[str] | None = None) -> dict[str, Any]:
    """The ``scope`` of a scan of ``root`` with every scanner complete."""
    return {
        "root": root,
        "repository": True,
        "excludes": excludes or [],
        "gitignore": True,
        "history": None,
        "files": 10,
        "scanners": {s: {"status": "complete", "skips": 0, "notices": 0} for s in scanners},
    }


def _statuses(store: Store, project: int) -> dict[tuple[str, str], str]:
    with store.read() as session:
        rows = session.execute(
            select(FindingRecord.rule_id, FindingRecord.location, FindingRecord.status).where(
                FindingRecord.project_id == project
            )
        ).all()
    return {(rule, location.split(":")[0]): status for rule, location, status in rows}


DEPS = [_finding("deps", f"GHSA-{i:04d}", "requirements.txt") for i in range(20)]
LOCK = [_finding("deps", f"GHSA-9{i:03d}", "package-lock.json") for i in range(3)]
SAST = [
    _finding("sast", "bandit.B602", "app.py"),
    _finding("sast", "semgrep.sqli", "app.py"),
    _finding("sast", "bandit.B105", "lib.py"),
]
SECRETS = [_finding("secrets", "aws-access-key", "big.env"), _finding("secrets", "github-pat", "app.py")]
EVERYTHING = DEPS + LOCK + SAST + SECRETS
SCANNERS = ["deps", "sast", "secrets"]


def test_deps_scan_without_an_advisory_database_fixes_nothing(store: Store) -> None:
    """The issue's repro: 20 deps findings, then the same scan skipped for want of a database."""
    project = new_project(store)
    first = ingest(store, project, parse_document(_report(DEPS, ["deps"]), "first.json"), "ci")
    skipped = [{"component": "deps", "reason": "no advisory database at /x/advisories.db"}]
    second = ingest(store, project, parse_document(_report([], ["deps"], skipped), "second.json"), "ci")
    assert (first.new, second.new, second.fixed) == (20, 0, 0)
    assert set(_statuses(store, project).values()) == {"open"}
    assert second.gaps and second.gaps[0]["scanner"] == "deps"
    with store.read() as session:
        scan = session.get_one(Scan, second.scan_id)
        assert scan.gaps and "no advisory database" in str(scan.gaps[0]["reason"])


CASES: dict[str, tuple[dict[str, Any], set[tuple[str, str]]]] = {
    # name: (what the second report says it could not check, the findings that must stay open)
    "whole scanner skipped": (
        {"skipped": [{"component": "deps", "reason": "advisory database corrupt"}]},
        {(f.rule_id, f.location.path or "") for f in DEPS + LOCK},
    ),
    "one tool skipped": (
        {"skipped": [{"component": "sast.semgrep", "reason": "semgrep not installed"}]},
        {("sast.semgrep.sqli", "app.py")},
    ),
    "one package skipped": (
        {"skipped": [{"component": "deps PyPI/flask (requirements.txt:3)", "reason": "not pinned"}]},
        {(f.rule_id, "requirements.txt") for f in DEPS},
    ),
    "a file a scanner could not parse (skip record)": (
        {"skipped": [{"component": "sast lib.py", "reason": "syntax error; file not checked"}]},
        {("sast.bandit.B105", "lib.py")},
    ),
    "an ecosystem without advisories": (
        {"skipped": [{"component": "deps PyPI", "reason": "no advisories for PyPI"}]},
        {(f.rule_id, f.location.path or "") for f in DEPS + LOCK},
    ),
    "a file a scanner could not read": (
        {"notices": [{"kind": "scanner", "message": "bad HCL", "path": "lib.py", "scanner": "sast"}]},
        {("sast.bandit.B105", "lib.py")},
    ),
    "a file too large for every scanner": (
        {"notices": [{"kind": "too-large", "message": "over 5 MB", "path": "big.env", "scanner": None}]},
        {("secrets.aws-access-key", "big.env")},
    ),
    "a scanner notice without a file": (
        {"notices": [{"kind": "scanner", "message": "database holds no advisories", "scanner": "deps"}]},
        {(f.rule_id, f.location.path or "") for f in DEPS + LOCK},
    ),
    "a scanner crashed (the scan exited 2)": (
        {"failures": [{"scanner": "secrets", "error": "RuntimeError: boom"}]},
        {(f.rule_id, f.location.path or "") for f in EVERYTHING},
    ),
    "an empty target": (
        {"notices": [{"kind": "empty-target", "message": "no files", "path": None, "scanner": None}]},
        {(f.rule_id, f.location.path or "") for f in EVERYTHING},
    ),
    "an unreadable skip record": (
        {"skipped": [{"component": "???", "reason": "?"}]},
        {(f.rule_id, f.location.path or "") for f in EVERYTHING},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_scan_fixes_nothing_in_the_scope_it_did_not_check(store: Store, case: str) -> None:
    extra, stay_open = CASES[case]
    project = new_project(store)
    ingest(store, project, parse_document(_report(EVERYTHING, SCANNERS), "first.json"), "ci")
    second = _report([], SCANNERS, **extra)
    result = ingest(store, project, parse_document(second, "second.json"), "ci")
    statuses = _statuses(store, project)
    assert {key for key, status in statuses.items() if status == "open"} == stay_open
    assert result.fixed == len(EVERYTHING) - len(stay_open)


def test_a_report_without_skip_and_failure_records_fixes_nothing(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(SAST, ["sast"]), "first.json"), "ci")
    bare = {k: v for k, v in _report([], ["sast"]).items() if k not in ("skipped", "failures")}
    assert ingest(store, project, parse_document(bare, "bare.json"), "ci").fixed == 0


def _sarif(tool: str, invocation: dict[str, Any], scope: dict[str, Any] | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"tool": {"driver": {"name": tool}}, "invocations": [invocation], "results": []}
    if scope is not None:
        run["properties"] = {"bastionScope": scope}
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [run]}


def test_sarif_runs_say_what_they_could_not_check(store: Store) -> None:
    """Bastion's own SARIF (skips as notifications) and another tool's failed run."""
    project = new_project(store)
    ingest(store, project, parse_document(_report(SAST, ["sast"]), "first.json"), "ci")
    native = _sarif(
        "bastion",
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "descriptor": {"id": "bastion.skip"},
                    "level": "warning",
                    "message": {"text": "skipped sast.semgrep: semgrep not installed"},
                },
                {
                    "descriptor": {"id": "bastion.notice.unreadable"},
                    "level": "note",
                    "message": {"text": "cannot read"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": "lib.py"}}}],
                },
            ],
        },
        full_scope(["sast"]),
    )
    parsed = parse_document(native, "bastion.sarif")
    assert parsed.scanners == ["sast"], "the scope names the scanners that ran"
    assert ingest(store, project, parsed, "ci").fixed == 1
    assert _statuses(store, project)[("sast.bandit.B602", "app.py")] == "fixed"
    failed = _sarif("bastion", {"executionSuccessful": False}, full_scope(["sast"]))
    assert ingest(store, project, parse_document(failed, "failed.sarif"), "ci").fixed == 0


def test_another_tools_failed_run_fixes_none_of_its_findings(store: Store) -> None:
    project = new_project(store)
    semgrep = parse_upload((DATA / "semgrep.sarif").read_bytes(), "semgrep.sarif")
    assert ingest(store, project, semgrep, "ci").new > 0
    document = json.loads((DATA / "semgrep.sarif").read_bytes())
    document["runs"][0]["results"] = []
    document["runs"][0]["invocations"] = [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": "out of memory"}}],
        }
    ]
    assert ingest(store, project, parse_document(document, "semgrep.sarif"), "ci").fixed == 0
    document["runs"][0]["invocations"] = [{"executionSuccessful": True}]
    assert ingest(store, project, parse_document(document, "semgrep.sarif"), "ci").fixed == 0, (
        "another tool's SARIF says nothing of where it looked: an empty run proves no file read"
    )
    paths = sorted({f.location.path for f in semgrep.findings if f.location.path})
    document["runs"][0]["artifacts"] = [{"location": {"uri": p}, "roles": ["analysisTarget"]} for p in paths]
    assert ingest(store, project, parse_document(document, "semgrep.sarif"), "ci").fixed == semgrep_count(
        semgrep.findings
    )


def semgrep_count(findings: list[Finding]) -> int:
    """Distinct fingerprints (what the store tracks)."""
    return len({f.fingerprint for f in findings})


def test_invariant_an_upload_with_a_skip_never_fixes_in_the_skipped_scope(store: Store) -> None:
    """Random uploads with random skips: nothing inside a skipped scope is ever fixed, and
    everything outside the skipped scopes that disappeared is (so the check is not vacuous)."""
    rng = random.Random(13)
    scanners = ["deps", "sast", "secrets", "iac"]
    paths = ["a.py", "b.tf", "requirements.txt", "c/d.yaml"]
    for round_number in range(6 if store.dialect == "postgresql" else 12):
        project = new_project(store, f"p{round_number}")
        stored = [
            _finding(s, f"{tool}.r{i}", p)
            for s in scanners
            for tool in ("one", "two")
            for p in paths
            for i in range(2)
        ]
        ingest(store, project, parse_document(_report(stored, scanners), "first.json"), "ci")
        kept = [f for f in stored if rng.random() < 0.3]
        skipped: list[dict[str, str]] = []
        notices: list[dict[str, Any]] = []
        scopes: list[tuple[str | None, str | None, str | None]] = []  # scanner, rule prefix, path
        for _ in range(rng.randint(1, 3)):
            scanner, path = rng.choice(scanners), rng.choice(paths)
            kind = rng.choice(["scanner", "tool", "package", "notice", "walk"])
            if kind == "scanner":
                skipped.append({"component": scanner, "reason": "tool missing"})
                scopes.append((scanner, None, None))
            elif kind == "tool":
                skipped.append({"component": f"{scanner}.one", "reason": "tool missing"})
                scopes.append((scanner, f"{scanner}.one.", None))
            elif kind == "package":
                skipped.append({"component": f"{scanner} PyPI/x ({path}:7)", "reason": "unpinned"})
                scopes.append((scanner, None, path))
            elif kind == "notice":
                notices.append(
                    {"kind": "scanner", "message": "parse error", "path": path, "scanner": scanner}
                )
                scopes.append((scanner, None, path))
            else:
                notices.append({"kind": "too-large", "message": "big", "path": path, "scanner": None})
                scopes.append((None, None, path))
        report = _report(kept, scanners, skipped, notices=notices)
        ingest(store, project, parse_upload(json.dumps(report).encode(), "second.json"), "ci")
        statuses = _statuses(store, project)
        for f in stored:
            path = f.location.path or ""
            inside = any(
                (s is None or s == f.scanner)
                and (prefix is None or f.rule_id.startswith(prefix))
                and (p is None or p == path)
                for s, prefix, p in scopes
            )
            expected = "open" if inside or f in kept else "fixed"
            assert statuses[(f.rule_id, path)] == expected, (f.rule_id, path, skipped, notices)
