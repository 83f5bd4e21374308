"""Notifications: new critical findings, SLA breaches and known-exploited vulnerabilities, sent by
e-mail (SMTP), to Slack or Teams incoming webhooks, or to a generic webhook signed with HMAC.

Nothing is sent twice: before sending, a channel *claims* the event with a row whose
(channel, event) key is unique in the database; a second sender (another process, a rerun) finds
the claim and skips. A delivery that fails after its retries gives the claim back, so the next
run tries again. Each delivery is retried on connection errors, HTTP 429 and 5xx, with backoff.

Generic webhooks carry ``X-Bastion-Timestamp`` and ``X-Bastion-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``<timestamp>.<body>`` under the channel's secret: a receiver checks both and
refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bastion.errors import BastionError
from bastion.findings import Severity
from bastion.integrations.config import ChannelConfig, ChannelKind, secret_from_env
from bastion.store.db import Store
from bastion.store.integrations import SentNotice
from bastion.store.models import OPEN_STATUSES, FindingRecord, Project, utcnow
from bastion.store.queries import overdue_clause
from bastion.store.sla import SlaPolicy

__all__ = [
    "Channel",
    "DeliveryError",
    "Event",
    "NotifyReport",
    "dispatch",
    "open_channel",
    "pending_events",
    "webhook_signature",
]

TIMEOUT_S = 10.0
_TITLES = {
    "critical": "New critical finding",
    "sla": "SLA breached",
    "kev": "Known exploited vulnerability",
}


class DeliveryError(BastionError):
    """A notification could not be delivered; ``retry`` when trying again may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Event:
    """Something a channel is told once."""

    kind: str
    """``critical``, ``sla`` or ``kev``."""
    finding_id: int
    project: str
    title: str
    severity: str
    rule_id: str
    location: str

    @property
    def key(self) -> str:
        """Unique per event: what the claim row is keyed on."""
        return f"{self.kind}:{self.finding_id}"

    @property
    def headline(self) -> str:
        """One line for chat and e-mail subjects."""
        return f"[Bastion] {_TITLES[self.kind]} in {self.project}: {self.title}"[:300]

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON (generic webhooks)."""
        return {
            "event": self.kind,
            "project": self.project,
            "finding": {
                "id": self.finding_id,
                "title": self.title,
                "severity": self.severity,
                "rule_id": self.rule_id,
                "location": self.location,
            },
        }


class Channel(Protocol):
    """Somewhere a notification goes."""

    name: str

    def send(self, event: Event) -> None:
        """Deliver ``event`` once; raise :class:`DeliveryError`."""
        ...


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``<timestamp>.<body>`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _post(name: str, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
    host = urlsplit(url).netloc
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.HTTPError as exc:
        raise DeliveryError(f"channel {name}: {host}: {type(exc).__name__}", retry=True) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"channel {name}: {host}: HTTP {response.status_code}", retry=True)
    if response.status_code >= 400:
        raise DeliveryError(f"channel {name}: {host}: HTTP {response.status_code}", retry=False)


class HttpChannel:
    """Slack, Teams or a generic webhook: one JSON POST per event."""

    def __init__(
        self,
        config: ChannelConfig,
        url: str,
        secret: str | None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``url`` may carry a key (Slack and Teams URLs do): it is never logged."""
        self.name = config.name
        self.kind = config.kind
        self.url = url
        self.secret = secret
        self.client = httpx.Client(timeout=TIMEOUT_S, transport=transport, follow_redirects=False)
        self.clock: Callable[[], float] = time.time

    def payload(self, event: Event) -> dict[str, Any]:
        """The body in the format the receiver expects."""
        text = f"*{event.severity.upper()}* `{event.rule_id}` at `{event.location}`"
        match self.kind:
            case ChannelKind.SLACK:
                return {
                    "text": event.headline,
                    "blocks": [
                        {"type": "header", "text": {"type": "plain_text", "text": event.headline[:150]}},
                        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    ],
                }
            case ChannelKind.TEAMS:
                return {
                    "@type": "MessageCard",
                    "@context": "https://schema.org/extensions",
                    "summary": event.headline,
                    "themeColor": "C0392B" if event.severity == "critical" else "E67E22",
                    "title": event.headline,
                    "text": text,
                }
            case _:
                return event.to_dict()

    def send(self, event: Event) -> None:
        """POST the payload (signed for generic webhooks)."""
        body = json.dumps(self.payload(event), sort_keys=True).encode("utf-8")
        headers: dict[str, str] = {}
        if self.kind is ChannelKind.WEBHOOK:
            headers["X-Bastion-Event"] = event.kind
            if self.secret:
                stamp = str(int(self.clock()))
                headers["X-Bastion-Timestamp"] = stamp
                headers["X-Bastion-Signature"] = webhook_signature(self.secret, stamp, body)
        _post(self.name, self.client, self.url, body, headers)


class SmtpChannel:
    """E-mail through an SMTP server (``smtp://host:port``)."""

    def __init__(self, config: ChannelConfig, url: str) -> None:
        """Mail ``config.to`` from ``config.sender``."""
        parts = urlsplit(url)
        self.name = config.name
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 25
        self.sender = config.sender
        self.to = config.to

    def send(self, event: Event) -> None:
        """One message per event."""
        message = EmailMessage()
        message["Subject"] = event.headline
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message.set_content(
            f"{_TITLES[event.kind]} in project {event.project}\n\n"
            f"{event.severity.upper()} {event.rule_id}\n{event.title}\nat {event.location}\n"
            f"\nBastion finding {event.finding_id}\n"
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"channel {self.name}: SMTP {exc.smtp_code}", retry=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"channel {self.name}: SMTP {type(exc).__name__}", retry=True) from None


def open_channel(config: ChannelConfig, transport: httpx.BaseTransport | None = None) -> Channel:
    """The channel for ``config``, its URL and secret read from the environment where named."""
    url = config.url or secret_from_env(config.url_env or "", f"channel {config.name}")
    if config.kind is ChannelKind.SMTP:
        return SmtpChannel(config, url)
    secret = secret_from_env(config.secret_env, f"channel {config.name}") if config.secret_env else None
    return HttpChannel(config, url, secret, transport)


def _cves(finding: FindingRecord) -> set[str]:
    found = {part for part in finding.rule_id.replace("/", ".").split(".") if part.upper().startswith("CVE-")}
    aliases = finding.extra.get("aliases") if isinstance(finding.extra, dict) else None
    if isinstance(aliases, list):
        found.update(a for a in aliases if isinstance(a, str) and a.upper().startswith("CVE-"))
    return {c.upper() for c in found}


def pending_events(
    store: Store, project_id: int, sla: SlaPolicy, kev: Iterable[str] = (), now: datetime | None = None
) -> list[Event]:
    """Every event the project's open findings raise now (claims decide which are new)."""
    now = now or utcnow()
    known = {c.upper() for c in kev}
    events: list[Event] = []
    with store.read() as session:
        slug = session.get_one(Project, project_id).slug
        base = select(FindingRecord).where(
            FindingRecord.project_id == project_id, FindingRecord.status.in_(OPEN_STATUSES)
        )

        def event(kind: str, f: FindingRecord) -> Event:
            return Event(kind, f.id, slug, f.title[:200], f.severity, f.rule_id, f.location[:300])

        critical = session.scalars(base.where(FindingRecord.severity_rank == Severity.CRITICAL.rank))
        events.extend(event("critical", f) for f in critical)
        events.extend(event("sla", f) for f in session.scalars(base.where(overdue_clause(sla, now))))
        for finding in session.scalars(base.order_by(FindingRecord.id)):
            flagged = isinstance(finding.extra, dict) and finding.extra.get("kev") is True
            if flagged or _cves(finding) & known:
                events.append(event("kev", finding))
    return events


@dataclass
class NotifyReport:
    """What one dispatch did."""

    sent: list[str] = field(default_factory=list)
    """``channel:event-key`` for each delivery."""
    already: int = 0
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the API."""
        return {"sent": self.sent, "already_sent": self.already, "failed": self.failed}


def _claim(store: Store, channel: str, event: Event, project_id: int, now: datetime) -> bool:
    try:
        with store.write() as session:
            session.add(
                SentNotice(
                    channel=channel,
                    event_key=event.key,
                    project_id=project_id,
                    attempts=0,
                    sent_at=now,
                    summary=event.headline[:300],
                )
            )
    except IntegrityError:
        return False
    return True


def dispatch(
    store: Store,
    project_id: int,
    channels: list[tuple[ChannelConfig, Channel]],
    events: list[Event],
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff_s: float = 0.5,
    now: datetime | None = None,
) -> NotifyReport:
    """Send each event to each channel subscribed to its kind, at most once ever (see module doc)."""
    now = now or utcnow()
    report = NotifyReport()
    for config, channel in channels:
        for event in events:
            if event.kind not in config.events:
                continue
            if not _claim(store, config.name, event, project_id, now):
                report.already += 1
                continue
            attempts, error = 0, None
            while True:
                attempts += 1
                try:
                    channel.send(event)
                    error = None
                    break
                except DeliveryError as exc:
                    error = exc
                    if not exc.retry or attempts > config.retries:
                        break
                    sleep(backoff_s * 2 ** (attempts - 1))
            with store.write() as session:
                where = (SentNotice.channel == config.name, SentNotice.event_key == event.key)
                if error is None:
                    row = session.scalars(select(SentNotice).where(*where)).one()
                    row.attempts = attempts
                    report.sent.append(f"{config.name}:{event.key}")
                else:
                    session.execute(delete(SentNotice).where(*where))
                    report.failed.append(f"{error} (after {attempts} attempt{'s' * (attempts > 1)})")
    return report
