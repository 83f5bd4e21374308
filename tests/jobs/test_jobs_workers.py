"""Real ``bastion worker`` processes on the Redis on 127.0.0.1: jobs, kill -9, poison, faults."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from jobs_world import Workers, cli_app, make_repo
from sqlalchemy import func, select
from typer.testing import CliRunner

from bastion.jobs import board
from bastion.jobs.broker import SCAN_QUEUE
from bastion.jobs.models import JobFinding, JobState
from bastion.store.db import Store

ENDED = {JobState.DONE, JobState.FAILED, JobState.DEAD}


def _org(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app(), ["org", *args])
    return result.exit_code, result.output


def _wait(
    store: Store, job_ids: list[str], states: set[JobState], limit_s: float = 60
) -> list[board.JobView]:
    deadline = time.monotonic() + limit_s
    while True:
        views = [board.job(store, job_id) for job_id in job_ids]
        if all(v is not None and v.state in states for v in views):
            return [v for v in views if v is not None]
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not in {states} after {limit_s} s: {views}")
        time.sleep(0.05)


def test_workers_scan_repositories_and_the_cli_waits_for_them(
    tmp_path: Path, workers: Workers, sqlite_url: str, broker_url: str, namespace: str
) -> None:
    repos = [make_repo(tmp_path / f"r{i}", files=i + 1, seed=i) for i in range(3)]
    workers.start(2)
    code, output = _org(
        "scan", *map(str, repos), "--broker", broker_url, "--namespace", namespace,
        "--database-url", sqlite_url, "--wait", "--wait-timeout", "60",
    )  # fmt: skip
    assert code == 0, output
    assert "queued 3 jobs" in output
    store = Store.open(sqlite_url)
    views = sorted(board.jobs(store), key=lambda v: v.repo)
    assert [(v.state, v.findings) for v in views] == [
        (JobState.DONE, 1),
        (JobState.DONE, 2),
        (JobState.DONE, 3),
    ]
    code, output = _org("jobs", "--database-url", sqlite_url, "--state", "done")
    assert code == 0 and output.count("\tdone\t") == 3
    store.close()


def test_a_worker_killed_mid_job_is_replaced_and_the_job_stored_exactly_once(
    tmp_path: Path, workers: Workers, sqlite_url: str, broker_url: str, namespace: str
) -> None:
    big = make_repo(tmp_path / "big", files=1500)
    workers.start(1)
    workers.start(1)
    code, output = _org(
        "scan", str(big), "--broker", broker_url, "--namespace", namespace, "--database-url", sqlite_url
    )
    assert code == 0, output
    store = Store.open(sqlite_url)
    [running] = _wait(store, [v.id for v in board.jobs(store)], {JobState.RUNNING}, 30)
    pid = int((running.worker or "").rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # mid-scan: nothing acknowledged, nothing stored yet
    [done] = _wait(store, [running.id], ENDED, 60)
    # 2 attempts, or more when a loaded machine lets the new worker's heartbeat lapse too: what
    # must hold is that the job ends done, elsewhere, with its findings stored once
    assert done.state is JobState.DONE and done.attempts >= 2 and done.worker != running.worker
    assert done.findings == 1500
    with store.read() as session:
        rows = session.scalar(
            select(func.count()).select_from(JobFinding).where(JobFinding.job_id == done.id)
        )
        distinct = session.scalar(select(func.count(func.distinct(JobFinding.fingerprint))))
    assert rows == distinct == 1500
    store.close()


def test_a_poisoned_job_is_dead_lettered_after_its_retries_and_blocks_nothing(
    tmp_path: Path, workers: Workers, sqlite_url: str, broker_url: str, namespace: str
) -> None:
    good = make_repo(tmp_path / "good", files=2)
    poison = f"file://{tmp_path / 'not-a-repository'}"
    workers.start(1, "--max-retries", "2")
    code, _ = _org(
        "scan", poison, str(good), "--broker", broker_url, "--namespace", namespace,
        "--database-url", sqlite_url, "--wait", "--wait-timeout", "60",
    )  # fmt: skip
    assert code == 2  # not every job is done
    store = Store.open(sqlite_url)
    by_repo = {v.repo: v for v in board.jobs(store)}
    assert by_repo[str(good)].state is JobState.DONE and by_repo[str(good)].findings == 2
    dead = by_repo[poison]
    assert dead.state is JobState.DEAD and dead.attempts == 3
    assert "does not appear to be a git repository" in (dead.error or "")
    assert "after 3 failed attempts" in (dead.error or "")
    import redis

    assert redis.Redis.from_url(broker_url).zcard(f"{namespace}:{SCAN_QUEUE}.XQ") == 1
    store.close()


def test_broker_down_at_start_is_one_clear_line_and_falls_back_only_when_allowed(
    tmp_path: Path, git_repo: Path, sqlite_url: str
) -> None:
    down = "redis://:hunter2@127.0.0.1:1/0"
    runner = CliRunner()
    result = runner.invoke(cli_app(), ["worker", "--broker", down, "--database-url", sqlite_url])
    assert result.exit_code == 2
    assert result.output.startswith("error: broker redis://")
    assert "@127.0.0.1:1/0 unavailable" in result.output
    assert "hunter2" not in result.output
    code, output = _org("scan", str(git_repo), "--broker", down, "--database-url", sqlite_url)
    assert code == 2 and "pass --allow-local" in output
    code, output = _org(
        "scan", str(git_repo), "--broker", down, "--database-url", sqlite_url, "--allow-local",
        "--scanners", "secrets", "--cache", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 0, output
    assert "running 1 jobs in this process (--allow-local)" in output
    assert "\tdone\t1\t3\t" in output


def test_without_a_broker_jobs_run_in_process(
    tmp_path: Path, git_repo: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASTION_BROKER_URL", raising=False)
    cache = str(tmp_path / "cache")
    code, output = _org("add", str(git_repo), str(tmp_path / "missing"), "--database-url", sqlite_url)
    assert code == 0 and "added 2 repositories (0 already there)" in output
    code, output = _org(
        "scan", "--all", "--database-url", sqlite_url, "--scanners", "secrets", "--cache", cache
    )
    assert code == 2  # one repository is missing
    assert "\tdone\t1\t3\t" in output
    assert "\tfailed\t1\t0\t" in output and "no such repository or directory" in output
    code, output = _org("schedule", "--every", "24h", "--database-url", sqlite_url)
    assert code == 0 and "scheduled 2 repositories every 24h" in output
    code, output = _org("list", "--database-url", sqlite_url)
    assert code == 0 and "every 86400 s" in output
    code, output = _org("jobs", "--database-url", sqlite_url, "--format", "json", "--state", "failed")
    assert code == 0 and '"state": "failed"' in output
    code, output = _org("jobs", "--database-url", sqlite_url, "--state", "lost")
    assert code == 2 and "--state 'lost': choose from" in output
    code, output = _org("scan", "--database-url", sqlite_url)
    assert code == 2 and "name repositories or pass --all" in output
    code, output = _org("schedule", "--every", "soon", "--database-url", sqlite_url)
    assert code == 2


def test_worker_refuses_an_unknown_queue_and_a_missing_broker(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASTION_BROKER_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(cli_app(), ["worker", "--database-url", sqlite_url])
    assert result.exit_code == 2 and "no broker: pass --broker or set BASTION_BROKER_URL" in result.output
    result = runner.invoke(
        cli_app(), ["worker", "--queues", "scans,mail", "--broker", "redis://127.0.0.1:6379/11"]
    )
    assert result.exit_code == 2 and "unknown queue mail" in result.output
