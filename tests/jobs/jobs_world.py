"""Helpers of the job tests (imported by conftest.py and by the tests)."""

from __future__ import annotations

import os
import random
import signal
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import typer
from store_backends import open_store, postgres_url

from bastion.cli import org, worker
from bastion.store.db import Store

__all__ = [
    "broker_url",
    "cli_app",
    "git_repo",
    "make_repo",
    "namespace",
    "postgres_url",
    "sqlite_url",
    "store",
]

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
HERE = Path(__file__).resolve().parent


def cli_app() -> typer.Typer:
    """The ``org`` and ``worker`` commands as the ``bastion`` command registers them."""
    app = typer.Typer()
    org.register(app)
    worker.register(app)
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Store]:
    """A migrated, empty store, once per back end."""
    opened = open_store(request.param, tmp_path, postgres_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite store URL in the test's directory (migrated by the commands)."""
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
def namespace() -> Iterator[str]:
    """A Redis key prefix of its own for the test; its keys are deleted afterwards."""
    name = f"bastion-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def broker_url() -> str:
    """The test Redis (skips when it does not answer)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")
    return REDIS_URL


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def make_repo(
    root: Path, files: int = 1, seed: int = 1, prepare: Callable[[Path], None] | None = None
) -> Path:
    """A git repository with ``files`` Python files, each holding one AWS-style access key."""
    root.mkdir(parents=True)
    rng = random.Random(seed)
    for index in range(files):
        key = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
        (root / f"f{index}.py").write_text(f'aws_access_key_id = "{key}"\n' + "x = 1\n" * 20)
    if prepare is not None:  # more files before the first commit
        prepare(root)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A small repository with three findings."""
    return make_repo(tmp_path / "repo", files=3)


class Workers:
    """``bastion worker`` processes started for a test, stopped (or killed) at its end."""

    def __init__(self, tmp_path: Path, broker: str, database: str, namespace: str) -> None:
        self.tmp_path = tmp_path
        self.broker = broker
        self.database = database
        self.namespace = namespace
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, concurrency: int = 1, *extra: str) -> subprocess.Popen[bytes]:
        """Start one ``bastion worker`` (its own process group)."""
        command = [
            sys.executable, str(HERE / "jobs_cli.py"), "worker", "--concurrency", str(concurrency),
            "--broker", self.broker, "--database-url", self.database, "--namespace", self.namespace,
            "--cache", str(self.tmp_path / f"cache{len(self.processes)}"), "--scanners", "secrets",
            "--min-backoff-ms", "10", "--heartbeat-timeout-ms", "1500", "--maintenance-chance", "1000000",
            *extra,
        ]  # fmt: skip
        with (self.tmp_path / f"worker{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """SIGTERM every worker, SIGKILL what is left after a while."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(tmp_path: Path, broker_url: str, sqlite_url: str, namespace: str) -> Iterator[Workers]:
    """Start real worker processes with :meth:`Workers.start`; all are stopped afterwards."""
    started = Workers(tmp_path, broker_url, sqlite_url, namespace)
    yield started
    started.stop()
