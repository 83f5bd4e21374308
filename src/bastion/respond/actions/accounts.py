"""Disable a Bastion user or revoke a Bastion API token, through the store.

The store's own functions are used where they exist (``accounts.revoke_token``); the reverse
steps it does not offer (re-enable a user, restore a token revoked by a response) are two column
writes made here through the store's session, each with an AuditEvent like the store writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bastion.respond.actions.base import ActionError, Plan, TargetGone, TargetKind

if TYPE_CHECKING:
    from bastion.store.db import Store

__all__ = ["DisableBastionUser", "RevokeBastionToken"]

ACTOR = "bastion-respond"


def _store(factory: Callable[[], Store] | None) -> Store:
    if factory is None:
        raise ActionError("no Bastion store configured (--database or BASTION_DATABASE_URL)")
    return factory()


@dataclass
class DisableBastionUser:
    """``disable-bastion-user``: set ``disabled`` (sign-in and sessions stop)."""

    store: Callable[[], Store] | None
    kind: TargetKind = TargetKind.USER

    def plan(self, target: str) -> Plan:
        """What would change."""
        return Plan(
            "disable-bastion-user",
            target,
            f"disable Bastion user {target}",
            (f"users.disabled = true for {target}",),
        )

    def _set(self, target: str, disabled: bool | None) -> bool:
        from bastion.store.models import AuditEvent, User

        with _store(self.store).write() as session:
            user = session.scalar(select(User).where(User.username == target))
            if user is None:
                raise TargetGone(f"disable-bastion-user: Bastion user {target!r} does not exist")
            before = bool(user.disabled)
            if disabled is not None and before != disabled:
                user.disabled = disabled
                action = "user.disabled" if disabled else "user.enabled"
                session.add(AuditEvent(actor=ACTOR, action=action, reason=target))
            return before

    def check(self, target: str) -> str:
        """``disabled`` or ``enabled``."""
        return "disabled" if self._set(target, None) else "enabled"

    def apply(self, target: str) -> dict[str, Any]:
        """Disable; remember whether it already was."""
        return {"was_disabled": self._set(target, True)}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Re-enable unless it was disabled before."""
        if not saved.get("was_disabled"):
            self._set(target, False)


@dataclass
class RevokeBastionToken:
    """``revoke-bastion-token``: the target is the token's public prefix (``bst_<prefix>_...``)."""

    store: Callable[[], Store] | None
    kind: TargetKind = TargetKind.TOKEN

    @staticmethod
    def _prefix(target: str) -> str:
        parts = target.split("_")
        return parts[1] if len(parts) >= 2 and parts[0] == "bst" else target

    def plan(self, target: str) -> Plan:
        """What would change."""
        prefix = self._prefix(target)
        return Plan(
            "revoke-bastion-token",
            prefix,
            f"revoke Bastion API token {prefix}",
            (f"api_tokens.revoked_at = now for {prefix}",),
        )

    def _token(self, target: str, change: Callable[[Any, Any], None] | None) -> Any:
        from bastion.store.models import ApiToken

        with _store(self.store).write() as session:
            token = session.scalar(select(ApiToken).where(ApiToken.prefix == self._prefix(target)))
            if token is None:
                raise TargetGone(f"revoke-bastion-token: no token with prefix {self._prefix(target)!r}")
            revoked = token.revoked_at
            if change is not None:
                change(session, token)
            return revoked

    def check(self, target: str) -> str:
        """``revoked`` or ``live``."""
        return "live" if self._token(target, None) is None else "revoked"

    def apply(self, target: str) -> dict[str, Any]:
        """Revoke through ``store.accounts.revoke_token``."""
        from bastion.store.accounts import revoke_token

        before = self._token(target, lambda session, token: revoke_token(session, token, ACTOR))
        return {"was_revoked": before is not None}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Restore a token this response revoked (``revoked_at`` back to NULL)."""
        if saved.get("was_revoked"):
            return
        from bastion.store.models import AuditEvent

        def restore(session: Any, token: Any) -> None:
            token.revoked_at = None
            session.add(
                AuditEvent(
                    actor=ACTOR, action="token.restored", project_id=token.project_id, reason=token.prefix
                )
            )

        self._token(target, restore)
