"""The war-games pages and API: scoreboard, ATT&CK matrix, and the blue team's buttons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_world import bearer, build_world, login
from store_backends import open_store

from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay
from conftest import UNDER_THRESHOLD, write_exercise


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, str, Path]]:
    root = tmp_path / "drills"
    (root / "tabletop").mkdir(parents=True)
    ex = load_exercise(
        write_exercise(
            root / "tabletop",
            scenarios=["mfa-fatigue", UNDER_THRESHOLD.name, "win-certutil-decode"],
            detectors=["identity", "sigma"],
            teams=["day", "night"],
        )
    )
    replay(ex, Journal.open(root / "tabletop"))
    (root / "not-a-drill").mkdir()
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    world.app.state.drills_dir = str(root)
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        yield client, world.demo_token, root / "tabletop"
    store.close()


def test_pages_and_buttons(site: tuple[TestClient, str, Path]) -> None:
    client, _, directory = site
    assert client.get("/drills").status_code in (302, 303, 307)  # sign in first
    csrf = login(client, "maya")
    index = client.get("/drills")
    assert (
        index.status_code == 200
        and 'href="/drills/tabletop"' in index.text
        and "not-a-drill" not in index.text
    )
    page = client.get("/drills/tabletop")
    assert page.status_code == 200
    assert (
        "credential-access" in page.text
        and "T1621" in page.text
        and "Multi-Factor Authentication" in page.text
    )
    alert = re.search(r'id="alert-([0-9a-f]{12})"', page.text)
    assert alert is not None
    aid = alert.group(1)
    refused = client.post(f"/drills/tabletop/alerts/{aid}/ack", data={"team": "day", "after_s": "30"})
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        f"/drills/tabletop/alerts/{aid}/ack", data={"team": "day", "after_s": "30", "csrf_token": csrf}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/drills/tabletop#alert-{aid}"
    journal = Journal.open(directory)
    (action,) = journal.actions.values()
    assert (action.kind, action.team, action.alert) == ("ack", "day", aid)
    assert (action.time - journal.alert(aid).time).total_seconds() == 30
    again = client.get("/drills/tabletop")
    assert "day ack" in again.text
    bad_team = client.post(
        f"/drills/tabletop/alerts/{aid}/contain", data={"team": "dusk", "csrf_token": csrf}
    )
    assert bad_team.status_code == 422
    bad_after = client.post(
        f"/drills/tabletop/alerts/{aid}/contain", data={"team": "day", "after_s": "soon", "csrf_token": csrf}
    )
    assert bad_after.status_code == 422
    assert client.get("/drills/..%2Fetc").status_code == 404
    assert client.get("/drills/not-a-drill").status_code == 404


def test_api(site: tuple[TestClient, str, Path]) -> None:
    client, token, _ = site
    assert client.get("/api/drills").status_code == 401
    headers = bearer(token)
    listing = client.get("/api/drills", headers=headers).json()
    assert [d["name"] for d in listing] == ["tabletop"] and listing[0]["coverage"]["assessed"] == 3
    doc = client.get("/api/drills/tabletop", headers=headers).json()
    assert {s["id"]: s["status"] for s in doc["scenarios"]} == {
        "mfa-fatigue": "detected",
        "ssh-guessing-under-threshold": "missed",
        "win-certutil-decode": "detected",
    }
    aid = next(a["id"] for a in doc["alerts"] if a["scenario"] == "mfa-fatigue")
    made = client.post(f"/api/drills/tabletop/alerts/{aid}/contain", json={"team": "night", "after_s": 120},
                       headers=headers)  # fmt: skip
    assert made.status_code == 201 and made.json()["recorded"] is True
    twice = client.post(f"/api/drills/tabletop/alerts/{aid}/contain", json={"team": "night"}, headers=headers)
    assert twice.status_code == 201 and twice.json()["recorded"] is False
    after = client.get("/api/drills/tabletop", headers=headers).json()
    mfa = next(t for t in after["timeline"] if t["scenario"] == "mfa-fatigue")
    assert set(mfa["ttc_s"]) == {"night"}
    assert client.post(f"/api/drills/tabletop/alerts/{aid}/burn", json={}, headers=headers).status_code == 404
    assert client.post("/api/drills/tabletop/alerts/ffffff/ack", json={}, headers=headers).status_code == 404
    wrong = client.post(f"/api/drills/tabletop/alerts/{aid}/ack", json={"after_s": "x"}, headers=headers)
    assert wrong.status_code == 422
    assert client.get("/api/drills/nothing", headers=headers).status_code == 404


def test_no_drills_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASTION_DRILLS_DIR", raising=False)
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        headers = bearer(world.demo_token)
        assert client.get("/api/drills", headers=headers).json() == []
        assert client.get("/api/drills/x", headers=headers).status_code == 404
        login(client, "vic")
        assert "not configured" in client.get("/drills").text
    store.close()
