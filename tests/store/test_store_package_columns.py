"""Stored package columns (schema 0012): ingest fills them from the metadata, the migration
backfills them in batches with the same rule, downgrade removes them, and grouping by package
reads them, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from helpers_store import finding, new_project, scan_of
from sqlalchemy import event, inspect, select, update

import bastion.store.migrations as migrations
from bastion.findings import Finding, Severity
from bastion.store.db import Store
from bastion.store.groups import group_findings, group_members
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord
from bastion.store.package_key import PACKAGE_LEN, package_columns
from bastion.store.queries import FindingFilter

PKG = ("pkg_ecosystem", "pkg_name", "pkg_version", "pkg_advisory")
LONG = "n" * (PACKAGE_LEN + 40)


def _dep(name: Any, version: Any, advisory: str, severity: Severity = Severity.HIGH, **more: Any) -> Finding:
    rule = f"{advisory}.{version}"
    base = finding(rule, "requirements.txt", f"{name}@{version}@{advisory}", severity, scanner="deps")
    meta = {"ecosystem": "PyPI", "package": name, "installed_version": version, "advisory": advisory}
    meta.update(more)
    return replace(base, metadata={k: v for k, v in meta.items() if v is not None})


def _scan() -> list[Finding]:
    return [
        _dep("urllib3", "1.26.3", "GHSA-a", Severity.CRITICAL, fixed_versions=["1.26.5"]),
        _dep("urllib3", "1.26.3", "GHSA-b", Severity.MEDIUM, fixed_versions=["1.26.18"]),
        _dep("urllib3", "2.0.0", "GHSA-a"),
        _dep("requests", None, "GHSA-c"),  # no version: grouped under ""
        _dep(LONG, "1.0", "GHSA-d"),  # cut to the column's length
        _dep(123, "1.0", "GHSA-e"),  # not text: no package
        _dep("", "1.0", "GHSA-f"),  # empty: no package
        finding("sqli", "app.py", "q"),
    ]


def _stored(store: Store) -> dict[str, tuple[Any, ...]]:
    with store.read() as session:
        rows = session.execute(
            select(FindingRecord.rule_id, *(getattr(FindingRecord, name) for name in PKG))
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _indexes(store: Store) -> set[str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        return {str(i["name"]) for i in inspect(store.engine).get_indexes("findings")}


def _migration() -> ModuleType:
    path = Path(migrations.__file__).parent / "versions" / "0012_finding_package_columns.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ingest_fills_the_columns_from_the_metadata(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(*_scan(), scanners=("deps", "sast")), "ci")
    stored = _stored(store)
    assert stored["deps.GHSA-a.1.26.3"] == ("PyPI", "urllib3", "1.26.3", "GHSA-a")
    assert stored["deps.GHSA-a.2.0.0"] == ("PyPI", "urllib3", "2.0.0", "GHSA-a")
    assert stored["deps.GHSA-c.None"] == ("PyPI", "requests", "", "GHSA-c")
    assert stored["deps.GHSA-d.1.0"] == ("PyPI", LONG[:PACKAGE_LEN], "1.0", "GHSA-d")
    assert stored["deps.GHSA-e.1.0"][1] is None
    assert stored["deps.GHSA-f.1.0"][1] is None
    assert stored["sast.sqli"] == ("", None, "", None)


def test_grouping_reads_the_columns(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(*_scan(), scanners=("deps", "sast")), "ci")
    with store.read() as session:
        page = group_findings(session, FindingFilter([project]), "package")
        keys = [tuple(g.key.values()) for g in page.groups]
        assert keys[0] == ("PyPI", "urllib3", "1.26.3")
        assert set(keys) == {
            ("PyPI", "urllib3", "1.26.3"),
            ("PyPI", "urllib3", "2.0.0"),
            ("PyPI", "requests", ""),
            ("PyPI", LONG[:PACKAGE_LEN], "1.0"),
        }
        first = page.groups[0]
        assert (first.findings, first.advisories, first.worst, first.fixed_in) == (
            2,
            2,
            "critical",
            "1.26.18",
        )
        # A group's key, cut as stored, selects its findings.
        long_key = {"ecosystem": "PyPI", "package": LONG[:PACKAGE_LEN], "version": "1.0"}
        members = group_members(session, FindingFilter([project]), "package", long_key)
        assert [f.rule_id for f in members.items] == ["deps.GHSA-d.1.0"]


def test_migration_backfills_in_batches_and_downgrades(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(*_scan(), scanners=("deps", "sast")), "ci")
    written = _stored(store)

    assert store.downgrade("0011") == "0011"
    columns = {c["name"] for c in inspect(store.engine).get_columns("findings")}
    assert not columns & set(PKG)
    assert "ix_findings_project_package" not in _indexes(store)

    assert store.migrate() == store.head_revision()
    assert _stored(store) == written
    assert "ix_findings_project_package" in _indexes(store)

    # The backfill on its own, two findings a step: the same columns, from the metadata alone.
    with store.write() as session:
        session.execute(
            update(FindingRecord).values(pkg_ecosystem="", pkg_name=None, pkg_version="", pkg_advisory=None)
        )
    with store.engine.begin() as connection:
        filled = _migration().backfill(connection, batch=2)
    assert filled == 5  # urllib3 x3, requests, the long name; not 123, "", nor the code finding
    assert _stored(store) == written
    with store.read() as session:
        for extra, *values in session.execute(
            select(FindingRecord.extra, *(getattr(FindingRecord, n) for n in PKG))
        ):
            assert tuple(values) == tuple(package_columns(extra).values())


def test_findings_with_and_without_a_package_insert_in_one_statement(store: Store) -> None:
    """A chunk mixing both kinds is one multi-row INSERT (SQLite) or one COPY (PostgreSQL): with
    the no-package None left out of some rows, the ORM wrote one statement per run of same keys."""
    project = new_project(store)
    mixed = [
        f
        for pair in zip(_scan()[:4], [finding(f"r{i}", f"m{i}.py", "x") for i in range(4)], strict=True)
        for f in pair
    ]
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO FINDINGS"):
            inserts.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        result = ingest(store, project, scan_of(*mixed, scanners=("deps", "sast")), "ci")
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert result.new == 8
    assert len(inserts) <= 1
