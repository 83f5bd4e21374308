"""The worker supervisor in this process: scheduled repositories enqueued, dead workers replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from jobs_world import cli_app, make_repo
from typer.testing import CliRunner

from bastion.cli import worker as worker_cli
from bastion.jobs import board, org
from bastion.jobs.broker import QueueSettings
from bastion.jobs.models import JobState
from bastion.jobs.scan import ScanLimits
from bastion.jobs.worker import WorkerSpec, supervise
from bastion.store.db import Store


def test_the_supervisor_enqueues_due_repositories_and_replaces_a_dead_worker(
    tmp_path: Path, broker_url: str, sqlite_url: str, namespace: str
) -> None:
    store = Store.open(sqlite_url)
    store.migrate()
    repo = make_repo(tmp_path / "repo", files=2)
    org.add(store, [str(repo)])
    org.schedule(store, 3600)
    spec = WorkerSpec(
        broker_url=broker_url,
        database_url=sqlite_url,
        cache=tmp_path / "cache",
        settings=QueueSettings(namespace=namespace, heartbeat_timeout_ms=1500, maintenance_chance=1_000_000),
        scan_limits=ScanLimits(scanners=("secrets",)),
        schedule_tick_s=0.2,
    )
    stop = threading.Event()
    replaced: list[int] = []
    thread = threading.Thread(target=lambda: replaced.append(supervise(spec, 1, stop=stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not [v for v in board.jobs(store) if v.state is JobState.DONE]:
            assert time.monotonic() < deadline, board.jobs(store)
            time.sleep(0.1)
        [done] = board.jobs(store)
        assert done.repo == str(repo) and done.findings == 2  # enqueued by the schedule, once
        assert org.claim_due(store) == []  # the next scan is an hour away
        pid = int((done.worker or "").rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        time.sleep(1.5)
    finally:
        stop.set()
        thread.join(60)
    assert replaced == [1]
    store.close()


def test_worker_command_checks_before_it_starts(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_BROKER_URL", "redis://127.0.0.1:1/0")
    result = CliRunner().invoke(cli_app(), ["worker", "--database-url", sqlite_url])
    assert result.exit_code == 2 and "unavailable" in result.output
    assert worker_cli.default_cache().name == "repos"
