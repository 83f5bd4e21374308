"""A broker restart loses no queued job (a private redis-server on 127.0.0.1, AOF on)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from jobs_world import Workers, make_repo

from bastion.jobs import board
from bastion.jobs.broker import JobQueue, QueueSettings
from bastion.jobs.models import JobState
from bastion.store.db import Store


class PrivateRedis:
    """``redis-server`` of this test only: own port and directory, AOF only (fsync always), no RDB."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (reloading the AOF of an earlier run)."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM and wait (Redis writes what it has and exits)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis, stopped at the end (skips when redis-server is not installed)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_queued_jobs_survive_a_broker_restart(
    tmp_path: Path, private_redis: PrivateRedis, sqlite_url: str
) -> None:
    repos = [make_repo(tmp_path / f"r{i}", files=1, seed=i) for i in range(3)]
    store = Store.open(sqlite_url)
    store.migrate()
    queue = JobQueue(private_redis.url, QueueSettings(namespace="restart"))
    ids = queue.enqueue(store, [str(r) for r in repos])  # no worker yet: all three wait in Redis
    queue.close()
    private_redis.stop()
    private_redis.start()
    workers = Workers(tmp_path, private_redis.url, sqlite_url, "restart")
    workers.start(1)
    try:
        deadline = time.monotonic() + 60
        while not all((v := board.job(store, i)) is not None and v.state is JobState.DONE for i in ids):
            assert time.monotonic() < deadline, board.jobs(store)
            time.sleep(0.1)
    finally:
        workers.stop()
    assert sorted(v.findings for v in board.jobs(store)) == [1, 1, 1]
    store.close()
