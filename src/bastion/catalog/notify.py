"""Telling a product's owner and consumers what changed: a JSON webhook and e-mail over SMTP.
A notice that cannot be delivered is returned as a failure line; the re-check goes on."""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from bastion.catalog.model import ProductSpec, VersionRecord

__all__ = ["CatalogEvent", "Notifier", "SmtpNotifier", "WebhookNotifier", "recipients"]


@dataclass(frozen=True)
class CatalogEvent:
    """Something about a version its users must hear: it became non-compliant, was deprecated
    or retired."""

    kind: str
    """``non-compliant``, ``deprecated`` or ``retired``."""
    product: ProductSpec
    record: VersionRecord
    reasons: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        """One line saying what happened."""
        return f"[bastion catalog] {self.product.name} {self.record.version} is {self.kind}"

    def body(self) -> str:
        """The message text: what happened, why, and what to move to."""
        lines = [self.subject, ""]
        lines.extend(f"- {reason}" for reason in self.reasons)
        if self.record.successor:
            lines.append(f"Upgrade to {self.product.name} {self.record.successor}.")
        if self.record.deprecated_on:
            lines.append(f"Supported until {self.record.deprecated_on.isoformat()}.")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The webhook's JSON body."""
        return {
            "source": "bastion-catalog",
            "event": self.kind,
            "product": self.product.name,
            "version": self.record.version,
            "owner": self.product.owner,
            "reasons": list(self.reasons),
            "successor": self.record.successor,
            "deprecated_on": self.record.deprecated_on.isoformat() if self.record.deprecated_on else None,
        }


class Notifier(Protocol):
    """A way to tell people about a catalog event."""

    def send(self, event: CatalogEvent) -> list[str]:
        """Deliver ``event``; returns one line per delivery that failed."""
        ...


def recipients(product: ProductSpec) -> tuple[list[str], list[str]]:
    """The e-mail addresses and webhook URLs of the owner and every consumer."""
    emails = [product.owner] if "@" in product.owner else []
    emails.extend(c.email for c in product.consumers if c.email)
    hooks = [product.owner_webhook] if product.owner_webhook else []
    hooks.extend(c.webhook for c in product.consumers if c.webhook)
    return list(dict.fromkeys(emails)), list(dict.fromkeys(hooks))


@dataclass
class WebhookNotifier:
    """POST the event as JSON to the owner's and every consumer's webhook."""

    http: httpx.Client | None = None
    """A client to reuse; a short-lived one per event otherwise."""

    def send(self, event: CatalogEvent) -> list[str]:
        """One POST per webhook; a failure names the host, never the full URL (it may hold a token)."""
        urls = recipients(event.product)[1]
        if not urls:
            return []
        if self.http is not None:
            return self._post(self.http, urls, event)
        with httpx.Client(timeout=10) as client:
            return self._post(client, urls, event)

    @staticmethod
    def _post(http: httpx.Client, urls: list[str], event: CatalogEvent) -> list[str]:
        failures = []
        body = json.dumps(event.to_dict(), sort_keys=True).encode("utf-8")
        for url in urls:
            host = httpx.URL(url).host
            try:
                response = http.post(url, content=body, headers={"Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                failures.append(f"webhook {host}: {type(exc).__name__}")
                continue
            if response.status_code >= 300:
                failures.append(f"webhook {host}: HTTP {response.status_code}")
        return failures


@dataclass
class SmtpNotifier:
    """E-mail the owner and every consumer through an SMTP server."""

    host: str
    port: int
    sender: str = "bastion-catalog@localhost"

    def send(self, event: CatalogEvent) -> list[str]:
        """One message to every address; a failure says which server refused it."""
        emails = recipients(event.product)[0]
        if not emails:
            return []
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(emails)
        message["Subject"] = event.subject
        message.set_content(event.body())
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return [f"smtp {self.host}:{self.port}: {type(exc).__name__}"]
        return []
