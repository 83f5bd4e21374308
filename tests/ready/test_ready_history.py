"""A server with a full history: scans and findings, a replayed war game and a phishing campaign,
all read through the readiness assessment an administrator sees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from ready_world import World, seed_history
from server_world import PASSWORD, bearer, build_world, login, serve_in_thread
from sqlalchemy import select
from store_backends import open_store

from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay
from bastion.phish.service import Hit, create_campaign, import_targets, launch, record
from bastion.phish.targets import read_exclusions, read_targets
from bastion.phish.templates import load_email, load_landing
from bastion.store.phish import PhishRecipient

PHISH = Path(__file__).resolve().parents[1] / "fixtures" / "phish"


def _war_game(root: Path) -> None:
    """One replayed exercise (two scenarios, identity and sigma detectors) under ``root``/game."""
    game = root / "game"
    game.mkdir(parents=True)
    org = {"version": 1, "users": [f"u{i:02d}@drill.example" for i in range(20)],
           "hosts": [f"pc-{i:02d}.drill.example" for i in range(10)]}  # fmt: skip
    (game / "org.yml").write_text(yaml.safe_dump(org))
    doc: dict[str, Any] = {
        "version": 1,
        "name": "quarterly game",
        "scenarios": ["mfa-fatigue", "win-certutil-decode"],
        "detectors": ["identity", "sigma"],
        "teams": ["blue"],
        "duration_h": 6,
        "schedule": {"mode": "random", "seed": 7},
        "mapping": "org.yml",
        "baseline": {"signins_per_user_day": 4, "processes_per_host_day": 10, "web_requests_per_hour": 30},
    }
    (game / "exercise.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    replay(load_exercise(game / "exercise.yml"), Journal.open(game))


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _campaign(world: World, name: str, days_ago: int, hits: list[tuple[str, str]]) -> None:
    """Launch ``name`` ``days_ago`` days ago, deliver it to every recipient, and record ``hits``
    (recipient's first name, event kind) from a person's browser (a page that ran its script)."""
    sent = datetime.now(UTC) - timedelta(days=days_ago)
    with world.store.write() as session:
        targets = read_targets(PHISH / "targets.csv")
        import_targets(session, "staff", targets, read_exclusions(PHISH / "exclusions.txt"), "test")
    with world.store.write() as session:
        campaign = create_campaign(
            session, name, "staff", load_email(PHISH / "email.yml"),
            load_landing(PHISH / "landing-login.yml"), "http://127.0.0.1:9", "test",
        )  # fmt: skip
        launch(session, campaign, "test", now=sent)
        tokens = {}
        for recipient in session.scalars(
            select(PhishRecipient).where(PhishRecipient.campaign_id == campaign.id)
        ):
            recipient.status, recipient.sent_at = "sent", sent
            tokens[recipient.email.split(".")[0]] = recipient.token_id
    for offset, (who, kind) in enumerate(hits, 1):
        extra: dict[str, Any] = {"cookie": True, "method": "POST"} if kind in ("beacon", "submit") else {}
        if kind == "submit":
            extra["fields"] = ("password", "username")
        hit = Hit(kind=kind, user_agent=FIREFOX, ip="198.51.100.7", **extra)
        with world.store.write() as session:
            assert record(session, tokens[who], hit, now=sent + timedelta(minutes=10 * offset))


def _campaigns(world: World) -> None:
    """Two campaigns to the same four people: in the first two clicked (one typed a password) and one
    reported; in the second one clicked and three reported."""
    clicked = [("ana", "click"), ("ana", "beacon"), ("ana", "submit"), ("cy", "click"), ("cy", "beacon")]
    _campaign(world, "q3-invoice", 70, [*clicked, ("ben", "report")])
    later = [("cy", "click"), ("cy", "beacon"), ("ana", "report"), ("ben", "report"), ("gus", "report")]
    _campaign(world, "q4-parcel", 10, later)


@pytest.fixture
def full(tmp_path: Path) -> Iterator[World]:
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    seed_history(world)
    _war_game(tmp_path / "drills")
    world.app.state.drills_dir = str(tmp_path / "drills")
    _campaigns(world)
    yield world
    store.close()


def test_full_history_through_the_dashboard_api(full: World) -> None:
    with TestClient(full.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        data = client.get("/api/v1/ready").json()
    sources = {s["name"]: s for s in data["sources"]}
    assert sources["drills"]["state"] == "present"
    kinds = {k["kind"]: k for k in data["kinds"]}
    drill = kinds["drill.detection"]
    assert drill["state"] == "counted"
    assert drill["evidence"][0]["origin"] == "/api/drills/game"
    assert drill["evidence"][0]["detail"].startswith("quarterly game: ")
    assert "ATT&CK: 3 of 3 techniques detected; median time to detect" in drill["reason"]
    # the newer campaign counts (3 of 4 reported, 1 of 4 clicked); the older one is its trend
    # (1 of 4 reported: 25%; 2 of 4 clicked: resisted by half)
    assert sources["phish"]["state"] == "present"
    reporting, clicks = kinds["phish.reporting"], kinds["phish.clicks"]
    assert (reporting["state"], reporting["score"], clicks["score"]) == ("counted", 0.75, 0.75)
    earlier = datetime.now(UTC) - timedelta(days=70)
    was = f"(score was {{}}% on {earlier.day} {earlier:%b %Y})"
    assert reporting["reason"] == f"q4-parcel: 3 of 4 reported the phish {was.format(25)}"
    assert clicks["reason"] == f"q4-parcel: 1 of 4 clicked, 0 submitted {was.format(50)}"
    assert reporting["evidence"][0]["origin"] == "/api/v1/phish/campaigns/2"
    assert kinds["scan.secrets"]["state"] == "counted"
    assert data["verdict"] in ("not ready", "partly ready")


def _alert(detector: str, entity: str, hours_ago: float) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(hours=hours_ago)
    return {
        "detector": detector, "severity": "high", "score": 0.9, "entity": entity, "entity_kind": "user",
        "window_start": start.isoformat(), "window_end": (start + timedelta(minutes=5)).isoformat(),
        "explanation": f"{detector} fired for {entity}", "evidence": [], "techniques": ["T1110"],
        "metadata": {},
    }  # fmt: skip


def test_uploaded_alerts_show_monitored_sources(full: World) -> None:
    with TestClient(full.app, base_url="http://testserver", follow_redirects=False) as client:
        alerts = [_alert("identity.spray", "u01@drill.example", 3), _alert("sigma", "pc-01", 2)]
        response = client.post("/api/v1/alerts", json=alerts, headers=bearer(full.demo_token))
        assert response.status_code in (200, 201), response.text
        data = client.get("/api/v1/ready", headers=bearer(full.demo_token)).json()
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["monitor.logs"]["state"] == "counted"
    assert (
        kinds["monitor.signins"]["reason"]
        == "1 alert raised (latest by identity.spray); 1 identity alert(s) open"
    )
    assert kinds["alerts.triaged"]["reason"] == "no alert triaged yet"  # received just now: nothing judged
    assert kinds["alerts.triaged"]["score"] == 0.0


def test_dashboard_page_in_the_browser(full: World, page: Any, tmp_path: Path) -> None:
    for live in serve_in_thread(full):
        page.goto(f"{live.url}/ready")
        page.fill("input[name=username]", "root")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live.url}/ready")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        answer = page.locator("section.ready-answer")
        assert answer.bounding_box()["y"] < 900  # the answer is on the first screen
        text = " ".join(page.inner_text("main").split())
        assert "organisation: not ready" in text and "Overall " in text
        assert "notice an attack: monitoring, alerts, war games" in text  # each area says what it means
        assert text.count("To fix: ") == 3
        assert "q4-parcel: 3 of 4 reported the phish (score was 25% on" in text
        assert "No earlier assessment kept for viewers who read the same 2 projects as you" in text
        page.screenshot(path=str(tmp_path / "ready-organisation.png"), full_page=True)
        page.click("a[href='/ready?project=demo']")
        page.wait_for_url(f"{live.url}/ready?project=demo")
        text = " ".join(page.inner_text("main").split())
        assert "demo: not ready" in text and "demo: compliance posture" in text
        page.screenshot(path=str(tmp_path / "ready-demo.png"), full_page=True)
