"""Inviting from ``/admin/users`` and accepting at ``/invite``: the link is shown once (and
e-mailed through the integrations' SMTP channel when asked), works once, expires and can be
revoked; the form needs its double-submit token; the token is in no stored row, audit event,
log line or request path."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_world import World, login, mailbox
from sqlalchemy import select

from bastion.integrations.config import parse_config
from bastion.store.accounts import authenticate
from bastion.store.invites import Invite, create_invite
from bastion.store.models import AuditEvent, User, utcnow

__all__ = ["mailbox"]

NEW_PASSWORD = "nina-chooses-a-long-one"
LINK = re.compile(r'id="invite-link" readonly value="(http://testserver/invite#([A-Za-z0-9_-]+))"')


def _invite_form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, "days": "7", "role_demo": "none", "role_other": "none", **fields}


def _person(world: World) -> tuple[TestClient, str]:
    """A signed-out browser that opened the invite page; its form token."""
    person = TestClient(world.app, base_url="http://testserver", follow_redirects=False)
    page = person.get("/invite")
    assert page.status_code == 200 and 'id="invite-code"' in page.text and "/static/invite.js" in page.text
    token = person.cookies.get("bastion_invite_csrf")
    assert token is not None
    return person, token


def _audit(world: World) -> list[tuple[str, str, str]]:
    with world.store.read() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.reason).order_by(AuditEvent.id)
        )
        return [(a, b, c) for a, b, c in rows]


def test_invite_from_the_page_then_accept_and_sign_in(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = login(client, "root")
    page = client.get("/admin/users")
    assert 'id="new-invite"' in page.text and "No pending invite." in page.text
    created = client.post(
        "/admin/users/invites", data=_invite_form(csrf, username="nina", role_demo="maintainer")
    )
    assert created.status_code == 200, created.text
    match = LINK.search(created.text)
    assert match is not None, created.text
    link, token = match.groups()
    assert "shown only now" in created.text and "mail-outcome" not in created.text
    listed = client.get("/admin/users").text
    assert 'data-invite="nina"' in listed and "demo: maintainer" in listed and token not in listed
    person, form_token = _person(world)
    opened = person.post("/invite", data={"code": token, "step": "open", "csrf_token": form_token})
    assert opened.status_code == 200 and "Welcome, nina" in opened.text
    mismatch = {"code": token, "step": "accept", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}
    refused = person.post("/invite", data={**mismatch, "csrf_token": form_token})
    assert refused.status_code == 422 and "the two passwords differ" in refused.text
    assert NEW_PASSWORD not in refused.text
    short = {
        "code": token,
        "step": "accept",
        "password": "short",
        "confirm": "short",
        "csrf_token": form_token,
    }
    assert "at least 10 characters" in person.post("/invite", data=short).text
    accept = {**mismatch, "confirm": NEW_PASSWORD, "csrf_token": form_token}
    done = person.post("/invite", data=accept)
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = person.get("/")
    assert home.status_code == 200 and "nina" in home.text
    assert person.get("/api/v1/projects/demo/findings").status_code == 200
    assert person.get("/api/v1/projects/other/findings").status_code == 403
    with world.store.read() as session:
        nina = session.scalar(select(User).where(User.username == "nina"))
        assert nina is not None and not nina.is_admin and NEW_PASSWORD not in nina.password_hash
        invite = session.scalars(select(Invite)).one()
        assert invite.used_at is not None and invite.user_id == nina.id
        assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Used once: the link opens nothing now.
    again_client, again_token = _person(world)
    again = again_client.post(
        "/invite",
        data={
            "code": token,
            "step": "accept",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": again_token,
        },
    )
    assert again.status_code == 422 and "this invite was used already" in again.text
    actions = [(actor, action) for actor, action, _ in _audit(world)]
    assert ("root", "invite.created") in actions and ("nina", "invite.accepted") in actions
    assert ("invite 1 from root", "user.created") in actions and (
        "invite 1 from root",
        "member.role",
    ) in actions
    everything = " ".join(" ".join(row) for row in _audit(world))
    assert token not in everything and token not in caplog.text and link not in caplog.text
    assert NEW_PASSWORD not in caplog.text


def test_the_public_form_needs_its_token(world: World) -> None:
    with world.store.write() as session:
        token = create_invite(session, "nina", "root").token
    person, form_token = _person(world)
    assert person.post("/invite", data={"code": token, "step": "open"}).status_code == 403
    assert person.post("/invite", data={"code": token, "csrf_token": "forged"}).status_code == 403
    stranger = TestClient(world.app, base_url="http://testserver", follow_redirects=False)
    assert stranger.post("/invite", data={"code": token, "csrf_token": form_token}).status_code == 403
    unknown = person.post("/invite", data={"code": "x" * 43, "csrf_token": form_token})
    assert unknown.status_code == 422 and "this invite code is not valid" in unknown.text
    with world.store.read() as session:
        assert session.scalar(select(User).where(User.username == "nina")) is None


def test_expired_and_revoked_invites_open_nothing(client: TestClient, world: World) -> None:
    with world.store.write() as session:
        old = create_invite(session, "olaf", "root", days=1, now=utcnow() - timedelta(days=2)).token
        live = create_invite(session, "pia", "root").token
    person, form_token = _person(world)
    expired = person.post("/invite", data={"code": old, "csrf_token": form_token})
    assert expired.status_code == 422 and "this invite has expired" in expired.text
    csrf = login(client, "root")
    page = client.get("/admin/users").text
    assert 'data-invite="pia"' in page and 'data-invite="olaf"' not in page  # pending ones only
    assert client.post("/admin/users/invites/2/revoke", data={"csrf_token": csrf}).status_code == 303
    assert client.post("/admin/users/invites/2/revoke").status_code == 403  # CSRF
    assert client.post("/admin/users/invites/99/revoke", data={"csrf_token": csrf}).status_code == 404
    revoked = person.post(
        "/invite",
        data={
            "code": live,
            "step": "accept",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": form_token,
        },
    )
    assert revoked.status_code == 422 and "this invite was revoked" in revoked.text
    assert ("root", "invite.revoked", "invite 2 for pia") in _audit(world)
    with world.store.read() as session:
        assert authenticate(session, "pia", NEW_PASSWORD) is None


def test_only_site_administrators_invite(client: TestClient, world: World) -> None:
    csrf = login(client, "maya")
    assert client.post("/admin/users/invites", data=_invite_form(csrf, username="mallory")).status_code == 403
    assert client.post("/admin/users/invites/1/revoke", data={"csrf_token": csrf}).status_code == 403
    client.cookies.clear()
    assert client.post("/admin/users/invites", data={"username": "mallory"}).status_code == 401
    with world.store.read() as session:
        assert session.scalars(select(Invite)).all() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give a user name or an e-mail address"),
        ({"username": "maya"}, "is taken"),
        ({"username": "nina", "email": "nope"}, "is not an address"),
        ({"username": "nina", "days": "365"}, "choose 1 to 90"),
        ({"username": "nina", "role_demo": "owner"}, "role &#39;owner&#39;"),
    ],
)
def test_a_refused_invite_keeps_the_form(
    client: TestClient, world: World, fields: dict[str, str], message: str
) -> None:
    csrf = login(client, "root")
    refused = client.post("/admin/users/invites", data=_invite_form(csrf, **fields))
    assert refused.status_code == 422 and message in refused.text, refused.text[-2000:]
    if "username" in fields:
        assert f'name="username" maxlength="150" value="{fields["username"]}"' in refused.text
    with world.store.read() as session:
        assert session.scalars(select(Invite)).all() == []


def test_the_link_is_mailed_when_asked(
    client: TestClient, world: World, mailbox: tuple[int, list[Any]]
) -> None:
    port, got = mailbox
    channels = [
        {"name": "mail", "kind": "smtp", "url": f"smtp://127.0.0.1:{port}", "to": ["sec@example.org"]}
    ]
    world.app.state.integrations = parse_config({"channels": channels}, "test")
    csrf = login(client, "root")
    form = _invite_form(csrf, email="nina@example.org", role_other="viewer", send="on")
    created = client.post("/admin/users/invites", data=form)
    match = LINK.search(created.text)
    assert match is not None and "e-mailed to nina@example.org" in created.text
    assert len(got) == 1 and got[0]["To"] == "nina@example.org"
    body = got[0].get_payload()
    assert match.group(1) in body and "root invited you to Bastion as nina@example.org" in body


def test_a_failed_mail_says_so_and_the_link_still_shows(client: TestClient, world: World) -> None:
    with socket.socket() as probe:  # bound, then released: nothing listens there
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    channels = [
        {"name": "mail", "kind": "smtp", "url": f"smtp://127.0.0.1:{closed}", "to": ["a@example.org"]}
    ]
    world.app.state.integrations = parse_config({"channels": channels}, "test")
    csrf = login(client, "root")
    created = client.post(
        "/admin/users/invites", data=_invite_form(csrf, email="nina@example.org", send="on")
    )
    assert created.status_code == 200 and LINK.search(created.text) is not None
    assert "not e-mailed: SMTP ConnectionRefusedError" in created.text
    world.app.state.integrations = parse_config({"channels": []}, "test")
    second = client.post(
        "/admin/users/invites", data=_invite_form(csrf, username="otto", email="o@example.org", send="on")
    )
    assert "no SMTP channel in the integrations file" in second.text


def test_the_mail_goes_out_after_the_invite_is_committed(client: TestClient, world: World) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    seen: list[list[str]] = []

    class Check(Message):  # what another connection sees while the mail is being delivered
        def handle_message(self, _message: Any) -> None:
            with world.store.read() as session:
                seen.append(list(session.scalars(select(Invite.username))))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Check(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channels = [
            {"name": "mail", "kind": "smtp", "url": f"smtp://127.0.0.1:{port}", "to": ["sec@example.org"]}
        ]
        world.app.state.integrations = parse_config({"channels": channels}, "test")
        csrf = login(client, "root")
        created = client.post(
            "/admin/users/invites", data=_invite_form(csrf, email="nina@example.org", send="on")
        )
        assert "e-mailed to nina@example.org" in created.text
        api = client.post(
            "/api/v1/invites",
            json={"username": "otto", "email": "otto@example.org", "send_email": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert api.status_code == 201 and api.json()["email"]["sent"] is True
    finally:
        controller.stop()
    assert len(seen) == 2 and "nina@example.org" in seen[0] and "otto" in seen[1]
