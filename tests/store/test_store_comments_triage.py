"""Store side of the triage workflow (issue 27): comments, saved filters, bulk triage, grouping
by package and by rule, the chunked export, and migration 0011, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers_store import new_project, scan_of
from sqlalchemy import inspect, select
from triage_seed import URLLIB3, triage_findings

from bastion.errors import InputError
from bastion.store.accounts import create_user
from bastion.store.comments import COMMENT_ACTION, add_comment, list_comments
from bastion.store.db import Store
from bastion.store.export import iter_findings
from bastion.store.filters import FilterQuery, delete_filter, save_filter, visible_filters
from bastion.store.groups import group_condition, group_findings
from bastion.store.ingest import ingest
from bastion.store.models import AuditEvent, FindingComment, FindingRecord, SavedFilter
from bastion.store.queries import FindingFilter
from bastion.store.triage_bulk import MAX_BULK, bulk_triage, load_findings

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _seed(store: Store) -> int:
    project = new_project(store)
    items = triage_findings()
    ingest(store, project, scan_of(*items, scanners=("sast", "deps")), "ci", now=T0)
    return project


def test_migration_0011_up_and_down(store: Store) -> None:
    tables = {"finding_comments", "saved_filters"}
    assert store.current_revision() == store.head_revision()
    assert tables <= set(inspect(store.engine).get_table_names())
    assert store.downgrade("0010") == "0010"
    assert not tables & set(inspect(store.engine).get_table_names())
    assert store.migrate() == store.head_revision()
    assert tables <= set(inspect(store.engine).get_table_names())


def test_comments_are_kept_scrubbed_and_audited(store: Store) -> None:
    project = _seed(store)
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    with store.write() as session:
        target = session.scalars(select(FindingRecord).where(FindingRecord.project_id == project)).first()
        assert target is not None
        add_comment(session, target, "maya", "  **bold** <script>x</script>  ", now=T0)
        add_comment(session, target, "vic", f"token was {secret}\r\nrotated", now=T0 + timedelta(hours=1))
        for bad, message in (("   ", "empty"), ("x" * 10_001, "at most"), ("a\x00b", "NUL")):
            with pytest.raises(InputError, match=message):
                add_comment(session, target, "maya", bad)
        finding_id = target.id
    with store.read() as session:
        comments = [(c.author, c.body, c.created_at) for c in list_comments(session, finding_id)]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == COMMENT_ACTION)).all()
        stored = " ".join(session.scalars(select(FindingComment.body)))
    assert comments[0] == ("maya", "**bold** <script>x</script>", T0)
    assert comments[1][0] == "vic" and comments[1][1].endswith("\nrotated") and secret not in stored
    assert [(e.actor, e.finding_id) for e in events] == [("maya", finding_id), ("vic", finding_id)]
    assert events[0].reason.startswith("comment ") and secret not in events[1].reason


def test_saved_filters_are_per_user_and_shared_by_project(store: Store) -> None:
    project = _seed(store)
    other = new_project(store, "other")
    with store.write() as session:
        maya = create_user(session, "maya", "correct horse battery staple").id
        vic = create_user(session, "vic", "correct horse battery staple").id
        mine = FilterQuery(statuses=("open",), severities=("high", "critical"), q="urllib3", group="package")
        save_filter(session, maya, "  urllib3   work ", project, True, mine)
        save_filter(session, maya, "private", project, False, FilterQuery(overdue=True))
        save_filter(session, maya, "elsewhere", other, True, FilterQuery())
        replaced = save_filter(session, maya, "private", None, False, FilterQuery(sort="title", order="asc"))
        with pytest.raises(InputError, match="shared"):
            save_filter(session, vic, "x", None, True, FilterQuery())
        with pytest.raises(InputError, match="name"):
            save_filter(session, vic, "  ", None, False, FilterQuery())
    with store.read() as session:
        assert [f.name for f in visible_filters(session, maya, [project])] == [
            "elsewhere",
            "private",
            "urllib3 work",
        ]
        shared = visible_filters(session, vic, [project])
        assert [(f.name, f.user.username) for f in shared] == [("urllib3 work", "maya")]
        assert visible_filters(session, vic, []) == []
        assert len(visible_filters(session, vic, None)) == 2  # an admin sees every shared one
        assert FilterQuery.from_dict(shared[0].query) == mine
        assert shared[0].query == {
            "status": ["open"],
            "severity": ["high", "critical"],
            "q": "urllib3",
            "group": "package",
        }
        assert session.get_one(SavedFilter, replaced.id).query == {"sort": "title", "order": "asc"}
    with store.write() as session:
        delete_filter(session, session.get_one(SavedFilter, replaced.id))
    with store.read() as session:
        assert "private" not in [f.name for f in visible_filters(session, maya, None)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": ["nope"]}, "status 'nope'"),
        ({"severity": "urgent"}, "severity 'urgent'"),
        ({"sort": "colour"}, "sort 'colour'"),
        ({"order": "up"}, "order 'up'"),
        ({"group": "team"}, "group 'team'"),
        ({"q": "x" * 201}, "q: at most"),
        ({"colour": "red"}, "unknown parameter 'colour'"),
        ({"status": [1]}, "list of strings"),
        ({"overdue": "maybe"}, "overdue"),
        ({"scanner": 3}, "scanner must be a string"),
    ],
)
def test_filter_query_refuses_bad_input(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        FilterQuery.from_dict(data)


def test_filter_query_round_trip_and_store_filter() -> None:
    query = FilterQuery.from_dict({"status": "open", "overdue": "true", "scanner": "deps", "order": "asc"})
    assert query.to_dict() == {"status": ["open"], "overdue": True, "scanner": "deps", "order": "asc"}
    filt = query.finding_filter([3], page=2, per_page=10)
    assert (filt.project_ids, filt.statuses, filt.descending, filt.page, filt.overdue) == (
        [3],
        ["open"],
        False,
        2,
        True,
    )


def test_bulk_triage_is_all_or_nothing_and_audited(store: Store) -> None:
    project = _seed(store)
    with store.read() as session:
        ids = list(session.scalars(select(FindingRecord.id).order_by(FindingRecord.id)))
    with store.write() as session:
        found, missing = load_findings(session, [ids[0], 999_999, ids[1], ids[0]])
        assert [f.id for f in found] == ids[:2] and missing == [999_999]
        for status, reason, until, message in (
            ("fixed", "", None, "choose from"),
            ("false_positive", " ", None, "reason is required"),
            ("risk_accepted", "later", None, "expiry date is required"),
            ("risk_accepted", "later", T0 - timedelta(days=1), "must be in the future"),
        ):
            with pytest.raises(InputError, match=message):
                bulk_triage(session, found, status, "maya", reason, until, now=T0)
        assert {f.status for f in found} == {"open"}
        until = T0 + timedelta(days=30)
        result = bulk_triage(session, found[:1], "confirmed", "maya", now=T0)
        assert result.changed == (ids[0],)
        found, _ = load_findings(session, ids[:2])
        result = bulk_triage(session, found, "risk_accepted", "maya", " vendor fix due ", until, now=T0)
        assert result.changed == tuple(ids[:2]) and result.unchanged == ()
        found, _ = load_findings(session, ids[:2])  # the state as it is now
        again = bulk_triage(session, found, "risk_accepted", "maya", "vendor fix due", until, now=T0)
        assert again.changed == () and again.unchanged == tuple(ids[:2])
    with store.read() as session:
        rows = [session.get_one(FindingRecord, i) for i in ids[:2]]
        assert [(r.status, r.accepted_reason, r.accepted_until) for r in rows] == [
            ("risk_accepted", "vendor fix due", until)
        ] * 2
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "finding.triaged").order_by(AuditEvent.id)
        ).all()
        assert [(e.finding_id, e.from_status, e.to_status) for e in events] == [
            (ids[0], "open", "confirmed"),
            (ids[0], "confirmed", "risk_accepted"),
            (ids[1], "open", "risk_accepted"),
        ]
        assert events[-1].reason == "vendor fix due (until 2026-12-01)"
        assert all(e.project_id == project for e in events)
    with store.write() as session:
        loaded = session.get_one(FindingRecord, ids[0])  # an ORM copy the bulk update leaves stale
        targets, _ = load_findings(session, ids[:2])
        assert bulk_triage(session, targets, "open", "maya", now=T0).changed == tuple(ids[:2])
        assert (loaded.status, loaded.accepted_until) == ("open", None)


def test_bulk_triage_refuses_more_than_the_limit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(store)
    monkeypatch.setattr("bastion.store.triage_bulk.MAX_BULK", 3)
    with store.write() as session:
        rows, _ = load_findings(session, list(session.scalars(select(FindingRecord.id))))
        with pytest.raises(InputError, match="at most 3 per request"):
            bulk_triage(session, rows, "confirmed", "maya")
    with store.read() as session:
        assert set(session.scalars(select(FindingRecord.status))) == {"open"}
    assert MAX_BULK == 10_000


def test_group_by_package_one_row_per_version(store: Store) -> None:
    project = _seed(store)
    with store.read() as session:
        page = group_findings(session, FindingFilter([project]), "package")
        assert page.total == 2 and page.pages == 1
        urllib3, jinja2 = page.groups
        assert urllib3.key == {"ecosystem": "PyPI", "package": "urllib3", "version": "1.26.3"}
        assert (urllib3.findings, urllib3.advisories, urllib3.worst, urllib3.unfixed) == (6, 6, "critical", 1)
        assert urllib3.fixed_in == "1.26.19" and urllib3.statuses == {"open": 6}
        assert (jinja2.key["package"], jinja2.findings, jinja2.fixed_in, jinja2.worst) == (
            "jinja2",
            1,
            "2.10.1",
            "high",
        )
        members = session.scalars(
            select(FindingRecord.rule_id)
            .where(group_condition("package", urllib3.key))
            .order_by(FindingRecord.id)
        ).all()
        assert members == [f"deps.{a}" for a, _, _ in URLLIB3]
        only_medium = group_findings(session, FindingFilter([project], severities=["medium"]), "package")
        assert [(g.key["package"], g.findings, g.worst) for g in only_medium.groups] == [
            ("urllib3", 3, "medium")
        ]
        assert only_medium.groups[0].fixed_in == "1.26.19"
        second = group_findings(session, FindingFilter([project], per_page=1, page=2), "package")
        assert [g.key["package"] for g in second.groups] == ["jinja2"] and second.pages == 2
        past = group_findings(session, FindingFilter([project], per_page=1, page=9), "package")
        assert (past.page, past.total, [g.key["package"] for g in past.groups]) == (2, 2, ["jinja2"])
        none = group_findings(session, FindingFilter([project], query="no such text"), "package")
        assert none.groups == [] and none.total == 0


def test_group_by_rule(store: Store) -> None:
    project = _seed(store)
    with store.read() as session:
        page = group_findings(session, FindingFilter([project], statuses=["open"]), "rule")
    by_rule = {g.key["rule"]: (g.findings, g.worst, g.title) for g in page.groups}
    assert page.total == 9
    assert by_rule["sast.sqli"] == (3, "high", "sqli title")
    assert by_rule["sast.eval"] == (1, "low", "eval title")
    assert page.groups[0].key == {"rule": "deps.GHSA-fake-none-0000"}
    with pytest.raises(ValueError, match="group by 'team'"):
        group_findings(session, FindingFilter(), "team")
    with pytest.raises(ValueError, match="group by 'team'"):
        group_condition("team", {})


def test_export_iterates_in_chunks_worst_first(store: Store) -> None:
    project = _seed(store)
    everything = list(iter_findings(store, FindingFilter([project]), chunk=2))
    ranks = [f.severity_rank for f, _ in everything]
    assert len(everything) == 11 and ranks == sorted(ranks, reverse=True)
    assert {slug for _, slug in everything} == {"demo"}
    assert len({f.id for f, _ in everything}) == 11
    high = list(iter_findings(store, FindingFilter([project], severities=["high"], query="app/"), chunk=2))
    assert [f.location for f, _ in high] == ["app/0.py:3", "app/1.py:3", "app/2.py:3"]
    assert list(iter_findings(store, FindingFilter([]))) == []
