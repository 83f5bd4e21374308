"""The broker is chosen in one place: --broker, $BASTION_BROKER_URL, ``[jobs] broker``, or none
(everything in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.config import BROKER_ENV, load_config, resolve_broker


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bastion.toml"
    path.write_text(text)
    return path


def test_flag_then_environment_then_file_then_none(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, '[jobs]\nbroker = "redis://127.0.0.1:6379/3"\n'))
    env = {BROKER_ENV: "nats://127.0.0.1:4222"}
    assert resolve_broker("redis://127.0.0.1:6379/1", config, env) == "redis://127.0.0.1:6379/1"
    assert resolve_broker(None, config, env) == "nats://127.0.0.1:4222"
    assert resolve_broker(None, config, {BROKER_ENV: "  "}) == "redis://127.0.0.1:6379/3"
    assert resolve_broker(None, load_config(None), {}) is None
    assert resolve_broker("", None, {}) is None


def test_a_wrong_jobs_key_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, '[jobs]\nbrokr = "redis://127.0.0.1:6379/3"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(BROKER_ENV, raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "bastion.toml" in result.output and "brokr" in result.output and "Traceback" not in result.output


def test_with_no_broker_anywhere_jobs_run_in_this_process(
    tmp_path: Path, git_repo: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv(BROKER_ENV, raising=False)
    runner = CliRunner()
    worker = runner.invoke(app, ["worker"])
    assert worker.exit_code == 2 and "no broker" in worker.output
    result = runner.invoke(
        app,
        ["org", "scan", str(git_repo), "--database-url", sqlite_url, "--cache", str(tmp_path / "cache")],
    )
    assert result.exit_code == 0, result.output
    assert "queued" not in result.output and "\tdone\t" in result.output


def test_the_config_files_broker_queues_the_jobs(
    tmp_path: Path,
    git_repo: Path,
    sqlite_url: str,
    broker_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _config(work, f'[jobs]\nbroker = "{broker_url}"\n')
    monkeypatch.chdir(work)
    monkeypatch.delenv(BROKER_ENV, raising=False)
    result = CliRunner().invoke(
        app, ["org", "scan", str(git_repo), "--database-url", sqlite_url, "--namespace", namespace]
    )
    assert result.exit_code == 0, result.output
    assert "queued 1 jobs" in result.output
