"""Past the count cap the API and the findings page say "more than", and paging goes on."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from server_world import World, bearer, login

from bastion.findings import Finding, Location, Severity, make_fingerprint


def _upload(client: TestClient, world: World, count: int) -> None:
    findings = []
    for index in range(count):
        location = Location(path=f"src/app{index}.py", start_line=index + 1)
        rule = f"sast.rule{index}"
        findings.append(
            Finding(rule, "sast", f"Title {index}", Severity.HIGH, location, "m",
                    make_fingerprint(rule, location, str(index))).to_dict()
        )  # fmt: skip
    body = json.dumps({"schema_version": 1, "tool": {"name": "bastion", "version": "t"},
                       "scanners": ["sast"], "findings": findings}).encode()  # fmt: skip
    response = client.post("/api/v1/scans", content=body, headers=bearer(world.demo_token))
    assert response.status_code == 201, response.text


def test_api_total_is_a_lower_bound_past_the_cap(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bastion.server.api.COUNT_CAP", 4)
    _upload(client, world, 9)
    headers = bearer(world.read_token)
    capped = client.get("/api/v1/projects/demo/findings?per_page=4", headers=headers).json()
    assert (capped["total"], capped["total_exact"], len(capped["items"])) == (4, False, 4)
    exact = client.get("/api/v1/projects/demo/findings?per_page=4&exact_total=true", headers=headers).json()
    assert (exact["total"], exact["total_exact"]) == (9, True)
    # the third page is served although the capped total alone would end at page 1
    third = client.get("/api/v1/projects/demo/findings?per_page=4&page=3", headers=headers).json()
    assert (third["page"], len(third["items"])) == (3, 1)
    few = client.get("/api/v1/projects/demo/findings?q=title 3", headers=headers).json()
    assert (few["total"], few["total_exact"]) == (1, True)


def test_findings_page_shows_plus_and_next_until_the_last_page(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bastion.server.web.COUNT_CAP", 20)
    _upload(client, world, 60)
    login(client, "maya")
    first = client.get("/findings?project=demo")
    assert first.status_code == 200
    assert "20+ findings · page 1<" in first.text and "page 1 of" not in first.text
    assert "all 20+ matching the filter" in first.text
    assert "page=2" in first.text and "Next" in first.text
    last = client.get("/findings?project=demo&page=2")
    assert "20+ findings · page 2<" in last.text and "Next" not in last.text
    monkeypatch.setattr("bastion.server.web.COUNT_CAP", 100)
    exact = client.get("/findings?project=demo")
    assert "60 findings · page 1 of 2" in exact.text
