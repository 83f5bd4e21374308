"""Users, tokens and sessions on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers_store import new_project
from sqlalchemy import func, select

from bastion.errors import InputError
from bastion.store.accounts import (
    authenticate,
    create_project,
    create_token,
    create_user,
    end_session,
    project_role,
    resolve_session,
    resolve_token,
    revoke_token,
    set_role,
    start_session,
)
from bastion.store.db import Store
from bastion.store.models import ApiToken, Project, User, WebSession


def test_users_passwords_and_roles(store: Store) -> None:
    project_id = new_project(store)
    with store.write() as session:
        alice = create_user(session, "alice", "correct horse battery")
        assert alice.password_hash.startswith("$argon2id$")
        with pytest.raises(InputError, match="taken"):
            create_user(session, "alice", "another long password")
        with pytest.raises(InputError, match="at least"):
            create_user(session, "bob", "short")
        with pytest.raises(InputError, match="username"):
            create_user(session, "<script>", "long enough password")
        assert authenticate(session, "alice", "correct horse battery") is alice
        assert authenticate(session, "alice", "wrong password here") is None
        assert authenticate(session, "nobody", "correct horse battery") is None
        project = session.get_one(Project, project_id)
        assert project_role(session, alice, project_id) is None
        set_role(session, alice, project, "viewer", "root")
        set_role(session, alice, project, "maintainer", "root")
        assert project_role(session, alice, project_id) == "maintainer"
        with pytest.raises(InputError, match="role"):
            set_role(session, alice, project, "owner", "root")
        root = create_user(session, "root", "long enough password", admin=True)
        assert project_role(session, root, project_id) == "admin"
        with pytest.raises(InputError, match="exists"):
            create_project(session, "demo", "Demo", "root")
        with pytest.raises(InputError, match="lower-case"):
            create_project(session, "Bad Slug", "x", "root")


def test_tokens_are_hashed_scoped_expiring_and_revocable(store: Store) -> None:
    project_id = new_project(store)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with store.write() as session:
        project = session.get_one(Project, project_id)
        issued = create_token(session, project, "ci", "root", now=now, expires_in_days=30)
        forever = create_token(session, project, "forever", "root", ("findings:read",), None, now=now)
        with pytest.raises(InputError, match="scopes"):
            create_token(session, project, "bad", "root", ("admin",))
    secret_part = issued.secret.split("_", 2)[2]
    with store.write() as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.name == "ci")).one()
        assert secret_part not in (stored.secret_hash, stored.prefix)
        assert resolve_token(session, issued.secret, now) is not None
        assert resolve_token(session, forever.secret, now + timedelta(days=3650)) is not None
        assert resolve_token(session, issued.secret, now + timedelta(days=31)) is None
        assert resolve_token(session, issued.secret[:-1] + "x", now) is None
        assert resolve_token(session, "not-a-token", now) is None
        revoke_token(session, stored, "root")
        assert resolve_token(session, issued.secret, now) is None


def test_sessions(store: Store) -> None:
    with store.write() as session:
        user = create_user(session, "carol", "long enough password")
        cookie, row = start_session(session, user)
        assert len(row.csrf_token) > 30 and cookie not in row.id_hash
        assert resolve_session(session, cookie) is row
        assert resolve_session(session, "") is None
        assert resolve_session(session, cookie, row.expires_at) is None
        session.get_one(User, user.id).disabled = True
        assert resolve_session(session, cookie) is None
        end_session(session, cookie)
        end_session(session, "unknown")
        assert resolve_session(session, cookie) is None
        start_session(session, user, now=datetime(2020, 1, 1, tzinfo=UTC))
        start_session(session, user)
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
