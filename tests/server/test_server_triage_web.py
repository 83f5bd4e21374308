"""The triage workflow in the dashboard over HTTP: bulk triage form (CSRF), grouped list, export
links, saved filters and comments (escaped, never rendered)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from helpers_store import scan_of
from server_world import World, login
from sqlalchemy import select
from triage_seed import triage_findings

from bastion.store.accounts import set_role
from bastion.store.ingest import ingest
from bastion.store.models import AuditEvent, FindingRecord, Project, User


@pytest.fixture
def seeded(world: World) -> World:
    """The SQLite world with the triage findings in project demo and one finding in other."""
    with world.store.read() as session:
        ids = dict(session.execute(select(Project.slug, Project.id)).all())
    ingest(world.store, ids["demo"], scan_of(*triage_findings(), scanners=("sast", "deps")), "ci")
    ingest(world.store, ids["other"], scan_of(triage_findings()[-1]), "ci")
    return world


@pytest.fixture
def web(seeded: World) -> Iterator[TestClient]:
    """A client of the seeded world."""
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def _ids(world: World) -> list[int]:
    with world.store.read() as session:
        query = (
            select(FindingRecord.id).join(Project).where(Project.slug == "demo").order_by(FindingRecord.id)
        )
        return list(session.scalars(query))


def test_findings_list_has_checkboxes_bulk_bar_and_tools_for_a_maintainer(web: TestClient) -> None:
    login(web, "maya")
    page = web.get("/findings?project=demo").text
    assert 'id="select-all"' in page and 'form="bulk"' in page and '<form id="bulk"' in page
    assert page.count('class="pick"') == 11 and "/static/triage.js" in page
    assert 'name="csrf_token"' in page and "all 11 matching the filter" in page
    assert "/findings/export?format=csv&amp;project=demo" in page
    assert 'href="/findings/groups?by=package&amp;project=demo' in page
    partial = web.get("/findings?project=demo&severity=high", headers={"HX-Request": "true"}).text
    assert "<html" not in partial and 'name="f_severity" value="high"' in partial
    login(web, "vic")
    viewer = web.get("/findings?project=demo").text
    assert 'id="select-all"' not in viewer and 'class="pick"' not in viewer and "Export" in viewer


def test_bulk_form_triages_the_ticked_rows_with_csrf(seeded: World, web: TestClient) -> None:
    ids = _ids(seeded)
    csrf = login(web, "maya")
    form = {"status": "confirmed", "ids": [str(i) for i in ids[:3]], "next": "/findings?project=demo"}
    assert web.post("/findings/triage", data=form).status_code == 403  # no CSRF token
    done = web.post("/findings/triage", data={**form, "csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/findings?project=demo&triaged=3"
    assert "3 findings triaged." in web.get(done.headers["location"]).text
    with seeded.store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "finding.triaged")).all()
    assert [(e.finding_id, e.to_status, e.actor) for e in events] == [
        (i, "confirmed", "maya") for i in ids[:3]
    ]
    bad = web.post("/findings/triage", data={**form, "ids": [str(ids[0]), "987654"], "csrf_token": csrf})
    assert bad.status_code == 422 and "987654" in bad.text
    elsewhere = web.post(
        "/findings/triage", data={**form, "next": "https://evil.example/", "csrf_token": csrf}
    )
    assert elsewhere.headers["location"] == "/findings?triaged=0"
    bad_date = web.post("/findings/triage", data={**form, "until": "soon", "csrf_token": csrf})
    assert bad_date.status_code == 422
    accept = {
        "status": "risk_accepted",
        "scope": "filter",
        "f_project": "demo",
        "f_q": "urllib3",
        "reason": "vendor fix in Q1",
        "until": "2099-03-31",
        "next": "/findings/groups?by=package&project=demo",
        "csrf_token": csrf,
    }
    accepted = web.post("/findings/triage", data=accept)
    assert accepted.headers["location"] == "/findings/groups?by=package&project=demo&triaged=6"
    with seeded.store.read() as session:
        states = session.scalars(
            select(FindingRecord.status).where(FindingRecord.title.contains("urllib3"))
        ).all()
    assert states == ["risk_accepted"] * 6
    csrf = login(web, "vic")
    assert web.post("/findings/triage", data={**form, "csrf_token": csrf}).status_code == 403


def test_grouped_page_and_expanding_a_group(web: TestClient) -> None:
    login(web, "vic")
    page = web.get("/findings/groups?by=package&project=demo")
    assert page.status_code == 200 and "grouped by package" in page.text
    rows = re.findall(r'<tr class="group-row"', page.text)
    assert len(rows) == 2 and "urllib3" in page.text and "1.26.19" in page.text
    assert '<input type="hidden" name="by" value="package">' in page.text
    link = re.search(r'hx-get="(/findings/groups/items\?[^"]+package=urllib3[^"]*)"', page.text)
    assert link is not None
    items = web.get(link.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert "<html" not in items.text and items.text.count('<tr id="row-') == 6
    full = web.get(link.group(1).replace("&amp;", "&"))
    assert "<html" in full.text and "urllib3 1.26.3" in full.text
    rules = web.get(
        "/findings/groups?by=rule&project=demo&severity=high", headers={"HX-Request": "true"}
    ).text
    assert "sast.sqli" in rules and "<html" not in rules
    assert web.get("/findings/groups?by=team").status_code == 422
    empty = web.get("/findings/groups?by=package&q=nothing-like-this").text
    assert "No vulnerable packages match these filters." in empty


def test_export_from_the_dashboard_follows_the_filter(web: TestClient) -> None:
    login(web, "vic")
    response = web.get("/findings/export?format=csv&project=demo&severity=high")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.status_code == 200 and len(rows) == 5 and {r["status"] for r in rows} == {"open"}
    every = web.get("/findings/export?format=json").json()
    assert {f["project"] for f in every} == {"demo"}  # vic reads demo only
    assert web.get("/findings/export?project=other").status_code == 403


def test_saved_filters_in_the_dashboard(web: TestClient) -> None:
    csrf = login(web, "maya")
    query = "project=demo&status=open&q=urllib3&by=package"
    saved = web.post(
        "/findings/filters", data={"name": "urllib3", "query": query, "shared": "true", "csrf_token": csrf}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/findings/groups?by=package&project=demo&status=open&q=urllib3"
    bad = web.post("/findings/filters", data={"name": "x", "query": "sort=colour", "csrf_token": csrf})
    assert bad.status_code == 422
    panel = web.get("/findings/filters", headers={"HX-Request": "true"}).text
    assert "urllib3" in panel and "shared" in panel and "<html" not in panel and "Delete" in panel
    login(web, "vic")
    seen = web.get("/findings/filters").text
    assert "<html" in seen and "by maya" in seen and "Delete" not in seen
    fid = re.search(r"/findings/filters/(\d+)/delete", panel)
    assert fid is not None
    csrf = login(web, "maya")
    gone = web.post(f"/findings/filters/{fid.group(1)}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303 and "urllib3" not in web.get("/findings/filters").text


def test_comments_on_the_finding_page_are_escaped(seeded: World, web: TestClient) -> None:
    fid = _ids(seeded)[0]
    csrf = login(web, "maya")
    page = web.get(f"/findings/{fid}").text
    assert f'hx-get="/findings/{fid}/comments"' in page
    text = "<script>alert(1)</script> **not bold**\nsecond line"
    posted = web.post(f"/findings/{fid}/comments", data={"text": text, "csrf_token": csrf})
    assert posted.status_code == 303 and posted.headers["location"] == f"/findings/{fid}#comments"
    fragment = web.post(
        f"/findings/{fid}/comments",
        data={"text": "again", "csrf_token": csrf},
        headers={"HX-Request": "true"},
    ).text
    assert "<html" not in fragment and "again" in fragment
    shown = web.get(f"/findings/{fid}/comments", headers={"HX-Request": "true"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **not bold**" in shown and "<script>alert" not in shown
    assert "<strong>not bold</strong>" not in shown and 'id="comment-form"' in shown
    assert "commented" in web.get(f"/findings/{fid}").text
    assert web.post(f"/findings/{fid}/comments", data={"text": " ", "csrf_token": csrf}).status_code == 422
    csrf = login(web, "vic")
    viewer = web.get(f"/findings/{fid}/comments").text
    assert "&lt;script&gt;" in viewer and 'id="comment-form"' not in viewer
    assert web.post(f"/findings/{fid}/comments", data={"text": "x", "csrf_token": csrf}).status_code == 403
    assert web.get("/findings/987654/comments").status_code == 404


def test_bulk_by_filter_over_all_projects_skips_those_the_user_only_reads(
    seeded: World, web: TestClient
) -> None:
    with seeded.store.write() as session:
        maya = session.scalars(select(User).where(User.username == "maya")).one()
        other = session.scalars(select(Project).where(Project.slug == "other")).one()
        set_role(session, maya, other, "viewer", "root")
    csrf = login(web, "maya")
    form = {"status": "confirmed", "scope": "filter", "f_q": "eval", "csrf_token": csrf}
    done = web.post("/findings/triage", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/findings?triaged=1"
    with seeded.store.read() as session:
        states = dict(
            session.execute(
                select(Project.slug, FindingRecord.status)
                .join(Project)
                .where(FindingRecord.rule_id == "sast.eval")
            ).all()
        )
    assert states == {"demo": "confirmed", "other": "open"}
    picked = web.post(
        "/findings/triage", data={**form, "scope": "selected", "ids": [str(_other_eval(seeded))]}
    )
    assert picked.status_code == 403  # ticking a finding of a project she only reads is refused


def _other_eval(world: World) -> int:
    with world.store.read() as session:
        query = select(FindingRecord.id).join(Project).where(Project.slug == "other")
        return int(session.scalars(query).one())


def test_token_pages_and_an_oversized_filter(
    seeded: World, web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = web.get("/findings/filters", headers={"Authorization": f"Bearer {seeded.read_token}"})
    assert panel.status_code == 200 and "Saved filters belong to signed-in users." in panel.text
    csrf = login(web, "maya")
    monkeypatch.setattr("bastion.store.triage_bulk.MAX_BULK", 2)
    form = {"status": "confirmed", "scope": "filter", "f_project": "demo", "csrf_token": csrf}
    refused = web.post("/findings/triage", data=form)
    assert refused.status_code == 422 and "at most 2 per request" in refused.text
