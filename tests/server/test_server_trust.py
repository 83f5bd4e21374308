"""Defects found by attacking the server (issue 13): scopes on pages, sign-in spoofing and
limits, bodies parsed before authentication, busy database, malformed and oversized uploads,
false "fixed" through the API."""

from __future__ import annotations

import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from server_world import PASSWORD, Live, World, bearer, build_world, login
from sqlalchemy import select
from store_backends import open_store

from bastion.server.settings import ServerSettings
from bastion.store.accounts import create_token
from bastion.store.models import FindingRecord, Project

REPORT = Path(__file__).parent.parent / "store" / "data" / "examples-scan.json"


def _upload_only_token(world: World) -> str:
    with world.store.write() as session:
        demo = session.scalars(select(Project).where(Project.slug == "demo")).one()
        return create_token(session, demo, "upload-only", "root", ("scan:upload",)).secret


def test_pages_refuse_a_token_without_read_scope_like_the_api(world: World, client: TestClient) -> None:
    token = _upload_only_token(world)
    uploaded = client.post("/api/v1/scans", content=REPORT.read_bytes(), headers=bearer(token))
    assert uploaded.status_code == 201
    with world.store.read() as session:
        finding_id = session.scalars(select(FindingRecord.id)).first()
    pages = ["/", "/projects", "/projects/demo", "/findings", "/findings?project=demo", "/scans"]
    for page in [*pages, f"/findings/{finding_id}"]:
        response = client.get(page, headers=bearer(token))
        assert response.status_code == 403, page
        assert "scope" in response.text and "sast." not in response.text and "secrets." not in response.text
    assert client.get("/api/v1/projects", headers=bearer(token)).json() == []
    # a token that may read still sees the pages
    assert client.get("/findings", headers=bearer(world.read_token)).status_code == 200


def test_sign_in_page_shows_only_its_own_messages(client: TestClient) -> None:
    spoof = "Your account is locked. Call +1 555 0100 with your password"
    page = client.get("/login", params={"error": spoof})
    assert page.status_code == 200 and "555 0100" not in page.text and "locked" not in page.text
    wrong = client.post(
        "/login",
        data={
            "username": "vic",
            "password": "nope nope",
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        },
    )
    assert wrong.status_code == 303 and "error=credentials" in wrong.headers["location"]
    assert "Wrong user name or password." in client.get(wrong.headers["location"]).text


def test_anonymous_bodies_are_refused_before_they_are_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    async def no_parse(_self: Any) -> Any:
        parsed.append("multipart")
        raise AssertionError("parsed before authentication")

    monkeypatch.setattr("starlette.formparsers.MultiPartParser.parse", no_parse)
    body = b"x" * (8 * 1024 * 1024)
    files = {"file": ("big.json", body, "application/json")}
    for headers in (
        {},
        {"Authorization": "Bearer bst_not_a_real_token"},
        {"Cookie": "bastion_session=forged"},
    ):
        response = client.post("/projects/demo/upload", files=files, headers=headers)
        assert response.status_code == 401, headers
    assert parsed == []
    # the public sign-in form takes a user name and a password, not megabytes
    big_login = client.post("/login", data={"username": "x" * 100_000, "password": "y"})
    assert big_login.status_code == 413


def test_concurrent_wrong_passwords_are_counted_before_they_are_checked(
    live_sqlite: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.server import login as login_module

    checked: list[str] = []
    real = login_module.authenticate

    def counting(session: Any, username: str, password: str) -> Any:
        checked.append(username)
        return real(session, username, password)

    monkeypatch.setattr(login_module, "authenticate", counting)

    def attempt(username: str, password: str) -> int:
        with httpx.Client(base_url=live_sqlite.url, follow_redirects=False, timeout=60) as browser:
            page = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            data = {"username": username, "password": password, "csrf_token": csrf.group(1)}
            return browser.post("/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: attempt("vic", "wrong guess"), range(30)))
    assert codes.count(303) == 5 and codes.count(429) == 25
    assert len(checked) == 5
    # the target is held from this address; a colleague behind the same address is not
    assert attempt("vic", PASSWORD) == 429
    assert attempt("maya", PASSWORD) == 303
    # spraying many accounts locks the address for strangers, not for maya who signs in here
    codes = [attempt(f"ghost{i}", "guess") for i in range(16)]
    assert codes[-1] == 429
    assert attempt("root", PASSWORD) == 429
    assert attempt("maya", PASSWORD) == 303


@pytest.fixture(params=["sqlite", "postgresql"])
def busy_world(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Any:
    """A world whose statements wait 0.2 s (not 30 s) for another writer's lock."""
    store = open_store(request.param, tmp_path, postgres_url, lock_wait_s=0.2)
    yield build_world(store), request.param, tmp_path / "bastion.db", postgres_url
    store.close()


def _hold_the_lock(backend: str, path: Path, url: str | None) -> Any:
    """Another writer holding the lock, as a long upload did: SQLite's write lock, or the row
    lock uploads and triage take on the project in PostgreSQL."""
    if backend == "sqlite":
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        return holder
    import psycopg

    assert url is not None
    holder = psycopg.connect(url)
    holder.execute("SELECT id FROM projects WHERE slug = 'demo' FOR UPDATE")
    return holder


def test_a_write_blocked_by_a_long_upload_gets_503_with_retry_after(busy_world: Any) -> None:
    world, backend, path, url = busy_world
    with TestClient(world.app, follow_redirects=False) as client:
        uploaded = client.post("/api/v1/scans", content=REPORT.read_bytes(), headers=bearer(world.demo_token))
        assert uploaded.status_code == 201
        finding = client.get("/api/v1/projects/demo/findings", headers=bearer(world.demo_token)).json()[
            "items"
        ][0]
        holder = _hold_the_lock(backend, path, url)
        try:
            response = client.post(
                f"/api/v1/findings/{finding['id']}/triage",
                json={"status": "confirmed"},
                headers=bearer(world.demo_token),
            )
            upload = client.post(
                "/api/v1/scans", content=REPORT.read_bytes(), headers=bearer(world.demo_token)
            )
        finally:
            holder.rollback()
            holder.close()
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "busy" in response.json()["detail"]
        assert upload.status_code == 503
        # once the other writer is done, the same request goes through
        again = client.post(
            f"/api/v1/findings/{finding['id']}/triage",
            json={"status": "confirmed"},
            headers=bearer(world.demo_token),
        )
        assert again.status_code == 200


def test_results_per_upload_are_capped(tmp_path: Path) -> None:
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store, ServerSettings(max_results=3))
    with TestClient(world.app) as client:
        response = client.post("/api/v1/scans", content=REPORT.read_bytes(), headers=bearer(world.demo_token))
    store.close()
    assert response.status_code == 422
    assert "more than 3 results" in response.json()["detail"] and "\n" not in response.json()["detail"]


def test_max_results_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bastion.errors import ConfigError

    monkeypatch.setenv("BASTION_MAX_RESULTS", "1000")
    assert ServerSettings.from_env().max_results == 1000
    monkeypatch.setenv("BASTION_MAX_RESULTS", "lots")
    with pytest.raises(ConfigError, match="BASTION_MAX_RESULTS"):
        ServerSettings.from_env()


MALFORMED = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "string physicalLocation": json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "x"}},
                    "results": [{"ruleId": "r", "locations": [{"physicalLocation": "a"}]}],
                }
            ],
        }
    ).encode(),
    "list fingerprints": json.dumps(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r", "fingerprints": [1]}]}],
        }
    ).encode(),
    "object ruleId": json.dumps(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": {"a": 1}}]}]}
    ).encode(),
    "lone surrogate": b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": '
    b'[{"ruleId": "r", "message": {"text": "\\ud800"}}]}]}',
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_uploads_get_422_with_one_line(world: World, client: TestClient, case: str) -> None:
    response = client.post("/api/v1/scans", content=MALFORMED[case], headers=bearer(world.demo_token))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and detail.startswith("upload")


def test_an_upload_that_skipped_a_scanner_fixes_nothing_there_through_the_api(
    world: World, client: TestClient
) -> None:
    report = json.loads(REPORT.read_bytes())
    report["scope"] = {
        "root": ".",
        "excludes": [],
        "history": None,
        "scanners": {name: {"status": "complete"} for name in report["scanners"]},
    }
    first = client.post("/api/v1/scans", content=json.dumps(report), headers=bearer(world.demo_token)).json()
    assert first["new"] > 0
    assert first["scope"] == [{"root": ".", "excludes": [], "ran": sorted(report["scanners"])}]
    unscoped = {k: v for k, v in report.items() if k != "scope"}
    headers = bearer(world.demo_token)
    again = client.post("/api/v1/scans", content=json.dumps(unscoped), headers=headers).json()
    assert again["scope"] == [] and again["fixed"] == 0
    secrets_count = sum(1 for f in report["findings"] if f["scanner"] == "secrets")
    skipped = {
        **report,
        "findings": [],
        "skipped": [{"component": "secrets", "reason": "rules could not load"}],
    }
    second = client.post(
        "/api/v1/scans", content=json.dumps(skipped), headers=bearer(world.demo_token)
    ).json()
    assert second["fixed"] == first["new"] - secrets_count
    assert second["not_checked"][0]["scanner"] == "secrets"
    crashed = {**report, "findings": [], "failures": [{"scanner": "sast", "error": "boom"}]}
    third = client.post("/api/v1/scans", content=json.dumps(crashed), headers=bearer(world.demo_token)).json()
    assert third["fixed"] == 0 and "failed" in third["not_checked"][0]["reason"]
    scans = client.get("/api/v1/projects/demo/scans", headers=bearer(world.demo_token)).json()
    assert scans[0]["not_checked"] and scans[-1]["not_checked"] == []
    login(client, "vic")
    page = client.get("/scans")
    assert page.status_code == 200
    assert "rules could not load" in page.text and "nothing fixed there" in page.text
