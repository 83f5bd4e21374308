"""Sending a campaign through an SMTP relay: allow-listed, throttled, logged, never twice.

Every message is marked ``sending`` (and committed) before its DATA is transmitted, ``sent``
once the relay accepts it. A failure before the body went out (connect refused, a 4xx on MAIL
or RCPT, a dropped connection at ``DATA``) is retried on a fresh connection up to
``max_attempts`` times, then left ``pending`` for the next run: nothing is lost. A connection
lost after the body was sent but before the relay answered is ``uncertain``: it is not resent
unless the operator asks (``--resend-uncertain``), so nothing is sent twice behind their back.
A 5xx answer is ``failed`` for good. A recipient outside the allow-listed domains is
``blocked`` and never contacted.
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

from sqlalchemy import select

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
    verify_tls: bool = True
    timeout_s: float = 20.0
    rate_per_s: float = 10.0
    max_attempts: int = 3
    retry_wait_s: float = 2.0


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
            context = ssl.create_default_context()
            if not s.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
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


def _log(
    session_store: Store, recipient: PhishRecipient, outcome: str, detail: str, **changes: object
) -> None:
    with session_store.write() as session:
        live = session.get(PhishRecipient, recipient.id)
        if live is None:
            return
        for key, value in changes.items():
            setattr(live, key, value)
        session.add(
            PhishSendLog(
                campaign_id=live.campaign_id, recipient_id=live.id, outcome=outcome, detail=detail[:500]
            )
        )


def _due(store: Store, campaign_id: int, now: datetime, resend_uncertain: bool) -> list[PhishRecipient]:
    states = ("pending", "uncertain") if resend_uncertain else ("pending",)
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
    interval = 1.0 / settings.rate_per_s if settings.rate_per_s > 0 else 0.0
    next_at = clock()
    try:
        for recipient in _due(store, campaign_id, now(), resend_uncertain):
            domain = recipient.email.rpartition("@")[2].lower()
            if domain not in allow_domains:
                _log(store, recipient, "blocked", f"domain {domain} not allow-listed", status="blocked")
                report.outcomes["blocked"] += 1
                continue
            message = build_message(campaign, recipient, signer)
            try:
                outcome = _deliver(store, relay, campaign.sender, recipient, message, settings, sleep, report)
            except _RelayRefused as exc:
                report.outcomes["pending"] += 1
                report.errors.append(
                    f"{settings.host}:{settings.port}: the relay refuses: {exc}; run stopped"
                )
                break
            report.outcomes[outcome] += 1
            if interval:
                next_at += interval
                wait = next_at - clock()
                if wait > 0:
                    sleep(wait)
                else:
                    next_at = clock()
    finally:
        relay.close()
    return report


def _deliver(
    store: Store,
    relay: _Relay,
    sender: str,
    recipient: PhishRecipient,
    message: EmailMessage,
    settings: SmtpSettings,
    sleep: Callable[[float], None],
    report: SendReport,
) -> str:
    """Try one message up to ``max_attempts`` times; returns its final state."""
    message_id = str(message["Message-ID"])
    attempts = recipient.attempts
    last = ""
    for attempt in range(settings.max_attempts):
        attempts += 1
        _log(
            store,
            recipient,
            "attempt",
            f"attempt {attempts}",
            status="sending",
            attempts=attempts,
            message_id=message_id,
        )
        try:
            relay.send(sender, recipient.email, message)
        except _Uncertain as exc:
            _log(
                store,
                recipient,
                "uncertain",
                f"connection lost after the body was sent: {exc}",
                status="uncertain",
            )
            report.errors.append(f"{recipient.email}: delivery uncertain (not resent): {exc}")
            return "uncertain"
        except (
            smtplib.SMTPSenderRefused,
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPNotSupportedError,
        ) as exc:
            last = _describe(exc)
            _log(store, recipient, "retry", last, status="pending", last_error=last)
            relay.close()
            raise _RelayRefused(last) from None
        except smtplib.SMTPException as exc:
            last = _describe(exc)
            if _permanent(exc):
                _log(store, recipient, "failed", last, status="failed", last_error=last)
                report.errors.append(f"{recipient.email}: refused: {last}")
                return "failed"
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                relay.close()
        except OSError as exc:
            last = f"cannot reach {settings.host}:{settings.port}: {exc.strerror or exc}"
            relay.close()
        else:
            _log(
                store,
                recipient,
                "sent",
                "accepted by the relay",
                status="sent",
                sent_at=utcnow(),
                last_error="",
            )
            return "sent"
        _log(store, recipient, "retry", last, status="pending", last_error=last)
        if attempt + 1 < settings.max_attempts:
            sleep(settings.retry_wait_s * (attempt + 1))
    report.errors.append(
        f"{recipient.email}: not sent after {settings.max_attempts} attempts ({last}); left pending"
    )
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
