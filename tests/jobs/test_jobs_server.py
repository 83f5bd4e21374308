"""``/api/jobs`` and the ``/jobs`` page: job states as the workers recorded them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_world import PASSWORD, World, bearer, build_world, login
from store_backends import open_store

from bastion.jobs import board
from bastion.server import jobs as jobs_routes


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The server world on SQLite, with the jobs routes (also when app.py does not list them yet)."""
    store = open_store("sqlite", tmp_path, None)
    built = build_world(store)
    if not any(getattr(route, "path", "") == "/jobs" for route in built.app.routes):
        built.app.include_router(jobs_routes.api)
        built.app.include_router(jobs_routes.pages)
    yield built
    store.close()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """A test client without credentials."""
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _jobs(world: World) -> None:
    store = world.store
    for job_id, repo in (("j-done", "https://git.example.com/a.git"), ("j-dead", "file:///srv/broken"),
                         ("j-queued", "/srv/<b>")):  # fmt: skip
        board.enqueued(store, job_id, repo)
    board.start(store, "j-done", "https://git.example.com/a.git", "host:1", 5)
    board.finish(
        store, "j-done", [{"fingerprint": "f1", "rule_id": "secrets.x", "severity": "high"}], ["a note"]
    )
    board.start(store, "j-dead", "file:///srv/broken", "host:2", 5)
    board.dead_letter(store, "j-dead", "RetryableJobError: git failed (after 4 failed attempts)")


def test_admins_see_states_counts_and_errors(world: World, client: TestClient) -> None:
    _jobs(world)
    login(client, "root", PASSWORD)
    page = client.get("/jobs")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in page.text  # a job is still queued
    assert 'id="count-done"' in page.text and "git failed (after 4 failed attempts)" in page.text
    assert "a note" in page.text and "/srv/&lt;b&gt;" in page.text and "/srv/<b>" not in page.text
    dead_only = client.get("/jobs?state=dead")
    assert "j-dead"[:12] in dead_only.text and "git.example.com/a.git" not in dead_only.text
    document = client.get("/api/jobs").json()
    assert document["counts"] == {"queued": 1, "running": 0, "retried": 0, "done": 1, "failed": 0, "dead": 1}
    assert {job["id"]: job["state"] for job in document["jobs"]} == {
        "j-done": "done",
        "j-dead": "dead",
        "j-queued": "queued",
    }
    one = client.get("/api/jobs/j-done").json()
    assert one["findings"] == 1 and one["notes"] == ["a note"] and one["worker"] == "host:1"
    assert client.get("/api/jobs/none").status_code == 404
    bad = client.get("/api/jobs?state=lost")
    assert bad.status_code == 400 and "choose from queued" in bad.json()["detail"]


def test_jobs_are_for_admins_only(world: World, client: TestClient) -> None:
    _jobs(world)
    assert client.get("/api/jobs").status_code == 401
    assert client.get("/api/jobs", headers=bearer(world.demo_token)).status_code == 403
    login(client, "vic", PASSWORD)
    assert client.get("/jobs").status_code == 403


def test_no_refresh_when_nothing_is_running(client: TestClient) -> None:
    login(client, "root", PASSWORD)
    page = client.get("/jobs")
    assert page.status_code == 200 and "No job yet." in page.text and "refresh" not in page.text
