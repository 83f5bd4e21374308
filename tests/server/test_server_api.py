"""The REST API: uploads, findings, triage, tokens, members, and bad input of every kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_world import DATA, World, bearer, build_world, login

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.server.settings import ServerSettings
from bastion.store.db import Store

HOSTILE = [
    "'; DROP TABLE findings; --",
    "<script>alert('x')</script>",
    '" onmouseover="alert(1)',
    "1' OR '1'='1",
    "{{ 7*7 }} ${7*7}",
]


def _report(*findings: Finding, scanners: tuple[str, ...] = ("sast",)) -> bytes:
    return json.dumps(
        {
            "schema_version": 1,
            "tool": {"name": "bastion", "version": "t"},
            "scanners": list(scanners),
            "findings": [f.to_dict() for f in findings],
        }
    ).encode()


def _finding(index: int, text: str = "", severity: Severity = Severity.HIGH) -> Finding:
    location = Location(path=f"src/{text or 'app'}{index}.py", start_line=index + 1)
    rule = f"sast.rule{index}"
    return Finding(
        rule,
        "sast",
        text or f"Title {index}",
        severity,
        location,
        text or f"message {index}",
        make_fingerprint(rule, location, f"{text}{index}"),
        evidence=text,
        fix=text,
        help_uri="javascript:alert(1)" if text else "",
    )


def test_upload_with_token_then_list_detail_and_triage(client: TestClient, world: World) -> None:
    headers = bearer(world.demo_token)
    response = client.post(
        "/api/v1/scans", content=(DATA / "examples-scan.json").read_bytes(), headers=headers
    )
    assert response.status_code == 201, response.text
    summary = response.json()
    assert summary["new"] == summary["findings"] > 20
    sarif = client.post(
        "/api/v1/projects/demo/scans", content=(DATA / "examples-scan.sarif").read_bytes(), headers=headers
    )
    assert sarif.json()["new"] == 0 and sarif.json()["unchanged"] == summary["findings"]
    listing = client.get("/api/v1/projects/demo/findings?severity=high&sort=title&order=asc", headers=headers)
    body = listing.json()
    assert body["total"] == 13 and [i["title"] for i in body["items"]] == sorted(
        i["title"] for i in body["items"]
    )
    first = body["items"][0]["id"]
    triaged = client.post(
        f"/api/v1/findings/{first}/triage",
        json={"status": "risk_accepted", "reason": "behind VPN", "until": "2099-01-01"},
        headers=headers,
    )
    assert triaged.status_code == 200 and triaged.json()["status"] == "risk_accepted"
    missing = client.post(
        f"/api/v1/findings/{first}/triage", json={"status": "false_positive"}, headers=headers
    )
    assert missing.status_code == 422 and "reason" in missing.json()["detail"]
    detail = client.get(f"/api/v1/findings/{first}", headers=headers).json()
    assert [h["action"] for h in detail["history"]] == ["finding.opened", "finding.triaged"]
    assert detail["history"][-1]["actor"].startswith("token:ci")
    project = client.get("/api/v1/projects/demo", headers=headers).json()
    assert project["open"]["high"] == 12 and project["sla_days"]["critical"] == 7
    scans = client.get("/api/v1/projects/demo/scans", headers=headers).json()
    assert [s["format"] for s in scans] == ["sarif", "bastion"]
    audit = client.get("/api/v1/projects/demo/audit", headers=headers).json()
    assert audit[0]["action"] == "finding.triaged"
    assert client.get("/api/v1/projects/demo/findings?sort=nope", headers=headers).status_code == 422
    assert client.get("/api/v1/projects/nope/findings", headers=headers).status_code == 404
    assert client.get("/api/v1/findings/99999", headers=headers).status_code == 404


def test_wrong_token_401_other_project_403_missing_scope_403(client: TestClient, world: World) -> None:
    report = _report(_finding(1))
    assert client.post("/api/v1/scans", content=report, headers=bearer("bst_abc_def")).status_code == 401
    assert (
        client.post("/api/v1/scans", content=report, headers=bearer(world.demo_token + "x")).status_code
        == 401
    )
    assert client.post("/api/v1/scans", content=report).status_code == 401
    other = client.post("/api/v1/projects/demo/scans", content=report, headers=bearer(world.other_token))
    assert other.status_code == 403 and "another project" in other.json()["detail"]
    assert client.get("/api/v1/projects/demo/findings", headers=bearer(world.other_token)).status_code == 403
    reader = client.post("/api/v1/scans", content=report, headers=bearer(world.read_token))
    assert reader.status_code == 403 and "scope" in reader.json()["detail"]
    client.post("/api/v1/scans", content=report, headers=bearer(world.demo_token))
    fid = client.get("/api/v1/projects/demo/findings", headers=bearer(world.read_token)).json()["items"][0][
        "id"
    ]
    no_triage = client.post(
        f"/api/v1/findings/{fid}/triage", json={"status": "confirmed"}, headers=bearer(world.read_token)
    )
    assert no_triage.status_code == 403
    assert client.get("/api/v1/projects/demo/tokens", headers=bearer(world.demo_token)).status_code == 403
    assert (
        client.post("/api/v1/projects", json={"slug": "x"}, headers=bearer(world.demo_token)).status_code
        == 403
    )
    assert client.get("/api/v1/projects", headers=bearer(world.demo_token)).json()[0]["slug"] == "demo"


def test_malformed_and_oversized_uploads(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'small.db'}")
    store.migrate()
    world = build_world(store, ServerSettings(max_upload_bytes=2048))
    with TestClient(world.app) as client:
        headers = bearer(world.demo_token)
        big = client.post("/api/v1/scans", content=b"x" * 4096, headers=headers)
        assert big.status_code == 413 and "2048" in big.json()["detail"]
        assert "content-security-policy" in big.headers

        def chunks() -> object:
            for _ in range(8):
                yield b" " * 512

        streamed = client.post("/api/v1/scans", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        for payload, message in (
            (b"{oops", "not valid JSON"),
            (b'{"a": 1}', "neither"),
            (b"", "not valid JSON"),
        ):
            response = client.post(
                "/api/v1/scans", content=payload, headers={**headers, "X-Bastion-Filename": "ci.json"}
            )
            assert response.status_code == 422 and message in response.json()["detail"]
            assert response.json()["detail"].startswith("ci.json: ")
    store.close()


def test_hostile_strings_stored_verbatim_and_rendered_escaped(client: TestClient, world: World) -> None:
    findings = [_finding(i, text) for i, text in enumerate(HOSTILE)]
    response = client.post("/api/v1/scans", content=_report(*findings), headers=bearer(world.demo_token))
    assert response.status_code == 201
    items = client.get(
        "/api/v1/projects/demo/findings?per_page=200", headers=bearer(world.demo_token)
    ).json()["items"]
    assert sorted(i["title"] for i in items) == sorted(HOSTILE)
    assert all(i["message"] == i["title"] == i["evidence"] for i in items)
    search = client.get(
        "/api/v1/projects/demo/findings", params={"q": HOSTILE[0]}, headers=bearer(world.demo_token)
    )
    assert search.json()["total"] == 1
    csrf = login(client, "root")
    assert csrf
    listing = client.get("/findings", params={"q": "<script>"})
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in listing.text
    for item in items:
        page = client.get(f"/findings/{item['id']}").text
        assert "<script>alert" not in page and 'onmouseover="alert' not in page and "javascript:" not in page
    template = next(i for i in items if i["title"].startswith("{{"))
    assert "{{ 7*7 }} ${7*7}" in client.get(f"/findings/{template['id']}").text


def test_compliance_scores_follow_open_findings(client: TestClient, world: World) -> None:
    from bastion.server.compliance import compliance_scores

    response = client.post(
        "/api/v1/scans", content=(DATA / "examples-scan.json").read_bytes(), headers=bearer(world.demo_token)
    )
    assert response.status_code == 201
    with world.store.read() as session:
        before = {c["framework"]: c for c in compliance_scores(session, None)}
        assert compliance_scores(session, [999]) == []
    assert before["nist-800-53-r5"]["fail"] > 0 and before["nist-800-53-r5"]["score"] is not None
    headers = bearer(world.demo_token)
    for item in client.get("/api/v1/projects/demo/findings?per_page=200", headers=headers).json()["items"]:
        fixed = client.post(
            f"/api/v1/findings/{item['id']}/triage", json={"status": "fixed"}, headers=headers
        )
        assert fixed.status_code == 200
    with world.store.read() as session:
        after = {c["framework"]: c for c in compliance_scores(session, [1])}
    assert after["nist-800-53-r5"]["fail"] == 0 and after["nist-800-53-r5"]["score"] == 100.0


def test_tokens_and_members_through_the_api(client: TestClient) -> None:
    csrf = login(client, "maya")
    made = client.post(
        "/api/v1/projects/demo/tokens",
        json={"name": "deploy", "scopes": ["scan:upload"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201 and made.json()["token"].startswith("bst_")
    secret = made.json()["token"]
    listed = client.get("/api/v1/projects/demo/tokens").json()
    assert "token" not in listed[-1] and listed[-1]["name"] == "deploy"
    no_csrf = client.delete(f"/api/v1/tokens/{made.json()['id']}")
    assert no_csrf.status_code == 403
    revoked = client.delete(f"/api/v1/tokens/{made.json()['id']}", headers={"X-CSRF-Token": csrf})
    assert revoked.json()["revoked_at"]
    assert (
        client.post("/api/v1/scans", content=_report(_finding(1)), headers=bearer(secret)).status_code == 401
    )
    bad = client.post(
        "/api/v1/projects/demo/tokens", json={"name": "x", "scopes": ["root"]}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 422
    assert (
        client.put(
            "/api/v1/projects/demo/members",
            json={"username": "vic", "role": "maintainer"},
            headers={"X-CSRF-Token": csrf},
        ).status_code
        == 403
    )
    assert client.post("/api/v1/scans", headers={"X-CSRF-Token": csrf}).status_code == 400


@pytest.mark.parametrize("role_user", ["root"])
def test_admin_creates_projects_and_members(client: TestClient, role_user: str) -> None:
    csrf = {"X-CSRF-Token": login(client, role_user)}
    assert (
        client.post("/api/v1/projects", json={"slug": "new-app", "name": "New"}, headers=csrf).status_code
        == 201
    )
    assert client.post("/api/v1/projects", json={"slug": "new-app"}, headers=csrf).status_code == 422
    member = client.put(
        "/api/v1/projects/new-app/members", json={"username": "vic", "role": "viewer"}, headers=csrf
    )
    assert member.status_code == 200
    assert (
        client.put(
            "/api/v1/projects/new-app/members", json={"username": "ghost", "role": "viewer"}, headers=csrf
        ).status_code
        == 404
    )
    assert (
        client.put(
            "/api/v1/projects/new-app/members", json={"username": "vic", "role": "god"}, headers=csrf
        ).status_code
        == 422
    )
    assert {p["slug"] for p in client.get("/api/v1/projects").json()} == {"demo", "other", "new-app"}
