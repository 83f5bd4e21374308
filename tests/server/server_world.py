"""Server test helpers: an app over a fresh SQLite store, users, tokens, sign-in."""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

# Starlette 1.x warns that its TestClient will move from httpx to "httpx2"; httpx is what we ship.
from fastapi.testclient import TestClient
from store_backends import open_store, postgres_url

from bastion.server.app import create_app
from bastion.server.settings import ServerSettings
from bastion.store.accounts import create_project, create_token, create_user, set_role
from bastion.store.db import Store

__all__ = ["mailbox", "postgres_url"]

DATA = Path(__file__).parent.parent / "store" / "data"
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    """An app with two projects, three users and tokens."""

    app: FastAPI
    store: Store
    demo_token: str
    read_token: str
    other_token: str


def build_world(store: Store, settings: ServerSettings | None = None) -> World:
    """Create users root (admin), maya (maintainer of demo), vic (viewer of demo) and tokens."""
    with store.write() as session:
        root = create_user(session, "root", PASSWORD, admin=True)
        maya = create_user(session, "maya", PASSWORD)
        vic = create_user(session, "vic", PASSWORD)
        demo = create_project(session, "demo", "Demo app", root.username)
        other = create_project(session, "other", "Other app", root.username)
        set_role(session, maya, demo, "maintainer", "root")
        set_role(session, vic, demo, "viewer", "root")
        demo_token = create_token(
            session, demo, "ci", "root", ("scan:upload", "findings:read", "findings:triage")
        )
        read_token = create_token(session, demo, "reader", "root", ("findings:read",))
        other_token = create_token(session, other, "ci", "root")
    app = create_app(settings or ServerSettings(), store)
    return World(app, store, demo_token.secret, read_token.secret, other_token.secret)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The world on SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield build_world(store)
    store.close()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """A test client (no credentials)."""
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[World]:
    """The world over each back end (PostgreSQL skipped with the reason where none runs)."""
    store = open_store(request.param, tmp_path, postgres_url)
    yield build_world(store)
    store.close()


@pytest.fixture
def api(both: World) -> Iterator[TestClient]:
    """A test client (no credentials) of the world on each back end."""
    with TestClient(both.app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf.group(1), "next": "/"}
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert token is not None, home.text[:500]
    return token.group(1)


def bearer(token: str) -> dict[str, str]:
    """Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Live:
    """A real uvicorn server on an ephemeral loopback port."""

    url: str
    world: World


def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app in uvicorn on 127.0.0.1:<ephemeral>, yielding its base URL until the
    generator closes (the server, and any stand-in service a test needs)."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve_in_thread(world: World) -> Iterator[Live]:
    """Run the world's app in uvicorn on 127.0.0.1:<ephemeral> until the generator closes."""
    for url in serve_app(world.app):
        yield Live(url, world)


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Live]:
    """A live server over each back end."""
    store = open_store(request.param, tmp_path, postgres_url)
    yield from serve_in_thread(build_world(store))
    store.close()


@pytest.fixture
def live_sqlite(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


CHROMIUM = Path(os.environ.get("BASTION_CHROMIUM") or shutil.which("chromium") or "chromium")
"""Debian's chromium (scripts/install-browser.sh), never a downloaded browser."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


@pytest.fixture
def page() -> Iterator[Any]:
    """A page of a headless Debian chromium (skipped, with the reason, when absent)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[int, list[Any]]]:
    """An SMTP server on loopback (aiosmtpd): its port, and the messages it received."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            got.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, got
    controller.stop()
