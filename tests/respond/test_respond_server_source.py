"""``bastion respond run --server URL``: alerts read from a real Bastion server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from respond_helpers import alert, write_playbook
from server_world import Live, bearer, build_world, serve_in_thread
from store_backends import open_store

from bastion.cli.main import main
from bastion.errors import InputError, UsageError
from bastion.respond.remote import ServerAlerts


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """A live Bastion server (uvicorn on an ephemeral loopback port) over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_RESPOND_LEDGER", str(tmp_path / "ledger.sqlite"))
    monkeypatch.delenv("BASTION_TOKEN", raising=False)
    return tmp_path


def _drift(name: str) -> dict[str, object]:
    return alert(entity=f"aws_s3_bucket.{name}", kind="resource", detector="drift.tf", path=f"{name}.tf",
                 current="acl = 1\n", expected="acl = 2\n").to_dict()  # fmt: skip


def _upload(live: Live, *alerts: dict[str, object]) -> None:
    response = httpx.post(
        f"{live.url}/api/v1/alerts", json={"alerts": list(alerts)}, headers=bearer(live.world.demo_token)
    )
    assert response.status_code == 201, response.text


def _playbook(env: Path) -> Path:
    out = env / "changes"
    write_playbook(env / "pb", trigger={"detector": ["drift.*"]},
                   actions=[{"type": "iac-revert", "params": {"out_dir": str(out)}}])  # fmt: skip
    return env / "pb"


def _run(live: Live, pb: Path, token: str, *extra: str) -> int:
    return main(["respond", "run", "--playbooks", str(pb), "--server", live.url, "--token", token,
                 "--format", "json", *extra])  # fmt: skip


def test_run_reads_new_server_alerts_once(
    server: Live, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = _playbook(env)
    spray = alert().to_dict()  # matches no playbook: read, not acted on
    _upload(server, _drift("logs"), spray, _drift("audit"))
    assert _run(server, pb, server.world.read_token) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["target"] for r in rows) == ["aws_s3_bucket.audit", "aws_s3_bucket.logs"]
    assert {r["status"] for r in rows} == {"applied"}
    assert len(list((env / "changes").iterdir())) == 4  # a patch and a description per drift
    # a second run sees nothing new; a third sees only the alert uploaded since
    assert _run(server, pb, server.world.read_token) == 0
    assert json.loads(capsys.readouterr().out) == []
    _upload(server, _drift("billing"))
    assert _run(server, pb, server.world.read_token) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["target"], row["status"]) == ("aws_s3_bucket.billing", "applied")
    # the cursor is kept per server and project: a project filter reads from the start, and what
    # is in force already is not applied twice
    assert _run(server, pb, server.world.read_token, "--project", "demo") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and {r["reason"] for r in rows} == {"already in force"}


def test_token_from_environment_and_stream_polling(
    server: Live, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = _playbook(env)
    _upload(server, _drift("logs"))
    monkeypatch.setenv("BASTION_TOKEN", server.world.read_token)
    code = main(["respond", "run", "--playbooks", str(pb), "--server", server.url, "--stream",
                 "--poll", "0.1", "--idle-timeout", "0.2", "--format", "json"])  # fmt: skip
    assert code == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "applied"


def test_refused_token_and_bad_usage_are_one_line(
    server: Live, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = _playbook(env)
    secret = "bst_not-a-real-token-0123456789"
    assert _run(server, pb, secret) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "alerts request refused (401)" in err and "\n" not in err
    assert secret not in err
    # a token of another project cannot read this one's alerts
    assert _run(server, pb, server.world.other_token, "--project", "demo") == 2
    assert "(403)" in capsys.readouterr().err
    both = ["respond", "run", "--playbooks", str(pb), "--server", server.url, "--alerts", "-"]
    assert main(both) == 2
    assert "give one alert source" in capsys.readouterr().err
    assert main(["respond", "run", "--playbooks", str(pb), "--server", server.url]) == 2
    assert "needs an API token" in capsys.readouterr().err


def test_unreachable_server_and_bad_answers() -> None:
    with pytest.raises(UsageError):
        ServerAlerts("ftp://127.0.0.1", "t")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(InputError, match="cannot read alerts"):
            ServerAlerts(f"http://127.0.0.1:{port}", "t").poll()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "1":
            return httpx.Response(200, text="not json")
        return httpx.Response(200, json={"no": "alerts"})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises(InputError, match="not JSON"):
        ServerAlerts("http://127.0.0.1:9", "t", client=client).poll()
