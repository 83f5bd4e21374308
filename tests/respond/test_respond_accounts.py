"""Bastion user and token actions through the store: the round trip leaves the rows as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bastion.respond.actions.accounts import DisableBastionUser, RevokeBastionToken
from bastion.respond.actions.base import ActionError, TargetGone
from bastion.store import accounts
from bastion.store.db import Store
from bastion.store.models import ApiToken, User


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(f"sqlite:///{tmp_path / 'bastion.db'}")
    opened.migrate()
    with opened.write() as session:
        project = accounts.create_project(session, "web", "Web", "admin")
        accounts.create_user(session, "carol", "correct horse battery")
        issued = accounts.create_token(session, project, "ci", "admin")
        opened.secret = issued.secret  # type: ignore[attr-defined]
    return opened


def _token_row(store: Store) -> tuple[object, ...]:
    with store.read() as session:
        token = session.scalars(select(ApiToken)).one()
        return (token.prefix, token.revoked_at, token.expires_at, token.scopes, token.secret_hash)


def test_revoke_token_round_trip(store: Store) -> None:
    secret = store.secret  # type: ignore[attr-defined]
    action = RevokeBastionToken(lambda: store)
    before = _token_row(store)
    assert action.check(secret) == "live"
    saved = action.apply(secret)
    with store.read() as session:
        assert accounts.resolve_token(session, secret) is None
    assert action.check(secret) == "revoked"
    action.undo(secret, saved)
    assert _token_row(store) == before
    with store.read() as session:
        assert accounts.resolve_token(session, secret) is not None
    assert "_" not in action.plan(secret).target  # only the public prefix is shown


def test_disable_user_round_trip(store: Store) -> None:
    action = DisableBastionUser(lambda: store)
    saved = action.apply("carol")
    with store.read() as session:
        assert accounts.authenticate(session, "carol", "correct horse battery") is None
    action.undo("carol", saved)
    with store.read() as session:
        user = session.scalar(select(User).where(User.username == "carol"))
        assert user is not None and user.disabled is False


def test_vanished_targets(store: Store) -> None:
    with pytest.raises(TargetGone, match="'nobody' does not exist"):
        DisableBastionUser(lambda: store).apply("nobody")
    with pytest.raises(TargetGone, match="no token with prefix"):
        RevokeBastionToken(lambda: store).check("bst_000000000000_x")
    with pytest.raises(ActionError, match="no Bastion store configured"):
        DisableBastionUser(None).check("carol")
