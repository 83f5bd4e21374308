"""The deps scanner end to end over fixture trees and the fixture advisory database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from deps_helpers import DEPS, make_target, scan

from bastion.advisories import AdvisoryDatabaseError
from bastion.errors import ConfigError, InputError
from bastion.findings import Severity
from bastion.scan.base import ScanContext
from bastion.scan.deps import DepsScanner, rule_families
from bastion.scan.deps.options import parse_options
from bastion.scan.deps.scanner import collect_packages


def test_struts_finding_is_complete(advisory_db: Path) -> None:
    findings, context = scan(DEPS / "java" / "multi", advisory_db)
    struts = next(f for f in findings if f.rule_id == "deps.CVE-2017-5638")
    assert struts.severity is Severity.CRITICAL
    assert struts.location.path == "web/pom.xml" and struts.location.start_line == 15
    assert struts.location.purl == "pkg:maven/org.apache.struts/struts2-core@2.3.31"
    assert "known exploited (CISA KEV, added 2021-11-03, ransomware use: Known)" in struts.message
    assert "public for " in struts.message and "published 2017-03-11" in struts.message
    assert struts.fix.startswith("Upgrade org.apache.struts:struts2-core to 2.3.32")
    meta = struts.metadata
    assert meta["installed_version"] == "2.3.31" and meta["fixed_versions"] == ["2.3.32"]
    assert meta["kev"] is True and meta["direct"] is True and meta["age_days"] > 3000
    assert struts.cwe == (20,)
    log4j = {f.rule_id for f in findings if f.metadata["package"] == "org.apache.logging.log4j:log4j-core"}
    assert {"deps.CVE-2021-44228", "deps.CVE-2021-45046"} <= log4j
    spring = next(f for f in findings if f.rule_id == "deps.CVE-2022-22965")
    assert spring.metadata["installed_version"] == "5.3.17" and spring.metadata["smallest_fix"] == "5.3.18"
    skipped = {s.component: s.reason for s in context.skips}
    assert any("commons-text" in c and "version range" in r for c, r in skipped.items())


def test_smallest_fix_covers_every_vulnerability(advisory_db: Path) -> None:
    findings, _ = scan(DEPS / "java" / "gradle", advisory_db)
    log4j = [f for f in findings if f.metadata["package"] == "org.apache.logging.log4j:log4j-core"]
    # 2.15.0 fixes CVE-2021-44228 but not CVE-2021-45046; 2.16.0 fixes both.
    assert {f.metadata["smallest_fix"] for f in log4j} == {"2.16.0"}
    text = next(f for f in findings if f.metadata["package"] == "org.apache.commons:commons-text")
    assert text.rule_id == "deps.CVE-2022-42889" and text.location.start_line == 5


def test_every_ecosystem_fixture(advisory_db: Path) -> None:
    findings, context = scan(DEPS, advisory_db)
    rules = {(f.metadata["package"], f.rule_id) for f in findings}
    expected = {
        ("Django", "deps.CVE-2019-12781"),
        ("lodash", "deps.CVE-2019-10744"),
        ("qs", "deps.CVE-2022-24999"),
        ("github.com/dgrijalva/jwt-go", "deps.CVE-2020-26160"),
        ("regex", "deps.CVE-2022-24713"),
        ("actionview", "deps.CVE-2019-5418"),
        ("rest-client", "deps.CVE-2019-15224"),
        ("nokogiri", "deps.CVE-2022-24836"),
        ("Newtonsoft.Json", "deps.GHSA-5crp-9r3c-p9vr"),
        ("minimist", "deps.CVE-2021-44906"),
        ("semver", "deps.CVE-2022-25883"),
        ("flask", "deps.CVE-2018-1000656"),
        ("urllib3", "deps.CVE-2019-11324"),
    }
    assert expected <= rules
    # runc v1.1.11 is replaced by v1.1.12 in go.mod: the fixed version is what builds
    assert not any(f.metadata["package"] == "github.com/opencontainers/runc" for f in findings)
    unpinned = [f for f in findings if f.rule_id == "deps.unpinned-dependency"]
    # markupsafe's range is pinned by the poetry.lock beside it, so it is checked there
    assert {f.metadata["package"] for f in unpinned} == {"sphinx"}
    assert all(f.severity is Severity.INFO for f in unpinned)
    assert len({f.fingerprint for f in findings}) == len(findings)
    reasons = " | ".join(s.describe() for s in context.skips)
    assert "skipped deps PyPI/Jinja2 (python/requirements.txt:10): version not pinned" in reasons
    assert "git dependency" in reasons


def test_fingerprint_stable_when_lines_move(advisory_db: Path, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    first, _ = scan(tmp_path, advisory_db)
    (tmp_path / "requirements.txt").write_text("# comment\nsix==1.16.0\nflask==0.12.2\n")
    second, _ = scan(tmp_path, advisory_db)
    assert {f.fingerprint for f in first} == {f.fingerprint for f in second}
    assert {f.location.start_line for f in second} == {3}


def test_no_database_is_a_visible_skip(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\nsix>=1\n")
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["rich>=13"]\n')
    findings, context = scan(tmp_path, tmp_path / "none.sqlite3")
    assert [f.rule_id for f in findings] == ["deps.unpinned-dependency"]  # needs no database
    reasons = [s.describe() for s in context.skips]
    assert any(
        r.startswith("skipped deps: no advisory database at ") and "1 packages not checked" in r
        for r in reasons
    )
    assert any("PyPI/six" in r for r in reasons)


def test_no_manifests_needs_no_database(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print(1)\n")
    assert scan(tmp_path, tmp_path / "none.sqlite3")[0] == []


def test_corrupted_database(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"garbage" * 1000)
    with pytest.raises(AdvisoryDatabaseError, match="bastion db update"):
        scan(tmp_path, db)


def test_stale_database_warns(advisory_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    shutil.copy(advisory_db, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE source SET updated = '2020-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "requirements.txt").write_text("flask==0.12.2\n")
    _, context = scan(tmp_path / "req", db)
    assert any("days old (older than 7); run `bastion db update`" in n.message for n in context.notices)
    _, context = scan(tmp_path / "req", db, stale_days=100000)
    assert not any("days old" in n.message for n in context.notices)


def test_bad_manifests_are_skips_and_the_scan_goes_on(advisory_db: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"node_modules/lod')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Cargo.lock").write_text("[[package]\nname = ")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "composer.lock").write_text('["not", "an", "object"]')
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    findings, context = scan(tmp_path, advisory_db)
    assert any(f.metadata["package"] == "flask" for f in findings)
    # A manifest that cannot be read is a skip record: --strict fails on it.
    notices = {s.component.removeprefix("deps "): s.reason for s in context.skips}
    assert "invalid JSON" in notices["a/package-lock.json"] and "(line 1)" in notices["a/package-lock.json"]
    assert "invalid TOML" in notices["b/Cargo.lock"]
    assert "not a composer.lock" in notices["c/composer.lock"]


def test_unparsable_installed_version_is_skipped(advisory_db: Path, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django===not.a.version!\n")
    findings, context = scan(tmp_path, advisory_db)
    assert findings == []
    assert "is not a valid PyPI version" in context.skips[0].reason


def test_dev_dependencies_can_be_left_out(advisory_db: Path) -> None:
    with_dev, _ = scan(DEPS / "npm" / "v3", advisory_db)
    without, _ = scan(DEPS / "npm" / "v3", advisory_db, include_dev=False)
    assert any(f.metadata["package"] == "minimist" for f in with_dev)
    assert not any(f.metadata["package"] == "minimist" for f in without)


def test_python_environment(tmp_path: Path) -> None:
    context = ScanContext("deps", options={"python_env": sys.executable})
    packages = collect_packages(make_target(tmp_path), context, parse_options(context.options))
    names = {p.name.lower() for p in packages}
    assert {"typer", "packaging"} <= names
    assert all(p.path == f"env:{sys.executable}" for p in packages)
    with pytest.raises(InputError, match="no such Python interpreter"):
        collect_packages(
            make_target(tmp_path), context, parse_options({"python_env": str(tmp_path / "nope")})
        )
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    os.chmod(broken, 0o700)
    with pytest.raises(InputError, match="boom"):
        collect_packages(make_target(tmp_path), context, parse_options({"python_env": str(broken)}))


def test_options_are_validated() -> None:
    scanner = DepsScanner()
    scanner.check_options({"database": "x.sqlite3", "stale_days": 3})
    with pytest.raises(ConfigError, match=r"scanners\.deps\.colour: unknown key"):
        scanner.check_options({"colour": 1})
    with pytest.raises(ConfigError, match=r"scanners\.deps\.stale_days"):
        scanner.check_options({"stale_days": 0})


def test_rule_families_cover_emitted_rules(advisory_db: Path) -> None:
    import fnmatch

    findings, _ = scan(DEPS, advisory_db)
    patterns = [family.pattern for family in rule_families()]
    assert patterns[-1] == "deps.*"
    for finding in findings:
        assert any(
            fnmatch.fnmatchcase(finding.rule_id, p) for p in patterns[:-1]
        ) or finding.rule_id.startswith("deps.")


def test_large_lockfile_is_fast(advisory_db: Path, tmp_path: Path) -> None:
    import json

    packages = {"": {"name": "big", "version": "1.0.0"}}
    for i in range(3000):
        packages[f"node_modules/pkg-{i}"] = {
            "version": f"1.{i % 50}.0",
            "resolved": f"https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.0.0.tgz",
        }
    packages["node_modules/lodash"] = {"version": "4.17.11"}
    (tmp_path / "package-lock.json").write_text(
        json.dumps({"lockfileVersion": 3, "packages": packages}, indent=2)
    )
    start = time.perf_counter()
    findings, _ = scan(tmp_path, advisory_db)
    assert time.perf_counter() - start < 5.0
    assert {f.metadata["package"] for f in findings} == {"lodash"}


def test_ecosystem_without_advisory_data_is_a_skip_not_a_pass(tmp_path: Path) -> None:
    """A database that holds only PyPI data cannot clear npm packages: one skip per ecosystem."""
    from bastion.advisories.db import connect
    from bastion.advisories.importer import import_osv

    db = tmp_path / "pypi-only.sqlite3"
    pypa = Path(__file__).resolve().parents[2] / "fixtures" / "advisories" / "osv" / "pypa"
    conn = connect(db, create=True)
    assert set(import_osv(conn, pypa).ecosystems) == {"PyPI"}
    conn.commit()
    conn.close()
    findings, context = scan(DEPS / "npm" / "v3", db)
    assert findings == []
    [skip] = [s for s in context.skips if s.component == "deps npm"]
    assert "holds no npm advisories" in skip.reason and "packages not checked" in skip.reason
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "requirements.txt").write_text("django==1.11.0\n")
    findings, context = scan(tmp_path / "py", db)
    assert not any(s.component == "deps PyPI" for s in context.skips)
