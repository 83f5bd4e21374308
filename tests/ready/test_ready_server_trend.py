"""The server keeps past readiness assessments: the trend on the page, in the API and in the
server-backed CLI, per audience (two viewers who read different projects never share a history),
one row per scope, audience and UTC day, pruned after the retention, and migration 0015."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ready_world import World
from server_world import PASSWORD, bearer, login
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.ready.score import short_day
from bastion.store.models import Project
from bastion.store.ready_history import (
    ORGANISATION,
    Audience,
    ReadyAssessment,
    Snapshot,
    audience_of,
    history,
    record_snapshot,
)

DIMENSIONS = ("prepare", "detect", "respond", "recover")


def run(*args: str) -> tuple[int, str, str]:
    """``bastion ready ARGS``: exit code, standard output, standard error."""
    result = CliRunner().invoke(app, ["ready", *args], env={"BASTION_TOKEN": ""})
    return result.exit_code, result.stdout, result.stderr


def _ids(world: World, *slugs: str) -> list[int]:
    with world.store.read() as session:
        query = select(Project.id).order_by(Project.id)
        if slugs:
            query = query.where(Project.slug.in_(slugs))
        return list(session.scalars(query))


def _keep(world: World, audience: Audience, days_ago: int, overall: float, dims: dict[str, float],
          scope: str = ORGANISATION) -> datetime:  # fmt: skip
    """Keep an assessment ``days_ago`` days back for ``audience``; returns its time."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    with world.store.write() as session:
        record_snapshot(session, scope, audience, Snapshot(at, "not ready", overall, dims))
    return at


def _rows(world: World) -> list[ReadyAssessment]:
    with world.store.read() as session:
        return list(session.scalars(select(ReadyAssessment).order_by(ReadyAssessment.id)))


def test_page_and_api_show_the_change_since_an_earlier_day(seeded: World) -> None:
    admins = audience_of("admin", _ids(seeded))
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        now = client.get("/api/v1/ready").json()
        assert now["trend"]["previous"] is None
        assert "No earlier assessment kept for viewers who read the same 2 projects" in now["trend"]["note"]
        before = {d: round(now["dimensions"][d] - 12.0, 1) for d in DIMENSIONS}
        at = _keep(seeded, admins, 3, round(now["overall"] - 12.0, 1), before)
        data = client.get("/api/v1/ready").json()
        page = client.get("/ready").text
    day = short_day(at.isoformat())
    trend = data["trend"]
    assert trend["summary"] == f"up 12 points since {day}"
    assert trend["overall_change"] == 12.0 and trend["previous_overall"] == round(now["overall"] - 12.0, 1)
    assert trend["dimensions"] == dict.fromkeys(DIMENSIONS, 12.0)
    assert trend["basis"].startswith(
        f"Compared with the assessment kept on {day} for viewers who read the same 2"
    )
    assert f'<strong class="ready-trend-summary">up 12 points since {day}</strong>' in page
    assert f"+12 since {day}" in page
    assert (
        f"{now['overall']:g}/100 now, {round(now['overall'] - 12.0, 1):g}/100 then (not ready)" in page
    )  # each area's change under its score
    # one row for today (updated by the second assessment) and the earlier one
    kept = [(r.day, r.scope) for r in _rows(seeded)]
    assert kept == [(datetime.now(UTC).date(), ORGANISATION), (at.date(), ORGANISATION)]


def test_a_fall_reads_down(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", headers=bearer(seeded.demo_token)) as client:
        now = client.get("/api/v1/ready?project=demo").json()
        token = audience_of("token", _ids(seeded, "demo"))
        dims = {d: now["dimensions"][d] + 2.5 for d in DIMENSIONS}
        at = _keep(seeded, token, 1, now["overall"] + 2.5, dims, scope=f"project:{_ids(seeded, 'demo')[0]}")
        data = client.get("/api/v1/ready?project=demo").json()
    assert data["trend"]["summary"] == f"down 2.5 points since {short_day(at.isoformat())}"
    assert "same 1 project as you" in data["trend"]["basis"]


def test_viewers_of_different_projects_never_see_each_others_history(seeded: World) -> None:
    admins = audience_of("admin", _ids(seeded))
    _keep(seeded, admins, 2, 1.0, dict.fromkeys(DIMENSIONS, 1.0))
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as maya:
        login(maya, "maya")  # maintainer of demo only
        first = maya.get("/api/v1/ready").json()
        maya_history = maya.get("/api/v1/ready/history").json()
    assert first["trend"]["previous"] is None and "same 1 project as you" in first["trend"]["note"]
    assert maya_history["projects"] == 1
    assert [r["overall"] for r in maya_history["assessments"]] == [first["overall"]]  # her own today only
    # vic reads the same project as a person: one history with maya
    users = audience_of("user", _ids(seeded, "demo"))
    _keep(seeded, users, 4, 3.0, dict.fromkeys(DIMENSIONS, 3.0))
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as vic:
        login(vic, "vic")
        seen = vic.get("/api/v1/ready").json()["trend"]
        vic_history = vic.get("/api/v1/ready/history").json()["assessments"]
    assert seen["previous_overall"] == 3.0
    assert [r["overall"] for r in vic_history][1:] == [3.0]
    # the demo project's token reads fewer sources than a person: its own history, not maya's
    with TestClient(seeded.app, base_url="http://testserver", headers=bearer(seeded.demo_token)) as ci:
        assert ci.get("/api/v1/ready").json()["trend"]["previous"] is None
        assert len(ci.get("/api/v1/ready/history").json()["assessments"]) == 1
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as root:
        login(root, "root")
        assert root.get("/api/v1/ready").json()["trend"]["previous_overall"] == 1.0
    with seeded.store.read() as session:
        for audience, overalls in ((admins, 2), (users, 2)):
            assert len(history(session, ORGANISATION, audience)) == overalls


def test_a_project_the_viewer_may_not_read_keeps_nothing(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as maya:
        login(maya, "maya")
        data = maya.get("/api/v1/ready?project=other").json()
        assert data["trend"] == {"previous": None, "note": "other: not a project you may read: no trend kept"}
        missing = maya.get("/api/v1/ready/history?project=no-such")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "project 'no-such': no such project, or not one you may read"
    assert _rows(seeded) == []


def test_same_day_recomputation_updates_and_old_rows_are_pruned(seeded: World) -> None:
    audience = audience_of("user", [7, 3, 3])
    assert audience.project_ids == (3, 7)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    dims = dict.fromkeys(DIMENSIONS, 10.0)
    with seeded.store.write() as session:
        record_snapshot(
            session, ORGANISATION, audience, Snapshot(today - timedelta(days=401), "not ready", 1, dims)
        )
        record_snapshot(
            session, ORGANISATION, audience, Snapshot(today - timedelta(days=399), "not ready", 2, dims)
        )
        record_snapshot(session, ORGANISATION, audience, Snapshot(today, "not ready", 3, dims))
    assert sorted(r.overall for r in _rows(seeded)) == [2.0, 3.0]  # 401 days old: pruned by today's row
    with seeded.store.write() as session:
        later = today + timedelta(minutes=30)
        record_snapshot(session, ORGANISATION, audience, Snapshot(later, "partly ready", 50.0, dims))
    rows = _rows(seeded)
    assert len(rows) == 2 and rows[-1].overall == 50.0 and rows[-1].verdict == "partly ready"
    assert rows[-1].at == later and rows[-1].project_ids == [3, 7]
    with seeded.store.write() as session, pytest.raises(ValueError, match="retention_days"):
        record_snapshot(
            session, ORGANISATION, audience, Snapshot(today, "ready", 1.0, dims), retention_days=0
        )


def test_two_first_assessments_of_a_day_at_once_keep_one_row(seeded: World) -> None:
    """PostgreSQL: the second insert waits on the first's unique key, fails, and updates instead."""
    if seeded.store.dialect != "postgresql":
        pytest.skip("SQLite writers take the write lock up front: no two inserts race there")
    audience = audience_of("admin", [1, 2])
    now = datetime.now(UTC).replace(microsecond=0)
    dims = dict.fromkeys(DIMENSIONS, 0.0)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with seeded.store.write() as session:
                record_snapshot(session, ORGANISATION, audience, Snapshot(now, "partly ready", 60.0, dims))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with seeded.store.write() as first:
        record_snapshot(first, ORGANISATION, audience, Snapshot(now, "not ready", 10.0, dims))
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # the second insert now waits on the first's uncommitted row
    racer.join(timeout=30)
    assert errors == []
    rows = _rows(seeded)
    assert [(r.overall, r.verdict) for r in rows] == [(60.0, "partly ready")]


def test_upgrade_from_0014(seeded: World) -> None:
    store = seeded.store
    assert store.downgrade("0014") == "0014"
    assert "ready_assessments" not in inspect(store.engine).get_table_names()
    assert store.migrate() == store.head_revision()
    with store.write() as session:
        audience = audience_of("admin", [1])
        record_snapshot(session, ORGANISATION, audience, Snapshot(datetime.now(UTC), "ready", 80.0, {}))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ReadyAssessment)) == 1


def test_server_backed_cli_shows_the_servers_trend(seeded_live: tuple[str, World], tmp_path: Path) -> None:
    url, world = seeded_live
    token = audience_of("token", _ids(world, "demo"))
    code, out, err = run("--server", url, "--token", world.demo_token, "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert first["trend"]["previous"] is None
    assert first["trend"]["note"].startswith(
        "No earlier assessment kept for viewers who read the same 1 project"
    )
    at = _keep(world, token, 2, first["overall"] - 7.0, {d: first["dimensions"][d] - 7.0 for d in DIMENSIONS})
    code, out, err = run("--server", url, "--token", world.demo_token)
    assert code == 0, err
    trend = out.split("Trend\n", 1)[1].splitlines()
    day = short_day(at.isoformat())
    then = f"{first['overall'] - 7:.0f}"
    assert trend[0] == f"overall {first['overall']:.0f}: up 7 points since {day} (not ready, {then} then)"
    assert trend[1].startswith(f"Compared with the assessment kept on {day} for viewers who read the same 1")
    assert "  prepare  " in out and "(+7 since last)" in out
    # each run kept today's assessment on the server: one row for today, updated, and the earlier one
    assert len(_rows(world)) == 2
    # a history file named on the command line is the trend's, not the server's
    kept = tmp_path / "history.json"
    code, out, err = run("--server", url, "--token", world.demo_token, "--history", str(kept), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["trend"] == {"previous": None, "note": "first assessment: nothing to compare with"}


def test_trend_on_the_page_in_the_browser(seeded_live: tuple[str, World], page: Any, tmp_path: Path) -> None:
    url, seeded = seeded_live
    admins = audience_of("admin", _ids(seeded))
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        now = client.get("/api/v1/ready").json()
    prepare = now["dimensions"]["prepare"]
    dims = {"prepare": round(prepare / 2, 1), "detect": now["dimensions"]["detect"],
            "respond": now["dimensions"]["respond"] / 2, "recover": now["dimensions"]["recover"]}  # fmt: skip
    assert prepare >= 10  # the seeded scans count: the half-as-good assessment reads as a rise
    overall = round(sum(dims.values()) / 4, 1)
    _keep(seeded, admins, 9, overall - 1.0, dims)
    at = _keep(seeded, admins, 2, overall, dims)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}/ready")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/ready")
    day = short_day(at.isoformat())
    text = " ".join(page.inner_text("main").split())
    assert f"up {round(now['overall'] - overall, 1):g} points since {day}" in text
    summary = page.locator(".ready-trend-summary")
    assert summary.bounding_box()["y"] < 900  # on the first screen, with the answer
    rows = page.locator("table.ready-trend tbody tr").all_inner_texts()
    delta = round(prepare - dims["prepare"], 1)
    assert " ".join(rows[0].split()) == f"prepare {dims['prepare']:g} {prepare:g} {delta:+g}"
    assert " ".join(rows[1].split()).endswith(" unchanged")  # detect
    assert "Kept assessments (one a day, the day's latest):" in text and text.count("/100 (not ready)") >= 3
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(tmp_path / "ready-trend.png"), full_page=True)
