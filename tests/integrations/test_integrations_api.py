"""The integrations through the server's API: sync, a signed webhook, notifications, on SQLite
and PostgreSQL (issue 27)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers_store import finding, scan_of
from integrations_standins import GITHUB_TOKEN, StandIn
from server_world import World, bearer, build_world, login
from sqlalchemy import select
from store_backends import open_store

from bastion.findings import Severity
from bastion.integrations.config import (
    ChannelConfig,
    ChannelKind,
    IntegrationsConfig,
    TrackerConfig,
    TrackerKind,
)
from bastion.integrations.webhook import sign
from bastion.server.integrations import CONFIG_ENV, KEV_ENV
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord

HOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[World]:
    """The server world (projects demo and other, tokens) over each back end."""
    store = open_store(request.param, tmp_path, postgres_url)
    yield build_world(store)
    store.close()


def test_sync_webhook_and_notifications_through_the_api(
    world: World, standin: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BASTION_TEST_GH", GITHUB_TOKEN)
    monkeypatch.setenv("BASTION_TEST_GH_HOOK", HOOK_SECRET)
    tracker = TrackerConfig(
        "github",
        TrackerKind.GITHUB,
        standin.url,
        "acme/shop",
        "BASTION_TEST_GH",
        webhook_secret_env="BASTION_TEST_GH_HOOK",
    )
    chat = ChannelConfig(
        "chat", ChannelKind.SLACK, url=f"{standin.url}/hooks/chat", events=("critical", "kev")
    )
    world.app.state.integrations = IntegrationsConfig((tracker,), (chat,))
    ingest(world.store, 1, scan_of(finding("sqli", "app/db.py", "q", Severity.CRITICAL)), "ci")
    kev = tmp_path / "kev.json"
    kev.write_text(json.dumps({"vulnerabilities": [{"cveID": "CVE-2021-44228"}]}), encoding="utf-8")
    monkeypatch.setenv(KEV_ENV, str(kev))
    with TestClient(world.app, base_url="http://testserver") as client:
        url = "/api/v1/projects/demo/integrations"
        assert client.post(f"{url}/sync", headers=bearer(world.read_token)).status_code == 403
        assert client.post(f"{url}/sync", headers=bearer(world.other_token)).status_code == 403
        assert client.post(f"{url}/sync?tracker=nope", headers=bearer(world.demo_token)).status_code == 404
        synced = client.post(f"{url}/sync", headers=bearer(world.demo_token))
        assert synced.status_code == 200, synced.text
        assert synced.json()["trackers"][0]["created"] == ["acme/shop#1"]
        listed = client.get(url, headers=bearer(world.demo_token)).json()
        assert [(i["key"], i["state"]) for i in listed["issues"]] == [("acme/shop#1", "open")]

        body = json.dumps({"action": "closed", "issue": {"number": 1}}).encode()
        hook = f"{url}/github/webhook"
        unsigned = client.post(hook, content=body, headers=bearer(world.demo_token))
        assert unsigned.status_code == 401 and "x-hub-signature-256" in unsigned.json()["detail"]
        forged = {**bearer(world.demo_token), "X-Hub-Signature-256": sign("guess", body)}
        assert client.post(hook, content=body, headers=forged).status_code == 401
        signed = {**bearer(world.demo_token), "X-Hub-Signature-256": sign(HOOK_SECRET, body)}
        moved = client.post(hook, content=body, headers=signed)
        assert moved.status_code == 200 and moved.json()["moved"] == "closed", moved.text
        with world.store.read() as session:
            assert session.scalars(select(FindingRecord)).one().status == "fixed"
        labeled = json.dumps({"action": "labeled", "issue": {"number": 1}}).encode()
        ignored = {**bearer(world.demo_token), "X-Hub-Signature-256": sign(HOOK_SECRET, labeled)}
        assert client.post(hook, content=labeled, headers=ignored).json() == {"ignored": True}
        reopen = json.dumps({"action": "reopened", "issue": {"number": 1}}).encode()
        signed = {**bearer(world.demo_token), "X-Hub-Signature-256": sign(HOOK_SECRET, reopen)}
        assert client.post(hook, content=reopen, headers=signed).json()["moved"] == "reopened"

        sent = client.post("/api/v1/projects/demo/notifications/run", headers=bearer(world.demo_token)).json()
        assert sent["sent"] == ["chat:critical:1"] and sent["failed"] == []
        again = client.post(
            "/api/v1/projects/demo/notifications/run", headers=bearer(world.demo_token)
        ).json()
        assert again["sent"] == [] and again["already_sent"] == 1
        assert len(standin.remote.posts["/hooks/chat"]) == 1

        monkeypatch.delenv("BASTION_TEST_GH")
        missing = client.post(f"{url}/sync", headers=bearer(world.demo_token)).json()
        assert missing["trackers"][0]["errors"] == [
            "tracker github: environment variable BASTION_TEST_GH is not set"
        ]

        del world.app.state.integrations
        monkeypatch.delenv(CONFIG_ENV, raising=False)
        assert client.post(f"{url}/sync", headers=bearer(world.demo_token)).status_code == 409
        broken = tmp_path / "integrations.yml"
        broken.write_text("trackers: [{name: x}]\n", encoding="utf-8")
        monkeypatch.setenv(CONFIG_ENV, str(broken))
        answer = client.post(f"{url}/sync", headers=bearer(world.demo_token))
        assert answer.status_code == 422 and "integrations.yml: trackers/0" in answer.json()["detail"]
    sent_everywhere = json.dumps([[r[1], r[3].decode()] for r in standin.remote.requests])
    assert HOOK_SECRET not in sent_everywhere


def test_the_integrations_page_lists_trackers_issues_and_notices(
    world: World, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_TEST_GH", GITHUB_TOKEN)
    tracker = TrackerConfig("github", TrackerKind.GITHUB, standin.url, "acme/shop", "BASTION_TEST_GH")
    chat = ChannelConfig("chat", ChannelKind.SLACK, url=f"{standin.url}/hooks/chat")
    ingest(world.store, 1, scan_of(finding("sqli", "app/db.py", "q", Severity.CRITICAL)), "ci")
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "vic")
        assert 'href="/projects/demo/integrations"' in client.get("/projects/demo").text
        empty = client.get("/projects/demo/integrations")
        assert empty.status_code == 200 and "no integrations configured" in empty.text
        world.app.state.integrations = IntegrationsConfig((tracker,), (chat,))
        for path in ("integrations/sync", "notifications/run"):
            answer = client.post(f"/api/v1/projects/demo/{path}", headers=bearer(world.demo_token))
            assert answer.status_code == 200, answer.text
        page = client.get("/projects/demo/integrations").text
        assert "acme/shop#1" in page and f'href="{standin.url}/acme/shop/issues/1"' in page
        assert "[Bastion] New critical finding in demo" in page and "BASTION_TEST_GH" not in page
        assert GITHUB_TOKEN not in page
        assert client.get("/projects/other/integrations").status_code == 403
