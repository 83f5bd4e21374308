"""Findings across branches (schema 0014), on SQLite and PostgreSQL: a full scan of one branch fixes
only what that branch had open, a finding is fixed once every branch it was seen on fixed it,
scans of two branches do not flap each other's findings, a partial scan or a coverage gap fixes
nothing, findings from before the upgrade are taken over by the first named scans, and the
migration gives every stored finding its unnamed row with its state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from helpers_store import finding, new_project, scan_of
from sqlalchemy import func, inspect, select

from bastion.store.branches import (
    UNNAMED,
    BranchRef,
    Retired,
    branch_ref,
    describe_states,
    places,
    retire_branch,
    states_of,
)
from bastion.store.coverage import Coverage, Gap
from bastion.store.db import Store
from bastion.store.ingest import IngestResult, ingest
from bastion.store.lifecycle import triage
from bastion.store.models import AuditEvent, FindingBranch, FindingRecord, Scan
from bastion.store.parse import ParsedScan

T0 = datetime(2026, 3, 1, tzinfo=UTC)
REPO = "github.com/acme/shop"
MAIN = BranchRef(REPO, "main")
RELEASE = BranchRef(REPO, "release/1.2")
A = finding("a", "app.py", "x = 1")
B = finding("b", "app.py", "y = 2")


def _scan(
    store: Store, project: int, ref: BranchRef, *found: object, day: int = 0, **kw: object
) -> IngestResult:
    parsed = kw.pop("parsed", None) or scan_of(*found)  # type: ignore[arg-type]
    return ingest(store, project, parsed, "ci", now=T0 + timedelta(days=day), ref=ref, **kw)  # type: ignore[arg-type]


def _state(store: Store, rule: str) -> tuple[str, dict[tuple[str, str], str]]:
    """The finding's overall status and its status per (repository, branch)."""
    with store.read() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == f"sast.{rule}")).one()
        rows = session.scalars(select(FindingBranch).where(FindingBranch.finding_id == record.id)).all()
        return record.status, {(r.repository, r.branch): r.status for r in rows}


def _actions(store: Store, rule: str) -> list[str]:
    with store.read() as session:
        fid = session.scalar(select(FindingRecord.id).where(FindingRecord.rule_id == f"sast.{rule}"))
        return list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.finding_id == fid).order_by(AuditEvent.id)
            )
        )


def test_fixed_on_main_open_on_release_stays_open_then_fixed_on_both(store: Store) -> None:
    project = new_project(store)
    first = _scan(store, project, MAIN, A, B)
    assert (first.new, first.ref) == (2, MAIN)
    again = _scan(store, project, RELEASE, A, B, day=1)
    assert again.new == 0  # one finding per fingerprint in the product, whatever the branch
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(FindingRecord)) == 2
        assert session.scalar(select(func.count()).select_from(FindingBranch)) == 4

    main_fix = _scan(store, project, MAIN, A, day=2)
    assert (main_fix.fixed, main_fix.fixed_on_branch, main_fix.open_elsewhere) == (0, 1, 1)
    assert _state(store, "b") == ("open", {(REPO, "main"): "fixed", (REPO, "release/1.2"): "open"})
    with store.read() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        states = states_of(session, [record.id])[record.id]
        assert describe_states(states) == "open on release/1.2, fixed on main"
        assert states[1].fixed_at == T0 + timedelta(days=2)

    release_fix = _scan(store, project, RELEASE, A, day=3)
    assert (release_fix.fixed, release_fix.fixed_on_branch, release_fix.open_elsewhere) == (1, 1, 0)
    assert _state(store, "b") == ("fixed", {(REPO, "main"): "fixed", (REPO, "release/1.2"): "fixed"})
    assert _actions(store, "b") == ["finding.opened", "finding.fixed"]
    with store.read() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        assert record.fixed_at == T0 + timedelta(days=3)
        scan = session.get_one(Scan, release_fix.scan_id)
        assert (scan.repository, scan.branch, scan.fixed_count) == (REPO, "release/1.2", 1)


def test_reopen_on_one_branch_reopens_the_finding_only_there(store: Store) -> None:
    project = new_project(store)
    _scan(store, project, MAIN, A, B)
    _scan(store, project, RELEASE, A, B, day=1)
    _scan(store, project, MAIN, A, day=2)
    _scan(store, project, RELEASE, A, day=3)
    back = _scan(store, project, RELEASE, A, B, day=4)
    assert back.reopened == 1
    assert _state(store, "b") == ("open", {(REPO, "main"): "fixed", (REPO, "release/1.2"): "open"})
    with store.read() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        assert (record.reopen_count, record.fixed_at, record.last_seen) == (1, None, T0 + timedelta(days=4))
    assert _actions(store, "b") == ["finding.opened", "finding.fixed", "finding.reopened"]


def test_two_branches_do_not_flap_each_other(store: Store) -> None:
    project = new_project(store)
    for day in range(0, 8, 2):  # main never has B, release always has it
        _scan(store, project, MAIN, A, day=day)
        _scan(store, project, RELEASE, A, B, day=day + 1)
    assert _state(store, "b") == ("open", {(REPO, "release/1.2"): "open"})
    assert _actions(store, "b") == ["finding.opened"]
    with store.read() as session:
        assert session.scalar(select(func.max(FindingRecord.reopen_count))) == 0


def test_partial_scan_and_gaps_fix_nothing_on_the_branch(store: Store) -> None:
    project = new_project(store)
    _scan(store, project, MAIN, A, B)
    partial = _scan(store, project, MAIN, A, day=1, full=False)
    assert (partial.fixed, partial.fixed_on_branch) == (0, 0)
    gap = Gap("skipped sast: crashed", scanner="sast")
    gapped = replace(scan_of(A), coverage=replace(scan_of(A).coverage, gaps=(gap,)))
    assert _scan(store, project, MAIN, day=2, parsed=gapped).fixed_on_branch == 0
    nothing: ParsedScan = replace(
        scan_of(A), coverage=Coverage(complete=False, incomplete_reason="the scan crashed")
    )
    assert _scan(store, project, MAIN, day=3, parsed=nothing).fixed_on_branch == 0
    assert _state(store, "b") == ("open", {(REPO, "main"): "open"})


def test_triage_stays_on_the_finding_and_false_positives_are_not_fixed(store: Store) -> None:
    project = new_project(store)
    _scan(store, project, MAIN, A, B)
    with store.write() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        triage(session, record, "false_positive", "alice", "test data", now=T0 + timedelta(hours=1))
    _scan(store, project, MAIN, A, day=1)
    assert _state(store, "b") == ("false_positive", {(REPO, "main"): "fixed"})


def test_a_finding_never_seen_on_a_branch_is_not_touched_by_its_scans(store: Store) -> None:
    project = new_project(store)
    _scan(store, project, RELEASE, A, B)
    result = _scan(store, project, MAIN, A, day=1)  # main never had B
    assert (result.fixed_on_branch, result.new) == (0, 0)
    assert _state(store, "b") == ("open", {(REPO, "release/1.2"): "open"})


def test_named_scans_take_over_the_unnamed_rows(store: Store) -> None:
    project = new_project(store)
    c = finding("c", "lib.py", "z = 3")
    _scan(store, project, UNNAMED, A, B, c)
    # Main reports A and C: their unnamed rows move to main; B it checked and no longer has.
    result = _scan(store, project, MAIN, A, c, day=1)
    assert (result.new, result.fixed, result.fixed_on_branch) == (0, 1, 1)
    assert _state(store, "a") == ("open", {(REPO, "main"): "open"})
    assert _state(store, "b") == ("fixed", {("", ""): "fixed"})
    # A row on main and an unnamed one for the same finding merge, keeping the first sighting.
    _scan(store, project, UNNAMED, c, day=2)
    assert _state(store, "c") == ("open", {(REPO, "main"): "open", ("", ""): "open"})
    _scan(store, project, MAIN, A, c, day=3)
    assert _state(store, "c") == ("open", {(REPO, "main"): "open"})
    with store.read() as session:
        row = session.scalars(
            select(FindingBranch).join(FindingRecord).where(FindingRecord.rule_id == "sast.c")
        ).one()
        assert row.first_seen == T0
        assert places(session, [project]) == [UNNAMED, MAIN]


def test_branch_ref_normalises_and_keeps_no_credentials() -> None:
    assert branch_ref("https://ci:s3cr3t-tok3n@GitHub.com/acme/shop.git/", "refs/heads/main") == MAIN
    assert branch_ref("git@github.com:acme/shop.git", " release/1.2 ") == RELEASE
    assert branch_ref("ssh://git@gitlab.example.com:2222/group/app", None) == BranchRef(
        "gitlab.example.com:2222/group/app", ""
    )
    assert branch_ref(None, None) == UNNAMED and not UNNAMED.named
    assert branch_ref("shop\n", "feature/x\x00") == BranchRef("shop", "feature/x")
    assert len(branch_ref("r" * 400, "b" * 400).repository) == 300
    assert MAIN.label() == f"{REPO}@main" and BranchRef(REPO).label() == f"{REPO} (default branch)"


def test_migration_gives_stored_findings_their_unnamed_row(store: Store) -> None:
    project = new_project(store)
    c = finding("c", "lib.py", "z = 3")
    _scan(store, project, UNNAMED, A, B, c)
    _scan(store, project, UNNAMED, A, c, day=1)  # B fixed
    with store.write() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.c")).one()
        triage(
            session,
            record,
            "risk_accepted",
            "alice",
            "later",
            T0 + timedelta(days=90),
            T0 + timedelta(days=1),
        )
    assert store.downgrade("0013") == "0013"
    assert "finding_branches" not in inspect(store.engine).get_table_names()
    assert not {"repository", "branch"} & {c["name"] for c in inspect(store.engine).get_columns("scans")}

    assert store.migrate() == store.head_revision()
    with store.read() as session:
        rows = session.execute(
            select(FindingRecord.rule_id, FindingBranch)
            .join(FindingBranch, FindingBranch.finding_id == FindingRecord.id)
            .order_by(FindingRecord.rule_id)
        ).all()
        assert [(rule, r.repository, r.branch, r.status) for rule, r in rows] == [
            ("sast.a", "", "", "open"),
            ("sast.b", "", "", "fixed"),
            ("sast.c", "", "", "open"),
        ]
        fixed = rows[1][1]
        assert (fixed.first_seen, fixed.last_seen, fixed.fixed_at) == (T0, T0, T0 + timedelta(days=1))
        assert rows[0][1].last_seen == T0 + timedelta(days=1) and rows[0][1].last_scan_id == 2
        assert session.scalars(select(Scan.branch)).all() == [None, None]
    # After the upgrade the first named scan carries on from there.
    result = _scan(store, project, MAIN, A, day=2)
    assert (result.fixed, result.fixed_on_branch) == (1, 1)  # an accepted risk gone is fixed, as before
    assert _state(store, "c") == ("fixed", {("", ""): "fixed"})
    assert _state(store, "a") == ("open", {(REPO, "main"): "open"})


@pytest.mark.parametrize("chunk", [1, 500])
def test_chunked_uploads_keep_one_row_per_finding_and_branch(store: Store, chunk: int) -> None:
    project = new_project(store)
    many = [finding(f"r{i}", f"f{i}.py", str(i)) for i in range(7)]
    ingest(store, project, scan_of(*many), "ci", now=T0, ref=MAIN, chunk=chunk)
    ingest(store, project, scan_of(*many), "ci", now=T0 + timedelta(days=1), ref=MAIN, chunk=chunk)
    result = ingest(
        store, project, scan_of(*many[:3]), "ci", now=T0 + timedelta(days=2), ref=RELEASE, chunk=chunk
    )
    assert result.new == 0
    final = ingest(
        store, project, scan_of(*many[:3]), "ci", now=T0 + timedelta(days=3), ref=MAIN, chunk=chunk
    )
    assert (final.fixed, final.fixed_on_branch) == (4, 4)
    with store.read() as session:
        counts = dict(
            session.execute(select(FindingBranch.branch, func.count()).group_by(FindingBranch.branch)).all()
        )
        assert counts == {"main": 7, "release/1.2": 3}
        assert session.scalar(select(func.count()).where(FindingRecord.status == "fixed")) == 4


def test_a_finding_reopened_by_hand_is_fixed_again_by_a_scan_that_still_lacks_it(store: Store) -> None:
    project = new_project(store)
    _scan(store, project, MAIN, A, B)
    _scan(store, project, MAIN, A, day=1)
    with store.write() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.b")).one()
        triage(session, record, "open", "alice", "not sure", now=T0 + timedelta(days=1, hours=1))
    result = _scan(store, project, MAIN, A, day=2)
    assert (result.fixed, result.fixed_on_branch) == (1, 0)  # the branch had it fixed already
    assert _state(store, "b") == ("fixed", {(REPO, "main"): "fixed"})
    # Not by a scan of a branch it was never seen on, nor while another branch has it open.
    _scan(store, project, RELEASE, A, B, day=3)
    assert _scan(store, project, MAIN, A, day=4).fixed == 0
    assert _state(store, "b") == ("open", {(REPO, "main"): "fixed", (REPO, "release/1.2"): "open"})


def test_retiring_a_branch_fixes_what_no_other_branch_has_open(store: Store) -> None:
    project = new_project(store)
    c = finding("c", "lib.py", "z = 3")
    feature = BranchRef(REPO, "feature/login")
    _scan(store, project, MAIN, A)
    _scan(store, project, feature, A, B, c, day=1)  # B and C only ever on the feature branch
    with store.write() as session:
        record = session.scalars(select(FindingRecord).where(FindingRecord.rule_id == "sast.c")).one()
        triage(session, record, "false_positive", "alice", "test data", now=T0 + timedelta(days=1, hours=1))
    with store.write() as session:
        done = retire_branch(session, project, feature, "ci", T0 + timedelta(days=2))
    assert done.rows == 3
    assert _state(store, "a") == ("open", {(REPO, "main"): "open"})  # still on main
    assert _state(store, "b") == ("fixed", {})
    assert _state(store, "c") == ("false_positive", {})  # a triage decision stays
    assert _actions(store, "b") == ["finding.opened", "finding.fixed"]
    with store.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "branch.retired")).one()
        assert event.reason == f"{REPO}@feature/login: 3 findings' rows removed" and event.actor == "ci"
        assert places(session, [project]) == [feature, MAIN]  # its scans stay in the history
    with store.write() as session:
        assert retire_branch(session, project, feature, "ci", T0 + timedelta(days=3)) == Retired(0, [])
