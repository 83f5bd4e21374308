"""PostgreSQL's COPY ingest stores exactly what the ORM path stores (and what SQLite stores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers_store import new_project
from sqlalchemy import Table, select, text
from store_backends import open_store

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store import bulk
from bastion.store.coverage import Coverage, Scope
from bastion.store.db import Store
from bastion.store.ingest import IngestResult, ingest
from bastion.store.models import AuditEvent, DailyCount, FindingRecord, Scan
from bastion.store.parse import ParsedScan

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
TOKEN = "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"  # generated, grants nothing
SEVERITIES = list(Severity)


def _finding(number: int) -> Finding:
    """A finding with every stored column filled, some quoting a secret."""
    scanner = "secrets" if number % 7 == 0 else "sast"
    location = Location(path=f"src/m{number % 23}.py", start_line=number + 1)
    quoted = f"token = '{TOKEN}'" if number % 5 == 0 else f"value {number}"
    rule = f"{scanner}.rule-{number % 37}"
    return Finding(
        rule_id=rule,
        scanner=scanner,
        title=f"Rule {number % 37} title \u00e9 \\ tab\there",
        severity=SEVERITIES[number % len(SEVERITIES)],
        location=location,
        message=f"found {quoted}\nsecond line",
        fingerprint=make_fingerprint(rule, location, str(number)),
        evidence=quoted,
        cwe=(79, number % 900),
        controls=(f"cis-v8:{number % 9}.1",),
        fix="rotate it" if number % 2 else "",
        help_uri=f"https://example.test/{number}",
        metadata={"n": number, "quote": quoted, "published": "2025-01-02T03:04:05Z", "nested": [None, 1.5]},
    )


def _scan(numbers: list[int], root: str | None) -> ParsedScan:
    scanners = ("sast", "secrets")
    scope = Scope(root or ".", (), frozenset(scanners), frozenset(scanners))
    coverage = Coverage(scopes=(scope,)) if root else Coverage()
    return ParsedScan("bastion", "bastion test", list(scanners), [_finding(n) for n in numbers], coverage)


def _rows(store: Store, model: Any) -> list[tuple[Any, ...]]:
    """Every row of the model's table by id (but the project's creation, stamped with the clock)."""
    table: Table = model.__table__
    query = select(table).order_by(table.c.id)
    if model is AuditEvent:
        query = query.where(table.c.action != "project.created")
    with store.read() as session:
        return [tuple(row) for row in session.execute(query)]


def _history(store: Store) -> tuple[list[IngestResult], dict[str, list[tuple[Any, ...]]]]:
    """New, unchanged, fixed, reopened and partial uploads across several chunks; what is stored."""
    try:
        project = new_project(store)
        results = [
            ingest(store, project, _scan(list(range(250)), "."), "ci", now=T0, chunk=64),
            # 0-99 fixed, 100-249 seen again, 250-299 new
            ingest(store, project, _scan(list(range(100, 300)), "."), "ci", now=T0 + timedelta(1), chunk=64),
            # 0-49 reopened, duplicates within the upload, 100-199 fixed, 300-399 new
            ingest(
                store,
                project,
                _scan([*range(50), *range(40), *range(200, 400)], "."),
                "ci",
                now=T0 + timedelta(2),
                chunk=50,
            ),
            # partial, without a root: seen findings keep theirs
            ingest(store, project, _scan([5, 400, 401], None), "ci", full=False, now=T0 + timedelta(3)),
        ]
        stored = {
            model.__name__: _rows(store, model) for model in (FindingRecord, AuditEvent, Scan, DailyCount)
        }
        return results, stored
    finally:
        store.close()


def test_copy_ingest_stores_what_the_orm_ingest_stores(
    tmp_path: Path, postgres_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies: list[str] = []
    copy_rows = bulk.copy_rows

    def counted(session: Any, table: Any, rows: Any) -> None:
        copies.append(table.name)
        copy_rows(session, table, rows)

    monkeypatch.setattr(bulk, "copy_rows", counted)
    copied = _history(open_store("postgresql", tmp_path, postgres_url))
    assert {"findings", "audit_events"} <= set(copies)
    monkeypatch.setattr(bulk, "supported", lambda _session: False)
    copies.clear()
    orm = _history(open_store("postgresql", tmp_path, postgres_url))
    assert copies == []
    monkeypatch.undo()
    sqlite = _history(open_store("sqlite", tmp_path, None))

    assert [(r.new, r.reopened, r.fixed, r.unchanged) for r in copied[0]] == [
        (250, 0, 0, 0),
        (50, 0, 100, 150),
        (100, 50, 100, 100),
        (2, 0, 0, 1),
    ]
    assert copied == orm
    assert copied == sqlite
    findings, events = copied[1]["FindingRecord"], copied[1]["AuditEvent"]
    assert TOKEN not in repr(copied[1]) and "ghp_\u2026(40 chars)" in repr(findings)
    columns = FindingRecord.__table__.c.keys()
    event_columns = AuditEvent.__table__.c.keys()
    first_seen = {row[columns.index("id")]: row[columns.index("first_seen")] for row in findings}
    opened = [
        event
        for event in (dict(zip(event_columns, row, strict=True)) for row in events)
        if event["action"] == "finding.opened"
    ]
    assert sorted(e["finding_id"] for e in opened) == sorted(first_seen)
    assert all(e["at"] == first_seen[e["finding_id"]] for e in opened)


def test_copy_rows_refuses_rows_naming_different_columns(tmp_path: Path, postgres_url: str | None) -> None:
    store = open_store("postgresql", tmp_path, postgres_url)
    try:
        with pytest.raises(ValueError, match="same columns"), store.write() as session:
            bulk.insert_events(session, [{"actor": "a", "action": "x"}, {"actor": "b"}])
    finally:
        store.close()


def test_lookup_probes_the_key_without_statistics(tmp_path: Path, postgres_url: str | None) -> None:
    """A first import runs before any ANALYZE: each chunk still reads only its own findings."""
    store = open_store("postgresql", tmp_path, postgres_url)
    try:
        project = new_project(store)
        ingest(store, project, _scan(list(range(3000)), "."), "ci", now=T0, full=False)
        fingerprints = [_finding(n).fingerprint for n in range(0, 3000, 6)]
        parameters = {"fingerprints": fingerprints, "project_id": project}
        with store.read() as session:
            rows = bulk.lookup(session, project, fingerprints)
            plan = "\n".join(
                line for (line,) in session.execute(text(f"EXPLAIN {bulk._LOOKUP.text}"), parameters)
            )
        assert len(rows) == len(fingerprints)
        assert "findings_project_id_fingerprint_key" in plan and "Seq Scan on findings" not in plan
    finally:
        store.close()
