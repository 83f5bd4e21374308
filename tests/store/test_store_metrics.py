"""The metrics of bastion.store.metrics over a known history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import select

from bastion.findings import Severity
from bastion.store import metrics
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.lifecycle import triage
from bastion.store.models import FindingRecord, Scan
from bastion.store.sla import SlaPolicy

NOW = datetime(2026, 6, 15, tzinfo=UTC)


def _days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def _history(store: Store) -> tuple[int, int]:
    """demo: A critical fixed in 5 days, B high fixed in 60, K high (KEV listed 60 days ago)
    fixed 10 days ago, C medium, D low, I info open 100 days, N low a false positive since 9
    days ago; other: E (C's rule) high and F
    critical open 5 days."""
    demo = new_project(store, "demo")
    other = new_project(store, "other")
    a = finding("a", "a.py", "a", Severity.CRITICAL)
    b = finding("b", "b.py", "b", Severity.HIGH)
    c = finding("c", "c.py", "c", Severity.MEDIUM)
    d = finding("d", "d.py", "d", Severity.LOW)
    i = finding("i", "i.py", "i", Severity.INFO)
    kev_added = _days_ago(60).date().isoformat()
    k = finding("k", "k.py", "k", Severity.HIGH).with_changes(
        metadata={"kev": True, "kev_date_added": kev_added}
    )
    not_kev = finding("n", "n.py", "n", Severity.LOW).with_changes(metadata={"kev": False})
    ingest(store, demo, scan_of(a, b, c, d, i, k, not_kev), "ci", now=_days_ago(100))
    ingest(store, demo, scan_of(b, c, d, i, k, not_kev), "ci", now=_days_ago(95))
    ingest(store, demo, scan_of(c, d, i, k, not_kev), "ci", now=_days_ago(40))
    ingest(store, demo, scan_of(c, d, i, not_kev), "ci", now=_days_ago(10))
    with store.write() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.n")).one()
        triage(session, record, "false_positive", "maya", "test fixture", now=_days_ago(9))
    e = finding("c", "e.py", "e", Severity.HIGH)
    f = finding("f", "f.py", "f", Severity.CRITICAL)
    ingest(store, other, scan_of(e, f), "ci", now=_days_ago(5))
    return demo, other


def _rows(metric: metrics.Metric) -> list[dict[str, object]]:
    return metric.records()


def test_mean_time_to_remediate_by_severity_and_project(store: Store) -> None:
    _demo, other = _history(store)
    with store.read() as session:
        result = metrics.mttr(session, None)
        only_other = metrics.mttr(session, [other])
    assert _rows(result) == [
        {"group": "severity", "key": "critical", "fixed": 1, "mean_days": 5.0},
        {"group": "severity", "key": "high", "fixed": 2, "mean_days": 75.0},
        {"group": "project", "key": "demo", "fixed": 3, "mean_days": 51.7},
    ]
    assert result.summary == {"fixed": 3, "mean_days": 51.7}
    assert only_other.empty and only_other.summary["mean_days"] is None


def test_sla_compliance_counts_open_and_late_findings_as_missed(store: Store) -> None:
    _history(store)
    with store.read() as session:
        monthly = metrics.sla_compliance(session, None, SlaPolicy(), "month", 12, now=NOW)
        weekly = metrics.sla_compliance(session, None, SlaPolicy(), "week", 20, now=NOW)
        no_deadlines = metrics.sla_compliance(session, None, SlaPolicy({}), "month", 12, now=NOW)
    by_month = {r["month"]: r for r in _rows(monthly)}
    assert len(by_month) == 12 and list(by_month)[-1] == "2026-06"
    assert by_month["2026-03"] == {"month": "2026-03", "due": 1, "met": 1, "missed": 0, "percent_met": 100.0}
    assert by_month["2026-04"]["due"] == 2 and by_month["2026-04"]["met"] == 0
    assert by_month["2026-06"]["due"] == 1 and by_month["2026-06"]["missed"] == 1
    assert by_month["2026-05"]["percent_met"] is None  # no deadline fell: no share, not 0 or 100
    assert monthly.summary["due"] == 4 and monthly.summary["percent_met"] == 25.0
    by_week = {r["week"]: r for r in _rows(weekly)}
    assert by_week["2026-03-09"]["met"] == 1  # due 2026-03-14, a Saturday: the week of Monday the 9th
    assert by_week["2026-04-06"]["due"] == 2
    assert by_week["2026-06-01"]["due"] == 1
    assert no_deadlines.empty and no_deadlines.summary["percent_met"] is None
    year: Any = "year"
    with store.read() as session, pytest.raises(ValueError, match="week or month"):
        metrics.sla_compliance(session, None, SlaPolicy(), year, now=NOW)


def test_open_age_histogram_by_severity(store: Store) -> None:
    demo, _ = _history(store)
    with store.read() as session:
        result = metrics.age_histogram(session, None, now=NOW)
        demo_only = metrics.age_histogram(session, [demo], now=NOW)
    rows = {r["age_days"]: r for r in _rows(result)}
    assert list(rows) == ["0-7", "8-30", "31-90", "91-180", ">180"]
    assert rows["0-7"] == {
        "age_days": "0-7",
        "critical": 1,
        "high": 1,
        "medium": 0,
        "low": 0,
        "info": 0,
        "total": 2,
    }
    assert rows["91-180"]["medium"] == 1 and rows["91-180"]["low"] == 1 and rows["91-180"]["info"] == 1
    assert rows["8-30"]["total"] == 0 and rows[">180"]["total"] == 0
    assert result.summary == {"open": 5, "older_than_90_days": 3}
    assert demo_only.summary["open"] == 3
    with store.read() as session:
        assert metrics.age_histogram(session, [], now=NOW).empty


def test_burndown_carries_counts_forward_per_project(store: Store) -> None:
    _history(store)
    with store.read() as session:
        result = metrics.burndown(session, None, 30, today=NOW.date())
        with pytest.raises(ValueError, match="at least 1"):
            metrics.burndown(session, None, 0)
    rows = _rows(result)
    first_day = (NOW - timedelta(days=29)).date().isoformat()
    assert rows[0] == {"day": first_day, "project": "demo", "open": 5}
    demo = {r["day"]: r["open"] for r in rows if r["project"] == "demo"}
    other = {r["day"]: r["open"] for r in rows if r["project"] == "other"}
    assert len(demo) == 30 and demo[_days_ago(11).date().isoformat()] == 5
    assert demo[_days_ago(10).date().isoformat()] == 4  # the scan fixed K
    assert demo[_days_ago(9).date().isoformat()] == 3  # the triage closed N as a false positive
    assert demo[NOW.date().isoformat()] == 3
    assert min(other) == _days_ago(5).date().isoformat() and other[NOW.date().isoformat()] == 2
    assert result.summary == {"days": 30, "projects": 2, "open_now": 5}


def test_kev_exposure_from_listing_to_fix(store: Store) -> None:
    _history(store)
    with store.read() as session:
        result = metrics.kev_exposure(session, None, now=NOW)
    rows = _rows(result)
    assert len(rows) == 1  # the finding whose kev flag is false is not counted
    assert rows[0]["rule_id"] == "sast.k" and rows[0]["status"] == "fixed"
    assert rows[0]["kev_added"] == _days_ago(60).date().isoformat()
    assert rows[0]["exposed_days"] == 50.0
    assert result.summary == {"findings": 1, "still_open": 0, "mean_days": 50.0, "max_days": 50.0}


def test_kev_exposure_of_open_finding_without_listing_date(store: Store) -> None:
    project = new_project(store)
    k = finding("k", "k.py", "k", Severity.HIGH).with_changes(
        metadata={"kev": True, "kev_date_added": "soon"}
    )
    ingest(store, project, scan_of(k), "ci", now=_days_ago(12))
    with store.read() as session:
        result = metrics.kev_exposure(session, [project], now=NOW)
        assert metrics.kev_exposure(session, [], now=NOW).empty
    (row,) = _rows(result)
    assert row["kev_added"] == "unknown" and row["fixed"] == "" and row["exposed_days"] == 12.0
    assert result.summary["still_open"] == 1


def test_recurring_rules_rank_by_projects_then_findings(store: Store) -> None:
    _history(store)
    with store.read() as session:
        result = metrics.recurring_rules(session, None, limit=3)
    rows = _rows(result)
    assert rows[0] == {"rule_id": "sast.c", "projects": 2, "open_findings": 2, "title": "c title"}
    assert len(rows) == 3 and all(r["projects"] == 1 for r in rows[1:])
    assert "sast.n" not in {r["rule_id"] for r in rows}  # a false positive is not open work


def test_scanner_coverage_of_last_scan(store: Store) -> None:
    _demo, other = _history(store)
    with store.read() as session:
        result = metrics.scanner_coverage(session, None)
        mine = metrics.scanner_coverage(session, [other])
    rows = {r["project"]: r for r in _rows(result)}
    assert set(rows) == {"demo", "other"}
    assert rows["demo"]["sast"] == "ran" and rows["demo"]["deps"] == "not run"
    assert rows["demo"]["last_scan"] == _days_ago(10).isoformat(timespec="seconds")
    assert result.columns[4:] == ("secrets", "deps", "sast", "iac")
    assert [r["project"] for r in _rows(mine)] == ["other"]


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        ([], {"deps": "ran", "sast": "ran", "iac": "not run"}),
        (
            [{"scanner": "deps", "path": None, "rule_prefix": None, "reason": "no db"}],
            {"deps": "not checked", "sast": "ran", "iac": "not run"},
        ),
        (
            [{"scanner": "sast", "path": None, "rule_prefix": "sast.semgrep.", "reason": "no semgrep"}],
            {"deps": "ran", "sast": "partial", "iac": "not run"},
        ),
        (
            [{"scanner": "deps", "path": "requirements.txt", "rule_prefix": None, "reason": "bad"}],
            {"deps": "partial", "sast": "ran", "iac": "not run"},
        ),
        (
            [{"scanner": None, "path": "x.py", "rule_prefix": None, "reason": "notice"}],
            {"deps": "partial", "sast": "partial", "iac": "not run"},
        ),
        (
            [{"scanner": None, "path": None, "rule_prefix": None, "reason": "the run failed"}],
            {"deps": "not checked", "sast": "not checked", "iac": "not run"},
        ),
    ],
)
def test_coverage_cells_read_the_scans_gaps(gaps: list[dict[str, object]], expected: dict[str, str]) -> None:
    scan = Scan(scanners=["deps", "sast"], gaps=gaps)
    names = list(expected)
    assert dict(zip(names, metrics._coverage_cells(scan, names), strict=True)) == expected


def test_empty_store_has_no_data_anywhere(store: Store) -> None:
    with store.read() as session:
        made = [
            metrics.mttr(session, None),
            metrics.sla_compliance(session, None, SlaPolicy(), now=NOW),
            metrics.age_histogram(session, None, now=NOW),
            metrics.burndown(session, None, 7, today=NOW.date()),
            metrics.kev_exposure(session, None, now=NOW),
            metrics.recurring_rules(session, None),
            metrics.scanner_coverage(session, None),
        ]
    assert [m.name for m in made] == list(metrics.METRICS)
    assert all(m.empty for m in made)
    assert all(m.to_dict()["rows"] == [] and m.to_dict()["empty"] for m in made)
