"""The triage workflow's API (issue 27) on SQLite and PostgreSQL: bulk triage (all or nothing,
rights and audit as single triage), grouping, streaming export, comments and saved filters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers_store import scan_of
from server_world import World, bearer, build_world, login
from sqlalchemy import select
from store_backends import open_store
from triage_seed import triage_findings

from bastion.server.export import csv_cell
from bastion.store.ingest import ingest
from bastion.store.models import AuditEvent, FindingRecord, Project, SavedFilter

API = "/api/v1/projects/demo/findings"


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[World]:
    """The server world with the triage findings in project demo and one finding in other."""
    store = open_store(request.param, tmp_path, postgres_url)
    world = build_world(store)
    with store.read() as session:
        ids = dict(session.execute(select(Project.slug, Project.id)).all())
    ingest(store, ids["demo"], scan_of(*triage_findings(), scanners=("sast", "deps")), "ci")
    ingest(store, ids["other"], scan_of(triage_findings()[-1]), "ci")
    yield world
    store.close()


@pytest.fixture
def api(seeded: World) -> Iterator[TestClient]:
    """A client of the seeded world."""
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def _ids(world: World, slug: str = "demo") -> list[int]:
    with world.store.read() as session:
        query = select(FindingRecord.id).join(Project).where(Project.slug == slug).order_by(FindingRecord.id)
        return list(session.scalars(query))


def _statuses(world: World, ids: list[int]) -> list[str]:
    with world.store.read() as session:
        return [session.get_one(FindingRecord, i).status for i in ids]


def test_bulk_triage_by_ids_is_all_or_nothing_and_audited(seeded: World, api: TestClient) -> None:
    ids = _ids(seeded)
    foreign = _ids(seeded, "other")[0]
    token = bearer(seeded.demo_token)
    refused = api.post(
        f"{API}/triage", json={"ids": [ids[0], foreign, 987654], "status": "confirmed"}, headers=token
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"not findings you can triage here: {foreign}, 987654"
    assert _statuses(seeded, ids[:1]) == ["open"]
    invalid = api.post(f"{API}/triage", json={"ids": ids[:3], "status": "false_positive"}, headers=token)
    assert invalid.status_code == 422 and "reason is required" in invalid.json()["detail"]
    for body, message in (
        ({"status": "confirmed"}, "either ids or filter"),
        ({"ids": [], "status": "confirmed"}, "no findings selected"),
        ({"ids": ids[:1], "filter": {}, "status": "confirmed"}, "either ids or filter"),
        ({"ids": ids[:1], "status": "fixed"}, "choose from"),
        ({"filter": {"colour": "red"}, "status": "confirmed"}, "unknown parameter"),
    ):
        response = api.post(f"{API}/triage", json=body, headers=token)
        assert response.status_code == 422 and message in response.json()["detail"], response.text
    until = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0)
    body = {
        "ids": ids[:3],
        "status": "risk_accepted",
        "reason": "vendor patch due",
        "until": until.isoformat(),
    }
    done = api.post(f"{API}/triage", json=body, headers=token)
    assert done.status_code == 200 and done.json() == {
        "status": "risk_accepted",
        "changed": ids[:3],
        "unchanged": [],
    }
    again = api.post(f"{API}/triage", json=body, headers=token).json()
    assert again["changed"] == [] and again["unchanged"] == ids[:3]
    detail = api.get(f"/api/v1/findings/{ids[0]}", headers=token).json()
    assert detail["status"] == "risk_accepted" and detail["accepted_reason"] == "vendor patch due"
    assert (
        detail["history"][-1]["actor"].startswith("token:ci")
        and detail["history"][-1]["to"] == "risk_accepted"
    )
    naive = {"ids": ids[3:4], "status": "risk_accepted", "reason": "r", "until": "2099-01-01T00:00:00"}
    assert api.post(f"{API}/triage", json=naive, headers=token).json()["changed"] == ids[3:4]
    reopened = api.post(f"{API}/triage", json={"ids": ids[:4], "status": "open"}, headers=token)
    assert reopened.json()["changed"] == ids[:4] and _statuses(seeded, ids[:4]) == ["open"] * 4


def test_bulk_triage_rights_are_those_of_single_triage(seeded: World, api: TestClient) -> None:
    ids = _ids(seeded)
    body = {"ids": ids[:2], "status": "confirmed"}
    assert api.post(f"{API}/triage", json=body, headers=bearer(seeded.read_token)).status_code == 403
    assert api.post(f"{API}/triage", json=body, headers=bearer(seeded.other_token)).status_code == 403
    assert api.post(f"{API}/triage", json=body).status_code == 401
    login(api, "vic")
    assert api.post(f"{API}/triage", json=body).status_code == 403  # no CSRF header, and a viewer
    csrf = login(api, "vic")
    viewer = api.post(f"{API}/triage", json=body, headers={"X-CSRF-Token": csrf})
    assert viewer.status_code == 403 and viewer.json()["detail"] == "maintainer role needed"
    csrf = login(api, "maya")
    assert api.post(f"{API}/triage", json=body).status_code == 403  # CSRF missing
    assert api.post(f"{API}/triage", json=body, headers={"X-CSRF-Token": csrf}).json()["changed"] == ids[:2]
    assert (
        api.post(
            "/api/v1/projects/nope/findings/triage", json=body, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 404
    )
    with seeded.store.read() as session:
        actors = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "finding.triaged")).all()
    assert actors == ["maya", "maya"]


def test_bulk_triage_by_filter(seeded: World, api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    token = bearer(seeded.demo_token)
    body = {
        "filter": {"q": "urllib3", "severity": ["medium"]},
        "status": "false_positive",
        "reason": "not reachable",
    }
    done = api.post(f"{API}/triage", json=body, headers=token).json()
    assert len(done["changed"]) == 3
    open_medium = api.get(API, params={"status": "open", "severity": "medium"}, headers=token).json()
    assert open_medium["total"] == 0
    monkeypatch.setattr("bastion.store.triage_bulk.MAX_BULK", 2)
    too_many = api.post(f"{API}/triage", json={"filter": {}, "status": "confirmed"}, headers=token)
    assert too_many.status_code == 422 and "matches 11 findings: at most 2" in too_many.json()["detail"]


def test_grouping_by_package_and_rule(seeded: World, api: TestClient) -> None:
    token = bearer(seeded.read_token)
    grouped = api.get(f"{API}/groups", params={"by": "package"}, headers=token).json()
    assert grouped["total"] == 2 and grouped["by"] == "package"
    urllib3 = grouped["groups"][0]
    assert {
        k: urllib3[k] for k in ("ecosystem", "package", "version", "advisories", "worst_severity", "fixed_in")
    } == {
        "ecosystem": "PyPI",
        "package": "urllib3",
        "version": "1.26.3",
        "advisories": 6,
        "worst_severity": "critical",
        "fixed_in": "1.26.19",
    }
    assert urllib3["advisories_without_fix"] == 1 and urllib3["statuses"] == {"open": 6}
    members = api.get(urllib3["items"], headers=token).json()
    assert members["total"] == 6 and {m["metadata"]["package"] for m in members["items"]} == {"urllib3"}
    assert members["items"][0]["severity"] == "critical"
    rules = api.get(f"{API}/groups", params={"by": "rule", "severity": "high"}, headers=token).json()
    sqli = next(g for g in rules["groups"] if g["rule"] == "sast.sqli")
    assert (sqli["findings"], sqli["title"], sqli["worst_severity"]) == (3, "sqli title", "high")
    assert api.get(sqli["items"], headers=token).json()["total"] == 3
    assert api.get(f"{API}/groups", params={"by": "team"}, headers=token).status_code == 422
    assert api.get(f"{API}/groups", params={"status": "nope"}, headers=token).status_code == 422
    assert api.get(f"{API}/groups/items", params={"by": "x"}, headers=token).status_code == 422
    assert api.get("/api/v1/projects/other/findings/groups", headers=token).status_code == 403


def test_export_csv_and_json_stream_the_filtered_list(seeded: World, api: TestClient) -> None:
    token = bearer(seeded.read_token)
    response = api.get(f"{API}/export", params={"format": "csv"}, headers=token)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="bastion-findings-demo-')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 11 and rows[0]["severity"] == "critical" and rows[0]["project"] == "demo"
    assert {r["package"] for r in rows} == {"urllib3", "jinja2", ""}
    evil = next(r for r in rows if r["rule_id"] == "sast.eval")
    assert evil["message"].startswith("'=HYPERLINK")
    assert evil["location"] == "app/x.py:3"
    as_json = api.get(f"{API}/export", params={"format": "json", "severity": "high"}, headers=token)
    data = json.loads(as_json.text)
    assert as_json.headers["content-type"] == "application/json"
    assert len(data) == 5 and {d["severity"] for d in data} == {"high"} and data[0]["project"] == "demo"
    everything = json.loads(api.get(f"{API}/export", params={"format": "json"}, headers=token).text)
    listed = api.get(API, params={"per_page": 200, "status": "open"}, headers=token).json()["items"]
    assert sorted(everything, key=lambda f: f["id"]) == sorted(listed, key=lambda f: f["id"])  # same fields
    empty = api.get(f"{API}/export", params={"format": "json", "q": "nothing like this"}, headers=token)
    assert json.loads(empty.text) == []
    assert api.get(f"{API}/export", params={"format": "xml"}, headers=token).status_code == 422
    assert api.get("/api/v1/projects/other/findings/export", headers=token).status_code == 403


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_comments_readers_read_triagers_write(seeded: World, api: TestClient) -> None:
    fid = _ids(seeded)[0]
    url = f"/api/v1/findings/{fid}/comments"
    wrote = api.post(url, json={"text": "<b>seen</b> in **prod**"}, headers=bearer(seeded.demo_token))
    assert wrote.status_code == 201 and wrote.json()["text"] == "<b>seen</b> in **prod**"
    assert api.post(url, json={"text": "x"}, headers=bearer(seeded.read_token)).status_code == 403
    assert api.post(url, json={"text": "  "}, headers=bearer(seeded.demo_token)).status_code == 422
    assert api.post(url, json={"text": "x" * 10_001}, headers=bearer(seeded.demo_token)).status_code == 422
    listed = api.get(url, headers=bearer(seeded.read_token)).json()
    assert [(c["author"].split(" ")[0], c["text"]) for c in listed] == [
        ("token:ci", "<b>seen</b> in **prod**")
    ]
    assert api.get(url, headers=bearer(seeded.other_token)).status_code == 403
    assert api.get("/api/v1/findings/987654/comments", headers=bearer(seeded.read_token)).status_code == 404
    audit = api.get("/api/v1/projects/demo/audit", headers=bearer(seeded.read_token)).json()
    assert audit[0]["action"] == "finding.commented" and audit[0]["finding"] == fid


def test_saved_filters_per_user_shared_with_the_project(seeded: World, api: TestClient) -> None:
    csrf = login(api, "maya")
    maya = {"X-CSRF-Token": csrf}
    body = {
        "name": "urllib3 work",
        "project": "demo",
        "shared": True,
        "filter": {"q": "urllib3", "group": "package"},
    }
    saved = api.post("/api/v1/filters", json=body, headers=maya)
    assert saved.status_code == 201, saved.text
    data = saved.json()
    assert data["page"] == "/findings/groups?by=package&project=demo&q=urllib3" and data["owner"] == "maya"
    private = api.post(
        "/api/v1/filters", json={"name": "mine", "filter": {"severity": ["critical"]}}, headers=maya
    ).json()
    for bad, status in (
        ({"name": "x", "filter": {"sort": "colour"}}, 422),
        ({"name": " ", "filter": {}}, 422),
        ({"name": "x", "project": "nope"}, 404),
        ({"name": "x", "project": "other"}, 403),
    ):
        assert api.post("/api/v1/filters", json=bad, headers=maya).status_code == status
    applied = api.get(f"/api/v1/filters/{data['id']}/findings").json()
    assert applied["total"] == 6 and applied["items"][0]["project"] == "demo"
    everywhere = api.get(f"/api/v1/filters/{private['id']}/findings").json()
    assert everywhere["total"] == 1 and everywhere["items"][0]["severity"] == "critical"
    assert [f["name"] for f in api.get("/api/v1/filters").json()] == ["mine", "urllib3 work"]

    csrf = login(api, "vic")
    vic = {"X-CSRF-Token": csrf}
    assert [f["name"] for f in api.get("/api/v1/filters").json()] == ["urllib3 work"]
    assert api.get(f"/api/v1/filters/{private['id']}/findings").status_code == 404
    sharing = api.post("/api/v1/filters", json={**body, "name": "vic's"}, headers=vic)
    assert sharing.status_code == 403  # a viewer saves for himself, shares nothing
    own = api.post("/api/v1/filters", json={**body, "name": "vic's", "shared": False}, headers=vic)
    assert own.status_code == 201
    assert api.delete(f"/api/v1/filters/{data['id']}", headers=vic).status_code == 403
    assert api.delete(f"/api/v1/filters/{own.json()['id']}", headers=vic).status_code == 204
    assert api.get("/api/v1/filters", headers=bearer(seeded.read_token)).status_code == 403
    csrf = login(api, "root")
    assert api.delete(f"/api/v1/filters/{data['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert api.delete("/api/v1/filters/987654", headers={"X-CSRF-Token": csrf}).status_code == 404


def test_export_holds_no_secret_in_full(seeded: World, api: TestClient) -> None:
    secret = "ghp_" + "Zq8xW3vN5mK7pL2rT9yB4cD6fH1jS0aE2gU8"
    leaky = triage_findings()[-1]
    leaky = leaky.with_changes(
        fingerprint="leaky", message=f"token {secret} in app/x.py", evidence=f'TOKEN = "{secret}"'
    )
    with seeded.store.read() as session:
        demo = session.scalars(select(Project.id).where(Project.slug == "demo")).one()
    ingest(seeded.store, demo, scan_of(leaky), "ci", full=False)
    token = bearer(seeded.read_token)
    for fmt in ("csv", "json"):
        text = api.get(f"{API}/export", params={"format": fmt}, headers=token).text
        assert "ghp_" in text and secret not in text


def test_a_saved_filter_no_longer_valid_is_a_422_not_a_crash(seeded: World, api: TestClient) -> None:
    csrf = login(api, "maya")
    saved = api.post("/api/v1/filters", json={"name": "old"}, headers={"X-CSRF-Token": csrf}).json()
    with seeded.store.write() as session:
        session.get_one(SavedFilter, saved["id"]).query = {"sort": "colour"}
    applied = api.get(f"/api/v1/filters/{saved['id']}/findings")
    assert applied.status_code == 422 and applied.json()[
        "detail"
    ] == "saved filter 'old': sort 'colour': choose from " + (
        "severity, first_seen, last_seen, title, status, location"
    )
