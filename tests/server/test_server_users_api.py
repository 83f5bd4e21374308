"""The users API (``/api/v1/users``, ``/api/v1/invites``): site administrators' sessions only,
CSRF on every change, audited, on SQLite and PostgreSQL; an invite's token is in the answer that
creates it and nowhere in the store or the log."""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient
from server_world import PASSWORD, World, bearer, login
from sqlalchemy import select

from bastion.errors import InputError
from bastion.store.accounts import authenticate
from bastion.store.invites import Invite, accept_invite, create_invite
from bastion.store.models import AuditEvent, User

NEW_PASSWORD = "a-long-password-for-nina-7"


def _admin(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, "root")}


def _ids(client: TestClient) -> dict[str, int]:
    return {u["username"]: u["id"] for u in client.get("/api/v1/users").json()["users"]}


def _actions(world: World, actor: str) -> list[str]:
    with world.store.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.actor == actor).order_by(AuditEvent.id)
            )
        )


def test_only_an_administrators_session_reaches_it(api: TestClient, both: World) -> None:
    assert api.get("/api/v1/users").status_code == 401
    assert api.get("/api/v1/users", headers=bearer(both.demo_token)).status_code == 403
    assert (
        api.post("/api/v1/invites", json={"username": "x"}, headers=bearer(both.demo_token)).status_code
        == 403
    )
    csrf = login(api, "maya")
    assert api.get("/api/v1/users").status_code == 403
    assert (
        api.post("/api/v1/invites", json={"username": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 403
    )
    api.cookies.clear()
    _admin(api)
    ids = _ids(api)
    # A session without its CSRF token changes nothing.
    assert api.post(f"/api/v1/users/{ids['vic']}/disable").status_code == 403
    assert api.post("/api/v1/invites", json={"username": "nina"}).status_code == 403
    assert api.put(f"/api/v1/users/{ids['vic']}/roles/other", json={"role": "admin"}).status_code == 403
    listed = api.get("/api/v1/users").json()["users"]
    vic = next(u for u in listed if u["username"] == "vic")
    assert vic["disabled"] is False and vic["roles"] == {"demo": "viewer"}


def test_list_disable_enable_and_roles(api: TestClient, both: World) -> None:
    headers = _admin(api)
    users = {u["username"]: u for u in api.get("/api/v1/users").json()["users"]}
    assert sorted(users) == ["maya", "root", "vic"]
    assert users["root"]["is_admin"] is True and users["maya"]["roles"] == {"demo": "maintainer"}
    vic = users["vic"]["id"]
    answer = api.post(f"/api/v1/users/{vic}/disable", headers=headers)
    assert (
        answer.status_code == 200 and answer.json()["user"]["disabled"] is True and answer.json()["changed"]
    )
    assert api.post(f"/api/v1/users/{vic}/disable", headers=headers).json()["changed"] is False
    assert api.post(f"/api/v1/users/{vic}/enable", headers=headers).json()["user"]["disabled"] is False
    role = api.put(f"/api/v1/users/{vic}/roles/other", json={"role": "maintainer"}, headers=headers)
    assert role.status_code == 200 and role.json()["user"]["roles"] == {
        "demo": "viewer",
        "other": "maintainer",
    }
    bad = api.put(f"/api/v1/users/{vic}/roles/other", json={"role": "owner"}, headers=headers)
    assert bad.status_code == 422 and "choose from viewer, maintainer, admin" in bad.json()["detail"]
    assert (
        api.put(f"/api/v1/users/{vic}/roles/nope", json={"role": "viewer"}, headers=headers).status_code
        == 404
    )
    gone = api.delete(f"/api/v1/users/{vic}/roles/demo", headers=headers)
    assert gone.json() == {"user": {**gone.json()["user"], "roles": {"other": "maintainer"}}, "changed": True}
    assert api.post("/api/v1/users/9999/disable", headers=headers).status_code == 404
    root = users["root"]["id"]
    own = api.post(f"/api/v1/users/{root}/disable", headers=headers)
    assert own.status_code == 409 and "your own account" in own.json()["detail"]
    assert _actions(both, "root")[-4:] == ["user.disabled", "user.enabled", "member.role", "member.removed"]


def test_the_last_enabled_administrator_stays(api: TestClient, both: World) -> None:
    headers = _admin(api)
    with both.store.write() as session:
        session.add(User(username="root2", password_hash="x", is_admin=True, disabled=True))
    ids = _ids(api)
    assert api.post(f"/api/v1/users/{ids['root2']}/enable", headers=headers).status_code == 200
    # root2 can be disabled (root stays); root cannot disable itself either way.
    assert api.post(f"/api/v1/users/{ids['root2']}/disable", headers=headers).json()["changed"] is True


def test_invite_create_list_accept_and_revoke(
    api: TestClient, both: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = _admin(api)
    body = {"email": "nina@example.org", "roles": {"demo": "maintainer", "other": "viewer"}, "days": 3}
    created = api.post("/api/v1/invites", json=body, headers=headers)
    assert created.status_code == 201, created.text
    answer = created.json()
    token, invite = answer["token"], answer["invite"]
    assert invite["username"] == "nina@example.org" and invite["state"] == "pending"
    assert invite["roles"] == {"demo": "maintainer", "other": "viewer"} and invite["created_by"] == "root"
    assert answer["link"] == f"http://testserver/invite#{token}" and len(token) >= 43
    assert "email" not in answer  # not asked to send
    listed = api.get("/api/v1/invites?state=pending").json()["invites"]
    assert [i["id"] for i in listed] == [invite["id"]] and token not in str(listed)
    with both.store.read() as session:
        stored = session.scalars(select(Invite)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr([getattr(stored, c.key) for c in Invite.__table__.columns])
        reasons = " ".join(session.scalars(select(AuditEvent.reason)))
    assert token not in reasons and token not in caplog.text
    again = api.post("/api/v1/invites", json={"username": "nina@example.org"}, headers=headers)
    assert again.status_code == 422 and "pending invite" in again.json()["detail"]
    # The person accepts through the public form, then is a maintainer of demo.
    person = TestClient(both.app, base_url="http://testserver", follow_redirects=False)
    page = person.get("/invite")
    assert page.status_code == 200
    csrf = person.cookies.get("bastion_invite_csrf")
    form = {
        "code": token,
        "step": "accept",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "csrf_token": csrf,
    }
    done = person.post("/invite", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert person.get("/api/v1/projects/demo/findings").status_code == 200
    users = {u["username"]: u for u in api.get("/api/v1/users").json()["users"]}
    assert users["nina@example.org"]["roles"] == {"demo": "maintainer", "other": "viewer"}
    used = api.get("/api/v1/invites").json()["invites"][0]
    assert used["state"] == "used"
    revoked = api.post(f"/api/v1/invites/{invite['id']}/revoke", headers=headers)
    assert revoked.json()["changed"] is False and revoked.json()["invite"]["state"] == "used"
    # A second invite, revoked, no longer opens.
    second = api.post("/api/v1/invites", json={"username": "otto"}, headers=headers).json()
    assert (
        api.post(f"/api/v1/invites/{second['invite']['id']}/revoke", headers=headers).json()["changed"]
        is True
    )
    person.get("/invite")  # signing in dropped the form's cookie: a fresh one
    csrf = person.cookies.get("bastion_invite_csrf")
    refused = person.post("/invite", data={"code": second["token"], "step": "open", "csrf_token": csrf})
    assert refused.status_code == 422 and "this invite was revoked" in refused.text
    assert api.post("/api/v1/invites/9999/revoke", headers=headers).status_code == 404
    assert _actions(both, "root").count("invite.created") == 2
    assert _actions(both, "root").count("invite.revoked") == 1
    assert _actions(both, "nina@example.org")[:1] == ["invite.accepted"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "give a user name or an e-mail address"),
        ({"username": "bad name"}, "letters, digits"),
        ({"username": "maya"}, "is taken"),
        ({"username": "nina", "email": "not-an-address"}, "is not an address"),
        ({"username": "nina", "roles": {"nope": "viewer"}}, "project 'nope' does not exist"),
        ({"username": "nina", "roles": {"demo": "owner"}}, "role 'owner'"),
    ],
)
def test_a_refused_invite_says_why(api: TestClient, body: dict[str, object], needle: str) -> None:
    headers = _admin(api)
    answer = api.post("/api/v1/invites", json=body, headers=headers)
    assert answer.status_code == 422 and needle in answer.json()["detail"], answer.text
    assert api.get("/api/v1/invites").json()["invites"] == []


def test_invite_lifetime_is_bounded(api: TestClient) -> None:
    headers = _admin(api)
    for days in (0, 91):
        assert (
            api.post("/api/v1/invites", json={"username": "nina", "days": days}, headers=headers).status_code
            == 422
        )
    assert api.get("/api/v1/invites?state=used").status_code == 422
    assert PASSWORD not in api.get("/api/v1/users").text


def test_two_acceptances_of_one_invite_make_one_account(both: World) -> None:
    """The second acceptance waits for the first (row lock on PostgreSQL, the write lock on
    SQLite), then finds the invite used: one account, the other refused."""
    with both.store.write() as session:
        token = create_invite(session, "nina", "root").token
    outcome: list[str] = []

    def second() -> None:
        try:
            with both.store.write() as session:
                accept_invite(session, token, NEW_PASSWORD + "-2")
            outcome.append("accepted")
        except InputError as exc:
            outcome.append(str(exc))

    with both.store.write() as session:
        accept_invite(session, token, NEW_PASSWORD)
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # the racer is now waiting on this transaction
    racer.join(30)
    assert outcome == ["this invite was used already: ask an administrator for a new one"]
    with both.store.read() as session:
        assert authenticate(session, "nina", NEW_PASSWORD) is not None
        assert len(session.scalars(select(User).where(User.username == "nina")).all()) == 1
