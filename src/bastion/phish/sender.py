"""Sending a campaign through an SMTP relay: allow-listed, throttled, logged, never twice.

Messages go in batches: every message of a batch is committed as ``sending`` before the first of
them is transmitted, and each outcome is committed after the batch (``sent`` once the relay
accepted it). A failure before the body went out (connect refused, a 4xx on RCPT, a dropped
connection before ``DATA``) is retried on a fresh connection up to ``max_attempts`` times, then
left ``pending`` for the next run: nothing is lost. A connection lost after the body was sent
but before the relay answered is ``uncertain``: it is not resent unless the operator asks
(``--resend-uncertain``), so nothing is sent twice behind their back; a process killed mid-batch
leaves that batch ``sending``, which counts as uncertain the same way. A 5xx answer is ``failed``
for good; a relay that refuses the sender or the login stops the run with every message still
``pending``. A recipient outside the allow-listed domains is ``blocked`` and never contacted.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from sqlalchemy import select, update

from bastion import atomic
from bastion.errors import InputError, UsageError
from bastion.phish.templates import render_email
from bastion.phish.tokens import TokenSigner, signer_for
from bastion.store.db import Store
from bastion.store.models import utcnow
from bastion.store.phish import PhishCampaign, PhishRecipient, PhishSendLog

__all__ = ["SendReport", "SmtpSettings", "build_message", "links", "send_campaign"]

_SPLIT_NAME = re.compile(r"\s+")


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the relay. The password comes from the environment, never a flag."""

    host: str = "127.0.0.1"
    port: int = 25
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    ca_file: Path | None = None
    """CA certificate(s) to verify the relay with, when not in the system store (a private CA)."""
    timeout_s: float = 20.0
    rate_per_s: float = 10.0
    max_attempts: int = 3
    retry_wait_s: float = 2.0
    batch: int = 25
    """Messages committed as ``sending`` together before the first of them goes out."""


@dataclass
class SendReport:
    """What one run did."""

    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


class _Uncertain(Exception):
    """The body went out and no answer came back."""


class _RelayRefused(Exception):
    """The relay refuses the sender or the session (TLS or authentication required, bad login):
    no message can go through it, so the run stops and every message stays pending."""


def links(base_url: str, token: str) -> dict[str, str]:
    """The tracking links of one recipient (the token is the only per-person part)."""
    return {
        "url": f"{base_url}/p/c/{token}",
        "report_url": f"{base_url}/p/r/{token}",
        "pixel_url": f"{base_url}/p/o/{token}",
        "attachment_url": f"{base_url}/p/a/{token}",
    }


def build_message(campaign: PhishCampaign, recipient: PhishRecipient, signer: TokenSigner) -> EmailMessage:
    """The message for ``recipient``: text and HTML parts, tracked links, a report header."""
    token = signer.sign(recipient.token_id)
    first, _, last = _SPLIT_NAME.sub(" ", recipient.name.strip()).partition(" ")
    variables = {
        "first_name": first,
        "last_name": last,
        "name": recipient.name,
        "email": recipient.email,
        "department": recipient.department,
        "location": recipient.location,
        "attachment_name": campaign.attachment_name,
        "sender": campaign.sender,
        **links(campaign.base_url, token),
    }
    rendered = render_email(
        campaign.subject, campaign.html, campaign.text_body, variables, f"campaign {campaign.name}"
    )
    message = EmailMessage()
    message["From"] = campaign.sender
    message["To"] = formataddr((recipient.name, recipient.email)) if recipient.name else recipient.email
    message["Subject"] = rendered.subject
    message["Message-ID"] = recipient.message_id or make_msgid(
        domain=campaign.sender.rpartition("@")[2] or None
    )
    # Mail add-ins post this to /p/r/TOKEN: the report button needs no parsing of the body.
    message["X-Bastion-Report"] = variables["report_url"]
    text = rendered.text or "This message has an HTML part only."
    if campaign.attachment_name:
        text += f"\n\n{campaign.attachment_name}: {variables['attachment_url']}\n"
    message.set_content(text)
    if rendered.html:
        html = rendered.html
        if campaign.attachment_name:
            html += f'<p><a href="{variables["attachment_url"]}">{_escape(campaign.attachment_name)}</a></p>'
        message.add_alternative(html, subtype="html")
    return message


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _dot_stuffed(message: EmailMessage) -> bytes:
    data = message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class _Relay:
    """One SMTP connection, opened lazily and reused for many messages."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        smtp.ehlo()
        if s.starttls:
            try:
                context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
            except OSError as exc:
                raise InputError(f"{s.ca_file}: cannot read the relay's CA: {exc.strerror or exc}") from None
            smtp.starttls(context=context)
            smtp.ehlo()
        if s.username:
            if not s.starttls and s.host not in ("127.0.0.1", "localhost", "::1"):
                raise UsageError("refusing to send an SMTP password without STARTTLS to a remote relay")
            smtp.login(s.username, s.password)
        return smtp

    def send(self, sender: str, recipient: str, message: EmailMessage) -> None:
        """Deliver one message; :class:`_Uncertain` when the body went out unanswered."""
        if self.smtp is None:
            self.smtp = self._open()
        smtp = self.smtp
        code, reply = smtp.mail(sender)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.docmd("DATA")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        try:
            smtp.send(_dot_stuffed(message))
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise _Uncertain(str(exc)) from None
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def close(self) -> None:
        """Quit (or drop) the connection."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _permanent(exc: smtplib.SMTPException) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = next(iter(exc.recipients.values()))[0]
    return isinstance(code, int) and code >= 500


class _Journal:
    """Send-state changes, committed together: every message of a batch is committed as
    ``sending`` before the first of them is transmitted, and the outcomes after the batch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.notes: list[tuple[PhishRecipient, str, str, dict[str, object]]] = []

    def note(self, recipient: PhishRecipient, outcome: str, detail: str, **changes: object) -> None:
        """Remember a change of ``recipient`` and a send-log line."""
        self.notes.append((recipient, outcome, detail, changes))

    def flush(self) -> None:
        """Commit what was noted, in one transaction."""
        if not self.notes:
            return
        with self.store.write() as session:
            for recipient, outcome, detail, changes in self.notes:
                if changes:
                    session.execute(
                        update(PhishRecipient).where(PhishRecipient.id == recipient.id).values(**changes)
                    )
                session.add(
                    PhishSendLog(
                        campaign_id=recipient.campaign_id,
                        recipient_id=recipient.id,
                        outcome=outcome,
                        detail=detail[:500],
                    )
                )
        self.notes.clear()


def _due(store: Store, campaign_id: int, now: datetime, resend_uncertain: bool) -> list[PhishRecipient]:
    states = ("pending", "uncertain", "sending") if resend_uncertain else ("pending",)
    with store.read() as session:
        rows = list(
            session.scalars(
                select(PhishRecipient)
                .where(
                    PhishRecipient.campaign_id == campaign_id,
                    PhishRecipient.status.in_(states),
                    PhishRecipient.send_at <= now,
                )
                .order_by(PhishRecipient.send_at, PhishRecipient.id)
            )
        )
        session.expunge_all()
    return rows


def send_campaign(
    store: Store,
    campaign_id: int,
    settings: SmtpSettings,
    allow_domains: set[str],
    *,
    resend_uncertain: bool = False,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendReport:
    """Send every due message of a running campaign; see the module docstring for the states."""
    if not allow_domains:
        raise UsageError(
            "no allow-listed recipient domain (--allow-domain example.com or BASTION_PHISH_ALLOW_DOMAINS)"
        )
    with store.read() as session:
        campaign = session.get(PhishCampaign, campaign_id)
        if campaign is None:
            raise InputError(f"no phishing campaign {campaign_id}")
        if campaign.status != "running":
            raise UsageError(f"campaign {campaign.name!r} is {campaign.status}: launch it first")
        signer = signer_for(session)
        session.expunge(campaign)
    report = SendReport()
    relay = _Relay(settings)
    journal = _Journal(store)
    pace = _Pace(settings.rate_per_s, sleep, clock)
    due = _due(store, campaign_id, now(), resend_uncertain)
    try:
        for first in range(0, len(due), settings.batch):
            batch: list[tuple[PhishRecipient, EmailMessage]] = []
            for recipient in due[first : first + settings.batch]:
                domain = recipient.email.rpartition("@")[2].lower()
                if domain not in allow_domains:
                    journal.note(recipient, "blocked", f"domain {domain} not allow-listed", status="blocked")
                    report.outcomes["blocked"] += 1
                    continue
                message = build_message(campaign, recipient, signer)
                recipient.attempts += 1
                recipient.message_id = str(message["Message-ID"])
                journal.note(
                    recipient,
                    "attempt",
                    f"attempt {recipient.attempts}",
                    status="sending",
                    attempts=recipient.attempts,
                    message_id=recipient.message_id,
                )
                batch.append((recipient, message))
            journal.flush()
            try:
                for index, (recipient, message) in enumerate(batch):
                    try:
                        outcome = _deliver(
                            relay, campaign.sender, recipient, message, settings, sleep, journal
                        )
                    except _RelayRefused as exc:
                        for unsent, _ in batch[index:]:
                            journal.note(unsent, "retry", str(exc), status="pending", last_error=str(exc))
                        report.outcomes["pending"] += len(batch) - index
                        report.errors.append(
                            f"{settings.host}:{settings.port}: the relay refuses: {exc}; run stopped"
                        )
                        return report
                    report.outcomes[outcome] += 1
                    if outcome != "sent":
                        report.errors.append(
                            f"{recipient.email}: {_EXPLAIN[outcome]}: {recipient.last_error}"
                        )
                    pace.wait()
            finally:
                journal.flush()
    finally:
        relay.close()
    return report


_EXPLAIN = {
    "uncertain": "delivery uncertain (connection lost after the body was sent; not resent)",
    "failed": "refused",
    "pending": "not sent, left pending",
}


class _Pace:
    """At most ``rate`` messages a second (0: no limit)."""

    def __init__(self, rate: float, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.sleep, self.clock = sleep, clock
        self.next_at = clock()

    def wait(self) -> None:
        """Sleep until the next message may go."""
        if not self.interval:
            return
        self.next_at += self.interval
        wait = self.next_at - self.clock()
        if wait > 0:
            self.sleep(wait)
        else:
            self.next_at = self.clock()


def _deliver(
    relay: _Relay,
    sender: str,
    recipient: PhishRecipient,
    message: EmailMessage,
    settings: SmtpSettings,
    sleep: Callable[[float], None],
    journal: _Journal,
) -> str:
    """Try one message up to ``max_attempts`` times (on fresh connections); returns its final
    state and notes it (and every retry) in ``journal``."""
    for attempt in range(settings.max_attempts):
        try:
            relay.send(sender, recipient.email, message)
        except _Uncertain as exc:
            recipient.last_error = str(exc)
            journal.note(
                recipient, "uncertain", f"connection lost after the body was sent: {exc}", status="uncertain"
            )
            return "uncertain"
        except (
            smtplib.SMTPSenderRefused,
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPNotSupportedError,
        ) as exc:
            relay.close()
            raise _RelayRefused(_describe(exc)) from None
        except smtplib.SMTPException as exc:
            recipient.last_error = _describe(exc)
            if _permanent(exc):
                journal.note(
                    recipient,
                    "failed",
                    recipient.last_error,
                    status="failed",
                    last_error=recipient.last_error,
                )
                return "failed"
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                relay.close()
        except OSError as exc:
            recipient.last_error = f"cannot reach {settings.host}:{settings.port}: {exc.strerror or exc}"
            relay.close()
        else:
            journal.note(
                recipient, "sent", "accepted by the relay", status="sent", sent_at=utcnow(), last_error=""
            )
            return "sent"
        journal.note(
            recipient, "retry", recipient.last_error, status="pending", last_error=recipient.last_error
        )
        if attempt + 1 < settings.max_attempts:
            sleep(settings.retry_wait_s * (attempt + 1))
    recipient.last_error += f" (after {settings.max_attempts} attempts)"
    return "pending"


def _describe(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused_code, refused = next(iter(exc.recipients.values()))
        return f"{refused_code} {refused.decode(errors='replace')}"
    code = getattr(exc, "smtp_code", None)
    reply = getattr(exc, "smtp_error", b"")
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply or exc)
    return f"{code} {text}" if code else text or type(exc).__name__


def dry_run(store: Store, campaign_id: int, directory: Path) -> SendReport:
    """Render every message of the campaign to ``directory`` as ``NNNN.eml``; sends nothing."""
    report = SendReport()
    with store.read() as session:
        campaign = session.get(PhishCampaign, campaign_id)
        if campaign is None:
            raise InputError(f"no phishing campaign {campaign_id}")
        signer = signer_for(session)
        recipients = list(
            session.scalars(
                select(PhishRecipient)
                .where(PhishRecipient.campaign_id == campaign_id)
                .order_by(PhishRecipient.id)
            )
        )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{directory}: cannot create: {exc.strerror or exc}") from None
        for number, recipient in enumerate(recipients, 1):
            path = directory / f"{number:04d}.eml"
            atomic.write_bytes(
                path, build_message(campaign, recipient, signer).as_bytes(), what="message", private=True
            )
            report.written.append(path)
            report.outcomes["rendered"] += 1
    return report
