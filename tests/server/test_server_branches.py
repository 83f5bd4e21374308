"""Branches through the API and the dashboard, on SQLite and PostgreSQL: uploads name their
repository and branch, a finding fixed on main and open on release/1.2 says so in its JSON and on
its page, and the findings list filters by repository, branch and the state there."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient
from server_world import Live, bearer, login

API = "/api/v1/projects/demo"
SHOP = "github.com/acme/shop"


def sarif(*rules: str) -> bytes:
    """A semgrep SARIF log with one result per rule, all in app.py."""
    results = [
        {
            "ruleId": rule,
            "level": "error",
            "message": {"text": f"{rule} found"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "app.py"}, "region": {"startLine": 3 + i}}}
            ],
        }
        for i, rule in enumerate(rules)
    ]
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": results}]}
    return json.dumps(log).encode()


def upload(live: Live, rules: tuple[str, ...], **params: str) -> dict[str, Any]:
    """Upload ``rules`` as a full scan with ``params`` (repository, branch); the server's summary."""
    response = httpx.post(
        f"{live.url}{API}/scans",
        content=sarif(*rules),
        params=params,
        headers={**bearer(live.world.demo_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def listed(live: Live, **params: Any) -> list[str]:
    """Rule ids of the findings the list shows for ``params`` (every status unless given)."""
    params.setdefault("status", ["open", "fixed"])
    response = httpx.get(f"{live.url}{API}/findings", params=params, headers=bearer(live.world.demo_token))
    assert response.status_code == 200, response.text
    return sorted(item["rule_id"] for item in response.json()["items"])


def seed(live: Live) -> dict[str, Any]:
    """sqli and eval on main and release/1.2, then eval fixed on main only; eval's detail."""
    first = upload(live, ("sqli", "eval"), repository=f"https://ci:tok3n@{SHOP}.git", branch="main")
    assert (first["repository"], first["branch"], first["new"]) == (SHOP, "main", 2)
    assert upload(live, ("sqli", "eval"), repository=SHOP, branch="refs/heads/release/1.2")["new"] == 0
    fixed = upload(live, ("sqli",), repository=SHOP, branch="main")
    assert (fixed["fixed"], fixed["fixed_on_branch"], fixed["open_elsewhere"]) == (0, 1, 1)
    items = httpx.get(f"{live.url}{API}/findings", headers=bearer(live.world.demo_token)).json()["items"]
    evil = next(i for i in items if i["rule_id"] == "semgrep.eval")
    detail: dict[str, Any] = httpx.get(
        f"{live.url}/api/v1/findings/{evil['id']}", headers=bearer(live.world.demo_token)
    ).json()
    return detail


def test_upload_detail_and_list_filters(live: Live) -> None:
    detail = seed(live)
    assert detail["status"] == "open"
    assert detail["branch_summary"] == "open on release/1.2, fixed on main"
    assert [(b["repository"], b["branch"], b["status"]) for b in detail["branches"]] == [
        (SHOP, "release/1.2", "open"),
        (SHOP, "main", "fixed"),
    ]
    assert detail["branches"][1]["fixed_at"] is not None and detail["branches"][0]["fixed_at"] is None

    assert listed(live, branch="main") == ["semgrep.eval", "semgrep.sqli"]
    assert listed(live, branch="main", branch_status="fixed") == ["semgrep.eval"]
    assert listed(live, branch="release/1.2", branch_status="open") == ["semgrep.eval", "semgrep.sqli"]
    assert listed(live, repository=f"https://{SHOP}", branch_status="fixed") == ["semgrep.eval"]
    assert listed(live, branch="-") == []  # nothing was uploaded for the default branch
    assert listed(live, branch="") == ["semgrep.eval", "semgrep.sqli"]  # empty: any branch
    assert listed(live, repository="github.com/acme/other") == []
    bad = httpx.get(
        f"{live.url}{API}/findings", params={"branch_status": "gone"}, headers=bearer(live.world.demo_token)
    )
    assert bad.status_code == 422 and "branch_status" in bad.text

    # Release fixes it too: fixed everywhere, so fixed.
    last = upload(live, ("sqli",), repository=SHOP, branch="release/1.2")
    assert (last["fixed"], last["fixed_on_branch"], last["open_elsewhere"]) == (1, 1, 0)
    assert listed(live, status=["fixed"]) == ["semgrep.eval"]
    scans = httpx.get(f"{live.url}{API}/scans", headers=bearer(live.world.demo_token)).json()
    assert [(s["repository"], s["branch"]) for s in scans] == [(SHOP, "release/1.2"), (SHOP, "main")] * 2


def test_an_upload_naming_no_branch_is_the_default_branch(live: Live) -> None:
    upload(live, ("sqli", "eval"))
    result = upload(live, ("sqli",))
    assert (result["repository"], result["branch"], result["fixed"]) == ("", "", 1)
    assert listed(live, branch="-", branch_status="fixed") == ["semgrep.eval"]
    assert listed(live, repository="-", branch="main") == []


def test_finding_page_and_list_filter(live: Live) -> None:
    detail = seed(live)
    with TestClient(live.world.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "maya")
        page = client.get(f"/findings/{detail['id']}")
        assert page.status_code == 200
        assert "open on release/1.2, fixed on main" in page.text
        listing = client.get("/findings", params={"project": "demo"})
        assert re.search(r'<select name="branch">.*release/1\.2.*</select>', listing.text, re.S)
        assert f'<option value="{SHOP}"' in listing.text
        fixed_on_main = client.get(
            "/findings", params={"project": "demo", "branch": "main", "branch_status": "fixed"}
        )
        rows = re.findall(r'<div class="muted small">([^<]+) ·', fixed_on_main.text)
        assert rows == ["semgrep.eval"]
        # The pager and sort links keep the branch filter.
        assert "branch=main" in fixed_on_main.text and "branch_status=fixed" in fixed_on_main.text
        default = client.get("/findings", params={"project": "demo", "branch": "-"})
        assert "No findings match these filters." in default.text


def test_export_groups_bulk_and_saved_filters_keep_the_branch_filter(live: Live) -> None:
    detail = seed(live)
    token = bearer(live.world.demo_token)
    where = {"branch": "main", "branch_status": "fixed"}
    exported = httpx.get(
        f"{live.url}{API}/findings/export", params={"format": "json", **where}, headers=token
    )
    assert [f["rule_id"] for f in json.loads(exported.text)] == ["semgrep.eval"]
    groups = httpx.get(
        f"{live.url}{API}/findings/groups", params={"by": "rule", **where}, headers=token
    ).json()
    assert [g["rule"] for g in groups["groups"]] == ["semgrep.eval"]
    bad = httpx.get(f"{live.url}{API}/findings/export", params={"branch_status": "x"}, headers=token)
    assert bad.status_code == 422 and "branch_status" in bad.text
    with TestClient(live.world.app, base_url="http://testserver", follow_redirects=False) as client:
        csrf = login(client, "maya")
        # Bulk triage of "everything the filter matches" takes only what is fixed on main.
        done = client.post(
            "/findings/triage",
            data={
                "csrf_token": csrf,
                "status": "confirmed",
                "scope": "filter",
                "f_project": "demo",
                "f_status": "open",
                "f_branch": "main",
                "f_branch_status": "fixed",
            },
        )
        assert done.status_code == 303 and "triaged=1" in done.headers["location"]
        saved = client.post(
            "/findings/filters",
            data={
                "csrf_token": csrf,
                "name": "fixed on main",
                "query": "project=demo&branch=main&branch_status=fixed",
            },
        )
        assert saved.status_code == 303 and "branch=main" in saved.headers["location"]
        mine = client.get("/api/v1/filters").json()
        assert mine[0]["filter"] == {"branch": "main", "branch_status": "fixed"}
        applied = client.get(f"/api/v1/filters/{mine[0]['id']}/findings").json()
        assert [f["id"] for f in applied["items"]] == [detail["id"]]
    statuses = {
        i["rule_id"]: i["status"]
        for i in httpx.get(
            f"{live.url}{API}/findings", params={"status": ["open", "confirmed"]}, headers=token
        ).json()["items"]
    }
    assert statuses == {"semgrep.eval": "confirmed", "semgrep.sqli": "open"}


def test_retiring_a_branch_through_the_api(live: Live) -> None:
    detail = seed(live)  # eval: fixed on main, open on release/1.2
    token = bearer(live.world.demo_token)
    url = f"{live.url}{API}/branches"
    assert httpx.delete(url, headers=token).status_code == 422  # the unnamed place needs saying so
    reader = httpx.delete(
        url, params={"repository": SHOP, "branch": "release/1.2"}, headers=bearer(live.world.read_token)
    )
    assert reader.status_code == 403
    done = httpx.delete(
        url, params={"repository": f"https://{SHOP}.git", "branch": "release/1.2"}, headers=token
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"repository": SHOP, "branch": "release/1.2", "rows": 2, "fixed": [detail["id"]]}
    after = httpx.get(f"{live.url}/api/v1/findings/{detail['id']}", headers=token).json()
    assert after["status"] == "fixed" and after["branch_summary"] == "fixed on main"
    assert listed(live, status=["open"]) == ["semgrep.sqli"]  # still open on main
    unnamed = httpx.delete(url, params={"unnamed": "true"}, headers=token).json()
    assert (unnamed["rows"], unnamed["fixed"]) == (0, [])
