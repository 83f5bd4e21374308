"""The dashboard through HTTP: pages, roles, web upload, triage (form and htmx), tokens."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from server_world import DATA, World, bearer, login


def _upload(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/scans", content=(DATA / "examples-scan.json").read_bytes(), headers=bearer(world.demo_token)
    )
    assert response.status_code == 201


def test_pages_render_for_a_maintainer(client: TestClient, world: World) -> None:
    _upload(client, world)
    csrf = login(client, "maya")
    overview = client.get("/")
    assert (
        overview.status_code == 200
        and "<svg" in overview.text
        and "Open findings by severity" in overview.text
    )
    assert "Other app" not in overview.text and "Demo app" in overview.text
    assert "Demo app" in client.get("/projects").text
    assert "NIST SP 800-53 Rev. 5" in overview.text and "CIS Controls v8" in overview.text
    project = client.get("/projects/demo").text
    assert "Upload a scan" in project and "API tokens" in project and "bst_" in project
    findings = client.get("/findings?project=demo&severity=high&sort=first_seen&order=asc")
    assert findings.status_code == 200 and "13 findings" in findings.text, re.findall(
        r"\d+ findings?", findings.text
    )
    partial = client.get("/findings?project=demo&page=2", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "page 2 of 1" not in partial.text
    scans = client.get("/scans?project=demo").text
    assert "bastion" in scans
    fid = re.search(r'href="/findings/(\d+)"', findings.text).group(1)
    detail = client.get(f"/findings/{fid}").text
    assert "History" in detail and "first seen" in detail and 'name="csrf_token"' in detail
    assert client.get("/projects/other").status_code == 403
    assert client.get("/findings?project=other").status_code == 403
    assert client.get("/projects/nope").status_code == 404
    assert client.get("/findings/999999").status_code == 404
    assert client.post("/projects", data={"slug": "x", "csrf_token": csrf}).status_code == 403


def test_triage_by_form_and_by_htmx_row(client: TestClient, world: World) -> None:
    _upload(client, world)
    csrf = login(client, "maya")
    listing = client.get("/findings?project=demo").text
    ids = re.findall(r'id="row-(\d+)"', listing)
    response = client.post(
        f"/findings/{ids[0]}/triage",
        data={
            "status": "risk_accepted",
            "reason": "isolated network",
            "until": "2099-12-31",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 303
    detail = client.get(f"/findings/{ids[0]}").text
    assert "Risk accepted" in detail and "isolated network" in detail and "maya" in detail
    row = client.post(
        f"/findings/{ids[1]}/triage",
        data={"status": "false_positive", "reason": "test code"},
        headers={"HX-Request": "true", "HX-Target": f"row-{ids[1]}", "X-CSRF-Token": csrf},
    )
    assert row.status_code == 200 and row.text.lstrip().startswith("<tr") and "False positive" in row.text
    form = {"status": "risk_accepted", "reason": "x", "until": "soon", "csrf_token": csrf}
    bad = client.post(f"/findings/{ids[2]}/triage", data=form)
    assert bad.status_code == 422 and "not a date" in bad.text
    bad = client.post(f"/findings/{ids[2]}/triage", data={"status": "risk_accepted", "csrf_token": csrf})
    assert bad.status_code == 422
    assert client.post(f"/findings/{ids[2]}/triage", data={"status": "confirmed"}).status_code == 403
    assert (
        client.post("/findings/999999/triage", data={"status": "confirmed", "csrf_token": csrf}).status_code
        == 404
    )


def test_viewer_reads_but_cannot_change(client: TestClient, world: World) -> None:
    _upload(client, world)
    csrf = login(client, "vic")
    listing = client.get("/findings?project=demo").text
    assert "False positive</button>" not in listing
    fid = re.findall(r'id="row-(\d+)"', listing)[0]
    assert "Triage" not in client.get(f"/findings/{fid}").text
    refused = client.post(f"/findings/{fid}/triage", data={"status": "confirmed", "csrf_token": csrf})
    assert refused.status_code == 403
    assert "API tokens" not in client.get("/projects/demo").text
    upload = client.post(
        "/projects/demo/upload",
        data={"csrf_token": csrf},
        files={"file": ("s.json", b"{}", "application/json")},
    )
    assert upload.status_code == 403


def test_web_upload_tokens_and_project_creation(client: TestClient) -> None:
    csrf = login(client, "root")
    created = client.post("/projects", data={"slug": "web-app", "name": "Web app", "csrf_token": csrf})
    assert created.headers["location"] == "/projects/web-app"
    assert client.post("/projects", data={"slug": "Bad Slug", "csrf_token": csrf}).status_code == 422
    upload = client.post(
        "/projects/web-app/upload",
        data={"csrf_token": csrf, "full": "true"},
        files={"file": ("semgrep.sarif", (DATA / "semgrep.sarif").read_bytes(), "application/json")},
    )
    assert upload.status_code == 303 and upload.headers["location"].startswith(
        "/scans?project=web-app&uploaded="
    )
    assert "Scan 1 uploaded" in client.get(upload.headers["location"]).text
    broken = client.post(
        "/projects/web-app/upload",
        data={"csrf_token": csrf},
        files={"file": ("broken.json", b"{", "application/json")},
    )
    assert broken.status_code == 422 and "broken.json: not valid JSON" in broken.text
    token_page = client.post(
        "/projects/web-app/tokens",
        data={"name": "pipeline", "csrf_token": csrf, "scopes": ["findings:read"], "expires_in_days": "0"},
    )
    assert "Scopes: findings:read · expires never" in token_page.text
    secret = re.search(r'id="new-token">(bst_[^<]+)<', token_page.text).group(1)
    assert secret not in client.get("/projects/web-app").text
    assert client.get("/api/v1/projects/web-app/findings", headers=bearer(secret)).json()["total"] > 0
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', client.get("/projects/web-app").text).group(1)
    assert client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/api/v1/projects/web-app/findings", headers=bearer(secret)).status_code == 401
    assert "revoked" in client.get("/projects/web-app").text
    assert client.post("/tokens/9999/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.post("/projects/web-app/tokens", data={"name": "", "csrf_token": csrf}).status_code == 422


def test_admin_sets_member_roles_from_the_project_page(client: TestClient) -> None:
    csrf = login(client, "root")
    page = client.get("/projects/other").text
    assert "Set role" in page and "No members yet" in page
    done = client.post(
        "/projects/other/members", data={"username": "vic", "role": "viewer", "csrf_token": csrf}
    )
    assert done.status_code == 303
    assert "<td>vic</td><td>viewer</td>" in client.get("/projects/other").text
    missing = client.post(
        "/projects/other/members", data={"username": "ghost", "role": "viewer", "csrf_token": csrf}
    )
    assert missing.status_code == 404
    bad = client.post(
        "/projects/other/members", data={"username": "vic", "role": "owner", "csrf_token": csrf}
    )
    assert bad.status_code == 422
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "maya")
    assert "Set role" not in client.get("/projects/demo").text
    refused = client.post(
        "/projects/demo/members", data={"username": "vic", "role": "admin", "csrf_token": csrf}
    )
    assert refused.status_code == 403
