"""A real server on loopback: concurrent uploads to one project, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
from server_world import Live, bearer

from bastion.findings import Finding, Location, Severity, make_fingerprint


def _doc(findings: list[Finding]) -> bytes:
    return json.dumps(
        {"schema_version": 1, "scanners": ["sast"], "findings": [f.to_dict() for f in findings]}
    ).encode()


def _finding(name: str) -> Finding:
    location = Location(path=f"{name}.py", start_line=1)
    return Finding(
        f"sast.{name}",
        "sast",
        name,
        Severity.MEDIUM,
        location,
        name,
        make_fingerprint("sast.x", location, name),
    )


def test_concurrent_uploads_to_one_project(live: Live) -> None:
    shared = [_finding(f"shared{i}") for i in range(40)]
    batches = [shared + [_finding(f"own{w}_{i}") for i in range(25)] for w in range(8)]
    headers = bearer(live.world.demo_token)

    def post(batch: list[Finding]) -> httpx.Response:
        return httpx.post(
            f"{live.url}/api/v1/scans?full=false", content=_doc(batch), headers=headers, timeout=60
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, batches))
    assert [r.status_code for r in responses] == [201] * 8
    assert sum(r.json()["new"] for r in responses) == 40 + 8 * 25
    listing = httpx.get(f"{live.url}/api/v1/projects/demo/findings?per_page=200", headers=headers).json()
    assert listing["total"] == 240
    response = httpx.get(f"{live.url}/health")
    assert response.json() == {"status": "ok"} and "content-security-policy" in response.headers
