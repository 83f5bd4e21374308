"""Reports forwarded to the report mailbox, read from a real IMAP server (pymap) on loopback: inline,
attached and gateway-rewritten links; forged tokens and messages without one recorded nothing."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from imap_world import imap_server
from phish_world import Mailbox, _self_signed, make_campaign
from sqlalchemy import select

from bastion.cli.main import main
from bastion.errors import InputError
from bastion.phish.inbox import ImapSettings, poll_imap, tokens_in_message
from bastion.phish.sender import SmtpSettings, send_campaign
from bastion.store.db import Store
from bastion.store.phish import PhishEvent

FORGED = "AAAAAAAAAAAAAAAAAAAAAA.bm90LWEtc2lnbmF0dXJlLWF0LWFsbA"


def _delivered(store: Store, mailbox: Mailbox) -> dict[str, EmailMessage]:
    campaign_id = make_campaign(store, base_url="https://phish.example.com")
    assert send_campaign(
        store, campaign_id, SmtpSettings(port=mailbox.port, rate_per_s=0), {"example.com"}
    ).outcomes
    return {str(m["To"].addresses[0].addr_spec): m for m in mailbox.messages}


def _forward_attached(original: EmailMessage) -> bytes:
    forward = EmailMessage()
    forward["From"], forward["To"], forward["Subject"] = (
        "ben.ode@example.com",
        "report@example.com",
        "Fwd: phish?",
    )
    forward.set_content("This looks like phishing.")
    forward.add_attachment(original)
    return forward.as_bytes()


def _forward_inline_rewritten(original: EmailMessage) -> bytes:
    text = original.get_body(("plain",)).get_content()
    link = next(w for w in text.split() if "/p/c/" in w)
    rewritten = "https://eur01.safelinks.protection.outlook.com/?url=" + quote(link, safe="") + "&data=x"
    forward = EmailMessage()
    forward["From"], forward["To"], forward["Subject"] = (
        "cy.ng@example.com",
        "report@example.com",
        "FW: invoice",
    )
    forward.set_content(f"----- Forwarded message -----\nReview the invoice: {rewritten}\n")
    return forward.as_bytes()


def _plain(text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "gus.ho@example.com", "report@example.com", "hello"
    message.set_content(text)
    return message.as_bytes()


def test_reports_from_the_mailbox(store: Store, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    received = _delivered(store, mailbox)
    with imap_server("phish-reports", "imap-secret") as account:
        account.deliver(
            _forward_attached(received["ben.ode@example.com"]),
            _forward_inline_rewritten(received["cy.ng@example.com"]),
            _plain("No token here, just a question."),
            _plain(f"A forged link: https://phish.example.com/p/c/{FORGED}"),
        )
        settings = ImapSettings("127.0.0.1", account.port, "phish-reports", "imap-secret", tls=False)
        done = poll_imap(store, settings)
        assert (done.messages, done.reports, done.without_token) == (4, 2, 1)
        assert account.seen() == {1, 2, 4}  # the message without a token stays unseen for a person
        again = poll_imap(store, settings)
        assert (again.messages, again.reports, again.without_token) == (1, 0, 1)
        account.deliver(_forward_attached(received["ben.ode@example.com"]))  # a second report by Ben
        monkeypatch.setenv("BASTION_IMAP_PASSWORD", "imap-secret")
        url = ["--database-url", f"sqlite:///{store.engine.url.database}"]
        args = ["phish", "reports", "--imap-host", "127.0.0.1", "--imap-port", str(account.port)]
        assert main([*args, "--imap-user", "phish-reports", "--no-tls", *url]) == 0
        assert account.seen() == {1, 2, 4, 5}
        with pytest.raises(InputError, match="refused the login"):
            poll_imap(store, ImapSettings("127.0.0.1", account.port, "phish-reports", "wrong", tls=False))
    with store.read() as session:
        reports = list(session.scalars(select(PhishEvent).where(PhishEvent.kind == "report")))
    assert [r.via for r in reports] == ["imap", "imap", "imap"]  # Ben reported twice, Cy once
    assert len({r.recipient_id for r in reports}) == 2


def test_tokens_in_message_and_unreachable_mailbox(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tokens_in_message(_plain("nothing")) == set()
    token = "abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz012345678"
    assert tokens_in_message(_plain(f"see https://x.example/p/r/{token} please")) == {token}
    with pytest.raises(InputError, match="cannot reach the report mailbox"):
        poll_imap(Store.open("sqlite://"), ImapSettings("127.0.0.1", 9, "u", "p", tls=False, timeout_s=2))
    monkeypatch.delenv("BASTION_IMAP_PASSWORD", raising=False)
    assert main(["phish", "reports", "--imap-host", "127.0.0.1", "--imap-user", "u"]) == 2


def test_starttls_verified_against_the_given_ca(
    store: Store, mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = _delivered(store, mailbox)
    _, cert = _self_signed(tmp_path)
    with imap_server("phish-reports", "imap-secret", (cert, tmp_path / "key.pem")) as account:
        account.deliver(_forward_attached(received["gus.ho@example.com"]))
        settings = ImapSettings(
            "127.0.0.1", account.port, "phish-reports", "imap-secret", tls=False, ca_file=cert
        )
        with pytest.raises(InputError, match="STARTTLS with the report mailbox failed"):
            poll_imap(store, replace(settings, ca_file=None))  # not signed by a CA the system trusts
        with pytest.raises(InputError, match="cannot read the report mailbox's CA"):
            poll_imap(store, replace(settings, ca_file=tmp_path / "missing.pem"))
        assert account.seen() == set()
        done = poll_imap(store, settings)
        assert (done.messages, done.reports) == (1, 1) and account.seen() == {1}
        monkeypatch.setenv("BASTION_IMAP_PASSWORD", "imap-secret")
        args = ["phish", "reports", "--imap-host", "127.0.0.1", "--imap-port", str(account.port)]
        url = ["--database-url", f"sqlite:///{store.engine.url.database}"]
        assert main([*args, "--imap-user", "phish-reports", "--no-tls", "--imap-ca", str(cert), *url]) == 0
    with store.read() as session:
        assert list(session.scalars(select(PhishEvent.via).where(PhishEvent.kind == "report"))) == ["imap"]
