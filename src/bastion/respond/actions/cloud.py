"""Cloud identity actions: Entra ID (Microsoft Graph REST) and AWS IAM access keys (boto3).

Graph: ``GET /users/{id}?$select=accountEnabled``, ``PATCH /users/{id}`` with ``accountEnabled``,
``POST /users/{id}/revokeSignInSessions``. AWS: ``GetAccessKeyLastUsed`` (finds the key's user),
``ListAccessKeys`` (its status) and ``UpdateAccessKey``. The base URL / endpoint is a parameter,
so tests point them at stand-ins on 127.0.0.1; the bearer token comes from an environment variable
and is never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from bastion.respond.actions.base import ActionError, Plan, TargetGone, TargetKind

__all__ = ["AwsDeactivateKey", "EntraDisableUser", "EntraRevokeSessions"]


@dataclass
class _Graph:
    http: httpx.Client
    base_url: str
    token: str

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        if not self.token:
            raise ActionError("Microsoft Graph: no bearer token in the configured environment variable")
        try:
            response = self.http.request(
                method,
                self.base_url.rstrip("/") + path,
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as exc:
            raise ActionError(f"Microsoft Graph: {type(exc).__name__} calling {path}") from None
        if response.status_code == 404:
            raise TargetGone(f"Microsoft Graph: {path.split('/')[2]} does not exist")
        if response.status_code >= 400:
            raise ActionError(f"Microsoft Graph: HTTP {response.status_code} on {method} {path}")
        return response

    @staticmethod
    def _user(target: str) -> str:
        return "/users/" + quote(target, safe="@.")


@dataclass
class EntraDisableUser(_Graph):
    """``entra-disable-user``: accountEnabled=false, restored on undo."""

    kind: TargetKind = TargetKind.USER

    def plan(self, target: str) -> Plan:
        """The Graph request that would be sent."""
        return Plan(
            "entra-disable-user",
            target,
            f"disable Entra ID user {target}",
            (f'PATCH {self.base_url}{self._user(target)} {{"accountEnabled": false}}',),
        )

    def check(self, target: str) -> str:
        """``enabled`` or ``disabled``."""
        data = self._call("GET", self._user(target) + "?$select=accountEnabled").json()
        return "enabled" if data.get("accountEnabled") else "disabled"

    def apply(self, target: str) -> dict[str, Any]:
        """Disable the account; remember whether it was enabled."""
        was_enabled = self.check(target) == "enabled"
        if was_enabled:
            self._call("PATCH", self._user(target), {"accountEnabled": False})
        return {"was_enabled": was_enabled}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Re-enable only if apply disabled it."""
        if saved.get("was_enabled"):
            self._call("PATCH", self._user(target), {"accountEnabled": True})


@dataclass
class EntraRevokeSessions(_Graph):
    """``entra-revoke-sessions``: invalidates refresh tokens; cannot be undone."""

    kind: TargetKind = TargetKind.USER

    def plan(self, target: str) -> Plan:
        """The Graph request that would be sent."""
        return Plan(
            "entra-revoke-sessions",
            target,
            f"revoke every sign-in session of Entra ID user {target}",
            (f"POST {self.base_url}{self._user(target)}/revokeSignInSessions",),
            reversible=False,
        )

    def check(self, target: str) -> str:
        """``exists`` (sessions are not observable through Graph)."""
        self._call("GET", self._user(target) + "?$select=id")
        return "exists"

    def apply(self, target: str) -> dict[str, Any]:
        """Revoke the sessions."""
        self._call("POST", self._user(target) + "/revokeSignInSessions")
        return {}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Nothing to restore: users sign in again."""


@dataclass
class AwsDeactivateKey:
    """``aws-deactivate-key``: the target is an access key id; its user is looked up."""

    endpoint_url: str | None = None
    region: str = "us-east-1"
    kind: TargetKind = TargetKind.ACCESS_KEY

    def _iam(self) -> Any:
        try:
            import boto3
        except ImportError:
            raise ActionError("aws-deactivate-key needs boto3 (pip install 'bastion[respond]')") from None
        return boto3.client("iam", endpoint_url=self.endpoint_url, region_name=self.region)

    def _state(self, key_id: str) -> tuple[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        iam = self._iam()
        try:
            user = iam.get_access_key_last_used(AccessKeyId=key_id).get("UserName")
            if not user:
                raise TargetGone(f"aws-deactivate-key: access key {key_id[:8]}... has no user")
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                if key["AccessKeyId"] == key_id:
                    return str(user), str(key["Status"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchEntity":
                raise TargetGone(f"aws-deactivate-key: access key {key_id[:8]}... does not exist") from None
            raise ActionError(f"AWS IAM: {code or 'error'} for access key {key_id[:8]}...") from None
        except BotoCoreError as exc:
            raise ActionError(f"AWS IAM: {type(exc).__name__}") from None
        raise TargetGone(f"aws-deactivate-key: access key {key_id[:8]}... does not exist")

    def plan(self, target: str) -> Plan:
        """The IAM call that would be made."""
        return Plan(
            "aws-deactivate-key",
            target,
            f"deactivate AWS access key {target[:8]}...",
            (f"iam:UpdateAccessKey AccessKeyId={target[:8]}... Status=Inactive",),
        )

    def check(self, target: str) -> str:
        """``Active`` or ``Inactive``."""
        return self._state(target)[1]

    def _update(self, user: str, key_id: str, status: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._iam().update_access_key(UserName=user, AccessKeyId=key_id, Status=status)
        except (ClientError, BotoCoreError) as exc:
            raise ActionError(f"AWS IAM: UpdateAccessKey failed ({type(exc).__name__})") from None

    def apply(self, target: str) -> dict[str, Any]:
        """Deactivate; remember the previous status."""
        user, status = self._state(target)
        if status == "Active":
            self._update(user, target, "Inactive")
        return {"user": user, "status": status}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Reactivate if apply deactivated it."""
        if saved.get("status") == "Active":
            user, _ = self._state(target)
            self._update(user, target, "Active")
