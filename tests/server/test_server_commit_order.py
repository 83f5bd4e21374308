"""A write is committed before its response leaves: the page a redirect loads shows the change.

FastAPI runs a yield dependency's exit code after the response is sent unless the dependency
is function-scoped; the browser could then load the redirect's page before the commit. These
tests record the commit and the response start in the order they happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from server_world import World, bearer, login
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.findings import Alert, Severity


class _Recorder:
    """An ASGI wrapper noting when a response starts, beside the store's commits."""

    def __init__(self, app: ASGIApp, events: list[str]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.events.append(f"response {scope['method']} {message['status']}")
            await send(message)

        await self.app(scope, receive, noting)


@pytest.fixture
def recorded(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, list[str]]]:
    events: list[str] = []
    write = world.store.write

    @contextmanager
    def noting_write() -> Iterator[Session]:
        with write() as session:
            yield session
        events.append("committed")

    monkeypatch.setattr(world.store, "write", noting_write)
    app = _Recorder(world.app, events)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client, events


def _alert() -> dict[str, object]:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    return Alert(
        detector="identity.impossible-travel",
        severity=Severity.HIGH,
        score=3.0,
        entity="dana@ex.com",
        entity_kind="user",
        window_start=start,
        window_end=start + timedelta(minutes=30),
        explanation="Impossible travel: Berlin, then Sydney 30 minutes later.",
    ).to_dict()


def test_an_api_write_commits_before_it_answers(recorded: tuple[TestClient, list[str]], world: World) -> None:
    client, events = recorded
    response = client.post("/api/v1/alerts", json=[_alert()], headers=bearer(world.demo_token))
    assert response.status_code == 201, response.text
    assert events[-2:] == ["committed", "response POST 201"]


def test_a_form_post_commits_before_its_redirect(
    recorded: tuple[TestClient, list[str]], world: World
) -> None:
    client, events = recorded
    client.post("/api/v1/alerts", json=[_alert()], headers=bearer(world.demo_token))
    csrf = login(client, "maya")
    events.clear()
    response = client.post(
        "/alerts/1/status", data={"status": "acknowledged", "reason": "called dana", "csrf_token": csrf}
    )
    assert response.status_code == 303, response.text
    assert events == ["committed", "response POST 303"]
    assert "called dana" in client.get("/alerts/1").text
