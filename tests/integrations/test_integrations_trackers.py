"""Issues in GitHub, GitLab and Jira, kept in step both ways, against loopback stand-ins that
implement exactly the endpoints used; SQLite and PostgreSQL (issue 27)."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers_store import finding, new_project, scan_of
from integrations_standins import GITHUB_TOKEN, GITLAB_TOKEN, JIRA_TOKEN, StandIn
from sqlalchemy import select

from bastion.errors import ConfigError
from bastion.findings import Severity
from bastion.integrations.config import TrackerConfig, TrackerKind, load_config, parse_config
from bastion.integrations.sync import sync_tracker
from bastion.integrations.trackers import IssueDraft, TrackerError, open_tracker
from bastion.integrations.webhook import SignatureError, parse_event, sign, verify
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.integrations import IssueLink
from bastion.store.models import AuditEvent, FindingRecord

T0 = datetime(2026, 12, 1, tzinfo=UTC)
TARGETS = {TrackerKind.GITHUB: "acme/shop", TrackerKind.GITLAB: "grp/app", TrackerKind.JIRA: "SEC"}
TOKENS = {TrackerKind.GITHUB: GITHUB_TOKEN, TrackerKind.GITLAB: GITLAB_TOKEN, TrackerKind.JIRA: JIRA_TOKEN}


def _config(kind: TrackerKind, url: str) -> TrackerConfig:
    return TrackerConfig(kind.value, kind, url, TARGETS[kind], "BASTION_TEST_TRACKER_TOKEN")


def _seed(store: Store) -> tuple[int, dict[str, int]]:
    project = new_project(store)
    critical = finding("sqli", "app/db.py", "q", Severity.CRITICAL)
    high = finding("xss", "app/view.py", "v", Severity.HIGH)
    low = finding("debug", "app/settings.py", "d", Severity.LOW)
    ingest(store, project, scan_of(critical, high, low), "ci", now=T0)
    with store.read() as session:
        ids = {f.rule_id: f.id for f in session.scalars(select(FindingRecord))}
    return project, ids


@pytest.mark.parametrize("kind", list(TrackerKind))
def test_issues_are_opened_once_and_their_state_comes_back(
    store: Store, standin: StandIn, kind: TrackerKind
) -> None:
    project, ids = _seed(store)
    config = _config(kind, standin.url)
    tracker = open_tracker(config, TOKENS[kind])

    first = sync_tracker(store, project, config, tracker, now=T0)
    assert first.errors == [] and len(first.created) == 2, "critical and high, not low (min_severity high)"
    assert len(standin.remote.issues) == 2
    titles = sorted(issue.get("title") or issue.get("summary") for issue in standin.remote.issues.values())
    assert titles == ["[critical] sqli title", "[high] xss title"]
    again = sync_tracker(store, project, config, tracker, now=T0)
    assert again.created == [] and again.closed == [] and len(standin.remote.issues) == 2

    with store.read() as session:
        links = {link.finding_id: link for link in session.scalars(select(IssueLink))}
    assert set(links) == {ids["sast.sqli"], ids["sast.xss"]}
    sqli = links[ids["sast.sqli"]]
    assert sqli.url.startswith(standin.url) and sqli.state == "open"

    standin.remote.set_closed(sqli.external_key, True)
    closed = sync_tracker(store, project, config, tracker, now=T0 + timedelta(hours=1))
    assert closed.closed == [ids["sast.sqli"]] and closed.reopened == []
    with store.read() as session:
        record = session.get_one(FindingRecord, ids["sast.sqli"])
        assert record.status == "fixed"
        event = session.scalars(select(AuditEvent).where(AuditEvent.finding_id == record.id)).all()[-1]
        assert event.actor == f"tracker:{kind.value}" and sqli.external_key in event.reason
        assert session.get_one(FindingRecord, ids["sast.xss"]).status == "open"

    standin.remote.set_closed(sqli.external_key, False)
    reopened = sync_tracker(store, project, config, tracker, now=T0 + timedelta(hours=2))
    assert reopened.reopened == [ids["sast.sqli"]]
    with store.read() as session:
        record = session.get_one(FindingRecord, ids["sast.sqli"])
        assert record.status == "open" and record.reopen_count == 1
    assert sync_tracker(store, project, config, tracker).reopened == [], "no change, no move"

    sent = b"".join(body + json.dumps(headers).encode() for _, _, headers, body in standin.remote.requests)
    assert TOKENS[kind].encode() in sent or kind is TrackerKind.JIRA  # Jira sends it base64-encoded
    with store.read() as session:
        stored = json.dumps([[link.url, link.external_key] for link in session.scalars(select(IssueLink))])
    assert TOKENS[kind] not in stored


@pytest.mark.parametrize("kind", list(TrackerKind))
def test_a_refused_or_unreachable_tracker_is_reported_without_its_token(
    store: Store, standin: StandIn, kind: TrackerKind
) -> None:
    project, _ = _seed(store)
    config = _config(kind, standin.url)
    report = sync_tracker(
        store, project, config, open_tracker(config, "wrong-token:x" if kind is TrackerKind.JIRA else "wrong")
    )
    assert report.created == [] and len(report.errors) == 2
    assert all("HTTP 401" in error and "wrong" not in error for error in report.errors)
    with store.read() as session:
        assert session.scalars(select(IssueLink)).all() == []

    gone = dataclasses.replace(config, url="http://127.0.0.1:9")
    with pytest.raises(TrackerError, match=f"tracker {kind.value}: POST .*ConnectError"):
        open_tracker(gone, TOKENS[kind]).create(IssueDraft("t", "b"))
    with pytest.raises(TrackerError, match="HTTP 404"):
        open_tracker(config, TOKENS[kind]).fetch("acme/shop#99" if kind is not TrackerKind.JIRA else "SEC-99")


def _hook(kind: TrackerKind, key_number: int, closed: bool) -> bytes:
    if kind is TrackerKind.GITHUB:
        data: dict[str, object] = {
            "action": "closed" if closed else "reopened",
            "issue": {"number": key_number},
        }
    elif kind is TrackerKind.GITLAB:
        action = "close" if closed else "reopen"
        data = {"object_kind": "issue", "object_attributes": {"action": action, "iid": key_number}}
    else:
        category = "done" if closed else "indeterminate"
        data = {
            "webhookEvent": "jira:issue_updated",
            "issue": {
                "key": f"SEC-{key_number}",
                "fields": {"status": {"statusCategory": {"key": category}}},
            },
        }
    return json.dumps(data).encode()


def _signed(kind: TrackerKind, secret: str, body: bytes) -> dict[str, str]:
    if kind is TrackerKind.GITHUB:
        return {"x-hub-signature-256": sign(secret, body)}
    if kind is TrackerKind.GITLAB:
        return {"x-gitlab-token": secret}
    return {"x-hub-signature": sign(secret, body)}


@pytest.mark.parametrize("kind", list(TrackerKind))
def test_webhooks_are_verified_then_read(kind: TrackerKind) -> None:
    config = _config(kind, "http://127.0.0.1:1")
    body = _hook(kind, 3, True)
    verify(config, "s3cret", _signed(kind, "s3cret", body), body)
    event = parse_event(config, body)
    assert event is not None and event.closed and event.key.endswith("3")
    reopened = parse_event(config, _hook(kind, 3, False))
    assert reopened is not None and not reopened.closed
    for headers in ({}, _signed(kind, "other", body)):
        with pytest.raises(SignatureError, match=config.name):
            verify(config, "s3cret", headers, body)
    if kind is not TrackerKind.GITLAB:
        with pytest.raises(SignatureError):
            verify(config, "s3cret", _signed(kind, "s3cret", body), body + b" ")
    assert parse_event(config, b'{"action": "labeled"}') is None
    with pytest.raises(Exception, match="not JSON"):
        parse_event(config, b"\xff")


def test_the_integrations_file_is_checked_and_names_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "integrations.yml"
    good.write_text(
        "trackers:\n"
        "  - {name: gh, kind: github, url: 'https://api.github.com/', target: acme/shop,\n"
        "     token_env: GH_TOKEN}\n"
        "channels:\n"
        "  - {name: chat, kind: slack, url_env: SLACK_URL, events: [critical]}\n",
        encoding="utf-8",
    )
    config = load_config(good)
    tracker = config.tracker("gh")
    assert tracker is not None and tracker.url == "https://api.github.com"
    assert config.tracker("nope") is None and config.channels[0].events == ("critical",)
    bad = {
        "trackers": [{"name": "gh", "kind": "bitbucket", "url": "https://x", "target": "a", "token_env": "T"}]
    }
    with pytest.raises(ConfigError, match=r"^f.yml: trackers/0/kind: 'bitbucket' is not one of"):
        parse_config(bad, "f.yml")
    twice = {"channels": [{"name": "a", "kind": "slack", "url": "https://x"}] * 2}
    with pytest.raises(ConfigError, match="name used twice: a"):
        parse_config(twice, "f.yml")
    with pytest.raises(ConfigError, match="token"):
        parse_config(
            {
                "trackers": [
                    {"name": "gh", "kind": "github", "url": "https://x", "target": "a", "token": "ghp_x"}
                ]
            },
            "f.yml",
        )


def test_concurrent_syncs_open_each_issue_once(store: Store, standin: StandIn) -> None:
    project, ids = _seed(store)
    config = _config(TrackerKind.GITHUB, standin.url)
    with store.write() as session:  # another sync is opening the sqli issue right now
        session.add(
            IssueLink(
                project_id=project,
                finding_id=ids["sast.sqli"],
                tracker="github",
                external_key=f"pending:{ids['sast.sqli']}",
            )
        )
    reports = []

    def run() -> None:
        reports.append(sync_tracker(store, project, config, open_tracker(config, GITHUB_TOKEN)))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(key for r in reports for key in r.created) == ["acme/shop#1"], "xss once; sqli is held"
    assert all(r.errors == [] for r in reports)
    assert list(standin.remote.issues) == ["acme/shop#1"]
    with store.read() as session:
        keys = sorted(link.external_key for link in session.scalars(select(IssueLink)))
    assert keys == ["acme/shop#1", f"pending:{ids['sast.sqli']}"]
