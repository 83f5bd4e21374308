"""``bastion serve``, ``bastion upload``, ``bastion user create`` and ``bastion scan --upload``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_world import DATA, Live, bearer, build_world, serve_in_thread
from store_backends import open_store
from typer.testing import CliRunner

from bastion.cli.main import app, main
from bastion.store.accounts import authenticate
from bastion.store.db import Store

runner = CliRunner()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


def test_help_has_examples() -> None:
    for command in (["serve"], ["upload"], ["user", "create"], ["user"], ["db", "migrate"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example: bastion" in result.output


def test_user_create_migrates_and_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BASTION_DATABASE_URL", url)
    monkeypatch.setenv("BASTION_PASSWORD", "a long admin password")
    assert main(["user", "create", "admin", "--admin"]) == 0
    assert main(["user", "create", "admin"]) == 2
    monkeypatch.delenv("BASTION_PASSWORD")
    result = runner.invoke(app, ["user", "create", "bob"], input="another long one\nanother long one\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["user", "create", "eve"], input="short\nshort\n")
    assert result.exit_code == 2 and "at least" in result.output
    store = Store.open(url)
    with store.read() as session:
        admin = authenticate(session, "admin", "a long admin password")
        assert admin is not None and admin.is_admin
        assert authenticate(session, "bob", "another long one") is not None
    store.close()


def test_db_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    result = runner.invoke(app, ["db", "migrate", "--database-url", url])
    store = Store.open(url)
    head = store.head_revision()
    store.close()
    assert result.exit_code == 0 and f"empty -> {head}" in result.output
    assert f"{head} -> {head}" in runner.invoke(app, ["db", "migrate", "--database-url", url]).output
    bad = runner.invoke(app, ["db", "migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
    assert bad.exit_code == 2 and "error: database" in bad.output and "Traceback" not in bad.output


def test_upload_file_and_errors(server: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = DATA / "examples-scan.json"
    result = runner.invoke(
        app, ["upload", str(report), "--url", server.url, "--token", server.world.demo_token]
    )
    assert result.exit_code == 0, result.output
    assert "26 findings, 26 new" in result.output
    monkeypatch.setenv("BASTION_TOKEN", server.world.demo_token)
    result = runner.invoke(
        app, ["upload", str(DATA / "semgrep.sarif"), "--url", server.url, "--project", "demo", "--partial"]
    )
    assert result.exit_code == 0 and "0 fixed" in result.output
    other = runner.invoke(app, ["upload", str(report), "--url", server.url, "--project", "other"])
    assert (
        other.exit_code == 2 and "upload rejected (403)" in other.output and "Traceback" not in other.output
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = runner.invoke(app, ["upload", str(broken), "--url", server.url])
    assert result.exit_code == 2 and "broken.json" in result.output and "not valid JSON" in result.output
    assert runner.invoke(app, ["upload", str(tmp_path / "none.json"), "--url", server.url]).exit_code == 2
    assert "http://" in runner.invoke(app, ["upload", str(report), "--url", "ftp://x"]).output
    unreachable = runner.invoke(app, ["upload", str(report), "--url", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 2 and "failed" in unreachable.output
    monkeypatch.delenv("BASTION_TOKEN")
    assert "no API token" in runner.invoke(app, ["upload", str(report), "--url", server.url]).output


@pytest.mark.slow
def test_scan_upload(server: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "src"
    target.mkdir()
    (target / "app.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    monkeypatch.setenv("BASTION_TOKEN", server.world.demo_token)
    result = runner.invoke(
        app, ["scan", str(target), "-s", "sast", "--fail-on", "none", "--upload", server.url]
    )
    assert result.exit_code == 0, result.output
    assert "uploaded to" in result.output
    listing = httpx.get(
        f"{server.url}/api/v1/projects/demo/findings", headers=bearer(server.world.demo_token)
    ).json()
    assert listing["total"] >= 1 and all(i["scanner"] == "sast" for i in listing["items"])


def test_serve_runs_uvicorn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: calls.append((application, options)))
    database = ["--database-url", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(["serve", "--port", "8123", *database, "--sla", "critical=3"]) == 0
    application, options = calls[0]
    assert application.state.settings.sla.days["critical"] == 3
    assert main(["serve", *database, "--sla", "critical=soon"]) == 2
    assert options["port"] == 8123 and options["host"] == "127.0.0.1"
    assert (tmp_path / "s.db").exists() and type(application).__name__ == "FastAPI"
