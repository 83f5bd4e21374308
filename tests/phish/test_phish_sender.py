"""Sending through a real SMTP server on loopback: allow-list, STARTTLS and auth, throttle, retries
with nothing sent twice and nothing lost, scheduling windows, and --dry-run files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from phish_world import Mailbox, _self_signed, _serve, free_port, make_campaign
from sqlalchemy import select

from bastion.errors import UsageError
from bastion.phish.schedule import parse_local_start, send_times
from bastion.phish.sender import SmtpSettings, dry_run, send_campaign
from bastion.store.db import Store
from bastion.store.phish import PhishRecipient, PhishSendLog

ALLOW = {"example.com"}


def _states(store: Store, campaign_id: int) -> dict[str, str]:
    with store.read() as session:
        rows = session.scalars(select(PhishRecipient).where(PhishRecipient.campaign_id == campaign_id))
        return {r.email: r.status for r in rows}


def _settings(port: int, **extra: Any) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, rate_per_s=0, retry_wait_s=0, timeout_s=5, **extra)


def test_sends_each_message_once_with_tracked_links_only(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    report = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, sleep=lambda _s: None)
    assert report.outcomes == {"sent": 4} and report.errors == []
    assert sorted(m["To"].addresses[0].addr_spec for m in mailbox.messages) == [
        "ana.diaz@example.com",
        "ben.ode@example.com",
        "cy.ng@example.com",
        "gus.ho@example.com",
    ]
    message = next(m for m in mailbox.messages if "ana.diaz" in str(m["To"]))
    assert message["Subject"] == "Invoice Finance-2291 is overdue"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.startswith("Hello Ana,") and "invoice-2291.pdf: http://127.0.0.1:9/p/a/" in text
    assert 'href="http://127.0.0.1:9/p/c/' in html and "/p/o/" in html
    assert not any(part.get_content_disposition() == "attachment" for part in message.walk())
    assert message["X-Bastion-Report"].startswith("http://127.0.0.1:9/p/r/")
    urls = [w for w in (text + html).replace('"', " ").split() if "/p/" in w]
    assert urls and all("ana" not in u.lower() and "diaz" not in u.lower() and "%40" not in u for u in urls)
    again = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, sleep=lambda _s: None)
    assert again.outcomes == {} and len(mailbox.messages) == 4
    assert set(_states(store, campaign_id).values()) == {"sent"}


def test_only_allow_listed_domains_are_mailed(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    with pytest.raises(UsageError, match="no allow-listed recipient domain"):
        send_campaign(store, campaign_id, _settings(mailbox.port), set())
    report = send_campaign(
        store, campaign_id, _settings(mailbox.port), {"example.org"}, sleep=lambda _s: None
    )
    assert report.outcomes == {"blocked": 4} and mailbox.messages == []
    with store.read() as session:
        logs = list(session.scalars(select(PhishSendLog.detail).where(PhishSendLog.outcome == "blocked")))
    assert logs == ["domain example.com not allow-listed"] * 4


def test_starttls_and_authentication(store: Store, tls_mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    plain = send_campaign(store, campaign_id, _settings(tls_mailbox.port), ALLOW)
    assert plain.outcomes == {"pending": 4} and tls_mailbox.messages == []
    assert "the relay refuses: 530" in plain.errors[0] and plain.errors[0].endswith("run stopped")
    assert set(_states(store, campaign_id).values()) == {"pending"}
    other_ca = tls_mailbox.ca_file.with_name("other.pem") if tls_mailbox.ca_file else None
    assert other_ca is not None
    other_ca.write_text(certifi_like_empty_ca(), encoding="utf-8")
    untrusted = _settings(tls_mailbox.port, starttls=True, ca_file=other_ca, max_attempts=1)
    refused = send_campaign(store, campaign_id, untrusted, ALLOW)
    assert refused.outcomes == {"pending": 4} and "CERTIFICATE_VERIFY_FAILED" in refused.errors[0]
    settings = _settings(
        tls_mailbox.port,
        starttls=True,
        ca_file=tls_mailbox.ca_file,
        username="relay",
        password="relay-secret",
    )
    report = send_campaign(store, campaign_id, settings, ALLOW, sleep=lambda _s: None)
    assert report.outcomes == {"sent": 4} and len(tls_mailbox.messages) == 4
    assert tls_mailbox.logins == ["relay"]
    assert "relay-secret" not in repr(settings)


def certifi_like_empty_ca() -> str:
    """A CA file holding one unrelated self-signed certificate."""

    with tempfile.TemporaryDirectory() as directory:
        _, cert = _self_signed(Path(directory))
        return cert.read_text(encoding="utf-8")


def test_temporary_then_permanent_refusal(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    mailbox.refuse = [451, 550]
    waits: list[float] = []
    report = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, sleep=waits.append)
    assert report.outcomes == {"failed": 1, "sent": 3}
    assert waits == [0.0]  # one retry of the 451, no wait configured
    states = _states(store, campaign_id)
    assert list(states.values()).count("failed") == 1 and len(mailbox.messages) == 3
    assert report.errors[0].endswith("refused: 550 no such user")


def test_a_batch_left_sending_by_a_crash_is_not_resent_unless_asked(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    with store.write() as session:
        first = session.scalars(select(PhishRecipient).order_by(PhishRecipient.id)).first()
        assert first is not None
        first.status = "sending"  # what a process killed between the two commits of a batch leaves
    report = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW)
    assert report.outcomes == {"sent": 3} and len(mailbox.messages) == 3
    forced = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, resend_uncertain=True)
    assert forced.outcomes == {"sent": 1} and len(mailbox.messages) == 4


def test_connection_lost_after_data_is_uncertain_and_not_resent(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    mailbox.drop_after_data = 1
    report = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, sleep=lambda _s: None)
    assert report.outcomes == {"uncertain": 1, "sent": 3}
    assert len(mailbox.messages) == 4  # the relay did get it: resending would duplicate
    assert send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW).outcomes == {}
    assert len(mailbox.messages) == 4
    forced = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, resend_uncertain=True)
    assert forced.outcomes == {"sent": 1} and len(mailbox.messages) == 5


@pytest.fixture
def late_port() -> Iterator[int]:
    """A port where nothing listens yet."""
    yield free_port()


def test_relay_down_leaves_messages_pending_then_sends_each_once(store: Store, late_port: int) -> None:
    campaign_id = make_campaign(store)
    report = send_campaign(
        store, campaign_id, _settings(late_port, max_attempts=2), ALLOW, sleep=lambda _s: None
    )
    assert report.outcomes == {"pending": 4}
    assert all("cannot reach 127.0.0.1" in e and "left pending" in e for e in report.errors)
    assert set(_states(store, campaign_id).values()) == {"pending"}
    box = Mailbox(late_port)
    for served in _serve(box):
        again = send_campaign(store, campaign_id, _settings(late_port), ALLOW, sleep=lambda _s: None)
        assert again.outcomes == {"sent": 4} and len(served.messages) == 4


def test_throttle_waits_between_messages(store: Store, mailbox: Mailbox) -> None:
    campaign_id = make_campaign(store)
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    settings = SmtpSettings(host="127.0.0.1", port=mailbox.port, rate_per_s=2.0, retry_wait_s=0)
    report = send_campaign(store, campaign_id, settings, ALLOW, sleep=sleep, clock=lambda: now[0])
    assert report.outcomes == {"sent": 4}
    assert waits == [0.5, 0.5, 0.5, 0.5]


def test_window_sends_only_what_is_due(store: Store, mailbox: Mailbox) -> None:
    launched = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    campaign_id = make_campaign(store, window_minutes=60, launched=launched)
    with store.read() as session:
        due = sorted(r.send_at for r in session.scalars(select(PhishRecipient)) if r.send_at is not None)
    assert due == [launched + timedelta(minutes=15 * i) for i in range(4)]
    first = send_campaign(
        store, campaign_id, _settings(mailbox.port), ALLOW, now=lambda: launched + timedelta(minutes=20)
    )
    assert first.outcomes == {"sent": 2}
    rest = send_campaign(
        store, campaign_id, _settings(mailbox.port), ALLOW, now=lambda: launched + timedelta(hours=2)
    )
    assert rest.outcomes == {"sent": 2} and len(mailbox.messages) == 4


def test_local_start_time_per_time_zone() -> None:
    launched = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    times = send_times(launched, ["Europe/Lisbon", "Asia/Tokyo", ""], 0, time(9, 0))
    assert times == [
        datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 8, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
    ]
    assert parse_local_start("09:30") == time(9, 30) and parse_local_start(None) is None
    with pytest.raises(UsageError, match="expected HH:MM"):
        parse_local_start("9am")


def test_each_target_is_mailed_at_the_local_start_of_their_own_zone(store: Store, mailbox: Mailbox) -> None:
    launched = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 12:00 in Lisbon, 13:00 in Berlin
    campaign_id = make_campaign(store, launched=launched, local_start=time(9, 0))
    with store.read() as session:
        due = {r.email: (r.timezone, r.send_at) for r in session.scalars(select(PhishRecipient))}
    berlin, lisbon = datetime(2026, 12, 8, 8, 0), datetime(2026, 12, 8, 9, 0)  # 09:00 local, in UTC
    assert {email: (zone, at.replace(tzinfo=None) if at else None) for email, (zone, at) in due.items()} == {
        "ana.diaz@example.com": ("Europe/Lisbon", lisbon),
        "ben.ode@example.com": ("Europe/Lisbon", lisbon),
        "cy.ng@example.com": ("Europe/Berlin", berlin),
        "gus.ho@example.com": ("Europe/Berlin", berlin),
    }
    early = send_campaign(
        store, campaign_id, _settings(mailbox.port), ALLOW, now=lambda: launched + timedelta(hours=19)
    )
    assert early.outcomes == {} and mailbox.messages == []
    berlin_morning = launched + timedelta(hours=20, minutes=30)  # 08:30 UTC: 09:30 Berlin, 08:30 Lisbon
    first = send_campaign(store, campaign_id, _settings(mailbox.port), ALLOW, now=lambda: berlin_morning)
    assert first.outcomes == {"sent": 2}
    assert sorted(m["To"].addresses[0].addr_spec for m in mailbox.messages) == [
        "cy.ng@example.com",
        "gus.ho@example.com",
    ]
    later = send_campaign(
        store, campaign_id, _settings(mailbox.port), ALLOW, now=lambda: berlin_morning + timedelta(hours=1)
    )
    assert later.outcomes == {"sent": 2} and len(mailbox.messages) == 4


def test_dry_run_renders_files_and_sends_nothing(store: Store, mailbox: Mailbox, tmp_path: Path) -> None:
    campaign_id = make_campaign(store)
    report = dry_run(store, campaign_id, tmp_path / "out")
    assert [p.name for p in report.written] == ["0001.eml", "0002.eml", "0003.eml", "0004.eml"]
    first = (tmp_path / "out" / "0001.eml").read_text(encoding="utf-8")
    assert "Subject: Invoice Finance-2291 is overdue" in first and "/p/c/" in first
    assert (tmp_path / "out" / "0001.eml").stat().st_mode & 0o077 == 0
    assert mailbox.messages == [] and set(_states(store, campaign_id).values()) == {"pending"}
