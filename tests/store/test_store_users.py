"""User administration in the store: listing, disabling (sessions end, the last site
administrator stays), removing a role, each audited, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bastion.errors import InputError
from bastion.store.accounts import authenticate, create_project, create_user, set_role, start_session
from bastion.store.db import Store
from bastion.store.models import AuditEvent, Membership, WebSession
from bastion.store.users import list_users, remove_role, set_disabled, user_by_id

PASSWORD = "correct horse battery staple"


def _events(store: Store) -> list[tuple[str, str, str]]:
    with store.read() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.reason).order_by(AuditEvent.id)
        )
        return [(a, b, c) for a, b, c in rows]


def test_list_users_with_their_roles(store: Store) -> None:
    with store.write() as session:
        root = create_user(session, "root", PASSWORD, admin=True)
        ann = create_user(session, "ann", PASSWORD, actor="root")
        web = create_project(session, "web", "Web", "root")
        api = create_project(session, "api", "API", "root")
        set_role(session, ann, web, "viewer", "root")
        set_role(session, ann, api, "maintainer", "root")
        assert root.id
    with store.read() as session:
        rows = list_users(session)
    assert [(r.username, r.is_admin, r.disabled, r.roles) for r in rows] == [
        ("ann", False, False, {"api": "maintainer", "web": "viewer"}),
        ("root", True, False, {}),
    ]
    assert ("system", "user.created", "root admin=True") in _events(store)
    assert ("root", "user.created", "ann admin=False") in _events(store)


def test_disable_ends_sessions_and_keeps_one_admin(store: Store) -> None:
    with store.write() as session:
        root = create_user(session, "root", PASSWORD, admin=True)
        ann = create_user(session, "ann", PASSWORD)
        start_session(session, ann)
        root_id, ann_id = root.id, ann.id
    with store.write() as session:
        assert set_disabled(session, user_by_id(session, ann_id), True, "root") is True
        assert (
            set_disabled(session, user_by_id(session, ann_id), True, "root") is False
        )  # no change, no event
    with store.write() as session:
        assert session.scalars(select(WebSession).where(WebSession.user_id == ann_id)).first() is None
        assert authenticate(session, "ann", PASSWORD) is None
    with pytest.raises(InputError, match="last enabled site administrator"), store.write() as session:
        set_disabled(session, user_by_id(session, root_id), True, "root")
    with store.write() as session:
        assert set_disabled(session, user_by_id(session, ann_id), False, "root") is True
        assert authenticate(session, "ann", PASSWORD) is not None
    with pytest.raises(InputError, match="no user with id"), store.read() as session:
        user_by_id(session, 99999)
    assert [e for e in _events(store) if e[1] in ("user.disabled", "user.enabled")] == [
        ("root", "user.disabled", "ann"),
        ("root", "user.enabled", "ann"),
    ]


def test_a_second_admin_may_be_disabled(store: Store) -> None:
    with store.write() as session:
        create_user(session, "root", PASSWORD, admin=True)
        ada = create_user(session, "ada", PASSWORD, admin=True)
        assert set_disabled(session, ada, True, "root") is True
        assert ada.disabled is True


def test_remove_role(store: Store) -> None:
    with store.write() as session:
        ann = create_user(session, "ann", PASSWORD)
        web = create_project(session, "web", "Web", "root")
        set_role(session, ann, web, "maintainer", "root")
        assert remove_role(session, ann, web, "root") is True
        assert remove_role(session, ann, web, "root") is False
        assert session.scalars(select(Membership)).first() is None
    assert _events(store)[-1] == ("root", "member.removed", "ann (was maintainer)")
