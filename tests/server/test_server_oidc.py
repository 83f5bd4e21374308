"""Single sign-on with OpenID Connect against a stand-in provider on 127.0.0.1 that speaks the
protocol (discovery, code + PKCE, client secret, JWKS): the happy path, and every forged or
wrong answer refused with a message and no session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, serve_provider
from server_world import PASSWORD, World, build_world, serve_in_thread
from sqlalchemy import select
from store_backends import open_store

from bastion.errors import ConfigError
from bastion.server.app import create_app
from bastion.server.settings import OidcSettings, ServerSettings
from bastion.store.models import AuditEvent, Membership, Project, User


@pytest.fixture
def idp() -> Iterator[Provider]:
    yield from serve_provider()


def _settings(idp: Provider, **change: object) -> ServerSettings:
    oidc = OidcSettings(issuer=idp.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, name="Example ID")
    return ServerSettings(oidc=replace(oidc, **change))  # type: ignore[arg-type]


@pytest.fixture
def sso_world(tmp_path: Path, idp: Provider) -> Iterator[World]:
    store = open_store("sqlite", tmp_path, None)
    yield build_world(store, _settings(idp))
    store.close()


def _client(world: World) -> TestClient:
    return TestClient(world.app, base_url="http://testserver", follow_redirects=False)


def _sign_in(client: TestClient, next_path: str = "/findings") -> httpx.Response:
    """Start at Bastion, let the provider answer, hand its redirect back to Bastion."""
    start = client.get(f"/login/oidc?next={next_path}")
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/login/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def test_sign_in_creates_the_user_without_roles(sso_world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with _client(sso_world) as client:
        page = client.get("/login")
        assert "Sign in with Example ID" in page.text and 'href="/login/oidc?next=/"' in page.text
        done = _sign_in(client)
        assert done.status_code == 303 and done.headers["location"] == "/findings"
        assert "bastion_session" in done.cookies or client.cookies.get("bastion_session")
        home = client.get("/")
        assert home.status_code == 200 and "dana@example.com" in home.text
        again = _sign_in(client, "/")  # the same person again: the same user
        assert again.status_code == 303 and again.headers["location"] == "/"
    with sso_world.store.read() as session:
        users = session.scalars(select(User).where(User.username == "dana@example.com")).all()
        assert len(users) == 1 and not users[0].is_admin
        assert session.scalars(select(Membership).where(Membership.user_id == users[0].id)).all() == []
        events = session.scalars(select(AuditEvent).where(AuditEvent.actor == "dana@example.com")).all()
        assert [e.action for e in events] == ["user.signed_in", "user.signed_in"]
        assert all(e.reason.startswith("sso ") for e in events)
    assert CLIENT_SECRET not in caplog.text and "id_token" not in caplog.text


def _refused(world: World, code: str) -> None:
    with _client(world) as client:
        done = _sign_in(client)
        assert done.status_code == 303 and done.headers["location"] == f"/login?error={code}"
        assert "bastion_session" not in client.cookies
        assert client.get("/").status_code in (303, 401)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"aud": "another-client"}, id="another audience"),
        pytest.param({"iss": "http://127.0.0.1:9/evil"}, id="another issuer"),
        pytest.param({"exp": 1_000_000_000}, id="expired"),
        pytest.param({"nonce": "not-the-one-bastion-sent"}, id="a replayed token"),
        pytest.param(
            {"sign_with": RSAKey.generate_key(2048, parameters={"kid": "k1"})}, id="unpublished key"
        ),
    ],
)
def test_a_wrong_id_token_is_refused(sso_world: World, idp: Provider, tamper: dict[str, object]) -> None:
    idp.tamper = tamper
    _refused(sso_world, "sso")


def test_state_and_code_cannot_be_forged_or_replayed(sso_world: World, idp: Provider) -> None:
    with _client(sso_world) as client:
        start = client.get("/login/oidc")
        answer = httpx.get(start.headers["location"], follow_redirects=False)
        back = urlsplit(answer.headers["location"])
        forged = back.query.replace("state=", "state=x")
        assert client.get(f"{back.path}?{forged}").headers["location"] == "/login?error=sso-expired"
        stranger = _client(sso_world)  # another browser: it never started this sign-in
        assert stranger.get(f"{back.path}?{back.query}").headers["location"] == "/login?error=sso-expired"
        first = client.get(f"{back.path}?{back.query}")
        assert first.headers["location"] == "/"
        replay = client.get(f"{back.path}?{back.query}")  # the pending cookie is gone: refused
        assert replay.headers["location"] == "/login?error=sso-expired"
    assert idp.token_requests == 1


def test_the_providers_refusal_and_an_unverified_address(sso_world: World, idp: Provider) -> None:
    with _client(sso_world) as client:
        start = client.get("/login/oidc")
        state = dict(p.split("=", 1) for p in urlsplit(start.headers["location"]).query.split("&"))["state"]
        denied = client.get(f"/login/oidc/callback?error=access_denied&state={state}")
        assert denied.headers["location"] == "/login?error=sso-refused"
    idp.user = {"sub": "u-7", "email": "eve@example.com", "email_verified": False}
    _refused(sso_world, "sso-refused")


def test_domains_existing_users_and_disabled_users(tmp_path: Path, idp: Provider) -> None:
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store, _settings(idp, allowed_domains=("corp.example",), create_users=False))
    idp.user = {"sub": "u-1", "email": "dana@example.com"}
    _refused(world, "sso-refused")  # not an allowed domain
    idp.user = {"sub": "u-2", "email": "new@corp.example"}
    _refused(world, "sso-unknown")  # allowed, but SSO creates no user here
    with store.write() as session:
        session.add(User(username="maya@corp.example", password_hash="x", disabled=True))
    idp.user = {"sub": "u-3", "email": "Maya@Corp.Example"}
    _refused(world, "sso-refused")  # disabled
    with store.write() as session:
        session.scalars(select(User).where(User.username == "maya@corp.example")).one().disabled = False
    with _client(world) as client:
        assert _sign_in(client).headers["location"] == "/findings"
    store.close()


def test_key_rotation_and_an_unreachable_provider(sso_world: World, idp: Provider) -> None:
    with _client(sso_world) as client:
        assert _sign_in(client).headers["location"] == "/findings"  # keys read and cached
    idp.rotate()  # the cached set lacks the new key: read again once, then accepted
    with _client(sso_world) as client:
        assert _sign_in(client).headers["location"] == "/findings"
    broken = replace(sso_world, app=create_app(replace(_settings(idp), oidc=replace(
        _settings(idp).oidc, issuer="http://127.0.0.1:9"  # type: ignore[arg-type]
    )), sso_world.store))  # fmt: skip
    with _client(broken) as client:
        assert client.get("/login/oidc").headers["location"] == "/login?error=sso"
        assert "could not be reached" in client.get("/login?error=sso").text


def test_without_sso_the_paths_do_not_exist(client: TestClient) -> None:
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/login").text
    assert client.post("/login", data={"username": "root", "password": PASSWORD}).status_code == 403


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASTION_OIDC_ISSUER", raising=False)
    assert OidcSettings.from_env() is None
    monkeypatch.setenv("BASTION_OIDC_ISSUER", "https://id.example.com")
    with pytest.raises(ConfigError, match="BASTION_OIDC_CLIENT_ID and BASTION_OIDC_CLIENT_SECRET"):
        OidcSettings.from_env()
    monkeypatch.setenv("BASTION_OIDC_CLIENT_ID", "bastion")
    monkeypatch.setenv("BASTION_OIDC_CLIENT_SECRET", "s3cret-from-the-vault")
    monkeypatch.setenv("BASTION_OIDC_ALLOWED_DOMAINS", "Corp.Example, @other.example")
    oidc = OidcSettings.from_env()
    assert oidc is not None and oidc.allowed_domains == ("corp.example", "other.example")
    assert "s3cret-from-the-vault" not in repr(oidc) and "s3cret-from-the-vault" not in repr(
        ServerSettings(oidc=oidc)
    )
    monkeypatch.setenv("BASTION_OIDC_ISSUER", "http://id.example.com")
    with pytest.raises(ConfigError, match="must be https"):
        OidcSettings.from_env()


def test_single_sign_on_in_the_browser(tmp_path: Path, idp: Provider, page: Any) -> None:
    """The real redirects in Debian's chromium under the server's CSP: the button, the provider,
    the callback, the page asked for, signed in."""
    store = open_store("sqlite", tmp_path, None)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for live in serve_in_thread(build_world(store, _settings(idp))):
        page.goto(f"{live.url}/findings")
        page.wait_for_url(f"{live.url}/login?next=/findings")
        assert page.locator("a.sso").inner_text() == "Sign in with Example ID"
        page.screenshot(path=str(tmp_path / "login.png"))
        page.click("a.sso")
        page.wait_for_url(f"{live.url}/findings")
        assert "dana@example.com" in page.content()
    store.close()
    assert errors == []


def test_a_first_sign_in_uses_the_invite_made_out_to_the_address(tmp_path: Path, idp: Provider) -> None:
    from bastion.store.invites import Invite, create_invite

    store = open_store("sqlite", tmp_path, None)
    world = build_world(store, _settings(idp, create_users=False))  # an invite is consent enough
    with store.write() as session:
        slug = session.scalars(select(Project.slug).order_by(Project.slug)).first()
        assert slug is not None
        create_invite(session, "nina", "root", email="Nina@Corp.Example", roles={slug: "viewer"})
        revoked = create_invite(session, "omar", "root", email="omar@corp.example", roles={slug: "admin"})
        revoked.invite.revoked_at = revoked.invite.created_at
    idp.user = {"sub": "u-9", "email": "nina@corp.example", "email_verified": True}
    with _client(world) as client:
        assert _sign_in(client).headers["location"] == "/findings"
        _sign_in(client, "/")  # the second sign-in finds the account; the invite stays used once
    idp.user = {"sub": "u-10", "email": "omar@corp.example", "email_verified": True}
    _refused(world, "sso-unknown")  # a revoked invite is no consent
    with store.read() as session:
        user = session.scalars(select(User).where(User.username == "nina@corp.example")).one()
        roles = {
            m.project.slug: m.role
            for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
        }
        assert roles == {slug: "viewer"} and not user.is_admin
        invite = session.scalars(select(Invite).where(Invite.username == "nina")).one()
        assert invite.used_at is not None and invite.user_id == user.id
        assert session.scalars(select(User).where(User.username == "omar@corp.example")).all() == []
    store.close()
