"""Reports forwarded to a mailbox: the exercise message, forwarded (inline or attached) to the
security team's report address, is a report by its recipient.

The token is found in the message's ``X-Bastion-Report`` header or in any tracking link of any
part, also when a gateway rewrote the link (Safe Links and URL Defense put the original, encoded,
in a parameter). :func:`poll_imap` reads the unseen messages of an IMAP mailbox, records a report
for each token whose signature holds, and marks the message seen; a message without a token is
left unseen for people to read.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from bastion.errors import InputError
from bastion.phish.service import Hit, record
from bastion.phish.tokens import signer_for
from bastion.store.db import Store

__all__ = ["ImapSettings", "InboxReport", "poll_imap", "tokens_in_message"]

_LINK = re.compile(r"/p/[corap]/([A-Za-z0-9_\-]{10,60}\.[A-Za-z0-9_\-]{20,100})")
_MAX_BYTES = 5 * 1024 * 1024


def tokens_in_message(raw: bytes) -> set[str]:
    """Every tracking token in a (forwarded) message: headers, every text part, attached messages."""
    message = email.message_from_bytes(raw[:_MAX_BYTES], policy=email.policy.default)
    found: set[str] = set()
    _collect(message, found)
    return found


def _collect(message: email.message.Message, found: set[str]) -> None:
    for header in ("X-Bastion-Report",):
        for value in message.get_all(header) or []:
            found.update(_LINK.findall(str(value)))
    for part in message.walk():
        if part is not message and part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            for attached in inner if isinstance(inner, list) else []:
                if isinstance(attached, email.message.Message):
                    _collect(attached, found)
            continue
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        found.update(_LINK.findall(text))
        found.update(_LINK.findall(unquote(unquote(text))))


@dataclass(frozen=True)
class ImapSettings:
    """The report mailbox. The password comes from the environment, never a flag."""

    host: str = "127.0.0.1"
    port: int = 993
    username: str = ""
    password: str = field(default="", repr=False)
    mailbox: str = "INBOX"
    tls: bool = True
    """Implicit TLS (IMAPS); with ``False`` the connection is upgraded with STARTTLS whenever the
    server offers it, and must be unless the server is on loopback."""
    timeout_s: float = 30.0
    ca_file: Path | None = None
    """Verify the server against this CA bundle instead of the system's."""


@dataclass
class InboxReport:
    """What a poll did."""

    messages: int = 0
    reports: int = 0
    without_token: int = 0


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _tls_context(settings: ImapSettings) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"{settings.ca_file}: cannot read the report mailbox's CA: {reason}") from None


def _close(client: imaplib.IMAP4) -> None:
    try:
        client.shutdown()
    except OSError:
        return


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    where = f"{settings.host}:{settings.port}"
    context = _tls_context(settings)
    try:
        if settings.tls:
            return imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=settings.timeout_s
            )
        client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout_s)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise InputError(f"{where}: cannot reach the report mailbox: {exc}") from None
    if "STARTTLS" in client.capabilities:
        try:
            client.starttls(context)
        except (OSError, imaplib.IMAP4.error) as exc:
            _close(client)
            raise InputError(f"{where}: STARTTLS with the report mailbox failed: {exc}") from None
    elif settings.host not in _LOOPBACK:
        _close(client)
        raise InputError(f"{where}: the report mailbox offers no STARTTLS; the password is not sent in clear")
    return client


def poll_imap(store: Store, settings: ImapSettings) -> InboxReport:
    """Record a report for every token in the mailbox's unseen messages."""
    report = InboxReport()
    client = _connect(settings)
    try:
        try:
            client.login(settings.username, settings.password)
        except imaplib.IMAP4.error:
            raise InputError(
                f"{settings.host}:{settings.port}: the report mailbox refused the login"
            ) from None
        status, _ = client.select(settings.mailbox)
        if status != "OK":
            raise InputError(f"{settings.host}:{settings.port}: no mailbox {settings.mailbox!r}")
        _, data = client.search(None, "UNSEEN")
        for number in (data[0] or b"").split():
            _, parts = client.fetch(number.decode(), "(RFC822)")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), b"")
            report.messages += 1
            tokens = tokens_in_message(raw)
            if not tokens:
                report.without_token += 1
                client.store(number.decode(), "-FLAGS", "(\\Seen)")
                continue
            with store.write() as session:
                signer = signer_for(session)
                for token in tokens:
                    token_id = signer.unsign(token)
                    if token_id is not None and record(session, token_id, Hit(kind="report", via="imap")):
                        report.reports += 1
            client.store(number.decode(), "+FLAGS", "(\\Seen)")
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            client.shutdown()
    return report
