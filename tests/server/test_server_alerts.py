"""Alerts on the server: upload API (tokens, roles, idempotence, limits, secrets), the alerts and
identity pages with acknowledge/close in the audit log; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from server_world import World, bearer, login
from sqlalchemy import select

from bastion.findings import Alert, Severity
from bastion.store.alerts import AlertRecord, AlertSubject
from bastion.store.models import AuditEvent

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _alert(n: int, **change: Any) -> dict[str, Any]:
    alert = Alert(
        detector="identity.password-spray" if n % 2 == 0 else "sigma",
        severity=Severity.HIGH if n % 3 == 0 else Severity.MEDIUM,
        score=1.5 + n,
        entity=f"user{n}@example.com",
        entity_kind="user",
        window_start=T0 + timedelta(minutes=n),
        window_end=T0 + timedelta(minutes=n + 5),
        explanation=f"Password spray: 12 accounts tried from 192.0.2.{n} in 10 minutes (case {n}).",
        evidence=(f"2026-03-02T08:0{n % 10}:00Z user{n}@example.com 192.0.2.{n} failure 50126",),
        techniques=("T1110.003",),
        metadata={
            "kind": "password-spray",
            "users": [f"user{n}@example.com", "Alice@Example.com"],
            "ips": [f"192.0.2.{n}"],
        },
    )
    data = alert.to_dict()
    data.update(change)
    return data


def test_upload_is_idempotent_scrubbed_and_listed(api: TestClient, both: World) -> None:
    rng = random.Random(7)
    key = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    secret = _alert(0, evidence=[f"curl -H 'Authorization: token {key}' https://api.example.com"])
    batch = {"alerts": [secret, _alert(1), _alert(2), _alert(1)]}
    first = api.post("/api/v1/alerts", json=batch, headers=bearer(both.demo_token))
    assert first.status_code == 201, first.text
    assert first.json()["received"] == 4 and first.json()["new"] == 3 and first.json()["duplicates"] == 1
    again = api.post("/api/v1/alerts", json=batch["alerts"], headers=bearer(both.demo_token))
    assert again.json()["new"] == 0 and again.json()["duplicates"] == 4
    assert sorted(set(again.json()["ids"])) == sorted(first.json()["ids"])
    one = api.post("/api/v1/alerts", json=_alert(5), headers=bearer(both.demo_token))
    assert one.json()["new"] == 1
    with both.store.read() as session:
        stored = list(session.scalars(select(AlertRecord)))
        assert len(stored) == 4
        assert key not in json.dumps([r.evidence for r in stored])
        assert any("ghp_" in line for r in stored for line in r.evidence)
        actions = [
            e.action
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.received"))
        ]
        assert actions == ["alerts.received", "alerts.received"]
    by_time = {"status": "open", "sort": "time"}
    listed = api.get("/api/v1/alerts", params=by_time, headers=bearer(both.demo_token)).json()
    assert listed["total"] == 4
    first_alert = listed["alerts"][0]
    assert first_alert["project"] == "demo" and first_alert["detector"] == "sigma"
    assert Alert.from_dict(first_alert) == Alert.from_dict(_alert(5))
    assert [a["window_end"] for a in listed["alerts"]] == sorted(
        (a["window_end"] for a in listed["alerts"]), reverse=True
    )
    # A feed for pollers (the default): newest received first, and only what came after a cursor.
    early = _alert(-31, entity="late@example.com", metadata={})  # an old window, received last
    late = api.post("/api/v1/alerts", json=early, headers=bearer(both.demo_token)).json()["ids"][0]
    feed = api.get("/api/v1/alerts", headers=bearer(both.demo_token)).json()["alerts"]
    assert [a["id"] for a in feed] == sorted((a["id"] for a in feed), reverse=True) and feed[0]["id"] == late
    after = api.get("/api/v1/alerts", params={"after_id": late - 1}, headers=bearer(both.demo_token)).json()
    assert [a["id"] for a in after["alerts"]] == [late] and after["total"] == 1
    wrong = api.get("/api/v1/alerts", params={"sort": "size"}, headers=bearer(both.demo_token))
    assert wrong.status_code == 422
    by_detector = api.get("/api/v1/alerts", params={"detector": "identity"}, headers=bearer(both.demo_token))
    assert {a["detector"] for a in by_detector.json()["alerts"]} == {"identity.password-spray"}
    assert by_detector.json()["total"] == 2
    by_user = api.get(
        "/api/v1/alerts", params={"entity": "alice@EXAMPLE.com"}, headers=bearer(both.demo_token)
    )
    assert by_user.json()["total"] == 4
    by_ip = api.get("/api/v1/alerts", params={"entity": "192.0.2.5"}, headers=bearer(both.demo_token))
    assert [a["entity"] for a in by_ip.json()["alerts"]] == ["user5@example.com"]
    high = api.get("/api/v1/alerts", params={"severity": "high"}, headers=bearer(both.demo_token)).json()
    assert {a["severity"] for a in high["alerts"]} == {"high"} and high["total"] == 1


def test_roles_and_projects(api: TestClient, both: World) -> None:
    assert api.post("/api/v1/alerts", json=_alert(1)).status_code == 401
    refused = api.post("/api/v1/alerts", json=_alert(1), headers=bearer(both.read_token))
    assert refused.status_code == 403 and "scope" in refused.json()["detail"]
    assert api.post("/api/v1/alerts", json=_alert(1), headers=bearer(both.demo_token)).status_code == 201
    assert api.post("/api/v1/alerts", json=_alert(1), headers=bearer(both.other_token)).json()["new"] == 1
    # Each project sees its own alerts; the other project's token cannot read or triage demo's.
    other = api.get("/api/v1/alerts", headers=bearer(both.other_token)).json()
    assert other["total"] == 1 and other["alerts"][0]["project"] == "other"
    demo = api.get("/api/v1/alerts", headers=bearer(both.read_token)).json()
    assert demo["total"] == 1 and demo["alerts"][0]["project"] == "demo"
    denied = api.get(f"/api/v1/alerts/{other['alerts'][0]['id']}", headers=bearer(both.read_token))
    assert denied.status_code == 403
    assert api.get("/api/v1/alerts/999999", headers=bearer(both.read_token)).status_code == 404
    wrong = api.post("/api/v1/projects/other/alerts", json=_alert(2), headers=bearer(both.demo_token))
    assert wrong.status_code == 403
    missing = api.post("/api/v1/projects/nope/alerts", json=_alert(2), headers=bearer(both.demo_token))
    assert missing.status_code == 404


def test_bad_uploads_are_one_line_4xx(api: TestClient, both: World) -> None:
    headers = {
        **bearer(both.demo_token),
        "Content-Type": "application/json",
        "X-Bastion-Filename": "run.json",
    }
    cases = [
        (b"{not json", 422, "run.json: not JSON"),
        (b'"text"', 422, "expected an alert object"),
        (json.dumps({"alerts": {"a": 1}}).encode(), 422, "'alerts' must be a list"),
        (json.dumps([_alert(1), {"detector": "x"}]).encode(), 422, "alert 1: missing field 'severity'"),
        (json.dumps([_alert(1, severity="urgent")]).encode(), 422, "alert 0: unknown severity 'urgent'"),
        (json.dumps([_alert(1, score="high")]).encode(), 422, "'score' must be a finite number"),
        (json.dumps([_alert(1, window_end="yesterday")]).encode(), 422, "'window_end' 'yesterday' is not"),
        (json.dumps([_alert(1, metadata=[1])]).encode(), 422, "'metadata' must be an object"),
        (json.dumps([_alert(1, evidence="one")]).encode(), 422, "'evidence' must be a list"),
        (json.dumps([_alert(1, detector="d" * 101)]).encode(), 422, "'detector' longer than 100"),
        (json.dumps([_alert(1, entity=5)]).encode(), 422, "'entity' must be text"),
        (json.dumps([_alert(1, id=["x"])]).encode(), 422, "'id' must be text"),
        (json.dumps([_alert(1, explanation="\ud800")]).encode(), 422, "lone UTF-16 surrogate"),
        (json.dumps({"alerts": [_alert(1)] * 5001}).encode(), 422, "5001 alerts in one upload"),
    ]
    for body, status, detail in cases:
        response = api.post("/api/v1/alerts", content=body, headers=headers)
        assert response.status_code == status, (detail, response.text)
        assert detail in response.json()["detail"] and "\n" not in response.json()["detail"]
    text = api.post(
        "/api/v1/alerts", content=b"x", headers={**bearer(both.demo_token), "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    huge = b'{"alerts": [' + b" " * (9 * 1024 * 1024) + b"]}"
    assert api.post("/api/v1/alerts", content=huge, headers=headers).status_code == 413
    with both.store.read() as session:
        assert session.scalar(select(AlertRecord.id)) is None


def test_ids_long_evidence_and_csv_entities(api: TestClient, both: World) -> None:
    headers = bearer(both.demo_token)
    twins = [_alert(3, id="run-1/alert-9"), _alert(4, id="run-1/alert-9")]
    assert api.post("/api/v1/alerts", json=twins, headers=headers).json()["new"] == 1
    long = _alert(
        6, evidence=[f"line {i} " + "x" * 3000 for i in range(150)], window_start="2026-03-02T08:00:00"
    )
    stuffing = _alert(7, entity="198.51.100.1,198.51.100.2", entity_kind="ip", metadata={})
    assert api.post("/api/v1/alerts", json=[long, stuffing], headers=headers).json()["new"] == 2
    with both.store.read() as session:
        record = session.scalars(select(AlertRecord).where(AlertRecord.entity == "user6@example.com")).one()
        assert len(record.evidence) == 100 and max(len(line) for line in record.evidence) == 2000
        assert record.extra["evidence_dropped"] == 50
        assert record.window_start.tzinfo is not None
        ips = session.scalars(select(AlertSubject.value).where(AlertSubject.kind == "ip")).all()
        assert {"198.51.100.1", "198.51.100.2"} <= set(ips)


def test_status_changes_through_the_api_are_audited(api: TestClient, both: World) -> None:
    ids = api.post("/api/v1/alerts", json=[_alert(1), _alert(2)], headers=bearer(both.demo_token)).json()[
        "ids"
    ]
    url = f"/api/v1/alerts/{ids[0]}/status"
    assert api.post(url, json={"status": "closed"}, headers=bearer(both.read_token)).status_code == 403
    bad = api.post(url, json={"status": "gone"}, headers=bearer(both.demo_token))
    assert bad.status_code == 422 and "choose from open, acknowledged, closed" in bad.json()["detail"]
    done = api.post(url, json={"status": "acknowledged", "reason": "on it"}, headers=bearer(both.demo_token))
    assert done.json() == {"id": ids[0], "status": "acknowledged", "changed": True}
    same = api.post(url, json={"status": "acknowledged"}, headers=bearer(both.demo_token))
    assert same.json()["changed"] is False
    api.post(url, json={"status": "closed", "reason": "password reset"}, headers=bearer(both.demo_token))
    detail = api.get(f"/api/v1/alerts/{ids[0]}", headers=bearer(both.demo_token)).json()
    assert detail["status"] == "closed" and detail["status_by"].startswith("token:ci")
    assert [(h["from"], h["to"]) for h in detail["history"]] == [
        ("open", "acknowledged"),
        ("acknowledged", "closed"),
    ]
    assert detail["history"][1]["reason"] == f"alert #{ids[0]}: password reset"
    other = api.get(f"/api/v1/alerts/{ids[1]}", headers=bearer(both.demo_token)).json()
    assert other["history"] == [] and other["status"] == "open"
    assert (
        api.get("/api/v1/alerts", params={"status": "closed"}, headers=bearer(both.demo_token)).json()[
            "total"
        ]
        == 1
    )


def test_pages_filters_identity_and_triage(api: TestClient, both: World) -> None:
    api.post("/api/v1/alerts", json=[_alert(n) for n in range(4)], headers=bearer(both.demo_token))
    api.post("/api/v1/alerts", json=[_alert(9, entity="bob@example.com")], headers=bearer(both.other_token))
    assert api.get("/alerts").status_code == 303  # signed out: to the login page
    csrf = login(api, "maya")
    page = api.get("/alerts")
    assert page.status_code == 200 and 'href="/alerts"' in page.text
    assert "user1@example.com" in page.text and "bob@example.com" not in page.text  # maya is not in "other"
    filtered = api.get("/alerts", params={"detector": "sigma", "severity": "medium"})
    assert "user1@example.com" in filtered.text and "user2@example.com" not in filtered.text
    assert "user3@example.com" not in filtered.text  # high
    assert "No alert matches." in api.get("/alerts", params={"entity": "nobody"}).text
    assert api.get("/alerts", params={"project": "other"}).status_code == 403
    record_id = api.get(
        "/api/v1/alerts", params={"entity": "user2@example.com"}, headers=bearer(both.demo_token)
    ).json()["alerts"][0]["id"]
    detail = api.get(f"/alerts/{record_id}")
    assert "Password spray: 12 accounts tried from 192.0.2.2" in detail.text
    assert "T1110.003" in detail.text and 'id="alert-status-form"' in detail.text
    assert api.post(f"/alerts/{record_id}/status", data={"status": "closed"}).status_code == 403  # no CSRF
    done = api.post(
        f"/alerts/{record_id}/status",
        data={"status": "acknowledged", "reason": "calling user2", "csrf_token": csrf},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/alerts/{record_id}"
    again = api.get(f"/alerts/{record_id}")
    assert "calling user2" in again.text and "maya" in again.text and "Reopen" in again.text
    api.post(f"/alerts/{record_id}/status", data={"status": "closed", "csrf_token": csrf})
    open_only = api.get("/alerts", params={"status": "open"})
    assert f'id="alert-{record_id}"' not in open_only.text
    people = api.get("/identity")
    assert "alice@example.com" in people.text.lower() and "user0@example.com" in people.text
    alice = api.get("/identity/ALICE@example.com")
    assert alice.status_code == 200 and "Alice@Example.com" in alice.text
    assert "identity.password-spray" in alice.text and "192.0.2.3" in alice.text
    assert "Password spray: 12 accounts tried from 192.0.2.0" in alice.text
    assert "No alert names nobody@x" in api.get("/identity/nobody@x").text
    with both.store.read() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action.like("alert.%"))).all()
        assert [(e.actor, e.to_status) for e in audit] == [("maya", "acknowledged"), ("maya", "closed")]


def test_viewer_reads_but_cannot_triage(api: TestClient, both: World) -> None:
    ids = api.post("/api/v1/alerts", json=[_alert(1)], headers=bearer(both.demo_token)).json()["ids"]
    csrf = login(api, "vic")
    page = api.get(f"/alerts/{ids[0]}")
    assert page.status_code == 200 and 'id="alert-status-form"' not in page.text
    refused = api.post(f"/alerts/{ids[0]}/status", data={"status": "closed", "csrf_token": csrf})
    assert refused.status_code == 403
    assert api.get("/alerts/424242").status_code == 404
    user_upload = api.post("/api/v1/alerts", json=_alert(2), headers={"X-CSRF-Token": csrf})
    assert user_upload.status_code == 400 and "/api/v1/projects/{slug}/alerts" in user_upload.json()["detail"]
    viewer_upload = api.post("/api/v1/projects/demo/alerts", json=_alert(2), headers={"X-CSRF-Token": csrf})
    assert viewer_upload.status_code == 403


def test_maintainer_uploads_to_a_project(api: TestClient) -> None:
    csrf = login(api, "maya")
    response = api.post("/api/v1/projects/demo/alerts", json=[_alert(1)], headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201 and response.json()["new"] == 1
    listed = api.get("/api/v1/alerts", params={"project": "demo"}).json()
    assert listed["total"] == 1 and listed["alerts"][0]["users"] == ["user1@example.com", "Alice@Example.com"]
    assert listed["alerts"][0]["ips"] == ["192.0.2.1"] and listed["alerts"][0]["status"] == "open"


def test_two_sigma_rules_on_one_event_are_two_alerts(api: TestClient, both: World) -> None:
    same = {"detector": "sigma", "entity": "web-1", "entity_kind": "host", "window_end": T0.isoformat()}
    first = _alert(
        1, window_start=T0.isoformat(), metadata={"rule_id": "a1", "author": "Florian Roth"}, **same
    )
    second = _alert(
        1, window_start=T0.isoformat(), metadata={"rule_id": "b2", "author": "Nasreddine"}, **same
    )
    stored = api.post("/api/v1/alerts", json=[first, second, first], headers=bearer(both.demo_token)).json()
    assert (stored["new"], stored["duplicates"]) == (2, 1)
    login(api, "maya")
    page = api.get(f"/alerts/{stored['ids'][0]}")
    assert "Florian Roth" in page.text  # a Sigma match shows its rule's author (DRL 1.1)
