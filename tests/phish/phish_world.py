"""Helpers and fixtures of the phishing tests: stores, campaigns, SMTP servers on loopback."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from store_backends import open_store, postgres_url

from bastion.phish.service import create_campaign, import_targets, launch
from bastion.phish.targets import read_exclusions, read_targets
from bastion.phish.templates import load_email, load_landing
from bastion.store.db import Store
from bastion.store.phish import PhishCampaign

__all__ = ["any_store", "fixtures", "mailbox", "postgres_url", "store", "tls_mailbox"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "phish"
PASSWORD_TYPED = (
    "Tr0ub4dor&3-never-stored"  # bastion: ignore[sast.bandit.B105] test input that must never be stored
)


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures/phish."""
    return FIXTURES


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store."""
    opened = open_store("sqlite", tmp_path, None)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Store]:
    """A migrated store on each back end (PostgreSQL skipped with the reason when unreachable)."""
    opened = open_store(request.param, tmp_path, postgres_url)
    yield opened
    opened.close()


def make_campaign(
    store: Store,
    name: str = "q1-invoice",
    base_url: str = "http://127.0.0.1:9",
    window_minutes: int = 0,
    launched: datetime | None = None,
    local_start: time | None = None,
) -> int:
    """Import the fixture targets (with exclusions) into group staff, create and launch ``name``
    (its window opening at ``local_start`` in each target's time zone, when given)."""
    with store.write() as session:
        result = read_targets(FIXTURES / "targets.csv")
        import_targets(session, "staff", result, read_exclusions(FIXTURES / "exclusions.txt"), "test")
    with store.write() as session:
        campaign = create_campaign(
            session,
            name,
            "staff",
            load_email(FIXTURES / "email.yml"),
            load_landing(FIXTURES / "landing-login.yml"),
            base_url,
            "test",
            window_minutes=window_minutes,
        )
        when = launched or datetime.now(UTC) - timedelta(seconds=1)
        launch(session, campaign, "test", local_start=local_start, now=when)
        return campaign.id


def campaign_row(store: Store, campaign_id: int) -> PhishCampaign:
    """The campaign, detached."""
    with store.read() as session:
        row = session.get(PhishCampaign, campaign_id)
        assert row is not None
        session.expunge(row)
        return row


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the loopback SMTP server received."""

    port: int
    messages: list[Any] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)
    """SMTP codes to answer RCPT with, one per call, before accepting."""
    drop_after_data: int = 0
    """Accept and store the next N messages but drop the connection instead of answering."""
    logins: list[str] = field(default_factory=list)
    ca_file: Path | None = None
    """The relay's self-signed certificate (STARTTLS relays)."""


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if self.box.refuse:
            code = self.box.refuse.pop(0)
            return f"{code} try later" if code < 500 else f"{code} no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, _session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.box.drop_after_data:
            self.box.drop_after_data -= 1
            server.transport.close()
        return "250 Message accepted"


def _self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(loopback, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


def _serve(box: Mailbox, **options: Any) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A plain SMTP server on loopback."""
    yield from _serve(Mailbox(free_port()))


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """An SMTP server on loopback that requires STARTTLS and authentication (user relay)."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    context, cert = _self_signed(tmp_path)
    box = Mailbox(free_port(), ca_file=cert)

    def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"relay" and data.password == b"relay-secret"
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok)

    yield from _serve(
        box,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
