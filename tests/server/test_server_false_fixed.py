"""Issue 13 item 1, end to end as the attacker ran it: ``bastion scan --upload`` of a deps scan
with an advisory database, then of the same project with no database (or a corrupt one).
The second upload must fix nothing: the scanner could not check a single package."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from server_world import Live, bearer
from typer.testing import CliRunner

from bastion.cli.main import app

OSV = Path(__file__).parent.parent / "fixtures" / "advisories" / "osv"
runner = CliRunner()


def _open(live: Live) -> list[dict[str, object]]:
    listing = httpx.get(
        f"{live.url}/api/v1/projects/demo/findings",
        params={"status": ["open"], "per_page": 200},
        headers=bearer(live.world.demo_token),
    ).json()
    return list(listing["items"])


def _scan_and_upload(target: Path, live: Live) -> tuple[int, str]:
    result = runner.invoke(
        app, ["scan", str(target), "-s", "deps", "--fail-on", "none", "--upload", live.url, "-f", "json"]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("database", ["missing", "corrupt"])
def test_a_deps_scan_that_could_not_check_fixes_nothing(
    live_sqlite: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    advisories = tmp_path / "advisories.db"
    imported = runner.invoke(app, ["db", "import", str(OSV), "--database", str(advisories)])
    assert imported.exit_code == 0, imported.output
    target = tmp_path / "project"
    target.mkdir()
    (target / "requirements.txt").write_text("django==1.11.0\nflask==0.12\nrequests==2.19.0\n")
    monkeypatch.setenv("BASTION_TOKEN", live_sqlite.world.demo_token)
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(advisories))
    code, output = _scan_and_upload(target, live_sqlite)
    assert code == 0, output
    before = _open(live_sqlite)
    assert len(before) >= 3, output
    if database == "missing":
        monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "nowhere.db"))
    else:
        broken = tmp_path / "broken.db"
        broken.write_bytes(b"this is not a database" * 100)
        monkeypatch.setenv("BASTION_ADVISORY_DB", str(broken))
    code, output = _scan_and_upload(target, live_sqlite)
    assert "0 fixed" in output, output
    assert [f["id"] for f in _open(live_sqlite)] == [f["id"] for f in before]
    scans = httpx.get(
        f"{live_sqlite.url}/api/v1/projects/demo/scans", headers=bearer(live_sqlite.world.demo_token)
    ).json()
    assert scans[0]["fixed"] == 0 and scans[0]["not_checked"]
