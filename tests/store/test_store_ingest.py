"""Ingest and lifecycle on both back ends: dedup, fixed, reopened, scanner scope, partial scans."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import func, select, text

from bastion.findings import Severity
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.models import AuditEvent, AuditLogIsAppendOnly, FindingRecord, Scan
from bastion.store.parse import parse_document, parse_upload

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _statuses(store: Store, project_id: int) -> dict[str, str]:
    with store.read() as session:
        rows = session.execute(
            select(FindingRecord.rule_id, FindingRecord.status).where(FindingRecord.project_id == project_id)
        ).all()
    return dict(rows)


def test_first_seen_last_seen_fixed_and_reopened(store: Store) -> None:
    project = new_project(store)
    a, b = finding("a", "app.py", "x = 1"), finding("b", "app.py", "y = 2")
    first = ingest(store, project, scan_of(a, b), "ci", now=T0)
    assert (first.new, first.fixed, first.reopened) == (2, 0, 0)
    second = ingest(store, project, scan_of(a, b, a), "ci", now=T0 + timedelta(days=1))
    assert (second.findings, second.new, second.unchanged) == (2, 0, 2)
    third = ingest(store, project, scan_of(a), "ci", now=T0 + timedelta(days=2))
    assert third.fixed == 1
    assert _statuses(store, project) == {"sast.a": "open", "sast.b": "fixed"}
    fourth = ingest(store, project, scan_of(a, b), "ci", now=T0 + timedelta(days=3))
    assert fourth.reopened == 1
    with store.read() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        assert record.first_seen == T0
        assert record.last_seen == T0 + timedelta(days=3)
        assert record.status == "open" and record.fixed_at is None and record.reopen_count == 1
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.finding_id == record.id).order_by(AuditEvent.id)
        ).all()
        assert actions == ["finding.opened", "finding.fixed", "finding.reopened"]
        assert session.scalar(select(func.count()).select_from(FindingRecord)) == 2


def test_partial_scan_and_other_scanners_do_not_fix(store: Store) -> None:
    project = new_project(store)
    sast = finding("a", "app.py", "x")
    secret = finding("key", "cfg.py", "k", scanner="secrets")
    ingest(store, project, scan_of(sast, secret, scanners=("sast", "secrets")), "ci", now=T0)
    result = ingest(
        store, project, scan_of(scanners=("sast",)), "ci", full=False, now=T0 + timedelta(hours=1)
    )
    assert result.fixed == 0
    result = ingest(store, project, scan_of(scanners=("sast",)), "ci", now=T0 + timedelta(hours=2))
    assert result.fixed == 1
    assert _statuses(store, project) == {"sast.a": "fixed", "secrets.key": "open"}


def test_false_positive_stays_when_absent_and_severity_refreshes(store: Store) -> None:
    project = new_project(store)
    a = finding("a", "app.py", "x")
    ingest(store, project, scan_of(a), "ci", now=T0)
    with store.write() as session:
        record = session.scalars(select(FindingRecord)).one()
        record.status = "false_positive"
    ingest(store, project, scan_of(), "ci", now=T0 + timedelta(days=1))
    assert _statuses(store, project) == {"sast.a": "false_positive"}
    ingest(
        store, project, scan_of(a.with_changes(severity=Severity.CRITICAL)), "ci", now=T0 + timedelta(days=2)
    )
    with store.read() as session:
        record = session.scalars(select(FindingRecord)).one()
        assert (record.status, record.severity, record.severity_rank) == ("false_positive", "critical", 4)


def test_real_bastion_and_sarif_reports_of_one_scan_agree(store: Store) -> None:
    project = new_project(store)
    from_json = parse_upload((DATA / "examples-scan.json").read_bytes(), "examples-scan.json")
    result = ingest(store, project, from_json, "ci")
    assert result.new == len(from_json.findings) > 20
    from_sarif = parse_upload((DATA / "examples-scan.sarif").read_bytes(), "examples-scan.sarif")
    again = ingest(store, project, from_sarif, "ci")
    assert (again.new, again.fixed, again.unchanged) == (0, 0, result.new)


def test_other_tools_sarif_lands_under_its_own_scanner(store: Store) -> None:
    project = new_project(store)
    parsed = parse_upload((DATA / "semgrep.sarif").read_bytes(), "semgrep.sarif")
    assert parsed.scanners == ["semgrep-oss"]
    first = ingest(store, project, parsed, "ci")
    second = ingest(store, project, parse_upload((DATA / "semgrep.sarif").read_bytes()), "ci")
    assert first.new == len(parsed.findings) > 0 and second.new == 0
    with store.read() as session:
        rules = session.scalars(select(FindingRecord.rule_id)).all()
    assert all(rule.startswith("semgrep-oss.") for rule in rules)


def test_another_tools_sarif_never_brings_a_secret_into_the_store(store: Store) -> None:
    """A foreign scanner may quote the secret it found; the stored finding shows 4 chars + length."""
    token = "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"  # generated, grants nothing
    sarif = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "leaky-scanner", "rules": [{"id": "github-pat"}]}},
                "results": [
                    {
                        "ruleId": "github-pat",
                        "message": {"text": f"GitHub token {token} found"},
                        "properties": {"evidence": f"token = '{token}'"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app/config.py"},
                                    "region": {"startLine": 3, "snippet": {"text": token}},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    project = new_project(store)
    ingest(store, project, parse_document(sarif, "leaky.sarif"), "ci")
    with store.read() as session:
        stored = [
            dict(row)
            for query in ("SELECT * FROM findings", "SELECT * FROM scans", "SELECT * FROM audit_events")
            for row in session.execute(text(query)).mappings().all()
        ]
    dumped = repr(stored)
    assert token not in dumped
    assert "ghp_\u2026(40 chars)" in dumped


def test_concurrent_uploads_lose_and_duplicate_nothing(store: Store) -> None:
    project = new_project(store)
    shared = [finding(f"shared{i}", "lib.py", str(i)) for i in range(30)]
    own = [[finding(f"own{w}-{i}", f"w{w}.py", str(i)) for i in range(20)] for w in range(6)]

    def upload(worker: int) -> int:
        return ingest(store, project, scan_of(*shared, *own[worker]), f"worker{worker}", full=False).new

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(upload, range(6)))
    assert sum(created) == 30 + 6 * 20
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(FindingRecord)) == 150
        assert session.scalar(select(func.count()).select_from(Scan)) == 6
        opened = session.scalar(select(func.count()).where(AuditEvent.action == "finding.opened"))
        assert opened == 150


def test_audit_log_is_append_only_in_orm_and_database(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(finding("a", "app.py", "x")), "ci")
    with pytest.raises(AuditLogIsAppendOnly), store.write() as session:
        session.scalars(select(AuditEvent)).first().reason = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly), store.write() as session:
        session.delete(session.scalars(select(AuditEvent)).first())
    for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) >= 3


def test_a_large_upload_lets_other_writers_in_between_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 8: the upload is written a chunk per transaction, so a triage elsewhere
    waits for one chunk, not for the whole upload (the write lock is free between chunks)."""
    from sqlalchemy import event
    from store_backends import open_store

    from bastion.store import ingest as ingest_module
    from bastion.store.lifecycle import triage

    store = open_store("sqlite", tmp_path, None)

    @event.listens_for(store.engine, "connect")
    def _short_wait(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # type: ignore[attr-defined]

    store.engine.dispose()
    project, other = new_project(store), new_project(store, "other")
    ingest(store, other, scan_of(finding("elsewhere", "x.py", "x")), "ci")
    real = ingest_module._describe_all
    described: list[int] = []

    def describe_then_triage(items: list[object], coverage: object) -> list[dict[str, object]]:
        described.append(len(items))
        if len(described) == 2:  # in the middle of the upload, another user triages
            with store.write() as session:
                record = session.scalars(select(FindingRecord).where(FindingRecord.project_id == other)).one()
                triage(session, record, "confirmed", "maya")
        return real(items, coverage)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "_describe_all", describe_then_triage)
    findings = [finding(f"r{i}", f"f{i}.py", str(i)) for i in range(10)]
    result = ingest(store, project, scan_of(*findings), "ci", chunk=3)
    assert (result.new, described) == (10, [3, 3, 3, 1])
    statuses = _statuses(store, other)
    assert statuses == {"sast.elsewhere": "confirmed"}
    second = ingest(store, project, scan_of(*findings[:4]), "ci", chunk=3)
    assert (second.fixed, second.unchanged) == (6, 4)
    store.close()
