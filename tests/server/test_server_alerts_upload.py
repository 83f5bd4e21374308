"""``bastion identity detect --upload URL`` against a real server on loopback, and the uploader's
refusals; the alerts land once however often the run is repeated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from server_world import Live, bearer, build_world, serve_in_thread
from sqlalchemy import select
from store_backends import open_store

from bastion.cli.main import main
from bastion.detect.identity.upload import AlertUpload
from bastion.errors import InputError, UsageError
from bastion.findings import Alert, Severity
from bastion.store.alerts import AlertRecord

FIX = Path(__file__).parents[1] / "fixtures" / "identity"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


def _spray_log(path: Path) -> Path:
    """An Entra JSON-lines file: alice's habit, then a spray from one address that lands on alice."""
    t0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
    lines: list[dict[str, object]] = [
        {
            "createdDateTime": (t0 + timedelta(days=day)).isoformat(),
            "userPrincipalName": "alice@ex.com",
            "ipAddress": "203.0.113.10",
            "status": {"errorCode": 0},
            "appDisplayName": "Office 365",
            "deviceDetail": {"deviceId": "dev-1"},
        }
        for day in range(12)
    ]
    t1 = t0 + timedelta(days=13)
    lines += [
        {
            "createdDateTime": (t1 + timedelta(minutes=i)).isoformat(),
            "ipAddress": "192.0.2.9",
            "userPrincipalName": "alice@ex.com" if i == 0 else f"u{i}@ex.com",
            "status": {"errorCode": 50126},
        }
        for i in range(12)
    ]
    lines.append(
        {
            "createdDateTime": (t1 + timedelta(minutes=20)).isoformat(),
            "userPrincipalName": "alice@ex.com",
            "ipAddress": "192.0.2.9",
            "status": {"errorCode": 0},
            "appDisplayName": "Azure Portal",
        }
    )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _detect(log: Path, out: Path, *extra: str) -> int:
    args = [
        "identity",
        "detect",
        str(log),
        "--geo",
        str(FIX / "geo.csv"),
        "--format",
        "jsonl",
        "-o",
        str(out),
    ]
    return main([*args, *extra])


def test_detect_uploads_each_alert_once(
    server: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log, out = _spray_log(tmp_path / "signins.jsonl"), tmp_path / "alerts.jsonl"
    monkeypatch.setenv("BASTION_TOKEN", server.world.demo_token)
    assert _detect(log, out, "--upload", server.url) == 1
    written = [json.loads(line) for line in out.read_text().splitlines()]
    err = capsys.readouterr().err
    assert f"uploaded {len(written)} alert(s) to {server.url}: {len(written)} new, 0 already known" in err
    assert server.world.demo_token not in err
    with server.world.store.read() as session:
        stored = list(session.scalars(select(AlertRecord).order_by(AlertRecord.id)))
        assert sorted(r.detector for r in stored) == sorted(f"identity.{a['kind']}" for a in written)
        spray = next(r for r in stored if r.detector == "identity.password-spray")
        assert (
            spray.ips == ["192.0.2.9"] and "alice@ex.com" in spray.users and spray.techniques == ["T1110.003"]
        )
        assert spray.extra["file"] == str(log) and spray.received_by.startswith("token:ci")
    # A rerun over the same logs, to the project by name with the token on the command line.
    monkeypatch.delenv("BASTION_TOKEN")
    token = server.world.demo_token
    assert _detect(log, out, "--upload", server.url + "/", "--token", token, "--project", "demo") == 1
    assert f"0 new, {len(written)} already known" in capsys.readouterr().err
    with server.world.store.read() as session:
        assert len(session.scalars(select(AlertRecord.id)).all()) == len(written)


def test_upload_refusals_are_one_line(
    server: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log, out = _spray_log(tmp_path / "signins.jsonl"), tmp_path / "alerts.jsonl"
    monkeypatch.delenv("BASTION_TOKEN", raising=False)
    assert _detect(log, out, "--upload", server.url) == 2
    assert "--upload needs an API token: pass --token or set BASTION_TOKEN" in capsys.readouterr().err
    assert _detect(log, out, "--upload", "ftp://x", "--token", "t") == 2
    assert "expected an http:// or https:// URL" in capsys.readouterr().err
    assert _detect(log, out, "--upload", server.url, "--token", server.world.read_token) == 2
    err = capsys.readouterr().err
    assert "alert upload rejected by" in err and "(403): this token lacks the scope needed to upload" in err
    assert "Traceback" not in err and server.world.read_token not in err
    assert _detect(log, out, "--upload", server.url, "--token", "bst_wrong") == 2
    assert "(401): authentication required" in capsys.readouterr().err


def test_uploader_batches_and_reports_a_dead_server(server: Live) -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    alerts = [
        Alert("watch.pca", Severity.MEDIUM, 3.0, f"host{i}", "host", start, start, f"odd host {i}")
        for i in range(5)
    ]
    upload = AlertUpload(server.url, server.world.demo_token, batch=2, every_s=3600)
    for alert in alerts:
        upload.emit(alert)
    assert upload.sent == 4 and len(upload.pending) == 1
    upload.close()
    assert (upload.sent, upload.new, upload.duplicates) == (5, 5, 0)
    with server.world.store.read() as session:
        assert {r.entity for r in session.scalars(select(AlertRecord))} == {f"host{i}" for i in range(5)}
        assert {r.source for r in session.scalars(select(AlertRecord))} == {"watch"}
    dead = AlertUpload("http://127.0.0.1:9", "token", batch=1)
    with pytest.raises(InputError, match=r"alert upload to http://127.0.0.1:9 failed"):
        dead.emit(alerts[0])
    dead.close()
    with pytest.raises(UsageError):
        AlertUpload(server.url, "")


def test_concurrent_uploads_store_each_alert_once(live: Live) -> None:
    """Eight runs posting overlapping batches at once, on SQLite and PostgreSQL: each alert once."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)

    def alert(name: str) -> dict[str, object]:
        return Alert("identity.brute-force", Severity.HIGH, 5.0, name, "user", start, start, name).to_dict()

    shared = [alert(f"shared{i}@ex.com") for i in range(30)]
    batches = [shared + [alert(f"own{w}-{i}@ex.com") for i in range(10)] for w in range(8)]

    def post(batch: list[dict[str, object]]) -> httpx.Response:
        return httpx.post(
            f"{live.url}/api/v1/alerts", json=batch, headers=bearer(live.world.demo_token), timeout=60
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, batches))
    assert [r.status_code for r in answers] == [201] * 8
    assert sum(r.json()["new"] for r in answers) == 30 + 80
    assert sum(r.json()["duplicates"] for r in answers) == 7 * 30
    with live.world.store.read() as session:
        assert len(session.scalars(select(AlertRecord.id)).all()) == 110


def test_a_dead_server_at_the_end_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last batch goes up when the run ends; a server gone by then is one line, exit 2."""
    log, out = _spray_log(tmp_path / "signins.jsonl"), tmp_path / "alerts.jsonl"
    monkeypatch.setenv("BASTION_TOKEN", "bst_token_for_a_dead_server")
    assert _detect(log, out, "--upload", "http://127.0.0.1:9") == 2
    err = capsys.readouterr().err
    assert "identity detect: alert upload to http://127.0.0.1:9 failed" in err
    assert "Traceback" not in err and "bst_token_for_a_dead_server" not in err


SIGMA = Path(__file__).parents[1] / "fixtures" / "sigma"


def test_sigma_run_uploads_each_alert_once(
    server: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bastion sigma run --upload``: the same sink as identity's; a rerun sends only duplicates."""
    logs = [str(SIGMA / n) for n in ("auth.log", "cloudtrail.json", "k8s-audit.jsonl")]
    out = tmp_path / "sigma.json"
    args = ["sigma", "run", *logs, "--rules", str(SIGMA / "rules"), "--format", "json", "-o", str(out)]
    monkeypatch.setenv("BASTION_TOKEN", server.world.demo_token)
    assert main([*args, "--upload", server.url]) == 1
    alerts = json.loads(out.read_text())["alerts"]
    err = capsys.readouterr().err
    assert f"uploaded {len(alerts)} alert(s) to {server.url}: {len(alerts)} new, 0 already known" in err
    assert server.world.demo_token not in err
    with server.world.store.read() as session:
        stored = list(session.scalars(select(AlertRecord)))
    assert len(stored) == len(alerts) and {r.source for r in stored} == {"sigma"}
    assert main([*args, "--upload", server.url, "--project", "demo"]) == 1
    assert f"0 new, {len(alerts)} already known" in capsys.readouterr().err
    monkeypatch.delenv("BASTION_TOKEN")
    assert main([*args, "--upload", server.url]) == 2
    assert "--upload needs an API token" in capsys.readouterr().err
    assert main([*args, "--token", "t"]) == 2
    assert "--token and --project go with --upload URL" in capsys.readouterr().err
