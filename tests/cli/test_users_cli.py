"""``bastion users``: list, disable, enable, role, invite, invites and revoke against the store,
on SQLite and PostgreSQL; bad input is one line and exit 2, without a traceback."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_world import mailbox
from sqlalchemy import select
from store_backends import open_store, postgres_url
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.store.accounts import authenticate, create_project, create_user, set_role
from bastion.store.db import Store
from bastion.store.invites import Invite, accept_invite
from bastion.store.models import AuditEvent

__all__ = ["mailbox", "postgres_url"]

runner = CliRunner()
PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Store]:
    """A store with root (administrator), maya (maintainer of demo) and the projects demo, other."""
    opened = open_store(request.param, tmp_path, postgres_url)
    with opened.write() as session:
        create_user(session, "root", PASSWORD, admin=True)
        maya = create_user(session, "maya", PASSWORD)
        demo = create_project(session, "demo", "Demo", "root")
        create_project(session, "other", "Other", "root")
        set_role(session, maya, demo, "maintainer", "root")
    yield opened
    opened.close()


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def users(store: Store, *args: str) -> Any:
    """Run ``bastion users ARGS`` on the store."""
    return runner.invoke(app, ["users", *args, "--database-url", _url(store)])


def _refused(result: Any, needle: str) -> None:
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_help_has_examples() -> None:
    for name in ("list", "disable", "enable", "role", "invite", "invites", "revoke"):
        result = runner.invoke(app, ["users", name, "--help"])
        assert result.exit_code == 0 and "Example: bastion users" in result.output
    assert "users" in runner.invoke(app, ["--help"]).output


def test_list_as_table_and_json(store: Store) -> None:
    table = users(store, "list")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["USER", "SITE", "ROLE", "STATE", "PROJECT", "ROLES"]
    assert lines[1].split() == ["maya", "member", "active", "demo=maintainer"]
    assert lines[2].split() == ["root", "administrator", "active", "-"]
    data = json.loads(users(store, "list", "--json").output)["users"]
    assert [(u["username"], u["is_admin"], u["roles"]) for u in data] == [
        ("maya", False, {"demo": "maintainer"}),
        ("root", True, {}),
    ]


def test_disable_enable_and_the_last_administrator(store: Store) -> None:
    assert users(store, "disable", "maya").output.strip() == "maya: disabled"
    assert users(store, "disable", "maya").output.strip() == "maya: already disabled"
    with store.read() as session:
        assert authenticate(session, "maya", PASSWORD) is None
    assert users(store, "enable", "maya").output.strip() == "maya: enabled"
    with store.read() as session:
        assert authenticate(session, "maya", PASSWORD) is not None
    _refused(users(store, "disable", "root"), "error: root is the last enabled site administrator")
    _refused(users(store, "enable", "nobody"), "error: no user named 'nobody'")
    with store.read() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "system")))
    assert actions.count("user.disabled") == 1 and actions.count("user.enabled") == 1


def test_role_set_and_remove(store: Store) -> None:
    assert users(store, "role", "maya", "other", "viewer").output.strip() == "maya: viewer in other"
    assert users(store, "role", "maya", "demo", "none").output.strip() == "maya: removed from demo"
    assert users(store, "role", "maya", "demo", "none").output.strip() == "maya: not in demo"
    data = json.loads(users(store, "list", "--json").output)["users"]
    assert data[0]["roles"] == {"other": "viewer"}
    _refused(users(store, "role", "maya", "demo", "owner"), "error: role 'owner': choose from viewer")
    _refused(users(store, "role", "maya", "nope", "viewer"), "error: project 'nope' does not exist")
    _refused(users(store, "role", "nobody", "demo", "viewer"), "error: no user named 'nobody'")


def test_invite_prints_a_working_link_once_and_keeps_only_its_hash(store: Store) -> None:
    result = users(
        store,
        "invite",
        "nina",
        "--role",
        "demo=viewer",
        "--role",
        "other=maintainer",
        "--days",
        "2",
        "--url",
        "https://bastion.example.com/",
    )
    assert result.exit_code == 0, result.output
    match = re.search(
        r"link \(shown once\): https://bastion\.example\.com/invite#([A-Za-z0-9_-]{43})$", result.output, re.M
    )
    assert match is not None, result.output
    token = match.group(1)
    assert result.output.startswith("invite 1 for nina, until ")
    with store.read() as session:
        invite = session.scalars(select(Invite)).one()
        assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (invite.expires_at - invite.created_at).days == 2 and invite.created_by == "system"
        assert token not in " ".join(session.scalars(select(AuditEvent.reason)))
    listed = users(store, "invites")
    assert re.match(r"\s+1\s+pending\s+nina\s+demo=viewer, other=maintainer\s+by system", listed.output)
    assert token not in listed.output
    with store.write() as session:
        accept_invite(session, token, "nina's own long password")
    with store.read() as session:
        assert authenticate(session, "nina", "nina's own long password") is not None
    assert users(store, "invites").output.strip() == "no pending invite"
    assert "used" in users(store, "invites", "--all").output
    assert users(store, "revoke", "1").output.strip() == "invite 1: was not pending"
    data = json.loads(users(store, "list", "--json").output)["users"]
    assert next(u for u in data if u["username"] == "nina")["roles"] == {
        "demo": "viewer",
        "other": "maintainer",
    }


def test_invite_by_email_without_url_and_revoke(store: Store) -> None:
    result = users(store, "invite", "--email", "ola@example.org", "--admin")
    assert result.exit_code == 0, result.output
    assert "link (shown once): /invite#" in result.output and "--url" in result.output
    assert "ola@example.org administrator" in users(store, "invites").output
    assert users(store, "revoke", "1").output.strip() == "invite 1: revoked"
    assert re.search(r"1\s+revoked\s+ola@example.org", users(store, "invites", "--all").output)
    _refused(users(store, "revoke", "7"), "error: no invite with id 7")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "error: invite: give a user name or an e-mail address"),
        (("maya",), "error: username 'maya' is taken"),
        (("nina", "--role", "demo"), "error: --role 'demo': write PROJECT=ROLE"),
        (("nina", "--role", "demo=owner"), "error: role 'owner'"),
        (("nina", "--role", "nope=viewer"), "error: project 'nope' does not exist"),
        (("nina", "--days", "0"), "error: invite lifetime 0 days: choose 1 to 90"),
        (("nina", "--email", "nobody"), "error: e-mail 'nobody' is not an address"),
        (("nina", "--url", "bastion.example.com"), "error: --url 'bastion.example.com': an http(s) address"),
    ],
)
def test_a_bad_invite_is_one_line_and_exit_2(store: Store, args: tuple[str, ...], needle: str) -> None:
    _refused(users(store, "invite", *args), needle)
    with store.read() as session:
        assert session.scalars(select(Invite)).all() == []


def test_a_second_pending_invite_for_the_same_name_is_refused(store: Store) -> None:
    assert users(store, "invite", "nina").exit_code == 0
    _refused(users(store, "invite", "nina"), "error: 'nina' has a pending invite (id 1); revoke it first")


def test_bad_database_and_bad_arguments_exit_2() -> None:
    result = runner.invoke(app, ["users", "list", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
    _refused(result, "error: database")
    assert runner.invoke(app, ["users", "revoke", "x"]).exit_code == 2
    assert runner.invoke(app, ["users", "role", "maya"]).exit_code == 2


def test_invite_send_mails_the_link(
    tmp_path: Path, mailbox: tuple[int, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, got = mailbox
    config = tmp_path / "integrations.yaml"
    config.write_text(
        f"channels:\n  - {{name: mail, kind: smtp, url: 'smtp://127.0.0.1:{port}', to: [sec@example.org],"
        " sender: bastion@example.org}\n"
    )
    monkeypatch.setenv("BASTION_INTEGRATIONS", str(config))
    store = open_store("sqlite", tmp_path, None)
    with store.write() as session:
        create_user(session, "root", PASSWORD, admin=True)
    result = users(store, "invite", "--email", "pia@example.org", "--url", "http://127.0.0.1:8000", "--send")
    store.close()
    assert result.exit_code == 0, result.output
    assert "e-mailed to pia@example.org" in result.output
    link = re.search(r"http://127\.0\.0\.1:8000/invite#\S+", result.output)
    assert link is not None and len(got) == 1
    assert got[0]["To"] == "pia@example.org" and got[0]["From"] == "bastion@example.org"
    assert link.group(0) in got[0].get_payload() and "as pia@example.org" in got[0].get_payload()
