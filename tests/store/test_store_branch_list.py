"""The findings list filtered by repository, branch and branch state (schema 0016), on SQLite and
PostgreSQL: every page and total equals what the rows say, computed here in Python, whether the
count comes from the branch rows alone (no other filter) or from the findings; a finding seen on
the same branch of two repositories counts once; migration 0016 adds and removes its indexes."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import inspect, select

from bastion.findings import Severity
from bastion.store import queries
from bastion.store.branches import BranchRef
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.lifecycle import triage
from bastion.store.models import FindingBranch, FindingRecord
from bastion.store.queries import FindingFilter, list_findings

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SHOP, LIB = "github.com/acme/shop", "github.com/acme/lib"
LEVELS = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
FINDINGS = [finding(f"r{i}", f"app/m{i % 7}.py", f"c{i}", LEVELS[i % 4]) for i in range(40)]


def _seed(store: Store) -> int:
    """40 findings on shop@main; 0-24 also on shop@release/1.2 and 10-29 on lib@main; full
    scans then fix some of them on one place each; two findings are triaged."""
    project = new_project(store)

    def scan(ref: BranchRef, day: int, chosen: list[int]) -> None:
        parsed = scan_of(*(FINDINGS[i] for i in chosen))
        ingest(store, project, parsed, "ci", now=T0 + timedelta(days=day), ref=ref)

    scan(BranchRef(SHOP, "main"), 0, list(range(40)))
    scan(BranchRef(SHOP, "release/1.2"), 1, list(range(25)))
    scan(BranchRef(LIB, "main"), 2, list(range(10, 30)))
    scan(BranchRef(SHOP, "main"), 3, [i for i in range(40) if i % 3])  # every third fixed on shop@main
    scan(BranchRef(SHOP, "release/1.2"), 4, [i for i in range(25) if i % 5])
    with store.write() as session:
        ids = sorted(session.scalars(select(FindingRecord.id).where(FindingRecord.project_id == project)))
        triage(session, session.get_one(FindingRecord, ids[1]), "confirmed", "tester", "real")
        triage(session, session.get_one(FindingRecord, ids[2]), "false_positive", "tester", "no")
    return project


def _expected(store: Store, filt: FindingFilter) -> list[int]:
    """Ids of the matching findings in the list's order, from every row read here."""
    ranks = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    with store.read() as session:
        records = session.scalars(select(FindingRecord)).all()
        rows = session.scalars(select(FindingBranch)).all()
    at_place = {
        r.finding_id
        for r in rows
        if (filt.repository is None or r.repository == filt.repository)
        and (filt.branch is None or r.branch == filt.branch)
        and (not filt.branch_status or r.status == filt.branch_status)
    }
    chosen = [
        f
        for f in records
        if f.id in at_place
        and (not filt.statuses or f.status in filt.statuses)
        and (not filt.severities or f.severity_rank in {ranks[s] for s in filt.severities})
    ]
    key = {"severity": lambda f: f.severity_rank, "title": lambda f: f.title[:100]}[filt.sort]
    chosen.sort(key=lambda f: (key(f), f.id), reverse=filt.descending)
    return [f.id for f in chosen]


FILTERS: list[dict[str, Any]] = [
    {"branch": "main"},
    {"branch": "main", "branch_status": "fixed"},
    {"branch": "main", "branch_status": "open", "statuses": ["open", "confirmed"]},
    {"repository": SHOP, "branch": "main", "branch_status": "open"},
    {"repository": LIB},
    {"branch": "release/1.2", "branch_status": "fixed", "severities": ["high", "critical"]},
    {"branch_status": "fixed", "sort": "title", "descending": False},
    {"branch": "release/9"},
]


@pytest.mark.parametrize("small", [True, False], ids=["ordered-here", "sort-index"])
@pytest.mark.parametrize("cap", [None, 7])
@pytest.mark.parametrize("extra", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
def test_every_page_and_total_match_the_rows(
    store: Store, extra: dict[str, Any], cap: int | None, small: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not small:  # every exact total is "large": the page comes from the sort index's walk
        monkeypatch.setattr(queries, "SMALL_RESULT", 0)
    project = _seed(store)
    expected = _expected(store, FindingFilter([project], **extra))
    assert expected or extra.get("branch") == "release/9"  # the seed gives each other filter matches
    per_page = 4
    with store.read() as session:
        for page_no in range(1, max(1, -(-len(expected) // per_page)) + 1):
            page = list_findings(
                session, FindingFilter([project], page=page_no, per_page=per_page, **extra), count_cap=cap
            )
            exact = cap is None or len(expected) <= cap
            assert (page.total, page.exact) == ((len(expected), True) if exact else (cap, False))
            assert [f.id for f in page.items] == expected[(page_no - 1) * per_page : page_no * per_page]


def test_a_branch_of_two_repositories_counts_each_finding_once(store: Store) -> None:
    project = _seed(store)
    with store.read() as session:
        on_both = session.scalars(
            select(FindingBranch.finding_id)
            .where(FindingBranch.branch == "main")
            .group_by(FindingBranch.finding_id)
        ).all()
        for cap in (None, 100, 39):
            page = list_findings(
                session, FindingFilter([project], branch="main", per_page=200), count_cap=cap
            )
            assert page.total == (len(on_both) if cap is None or cap >= len(on_both) else cap)
            assert len({f.id for f in page.items}) == len(page.items) == len(on_both)
    assert len(on_both) == 40  # 20 of them are on lib@main too: two rows, one finding


def test_another_project_s_rows_are_not_counted(store: Store) -> None:
    project = _seed(store)
    other = new_project(store, "other")
    ingest(store, other, scan_of(*FINDINGS[:5]), "ci", now=T0, ref=BranchRef(SHOP, "main"))
    with store.read() as session:
        mine = list_findings(session, FindingFilter([project], branch="main"), count_cap=1000)
        theirs = list_findings(session, FindingFilter([other], branch="main"), count_cap=1000)
        both = list_findings(session, FindingFilter([project, other], branch="main"), count_cap=1000)
    assert (mine.total, theirs.total, both.total) == (40, 5, 45)
    assert {f.project_id for f in theirs.items} == {other}


def test_migration_0016_adds_and_removes_the_branch_list_indexes(store: Store) -> None:
    def names(table: str) -> set[str]:
        with warnings.catch_warnings():  # the expression indexes (title, location) are not reflected
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            return {str(index["name"]) for index in inspect(store.engine).get_indexes(table)}

    assert "ix_finding_branches_branch" in names("finding_branches")
    assert "ix_findings_id_state" in names("findings")
    assert store.downgrade("0015") == "0015"
    assert "ix_finding_branches_branch" not in names("finding_branches")
    assert "ix_findings_id_state" not in names("findings")
    assert store.migrate() == "0016"
    assert "ix_finding_branches_branch" in names("finding_branches")
