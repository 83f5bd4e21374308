"""Tracker webhooks: check the signature, then read which issue changed state.

* GitHub: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>``; ``issues`` events with
  ``action`` ``closed`` or ``reopened``.
* GitLab: ``X-Gitlab-Token`` equal to the secret (GitLab sends the secret itself); issue events
  with ``object_attributes.action`` ``close`` or ``reopen``.
* Jira: ``X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`` (webhooks with a secret);
  ``jira:issue_updated`` events, closed when the status category is ``done``.

Comparisons are constant-time; a missing or wrong signature is refused before the body is read
as JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.errors import InputError
from bastion.integrations.config import TrackerConfig, TrackerKind

__all__ = ["IssueEvent", "SignatureError", "parse_event", "sign", "verify"]


class SignatureError(InputError):
    """The webhook's signature is missing or wrong."""


@dataclass(frozen=True)
class IssueEvent:
    """An issue whose state changed."""

    key: str
    closed: bool


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, as GitHub and Jira send it."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(config: TrackerConfig, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise :class:`SignatureError` unless ``headers`` prove the sender knows ``secret``."""
    match config.kind:
        case TrackerKind.GITHUB | TrackerKind.JIRA:
            name = "x-hub-signature-256" if config.kind is TrackerKind.GITHUB else "x-hub-signature"
            sent = headers.get(name, "")
            if not sent or not hmac.compare_digest(sent.encode(), sign(secret, body).encode()):
                raise SignatureError(f"webhook for {config.name}: {name} missing or wrong")
        case TrackerKind.GITLAB:
            sent = headers.get("x-gitlab-token", "")
            if not sent or not hmac.compare_digest(sent.encode(), secret.encode()):
                raise SignatureError(f"webhook for {config.name}: X-Gitlab-Token missing or wrong")


def _get(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def parse_event(config: TrackerConfig, body: bytes) -> IssueEvent | None:
    """The issue state change in a verified webhook body, or None for any other event."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"webhook for {config.name}: body is not JSON") from None
    match config.kind:
        case TrackerKind.GITHUB:
            action, number = _get(data, "action"), _get(data, "issue", "number")
            if action in ("closed", "reopened") and isinstance(number, int):
                return IssueEvent(f"{config.target}#{number}", action == "closed")
        case TrackerKind.GITLAB:
            action, iid = _get(data, "object_attributes", "action"), _get(data, "object_attributes", "iid")
            if (
                _get(data, "object_kind") == "issue"
                and action in ("close", "reopen")
                and isinstance(iid, int)
            ):
                return IssueEvent(f"{config.target}#{iid}", action == "close")
        case TrackerKind.JIRA:
            key = _get(data, "issue", "key")
            category = _get(data, "issue", "fields", "status", "statusCategory", "key")
            if _get(data, "webhookEvent") == "jira:issue_updated" and isinstance(key, str) and category:
                return IssueEvent(key, category == "done")
    return None
