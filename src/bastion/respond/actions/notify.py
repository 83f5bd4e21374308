"""Tell people: a signed generic webhook, Slack and Teams payloads, e-mail over SMTP, and a ticket
opened through a templated webhook. None of these can be undone; their plan shows the payload."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from bastion.findings import Alert
from bastion.respond.actions.base import Action, ActionError, Plan, TargetKind
from bastion.respond.actions.params import EmailParams, TicketParams, WebhookParams

__all__ = ["EmailNotify", "WebhookNotify", "build_notifier", "payload", "sign"]

SIGNATURE_HEADER = "X-Bastion-Signature"


def sign(body: bytes, key: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the value of the signature header."""
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _line(alert: Alert) -> str:
    where = f"{alert.entity_kind} {alert.entity}"
    return f"[{alert.severity.value}] {alert.detector} on {where}: {alert.explanation}"


def payload(fmt: str, alert: Alert) -> dict[str, Any]:
    """The JSON body for ``generic``, ``slack`` or ``teams``."""
    if fmt == "slack":
        return {
            "text": _line(alert),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _line(alert)}}],
        }
    if fmt == "teams":
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [{"type": "TextBlock", "text": _line(alert), "wrap": True}],
                    },
                }
            ],
        }
    return {"source": "bastion-respond", "alert": alert.to_dict()}


@dataclass
class WebhookNotify:
    """POST a JSON body, signed with HMAC-SHA256 when a key is configured."""

    http: httpx.Client
    url: str
    body: dict[str, Any]
    key: str | None
    name: str = "notify-webhook"
    kind: TargetKind = TargetKind.NONE

    def _bytes(self) -> bytes:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def plan(self, target: str) -> Plan:
        """The request that would be sent."""
        signed = " (HMAC-SHA256 signed)" if self.key else ""
        return Plan(
            self.name,
            target,
            f"POST to {self.url}{signed}",
            (f"POST {self.url} {self._bytes().decode()}",),
            reversible=False,
        )

    def check(self, target: str) -> str:  # noqa: ARG002
        """Nothing to observe."""
        return "n/a"

    def apply(self, target: str) -> dict[str, Any]:  # noqa: ARG002
        """Send it; a non-2xx answer is an ActionError."""
        data = self._bytes()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers[SIGNATURE_HEADER] = sign(data, self.key)
        try:
            response = self.http.post(self.url, content=data, headers=headers)
        except httpx.HTTPError as exc:
            raise ActionError(f"{self.name}: {type(exc).__name__} posting to the webhook") from None
        if response.status_code >= 300:
            raise ActionError(f"{self.name}: webhook answered HTTP {response.status_code}")
        return {"status": response.status_code}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """A message cannot be unsent."""


@dataclass
class EmailNotify:
    """Send one e-mail through an SMTP server."""

    host: str
    port: int
    message: EmailMessage
    kind: TargetKind = TargetKind.NONE

    def plan(self, target: str) -> Plan:
        """The message that would be sent."""
        return Plan(
            "notify-email",
            target,
            f"mail {self.message['To']} via {self.host}:{self.port}: {self.message['Subject']}",
            (f"SMTP {self.host}:{self.port} MAIL FROM {self.message['From']} RCPT TO {self.message['To']}",),
            reversible=False,
        )

    def check(self, target: str) -> str:  # noqa: ARG002
        """Nothing to observe."""
        return "n/a"

    def apply(self, target: str) -> dict[str, Any]:  # noqa: ARG002
        """Send it."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                refused = smtp.send_message(self.message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ActionError(
                f"notify-email: {type(exc).__name__} sending via {self.host}:{self.port}"
            ) from None
        return {"refused": sorted(refused)}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """A message cannot be unsent."""


def build_notifier(params: BaseModel, alert: Alert, ctx: Any) -> Action:
    """The notifier for ``params`` (WebhookParams, EmailParams or TicketParams)."""
    if isinstance(params, WebhookParams):
        key = ctx.env.get(params.secret_env) if params.secret_env else None
        return WebhookNotify(ctx.http, params.url, payload(params.format.value, alert), key)
    if isinstance(params, EmailParams):
        message = EmailMessage()
        message["From"] = params.sender
        message["To"] = ", ".join(params.to)
        message["Subject"] = params.subject.format(
            severity=alert.severity.value, entity=alert.entity, detector=alert.detector
        )
        message.set_content(_line(alert) + "\n\n" + "\n".join(alert.evidence))
        return EmailNotify(params.host, params.port, message)
    if isinstance(params, TicketParams):
        try:
            text = (
                SandboxedEnvironment(undefined=StrictUndefined)
                .from_string(params.template)
                .render(alert=alert.to_dict())
            )
            body = json.loads(text)
        except (TemplateError, json.JSONDecodeError) as exc:
            raise ActionError(
                f"open-ticket: the template does not render to JSON ({type(exc).__name__}: {exc})"
            ) from None
        key = ctx.env.get(params.secret_env) if params.secret_env else None
        return WebhookNotify(
            ctx.http, params.url, body if isinstance(body, dict) else {"ticket": body}, key, "open-ticket"
        )
    raise ActionError(f"no notifier for {type(params).__name__}")
