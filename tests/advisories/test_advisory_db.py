"""The SQLite index: import from a directory or zip, KEV, status, errors, the public API."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from bastion.advisories import (
    AdvisoryDatabaseError,
    canonical_id,
    database_available,
    default_database_path,
    find_vulnerabilities,
    resolve_database,
)
from bastion.advisories.db import connect, read_status
from bastion.advisories.importer import import_kev, import_osv
from bastion.advisories.records import RecordError, decode, parse_record
from bastion.errors import InputError
from bastion.findings import Severity

ADVISORIES = Path(__file__).resolve().parents[1] / "fixtures" / "advisories"


def test_struts_is_critical_and_known_exploited(advisory_db: Path) -> None:
    (match,) = find_vulnerabilities("Maven", "org.apache.struts:struts2-core", "2.3.31", database=advisory_db)
    assert match.id == "CVE-2017-5638"
    assert match.aliases == ("GHSA-j77q-2qqg-6989",)
    assert match.severity is Severity.CRITICAL and match.severity_source == "kev"
    assert match.score == 10.0
    assert match.kev_text() == "known exploited (CISA KEV, added 2021-11-03, ransomware use: Known)"
    assert match.fixed_versions == ("2.3.32",)  # the fix of the 2.3 branch that matched
    assert match.published is not None and match.published.isoformat() == "2017-03-11"  # NVD date, earlier
    assert match.age_days() is not None and match.age_days() > 3000


def test_pysec_and_ghsa_records_merge_into_one(advisory_db: Path) -> None:
    found = find_vulnerabilities("PyPI", "Jinja2", "2.10", database=advisory_db)
    ids = [m.id for m in found]
    assert len(ids) == len(set(ids))
    sandbox = next(m for m in found if m.id == "CVE-2019-10906")
    assert any(r.startswith("PYSEC-") for r in sandbox.records)  # the PyPA record matched
    assert any(a.startswith("GHSA-") for a in sandbox.aliases)


def test_canonical_id_prefers_cve_then_ghsa() -> None:
    assert canonical_id(["PYSEC-2019-1", "GHSA-aaaa-bbbb-cccc", "CVE-2019-2"]) == "CVE-2019-2"
    assert canonical_id(["PYSEC-2019-1", "GHSA-aaaa-bbbb-cccc"]) == "GHSA-aaaa-bbbb-cccc"
    assert canonical_id(["RUSTSEC-2020-1", "PYSEC-2019-1"]) == "PYSEC-2019-1"


def test_severity_sources() -> None:
    base = {"id": "X-1", "affected": [{"package": {"ecosystem": "pypi", "name": "A_b.C"}, "versions": ["1"]}]}
    v4 = parse_record(
        {
            **base,
            "severity": [
                {
                    "type": "CVSS_V4",
                    "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                }
            ],
        },
        "x",
    )
    assert (v4.severity, v4.score, v4.severity_source) == (Severity.CRITICAL, 9.3, "cvss")
    assert v4.affected[0].ecosystem == "PyPI" and v4.affected[0].name == "a-b-c"
    rated = parse_record({**base, "database_specific": {"severity": "MODERATE"}}, "x")
    assert (rated.severity, rated.severity_source) == (Severity.MEDIUM, "database")
    bad = parse_record({**base, "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}]}, "x")
    assert (bad.severity, bad.severity_source) == (None, "none")
    low = parse_record(
        {**base, "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}]},
        "x",
    )
    assert low.severity is Severity.LOW


def test_record_errors_name_the_origin() -> None:
    with pytest.raises(RecordError, match=r"rec\.json: invalid JSON"):
        decode(b'{"id": "X-1", "affected": [', "rec.json")
    with pytest.raises(RecordError, match=r"rec\.yaml: invalid YAML at line 2"):
        decode(b"id: X\n  - : [\n", "rec.yaml")
    with pytest.raises(RecordError, match="not valid UTF-8"):
        decode(b"\xff\xfe", "rec.json")
    with pytest.raises(RecordError, match="no 'id'"):
        parse_record({"affected": []}, "rec.json")
    with pytest.raises(RecordError, match="not an OSV record"):
        parse_record([1, 2], "rec.json")


def test_import_from_zip_is_incremental(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted((ADVISORIES / "osv" / "ghsa").glob("*.json")):
            out.write(file, f"vulns/{file.name}")
        out.writestr("vulns/broken.json", '{"id": "GHSA-trun', compress_type=zipfile.ZIP_DEFLATED)
        out.writestr("vulns/no-package.json", json.dumps({"id": "GHSA-none", "affected": []}))
        out.writestr("README.md", "not a record")
    db = tmp_path / "db.sqlite3"
    conn = connect(db, create=True)
    first = import_osv(conn, archive)
    conn.commit()
    assert first.written == 23 and first.unchanged == 0
    assert any("broken.json: invalid JSON" in p for p in first.problems)
    assert any("names no affected package" in p for p in first.problems)
    second = import_osv(conn, archive)
    assert (second.written, second.unchanged) == (0, 23)
    conn.close()


def test_newer_record_replaces_older(tmp_path: Path) -> None:
    record = json.loads((ADVISORIES / "osv" / "ghsa" / "GHSA-j77q-2qqg-6989.json").read_text())
    folder = tmp_path / "recs"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(record))
    db = tmp_path / "db.sqlite3"
    conn = connect(db, create=True)
    import_osv(conn, folder)
    record["modified"] = "2099-01-01T00:00:00Z"
    record["affected"] = record["affected"][:1]
    (folder / "a.json").write_text(json.dumps(record))
    assert import_osv(conn, folder).written == 1
    conn.commit()
    conn.close()
    assert find_vulnerabilities("Maven", "org.apache.struts:struts2-core", "2.5.10", database=db) == []


def test_kev_import_errors(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db.sqlite3", create=True)
    with pytest.raises(InputError, match=r"k\.json: KEV catalog is not valid JSON"):
        import_kev(conn, b'{"vulnerabilities": [', "k.json")
    with pytest.raises(InputError, match="not a CISA KEV catalog"):
        import_kev(conn, b'{"items": []}', "k.json")
    conn.close()


def test_import_missing_or_bad_path(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db.sqlite3", create=True)
    with pytest.raises(InputError, match="no such file"):
        import_osv(conn, tmp_path / "nope")
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match="not a zip archive"):
        import_osv(conn, bogus)
    conn.close()


def test_corrupted_database_suggests_update(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(AdvisoryDatabaseError, match=r"not a usable advisory database .*bastion db update"):
        find_vulnerabilities("npm", "lodash", "1.0.0", database=db)
    assert not database_available(db)


def test_foreign_sqlite_and_old_schema(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(AdvisoryDatabaseError, match="no Bastion schema"):
        connect(other)
    db = tmp_path / "db.sqlite3"
    conn = connect(db, create=True)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    with pytest.raises(AdvisoryDatabaseError, match="schema version 99"):
        connect(db)


def test_truncated_database_file(advisory_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cut.sqlite3"
    data = advisory_db.read_bytes()
    copy.write_bytes(data[: len(data) // 3])
    with pytest.raises(AdvisoryDatabaseError, match="bastion db update"):
        find_vulnerabilities("PyPI", "django", "2.2.0", database=copy)


def test_missing_database(tmp_path: Path) -> None:
    assert not database_available(tmp_path / "none.sqlite3")
    with pytest.raises(
        AdvisoryDatabaseError, match="no advisory database; create it with `bastion db update`"
    ):
        find_vulnerabilities("npm", "lodash", "1.0.0", database=tmp_path / "none.sqlite3")


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, advisory_db: Path) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(advisory_db))
    assert resolve_database() == advisory_db
    assert database_available()
    assert resolve_database(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("BASTION_ADVISORY_DB")
    assert resolve_database() == default_database_path()
    assert default_database_path().name == "advisories.sqlite3"


def test_status_counts(advisory_db: Path) -> None:
    conn = connect(advisory_db)
    status = read_status(conn, advisory_db)
    conn.close()
    by_name = {e.ecosystem: e for e in status.ecosystems}
    assert by_name["PyPI"].packages == 12
    assert by_name["Maven"].advisories == 5
    assert status.kev_entries == len(json.loads((ADVISORIES / "kev.json").read_text())["vulnerabilities"])
    assert by_name["PyPI"].age_days() == 0
    assert status.oldest_update is not None and status.size_bytes > 0


def test_unknown_package_and_bad_version(advisory_db: Path) -> None:
    assert find_vulnerabilities("PyPI", "surely-not-a-package", "1.0", database=advisory_db) == []
    from bastion.advisories import UnsupportedVersion

    with pytest.raises(UnsupportedVersion):
        find_vulnerabilities("PyPI", "django", "not-a-version!", database=advisory_db)


def test_directory_import_skips_hidden_and_oversized(tmp_path: Path) -> None:
    folder = tmp_path / "recs"
    shutil.copytree(ADVISORIES / "osv" / "pypa" / "flask", folder)
    (folder / ".id-allocator").write_text("x")
    (folder / "empty.json").write_text("")
    conn = connect(tmp_path / "db.sqlite3", create=True)
    report = import_osv(conn, folder)
    conn.close()
    assert report.written == len(list((ADVISORIES / "osv" / "pypa" / "flask").glob("*.yaml")))
    assert any("empty.json: empty" in p for p in report.problems)
