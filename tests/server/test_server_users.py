"""Users and roles in the dashboard (``/admin/users``): site administrators only, CSRF on every
form, every change audited, and no password ever shown or logged."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from server_world import PASSWORD, World, bearer, login
from sqlalchemy import select

from bastion.store.models import AuditEvent, Membership, Project, User

NEW_PASSWORD = "a-new-Password-for-alice-91"


def _user(world: World, name: str) -> User | None:
    with world.store.read() as session:
        return session.scalar(select(User).where(User.username == name))


def _user_id(world: World, name: str) -> int:
    user = _user(world, name)
    assert user is not None
    return user.id


def _audit(world: World) -> list[tuple[str, str, str]]:
    with world.store.read() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.reason).order_by(AuditEvent.id)
        )
        return [(a, b, c) for a, b, c in rows]


def _create(client: TestClient, csrf: str, name: str, password: str, confirm: str | None = None) -> object:
    form = {"username": name, "password": password, "confirm": password if confirm is None else confirm}
    return client.post("/admin/users", data={**form, "csrf_token": csrf})


def test_only_site_admins_reach_the_page_and_its_forms(client: TestClient, world: World) -> None:
    assert client.get("/admin/users").status_code == 303  # signed out: to the sign-in page
    assert client.post("/admin/users", data={"username": "x"}).status_code == 401
    assert client.get("/admin/users", headers=bearer(world.demo_token)).status_code == 403
    root = _user_id(world, "root")
    csrf = login(client, "maya")  # maintainer of demo, not a site administrator
    assert client.get("/admin/users").status_code == 403
    assert "/admin/users" not in client.get("/").text
    assert _create(client, csrf, "mallory", PASSWORD).status_code == 403  # type: ignore[attr-defined]
    for action in ("disable", "enable"):
        assert client.post(f"/admin/users/{root}/{action}", data={"csrf_token": csrf}).status_code == 403
    role = {"project": "other", "role": "admin", "csrf_token": csrf}
    assert client.post(f"/admin/users/{_user_id(world, 'maya')}/role", data=role).status_code == 403
    assert _user(world, "mallory") is None
    assert [e[1] for e in _audit(world) if e[0] == "maya"] == ["user.signed_in"]


def test_every_form_needs_the_csrf_token(client: TestClient, world: World) -> None:
    login(client, "root")
    vic = _user_id(world, "vic")
    form = {"username": "alice", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post("/admin/users", data=form).status_code == 403
    assert client.post("/admin/users", data={**form, "csrf_token": "wrong"}).status_code == 403
    assert client.post(f"/admin/users/{vic}/disable").status_code == 403
    assert (
        client.post(f"/admin/users/{vic}/role", data={"project": "demo", "role": "admin"}).status_code == 403
    )
    assert _user(world, "alice") is None
    assert _user(world, "vic").disabled is False  # type: ignore[union-attr]


def test_admin_creates_a_user_who_can_sign_in(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = login(client, "root")
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert re.findall(r'data-user="([^"]+)"', page.text) == ["maya", "root", "vic"]
    assert 'href="/admin/users"' in page.text  # in the navigation, for administrators
    response = _create(client, csrf, "alice", NEW_PASSWORD)
    assert response.status_code == 303  # type: ignore[attr-defined]
    alice = _user(world, "alice")
    assert alice is not None and not alice.is_admin and not alice.disabled
    assert alice.password_hash.startswith("$argon2") and NEW_PASSWORD not in alice.password_hash
    assert ("root", "user.created", "alice admin=False") in _audit(world)
    listed = client.get("/admin/users").text
    assert 'data-user="alice"' in listed and NEW_PASSWORD not in listed
    assert NEW_PASSWORD not in caplog.text
    assert not [e for e in _audit(world) if NEW_PASSWORD in e[2]]
    other = TestClient(world.app, base_url="http://testserver", follow_redirects=False)
    login(other, "alice", NEW_PASSWORD)
    assert other.get("/admin/users").status_code == 403


def test_site_admin_checkbox(client: TestClient, world: World) -> None:
    csrf = login(client, "root")
    form = {"username": "ada", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "admin": "on"}
    assert client.post("/admin/users", data={**form, "csrf_token": csrf}).status_code == 303
    assert _user(world, "ada").is_admin is True  # type: ignore[union-attr]
    assert ("root", "user.created", "ada admin=True") in _audit(world)


@pytest.mark.parametrize(
    ("name", "password", "confirm", "message"),
    [
        ("bob", "short-pw", None, "at least 10 characters"),
        ("bob", NEW_PASSWORD, NEW_PASSWORD + "x", "the two passwords differ"),
        ("maya", NEW_PASSWORD, None, "is taken"),
        ("bad name!", NEW_PASSWORD, None, "letters, digits"),
        ("bob", "p" * 2000, None, "at most 1024 characters"),
    ],
)
def test_refused_user_shows_why_and_never_the_password(
    client: TestClient, world: World, name: str, password: str, confirm: str | None, message: str
) -> None:
    csrf = login(client, "root")
    before = _audit(world)
    response = _create(client, csrf, name, password, confirm)
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert message in text
    assert password not in text and (confirm or password) not in text
    assert re.search(r'name="password" type="password"[^>]*>', text) and 'value="' + password not in text
    assert _audit(world) == before
    assert _user(world, "bob") is None


def test_disable_ends_sessions_and_enable_restores(client: TestClient, world: World) -> None:
    maya_client = TestClient(world.app, base_url="http://testserver", follow_redirects=False)
    login(maya_client, "maya")
    csrf = login(client, "root")
    maya = _user_id(world, "maya")
    assert client.post(f"/admin/users/{maya}/disable", data={"csrf_token": csrf}).status_code == 303
    assert _user(world, "maya").disabled is True  # type: ignore[union-attr]
    assert maya_client.get("/findings").status_code == 303  # signed out
    page = maya_client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = {"username": "maya", "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    assert "error=credentials" in maya_client.post("/login", data=form).headers["location"]
    listed = client.get("/admin/users").text
    assert re.search(r'data-user="maya">.*?<td class="state">disabled</td>', listed, re.S)
    assert client.post(f"/admin/users/{maya}/enable", data={"csrf_token": csrf}).status_code == 303
    login(maya_client, "maya")
    actions = [(a, b, c) for a, b, c in _audit(world) if b.startswith("user.") and c == "maya"]
    assert actions == [("root", "user.disabled", "maya"), ("root", "user.enabled", "maya")]


def test_an_admin_cannot_disable_themselves(client: TestClient, world: World) -> None:
    csrf = login(client, "root")
    response = client.post(f"/admin/users/{_user_id(world, 'root')}/disable", data={"csrf_token": csrf})
    assert response.status_code == 422
    assert "your own account" in response.text
    assert _user(world, "root").disabled is False  # type: ignore[union-attr]
    assert client.post("/admin/users/9999/disable", data={"csrf_token": csrf}).status_code == 404


def test_set_and_remove_a_role(client: TestClient, world: World) -> None:
    csrf = login(client, "root")
    vic = _user_id(world, "vic")

    def roles() -> dict[str, str]:
        with world.store.read() as session:
            rows = session.execute(
                select(Project.slug, Membership.role)
                .join(Membership, Membership.project_id == Project.id)
                .where(Membership.user_id == vic)
            )
            return {str(slug): str(role) for slug, role in rows}

    form = {"project": "other", "role": "maintainer", "csrf_token": csrf}
    assert client.post(f"/admin/users/{vic}/role", data=form).status_code == 303
    assert roles() == {"demo": "viewer", "other": "maintainer"}
    assert client.post(f"/admin/users/{vic}/role", data={**form, "role": "admin"}).status_code == 303
    assert roles() == {"demo": "viewer", "other": "admin"}
    assert client.post(f"/admin/users/{vic}/role", data={**form, "role": "none"}).status_code == 303
    assert roles() == {"demo": "viewer"}
    bad = client.post(f"/admin/users/{vic}/role", data={**form, "role": "owner"})
    assert bad.status_code == 422 and "choose from viewer, maintainer, admin" in bad.text
    assert client.post(f"/admin/users/{vic}/role", data={**form, "project": "nope"}).status_code == 404
    assert roles() == {"demo": "viewer"}
    page = client.get("/admin/users").text
    assert re.search(r'data-user="vic">.*?demo: viewer', page, re.S)
    events = [e for e in _audit(world) if e[0] == "root" and e[1].startswith("member.") and "vic" in e[2]]
    assert events[-3:] == [
        ("root", "member.role", "vic=maintainer"),
        ("root", "member.role", "vic=admin"),
        ("root", "member.removed", "vic (was admin)"),
    ]
