"""Triage, risk acceptance expiry, SLA/overdue, the findings list, trends and patch latency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import select

from bastion.errors import ConfigError, InputError
from bastion.findings import Severity
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.lifecycle import expire_acceptances, triage
from bastion.store.models import AuditEvent, FindingRecord
from bastion.store.queries import FindingFilter, list_findings, open_counts, patch_latency, trend
from bastion.store.sla import SlaPolicy

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _record(store: Store, rule: str) -> int:
    with store.read() as session:
        return session.scalars(select(FindingRecord.id).where(FindingRecord.rule_id == rule)).one()


def test_triage_states_reasons_and_history(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(finding("a", "app.py", "x")), "ci", now=T0)
    fid = _record(store, "sast.a")
    with store.write() as session:
        record = session.get_one(FindingRecord, fid)
        with pytest.raises(InputError, match="reason is required"):
            triage(session, record, "false_positive", "alice", now=T0)
        with pytest.raises(InputError, match="expiry date is required"):
            triage(session, record, "risk_accepted", "alice", "compensating WAF rule", now=T0)
        with pytest.raises(InputError, match="in the future"):
            triage(session, record, "risk_accepted", "alice", "waf", until=T0, now=T0)
        with pytest.raises(InputError, match="choose from"):
            triage(session, record, "ignored", "alice", now=T0)
        triage(session, record, "confirmed", "alice", now=T0)
        triage(session, record, "risk_accepted", "bob", "WAF rule 12", until=T0 + timedelta(days=10), now=T0)
    with store.read() as session:
        record = session.get_one(FindingRecord, fid)
        assert (record.status, record.accepted_reason) == ("risk_accepted", "WAF rule 12")
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.finding_id == fid).order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.from_status, e.to_status) for e in events][-2:] == [
            ("alice", "open", "confirmed"),
            ("bob", "confirmed", "risk_accepted"),
        ]
        assert "until 2026-03-11" in events[-1].reason
    with store.write() as session:
        assert expire_acceptances(session, T0 + timedelta(days=9)) == 0
        assert expire_acceptances(session, T0 + timedelta(days=11)) == 1
    with store.read() as session:
        record = session.get_one(FindingRecord, fid)
        assert (record.status, record.accepted_until) == ("open", None)
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.finding_id == fid).order_by(AuditEvent.id)
        ).all()[-1]
        assert (last.actor, last.action) == ("system", "finding.acceptance_expired")


def test_expired_acceptance_reopens_on_next_ingest(store: Store) -> None:
    project = new_project(store)
    a = finding("a", "app.py", "x")
    ingest(store, project, scan_of(a), "ci", now=T0)
    with store.write() as session:
        record = session.get_one(FindingRecord, _record(store, "sast.a"))
        triage(session, record, "risk_accepted", "bob", "later", until=T0 + timedelta(days=1), now=T0)
    ingest(store, project, scan_of(a), "ci", now=T0 + timedelta(days=2))
    with store.read() as session:
        assert session.get_one(FindingRecord, _record(store, "sast.a")).status == "open"


def test_overdue_by_sla_and_filters_sort_pagination(store: Store) -> None:
    project = new_project(store)
    other = new_project(store, "other")
    crit = finding("crit", "a.py", "1", Severity.CRITICAL)
    low = finding("low", "b.py", "2", Severity.LOW)
    ingest(store, project, scan_of(crit, low), "ci", now=T0)
    mediums = [finding(f"r{i}", f"f{i}.py", str(i), Severity.MEDIUM) for i in range(7)]
    ingest(store, other, scan_of(*mediums), "ci", now=T0)
    sla = SlaPolicy()
    now = T0 + timedelta(days=8)
    with store.read() as session:
        counts = open_counts(session, [project], sla, now)
        assert counts["open"]["critical"] == 1 and counts["overdue"] == {
            **dict.fromkeys(counts["overdue"], 0),
            "critical": 1,
        }
        page = list_findings(session, FindingFilter(overdue=True), sla, now)
        assert [f.rule_id for f in page.items] == ["sast.crit"]
        page = list_findings(
            session,
            FindingFilter(project_ids=[other], sort="title", descending=False, per_page=3, page=3),
            sla,
            now,
        )
        assert (page.total, page.pages, [f.rule_id for f in page.items]) == (7, 3, ["sast.r6"])
        page = list_findings(session, FindingFilter(severities=["low"], query="b.py"), sla, now)
        assert [f.rule_id for f in page.items] == ["sast.low"]
        assert list_findings(session, FindingFilter(query="%' OR 1=1 --"), sla, now).total == 0
        assert list_findings(session, FindingFilter(query="_"), sla, now).total == 0
        assert list_findings(session, FindingFilter(statuses=["fixed"]), sla, now).total == 0
        assert open_counts(session, None, SlaPolicy.parse("critical=30"), now)["overdue"]["critical"] == 0


def test_trend_carries_forward_and_patch_latency_uses_publication(store: Store) -> None:
    project = new_project(store)
    dep = finding("GHSA-1", "requirements.txt", "pkg 1.0", scanner="deps")
    dep = dep.with_changes(metadata={"published": "2026-02-19T00:00:00Z"})
    code = finding("a", "app.py", "x")
    ingest(store, project, scan_of(dep, code, scanners=("deps", "sast")), "ci", now=T0)
    ingest(store, project, scan_of(code, scanners=("deps", "sast")), "ci", now=T0 + timedelta(days=3))
    with store.read() as session:
        series = trend(session, [project], 5, today=date(2026, 3, 5))
        assert [(d.day, c["high"]) for d, c in series] == [(1, 2), (2, 2), (3, 2), (4, 1), (5, 1)]
        assert trend(session, None, 2, today=date(2026, 2, 27))[-1][1]["high"] == 0
        stats = patch_latency(session, [project])
        assert stats.count == 1 and stats.median_days == pytest.approx(13.0)
        assert stats.by_month == [("2026-03", pytest.approx(13.0), 1)]
        assert patch_latency(session, [999]).count == 0


def test_sla_policy_parsing() -> None:
    policy = SlaPolicy.parse("critical=3, low=0")
    assert policy.days == {"critical": 3, "high": 30, "medium": 90}
    assert policy.due("low", T0) is None
    assert policy.due("critical", T0) == T0 + timedelta(days=3)
    assert "critical 3d" in policy.describe()
    for bad in ("critical", "urgent=3", "high=-1", "high=soon"):
        with pytest.raises(ConfigError, match="BASTION_SLA"):
            SlaPolicy.parse(bad)


@pytest.mark.parametrize("sort", ["severity", "first_seen", "last_seen", "title", "status", "location"])
def test_small_and_large_result_paths_order_alike(
    store: Store, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = new_project(store)
    items = [finding(f"r{i}", f"dir{i % 3}/f{i}.py", str(i), list(Severity)[i % 5]) for i in range(40)]
    for start in range(0, 40, 10):
        ingest(
            store,
            project,
            scan_of(*items[start : start + 10]),
            "ci",
            full=False,
            now=T0 + timedelta(hours=start),
        )
    with store.read() as session:
        for descending in (True, False):
            filt = FindingFilter([project], sort=sort, descending=descending, per_page=7, page=3)
            large = [f.id for f in list_findings(session, filt).items]
            monkeypatch.setattr("bastion.store.queries.SMALL_RESULT", 1000)
            small = [f.id for f in list_findings(session, filt).items]
            monkeypatch.setattr("bastion.store.queries.SMALL_RESULT", 0)
            assert large == small and len(large) == 7


def test_upgrade_from_0001_fills_the_search_key(store: Store) -> None:
    project = new_project(store)
    ingest(store, project, scan_of(finding("needle", "deep/Path.py", "x"), finding("hay", "b.py", "y")), "ci")
    store.downgrade("0001")
    assert store.migrate() == store.head_revision()
    with store.read() as session:
        found = list_findings(session, FindingFilter(query="DEEP/path"))
        assert [f.rule_id for f in found.items] == ["sast.needle"]
