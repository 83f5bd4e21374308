"""Notifications for new criticals, SLA breaches and KEV findings: SMTP (aiosmtpd), Slack and
Teams payloads, HMAC-signed webhooks; retries; nothing sent twice. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import email
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from helpers_store import finding, new_project, scan_of
from integrations_standins import Smtp, StandIn
from sqlalchemy import select

from bastion.errors import ConfigError
from bastion.findings import Severity
from bastion.integrations.config import ChannelConfig, ChannelKind
from bastion.integrations.notify import HttpChannel, dispatch, open_channel, pending_events, webhook_signature
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.integrations import SentNotice
from bastion.store.sla import SlaPolicy

NOW = datetime(2026, 12, 7, tzinfo=UTC)
HOOK_KEY = "hook-key-for-tests-only"


def _seed(store: Store) -> int:
    project = new_project(store)
    old_high = finding("xss", "app/view.py", "v", Severity.HIGH)
    critical = finding("sqli", "app/db.py", "q", Severity.CRITICAL)
    kev_flag = dataclasses.replace(finding("log4j", "pom.xml", "l", Severity.MEDIUM), metadata={"kev": True})
    kev_id = finding("CVE-2021-44228", "lib/log.jar", "j", Severity.LOW, scanner="deps")
    ingest(store, project, scan_of(old_high), "ci", now=NOW - timedelta(days=60))
    ingest(
        store,
        project,
        scan_of(old_high, critical, kev_flag, kev_id, scanners=("sast", "deps")),
        "ci",
        now=NOW,
    )
    return project


def test_events_are_criticals_sla_breaches_and_kev(store: Store) -> None:
    project = _seed(store)
    events = pending_events(store, project, SlaPolicy(), {"cve-2021-44228"}, now=NOW)
    assert sorted((e.kind, e.rule_id) for e in events) == [
        ("critical", "sast.sqli"),
        ("kev", "deps.CVE-2021-44228"),
        ("kev", "sast.log4j"),
        ("sla", "sast.xss"),
    ]
    assert all(e.project == "demo" for e in events)
    assert [e.kind for e in pending_events(store, project, SlaPolicy(), (), now=NOW)].count("kev") == 1


def _channels(standin: StandIn, smtp: Smtp) -> list[ChannelConfig]:
    return [
        ChannelConfig("mail", ChannelKind.SMTP, url=smtp.url, to=("sec@example.com",), events=("critical",)),
        ChannelConfig(
            "slack", ChannelKind.SLACK, url=f"{standin.url}/hooks/slack", events=("critical", "kev")
        ),
        ChannelConfig("teams", ChannelKind.TEAMS, url_env="BASTION_TEST_TEAMS_URL", events=("sla",)),
        ChannelConfig(
            "siem", ChannelKind.WEBHOOK, url=f"{standin.url}/hooks/siem", secret_env="BASTION_TEST_HOOK_KEY"
        ),
    ]


def test_each_channel_gets_its_events_once_in_its_format(
    store: Store, standin: StandIn, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_TEST_TEAMS_URL", f"{standin.url}/hooks/teams")
    monkeypatch.setenv("BASTION_TEST_HOOK_KEY", HOOK_KEY)
    project = _seed(store)
    configs = _channels(standin, smtp)
    channels = [(config, open_channel(config)) for config in configs]
    events = pending_events(store, project, SlaPolicy(), (), now=NOW)

    report = dispatch(store, project, channels, events, sleep=lambda _: None)
    assert report.failed == [] and report.already == 0
    assert len(report.sent) == 1 + 2 + 1 + 3

    assert len(smtp.inbox.messages) == 1
    _, recipients, raw = smtp.inbox.messages[0]
    message = email.message_from_bytes(raw)
    assert recipients == ["sec@example.com"] and "New critical finding in demo" in message["Subject"]
    slack = [json.loads(body) for _, body in standin.remote.posts["/hooks/slack"]]
    assert sorted(p["text"].split(":")[0] for p in slack) == [
        "[Bastion] Known exploited vulnerability in demo",
        "[Bastion] New critical finding in demo",
    ]
    assert all(p["blocks"][0]["type"] == "header" for p in slack)
    (teams,) = [json.loads(body) for _, body in standin.remote.posts["/hooks/teams"]]
    assert teams["@type"] == "MessageCard" and teams["title"].startswith("[Bastion] SLA breached")
    siem = standin.remote.posts["/hooks/siem"]
    assert sorted(json.loads(body)["event"] for _, body in siem) == ["critical", "kev", "sla"]
    for headers, body in siem:
        expected = webhook_signature(HOOK_KEY, headers["x-bastion-timestamp"], body)
        assert hmac.compare_digest(headers["x-bastion-signature"], expected)
        assert headers["x-bastion-signature"] != webhook_signature(
            "other", headers["x-bastion-timestamp"], body
        )

    # A rerun, and a second process with its own channel objects: nothing goes out twice.
    again = dispatch(store, project, channels, pending_events(store, project, SlaPolicy(), (), now=NOW))
    other = dispatch(store, project, [(c, open_channel(c)) for c in configs], events)
    assert again.sent == other.sent == [] and again.already == other.already == 7
    assert len(smtp.inbox.messages) == 1 and len(standin.remote.posts["/hooks/siem"]) == 3
    with store.read() as session:
        assert len(session.scalars(select(SentNotice)).all()) == 7
    assert HOOK_KEY not in json.dumps([body.decode() for _, body in siem])


def test_failures_are_retried_with_backoff_and_a_lost_delivery_is_tried_again_later(
    store: Store, standin: StandIn
) -> None:
    project = _seed(store)
    config = ChannelConfig(
        "siem", ChannelKind.WEBHOOK, url=f"{standin.url}/hooks/siem", events=("critical",), retries=2
    )
    channel = open_channel(config)
    events = pending_events(store, project, SlaPolicy(), (), now=NOW)
    waits: list[float] = []

    standin.remote.fail_next["/hooks/siem"] = 2
    report = dispatch(store, project, [(config, channel)], events, sleep=waits.append)
    assert report.sent == [f"siem:critical:{events[0].finding_id}"] and waits == [0.5, 1.0]
    with store.read() as session:
        assert session.scalars(select(SentNotice)).one().attempts == 3

    second = ChannelConfig(
        "backup", ChannelKind.SLACK, url=f"{standin.url}/hooks/backup", events=("critical",), retries=1
    )
    standin.remote.fail_next["/hooks/backup"] = 5
    failed = dispatch(store, project, [(second, open_channel(second))], events, sleep=waits.append)
    assert failed.sent == [] and failed.failed == [
        f"channel backup: {standin.url[7:]}: HTTP 503 (after 2 attempts)"
    ]
    with store.read() as session:
        assert [n.channel for n in session.scalars(select(SentNotice))] == ["siem"], (
            "the claim was given back"
        )
    standin.remote.fail_next["/hooks/backup"] = 0
    later = dispatch(store, project, [(second, open_channel(second))], events, sleep=waits.append)
    assert later.sent == [f"backup:critical:{events[0].finding_id}"]

    refused = ChannelConfig("gone", ChannelKind.SLACK, url=f"{standin.url}/nowhere", events=("critical",))
    once = dispatch(store, project, [(refused, open_channel(refused))], events, sleep=waits.append)
    assert once.failed == [f"channel gone: {standin.url[7:]}: HTTP 404 (after 1 attempt)"]


def test_an_unreachable_smtp_server_and_a_missing_secret_are_reported(store: Store) -> None:
    project = _seed(store)
    config = ChannelConfig(
        "mail", ChannelKind.SMTP, url="smtp://127.0.0.1:9", to=("a@example.com",), retries=0
    )
    events = pending_events(store, project, SlaPolicy(), (), now=NOW)
    report = dispatch(store, project, [(config, open_channel(config))], events[:1])
    assert report.failed == ["channel mail: SMTP ConnectionRefusedError (after 1 attempt)"]
    with pytest.raises(ConfigError, match="BASTION_TEST_UNSET is not set"):
        open_channel(ChannelConfig("x", ChannelKind.SLACK, url_env="BASTION_TEST_UNSET"))
    assert isinstance(
        open_channel(ChannelConfig("y", ChannelKind.TEAMS, url="http://127.0.0.1:9")), HttpChannel
    )
