"""JavaScript libraries matched against Bastion's real advisory database (bastion.advisories)."""

from __future__ import annotations

from pathlib import Path

from dast_app import SEEDED_WITH_ADVISORIES
from dast_helpers import rule_counts, scan

from bastion.cli.main import main
from bastion.findings import Severity
from bastion.scan.dast.jslibs import OsvLookup


def test_lodash_is_matched_with_the_advisory_database(vulnerable_url: str, advisory_db: Path) -> None:
    result = scan(vulnerable_url + "/", advisory_db=advisory_db)
    counts = rule_counts(result)
    for rule_id in SEEDED_WITH_ADVISORIES.values():
        assert counts[rule_id] == 1
    finding = next(f for f in result.findings if f.rule_id == "dast.vulnerable-js-library")
    assert finding.metadata["package"] == "pkg:npm/lodash@4.17.11"
    assert set(finding.metadata["advisories"]) == {"CVE-2019-10744", "CVE-2020-8203"}
    assert "4.17.20" in finding.metadata["fixed_versions"]
    assert finding.severity >= Severity.MEDIUM
    assert finding.location.url.endswith("/static/js/lodash.min.js?v=4.17.11")
    assert not any("not checked for vulnerabilities" in n for n in result.notices)


def test_hardened_twin_is_clean_with_the_database(hardened_url: str, advisory_db: Path) -> None:
    assert scan(hardened_url + "/", advisory_db=advisory_db, active=True).findings == []


def test_missing_database_is_a_clear_notice(tmp_path: Path) -> None:
    lookup = OsvLookup(tmp_path / "none.db")
    assert not lookup.available() and "advisory database absent" in lookup.reason


def test_unusable_version_is_noted_not_fatal(advisory_db: Path) -> None:
    lookup = OsvLookup(advisory_db)
    assert lookup.available()
    assert lookup.find("lodash", "not-a-version") == []
    assert lookup.errors and "lodash not-a-version" in lookup.errors[0]


def test_cli_advisory_db(vulnerable_url: str, advisory_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["dast", vulnerable_url, "--insecure", "--rate", "0", "--advisory-db", str(advisory_db)]
    assert main([*args, "-f", "json", "-o", str(out), "-q"]) == 1
    assert "dast.vulnerable-js-library" in out.read_text()


def test_database_without_npm_data_leaves_libraries_visibly_unchecked(
    vulnerable_url: str, tmp_path: Path
) -> None:
    """A database holding only PyPI advisories cannot clear lodash 4.17.11: a notice, no pass."""
    from bastion.advisories import database_available
    from bastion.advisories.db import connect
    from bastion.advisories.importer import import_osv

    db = tmp_path / "pypi-only.sqlite3"
    conn = connect(db, create=True)
    import_osv(conn, Path(__file__).resolve().parents[2] / "fixtures" / "advisories" / "osv" / "pypa")
    conn.commit()
    conn.close()
    assert database_available(db) and database_available(db, ecosystem="PyPI")
    assert not database_available(db, ecosystem="npm")
    lookup = OsvLookup(db)
    assert not lookup.available() and "holds no npm advisories" in lookup.reason
    result = scan(vulnerable_url + "/", advisory_db=db)
    assert "dast.vulnerable-js-library" not in rule_counts(result)
    assert any(
        "not checked for vulnerabilities" in n and "holds no npm advisories" in n for n in result.notices
    )
