"""Issue 13 item 1's last gap, end to end: ``bastion scan --upload`` of a subdirectory, or with
``--exclude``, fixes nothing in files it did not scan (the report carries its scope)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from server_world import Live, bearer
from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()
BUCKET = 'resource "aws_s3_bucket" "logs" {\n  bucket = "team-logs"\n  acl    = "public-read"\n}\n'


def _open_paths(live: Live) -> list[str]:
    listing = httpx.get(
        f"{live.url}/api/v1/projects/demo/findings",
        params={"status": ["open"], "per_page": 200},
        headers=bearer(live.world.demo_token),
    ).json()
    return sorted(item["location"]["path"] for item in listing["items"])


def _scan(target: Path, *extra: str) -> str:
    arguments = ["scan", str(target), "-s", "iac", "--fail-on", "none", "-f", "json", *extra]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return result.output


def test_subdirectory_and_excluded_scans_fix_nothing_they_did_not_scan(
    live_sqlite: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    for part in ("api", "web"):
        (repo / part).mkdir()
        (repo / part / "main.tf").write_text(BUCKET)
    monkeypatch.setenv("BASTION_TOKEN", live_sqlite.world.demo_token)
    upload = ("--upload", live_sqlite.url)
    _scan(repo, *upload)
    before = _open_paths(live_sqlite)
    assert {"api/main.tf", "web/main.tf"} <= set(before), before
    (repo / "api" / "main.tf").write_text("# fixed\n")
    (repo / "web" / "main.tf").write_text("# fixed\n")
    output = _scan(repo / "api", *upload)
    assert "0 fixed" in output, output
    assert _open_paths(live_sqlite) == before, "a scan of api/ fixed findings it did not scan"
    output = _scan(repo, "--exclude", "web/", *upload)
    assert " 0 fixed" not in output, output
    assert set(_open_paths(live_sqlite)) == {"web/main.tf"}, "web/ was excluded: nothing fixed there"
    _scan(repo, *upload)
    assert _open_paths(live_sqlite) == []
