"""Advisories that publish no severity: rated from their CWE, else "unrated" and gated as high."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bastion.advisories import Matcher
from bastion.advisories.db import connect
from bastion.advisories.importer import import_osv
from bastion.advisories.severity import DEFAULT_UNRATED, cwe_severities, severity_from_cwes
from bastion.cli.main import main
from bastion.findings import Severity


def _record(ident: str, cwes: list[str], severity: str | None = None) -> dict[str, object]:
    record: dict[str, object] = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": "2024-01-01T00:00:00Z",
        "published": "2020-02-03T00:00:00Z",
        "summary": f"{ident} in django",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.11.29"}]}],
            }
        ],
        "database_specific": {"cwe_ids": cwes, **({"severity": severity} if severity else {})},
    }
    return record


@pytest.fixture
def unrated_db(tmp_path: Path) -> Path:
    """django advisories without any CVSS: one naming SQL injection, one naming nothing, one rated low."""
    records = tmp_path / "records"
    records.mkdir()
    for record in (
        _record("PYSEC-2020-1", ["CWE-89"]),
        _record("PYSEC-2020-2", []),
        _record("PYSEC-2020-3", ["CWE-89"], severity="LOW"),
    ):
        (records / f"{record['id']}.json").write_text(json.dumps(record))
    db = tmp_path / "advisories.sqlite3"
    conn = connect(db, create=True)
    import_osv(conn, records)
    conn.commit()
    conn.close()
    return db


def test_the_cwe_table_is_well_formed() -> None:
    table = cwe_severities()
    assert table and all(re.fullmatch(r"CWE-\d+", cwe) for cwe in table)
    assert table["CWE-89"] is Severity.HIGH and table["CWE-79"] is Severity.MEDIUM
    assert severity_from_cwes(["cwe-79", "CWE-89"]) is Severity.HIGH  # the highest, any case
    assert severity_from_cwes(["CWE-99999"]) is None and severity_from_cwes([]) is None


def test_unrated_advisories_are_rated_from_cwe_or_marked_unrated(unrated_db: Path) -> None:
    with Matcher(unrated_db) as matcher:
        found = {m.id: m for m in matcher.find("PyPI", "django", "1.11.0")}
    assert (found["PYSEC-2020-1"].severity, found["PYSEC-2020-1"].severity_source) == (Severity.HIGH, "cwe")
    assert (found["PYSEC-2020-2"].severity, found["PYSEC-2020-2"].severity_source) == (
        DEFAULT_UNRATED,
        "unrated",
    )
    # A published rating wins over the CWE.
    assert (found["PYSEC-2020-3"].severity, found["PYSEC-2020-3"].severity_source) == (
        Severity.LOW,
        "database",
    )
    with Matcher(unrated_db, unrated=Severity.MEDIUM) as matcher:
        chosen = {m.id: m for m in matcher.find("PyPI", "django", "1.11.0")}
    assert chosen["PYSEC-2020-2"].severity is Severity.MEDIUM


def test_default_gate_fails_on_unrated_vulnerabilities(
    unrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(unrated_db))
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("django==1.11.0\n")
    args = ["scan", str(project), "-s", "deps", "--concurrency", "thread", "-f", "json"]
    code = main(args)
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    by_id = {f["metadata"]["advisory"]: f for f in document["findings"]}
    assert by_id["PYSEC-2020-2"]["severity"] == "high"
    assert by_id["PYSEC-2020-2"]["metadata"]["severity_source"] == "unrated"
    assert "no advisory rates it" in by_id["PYSEC-2020-2"]["message"]
    assert "from its weakness (CWE-89)" in by_id["PYSEC-2020-1"]["message"]
    # The operator may decide otherwise, in a config file of their own.
    config = tmp_path / "ops.toml"
    config.write_text('[scanners.deps]\nunrated = "medium"\n')
    code = main([*args, "--config", str(config)])
    document = json.loads(capsys.readouterr().out)
    assert code == 1  # the CWE-89 one is still high
    assert {f["metadata"]["advisory"]: f["severity"] for f in document["findings"]}[
        "PYSEC-2020-2"
    ] == "medium"
    # A scanned repository's own config cannot lower it.
    (project / "bastion.toml").write_text('[scanners.deps]\nunrated = "info"\n')
    code = main(args)
    captured = capsys.readouterr()
    assert "not applied: scanners.deps.unrated" in captured.err
    found = {f["metadata"]["advisory"]: f["severity"] for f in json.loads(captured.out)["findings"]}
    assert found["PYSEC-2020-2"] == "high"
