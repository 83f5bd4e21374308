"""An upload fixes only inside the scope it says it scanned: its root in the repository, its
excludes, the scanners that ran (issue 13, item 1); a Bastion-SARIF notice blocks only its own
scanner (item 2). Reports without a scope fix only where their own results show they looked."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from helpers_store import new_project
from sqlalchemy import select
from test_store_coverage import _finding, _report, full_scope

from bastion.errors import InputError
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.coverage import Scope
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord
from bastion.store.parse import parse_document, parse_upload


def _open(store: Store, project: int) -> set[tuple[str, str, str | None]]:
    with store.read() as session:
        rows = session.execute(
            select(FindingRecord.rule_id, FindingRecord.location_data, FindingRecord.scope_root).where(
                FindingRecord.project_id == project, FindingRecord.status == "open"
            )
        ).all()
    return {(rule, data["path"], root) for rule, data, root in rows}


WHOLE = [
    _finding("sast", "bandit.B602", "api/app.py"),
    _finding("sast", "bandit.B105", "web/views.py"),
    _finding("sast", "bandit.B101", "vendor/lib.py"),
    _finding("secrets", "github-pat", "api/settings.py"),
]


def test_a_subdirectory_scan_fixes_nothing_outside_it(store: Store) -> None:
    """A scan of api/ names api/app.py's finding "app.py" (another identity): it fixes nothing
    a scan of the whole tree stored, and a later scan of api/ fixes only what it stored."""
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    inner = [_finding("sast", "bandit.B602", "app.py"), _finding("sast", "bandit.B999", "x.py")]
    api = full_scope(["sast", "secrets"], root="api")
    result = ingest(store, project, parse_document(_report(inner, ["sast", "secrets"], scope=api), "a"), "ci")
    assert (result.new, result.fixed) == (2, 0)
    result = ingest(
        store, project, parse_document(_report(inner[:1], ["sast", "secrets"], scope=api), "b"), "ci"
    )
    assert result.fixed == 1
    assert ("sast.bandit.B999", "x.py", "api") not in _open(store, project)
    assert {(rule, path) for rule, path, root in _open(store, project) if root == "."} == {
        (f.rule_id, f.location.path) for f in WHOLE
    }


def test_findings_stored_by_a_subdirectory_scan_are_placed_by_its_root(store: Store) -> None:
    project = new_project(store)
    inner = [_finding("sast", "bandit.B602", "app.py")]  # api/app.py, as a scan of api/ reports it
    ingest(
        store, project, parse_document(_report(inner, ["sast"], scope=full_scope(["sast"], "api")), "a"), "ci"
    )
    for root in ("web", "."):
        other = _report([], ["sast"], scope=full_scope(["sast"], root=root))
        assert ingest(store, project, parse_document(other, f"{root}.json"), "ci").fixed == 0, root
    again = _report([], ["sast"], scope=full_scope(["sast"], "api", excludes=["app.py"]))
    assert ingest(store, project, parse_document(again, "api.json"), "ci").fixed == 0, "excluded"
    again = _report([], ["sast"], scope=full_scope(["sast"], "api"))
    assert ingest(store, project, parse_document(again, "api.json"), "ci").fixed == 1


def test_excluded_paths_are_not_fixed(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    scope = full_scope(["sast", "secrets"], excludes=["vendor/", "*.py", "!api/*.py"])
    result = ingest(store, project, parse_document(_report([], ["sast", "secrets"], scope=scope), "x"), "ci")
    assert result.fixed == 2
    assert {path for _, path, _ in _open(store, project)} == {"web/views.py", "vendor/lib.py"}


def test_a_scanner_the_scope_says_did_not_run_fixes_nothing(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    scope = full_scope(["sast", "secrets"])
    scope["scanners"]["secrets"]["status"] = "skipped"
    del scope["scanners"]["sast"]  # named by the report, absent from the scope: no evidence
    result = ingest(store, project, parse_document(_report([], ["sast", "secrets"], scope=scope), "x"), "ci")
    assert result.fixed == 0


def test_an_incremental_history_scan_fixes_nothing(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    scope = full_scope(["sast", "secrets"])
    scope["history"] = "staged"
    result = ingest(store, project, parse_document(_report([], ["sast", "secrets"], scope=scope), "x"), "ci")
    assert result.fixed == 0 and "history" in str(result.gaps[0]["reason"])


def test_a_report_without_scope_fixes_only_in_files_it_shows_it_read(store: Store) -> None:
    """Older reports: a finding disappears as fixed only from a file where the same scanner
    still reported something, and only when the stored finding's root is unknown too."""
    project = new_project(store)
    old = [*WHOLE, _finding("sast", "bandit.B608", "web/views.py")]
    ingest(store, project, parse_document(_report(old, ["sast", "secrets"], scope=False), "old.json"), "ci")
    still = [_finding("sast", "bandit.B608", "web/views.py")]
    result = ingest(
        store, project, parse_document(_report(still, ["sast", "secrets"], scope=False), "o"), "ci"
    )
    assert result.fixed == 1
    assert ("sast.bandit.B105", "web/views.py", None) not in _open(store, project)
    rooted = new_project(store, "rooted")
    api = full_scope(["sast", "secrets"], "web")
    ingest(store, rooted, parse_document(_report(old, ["sast", "secrets"], scope=api), "web.json"), "ci")
    result = ingest(
        store, rooted, parse_document(_report(still, ["sast", "secrets"], scope=False), "o"), "ci"
    )
    assert result.fixed == 0, "paths of a known other root and of an unknown one cannot be compared"


def _native_sarif(notes: list[dict[str, Any]], scope: dict[str, Any] | None) -> dict[str, Any]:
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "bastion"}},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
        "results": [],
    }
    if scope:
        run["properties"] = {"bastionScope": scope}
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [run]}


def test_a_bastion_sarif_notice_blocks_only_its_own_scanner(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    note = {
        "descriptor": {"id": "bastion.notice.scanner"},
        "level": "note",
        "message": {"text": "advisory database holds no advisories"},
        "properties": {"scanner": "secrets"},
    }
    sarif = _native_sarif([note], full_scope(["sast", "secrets"]))
    result = ingest(store, project, parse_document(sarif, "bastion.sarif"), "ci")
    assert result.fixed == 3 and {rule for rule, _, _ in _open(store, project)} == {"secrets.github-pat"}


def test_a_bastion_sarif_notice_without_a_scanner_still_blocks_everything(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, parse_document(_report(WHOLE, ["sast", "secrets"]), "whole.json"), "ci")
    note = {"descriptor": {"id": "bastion.notice.scanner"}, "level": "note", "message": {"text": "?"}}
    sarif = _native_sarif([note], full_scope(["sast", "secrets"]))
    assert ingest(store, project, parse_document(sarif, "old.sarif"), "ci").fixed == 0


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ([], "must be an object"),
        ({"root": "/etc", "scanners": {}}, "inside the repository"),
        ({"root": "../x", "scanners": {}}, "inside the repository"),
        ({"root": "", "scanners": {}}, "relative POSIX path"),
        ({"root": ".", "scanners": {"sast": {"status": "maybe"}}}, "scope.scanners"),
        ({"root": ".", "scanners": {}, "excludes": "vendor"}, "scope.excludes"),
        ({"root": ".", "scanners": {}, "history": "some"}, "scope.history"),
    ],
)
def test_a_malformed_scope_is_refused_with_one_line(scope: Any, message: str) -> None:
    document = _report([], ["sast"], scope=False)
    document["scope"] = scope
    with pytest.raises(InputError, match=message):
        parse_upload(json.dumps(document).encode(), "bad.json")


def test_scope_relative_places_paths() -> None:
    scope = Scope("api", ("tests/",), frozenset({"sast"}), frozenset({"sast"}))
    assert scope.relative("api", "app.py") == "app.py"
    assert scope.relative(".", "api/app.py") is None, "another root: another identity"
    assert scope.relative("api", "tests/t.py") is None
    assert scope.relative("api", "../web/x.py") is None
    assert scope.relative(None, "app.py") is None
    assert Scope(".").relative(None, "app.py") == "app.py"


def test_invariant_nothing_outside_the_scanned_scope_is_ever_fixed(store: Store) -> None:
    """Random roots, excludes and scanner statuses over findings stored by scans of random roots:
    a stored finding is fixed exactly when the upload scanned its root, its path matches no
    exclude, its scanner ran, and the upload no longer holds it."""
    rng = random.Random(131)
    paths = ["a.py", "b/c.py", "tests/d.py", "vendor/e.py"]
    roots = [".", "api", "web"]
    scanners = ["sast", "secrets"]
    for round_number in range(3 if store.dialect == "postgresql" else 8):
        project = new_project(store, f"inv{round_number}")
        stored: dict[str, list[Finding]] = {}
        for root in roots:
            tag = root.strip(".") or "top"  # one identity per root (same path, other file)
            stored[root] = [_finding(s, f"{tag}{i}", p) for s in scanners for p in paths for i in range(2)]
            first = _report(stored[root], scanners, scope=full_scope(scanners, root))
            ingest(store, project, parse_document(first, f"{root}.json"), "ci")
        root = rng.choice(roots)
        excludes = rng.sample(["tests/", "*.py", "vendor", "b/", "!a.py"], rng.randint(0, 2))
        scope = full_scope(scanners, root, excludes)
        for name in scanners:
            scope["scanners"][name]["status"] = rng.choice(["complete", "partial", "skipped", "failed"])
        kept = [f for f in stored[root] if rng.random() < 0.3]
        upload = _report(kept, scanners, scope=scope)
        ingest(store, project, parse_upload(json.dumps(upload).encode(), "second.json"), "ci")
        open_now = _open(store, project)
        spec = Scope(root, tuple(excludes))
        for stored_root, findings in stored.items():
            for f in findings:
                path = f.location.path or ""
                inside = spec.relative(stored_root, path) is not None
                ran = scope["scanners"][f.scanner]["status"] in ("complete", "partial")
                fixed = inside and ran and f not in kept
                state = (f.rule_id, path, stored_root) not in open_now
                assert state == fixed, (f.rule_id, path, stored_root, root, excludes)


def test_a_single_file_scan_fixes_nothing_beside_its_file(store: Store) -> None:
    project = new_project(store)
    stored = [_finding("deps", "GHSA-1", "requirements.txt"), _finding("deps", "GHSA-2", "dev.txt")]
    first = _report(stored, ["deps"], scope=full_scope(["deps"], "sub"))
    ingest(store, project, parse_document(first, "first.json"), "ci")
    only = full_scope(["deps"], "sub", excludes=["*", "!/requirements.txt"])
    result = ingest(store, project, parse_document(_report([], ["deps"], scope=only), "one.json"), "ci")
    assert result.fixed == 1 and {path for _, path, _ in _open(store, project)} == {"dev.txt"}


def test_a_dast_scan_of_one_site_fixes_nothing_on_another(store: Store) -> None:
    def dast(rule: str, url: str) -> Finding:
        location = Location(url=url)
        return Finding(
            rule_id=f"dast.{rule}",
            scanner="dast",
            title=rule,
            severity=Severity.MEDIUM,
            location=location,
            message=rule,
            fingerprint=make_fingerprint(f"dast.{rule}", location, rule),
        )

    project = new_project(store)
    prod = [dast("csp-missing", "https://prod.example.com/"), dast("hsts", "https://prod.example.com/a")]
    staging = [dast("csp-missing", "https://staging.example.com/")]
    ingest(store, project, parse_document(_report(prod + staging, ["dast"]), "first.json"), "ci")
    only_staging = _report([dast("xss", "https://staging.example.com/q")], ["dast"])
    assert ingest(store, project, parse_document(only_staging, "staging.json"), "ci").fixed == 1
    only_prod = _report([prod[1]], ["dast"])
    assert ingest(store, project, parse_document(only_prod, "prod.json"), "ci").fixed == 1
