"""Scan jobs: 200 generated repositories, in-process and on 1, 2 and 4 worker processes.

For each run: a fresh SQLite store under build/scale/, a fresh Redis key prefix (DB 13), then
``bastion org scan`` of every repository. In-process (no broker) is the baseline; with a broker
the run's wall time is from the first job started to the last one finished (the workers are up
before the enqueue). Queue overhead per job = (1-worker wall time - in-process wall time) / jobs:
what the task queue adds to a job (enqueue, delivery, acknowledgement, state records) on top
of the same fetch and scan. Every job's findings are checked against the repository's.

    .venv/bin/python bench/scale/bench_jobs.py --repos 200 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import string
import subprocess  # bastion: ignore[sast.bandit.B404] runs git and this interpreter on fixed arguments
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from bastion.jobs import board
from bastion.jobs.broker import JobQueue, QueueSettings, run_local
from bastion.jobs.models import JobRecord, JobState
from bastion.jobs.run import JobContext
from bastion.jobs.scan import ScanLimits
from bastion.store.db import Store

REDIS_URL = "redis://127.0.0.1:6379/13"
ROOT = Path("build/scale")


def make_repos(count: int) -> list[str]:
    """``count`` git repositories of 5 files, one holding an AWS-style key (made once)."""
    base = ROOT / f"repos{count}"
    if not base.exists():
        rng = random.Random(25)
        for index in range(count):
            repo = base / f"r{index:03d}"
            repo.mkdir(parents=True)
            key = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
            (repo / "config.py").write_text(f'aws_access_key_id = "{key}"\n')
            for n in range(4):
                (repo / f"mod{n}.py").write_text("def f(x):\n    return x + 1\n" * 20)
            for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
                subprocess.run(  # bastion: ignore[sast.bandit.B603] fixed git arguments
                    ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *args],
                    cwd=repo,
                    check=True,
                )
    return [str(p.resolve()) for p in sorted(base.iterdir())]


def _store(name: str) -> Store:
    path = ROOT / f"{name}.db"
    path.unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{path}")
    store.migrate()
    return store


def _check(store: Store, count: int) -> dict[str, int]:
    counts = board.counts(store)
    with store.read() as session:
        findings = session.scalar(select(func.sum(JobRecord.findings))) or 0
    if counts[JobState.DONE] != count or findings != count:  # one key per repository, stored once
        raise SystemExit(f"wrong results: {counts}, {findings} findings for {count} repositories")
    return {"done": counts[JobState.DONE], "findings": int(findings)}


def in_process(repos: list[str]) -> dict[str, Any]:
    """No broker: ``run_local``, one job after the other."""
    store = _store("jobs-local")
    cache = ROOT / "cache-local"
    shutil.rmtree(cache, ignore_errors=True)
    context = JobContext(store, cache, scan_limits=ScanLimits(scanners=("secrets",)))
    started = time.perf_counter()
    run_local(context, repos)
    wall = time.perf_counter() - started
    return {"mode": "in-process", "jobs": len(repos), "wall_s": round(wall, 2),
            "jobs_per_s": round(len(repos) / wall, 1), **_check(store, len(repos))}  # fmt: skip


def on_workers(repos: list[str], workers: int) -> dict[str, Any]:
    """``bastion worker --concurrency N`` and ``JobQueue.enqueue``."""
    store = _store(f"jobs-w{workers}")
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    cache = ROOT / f"cache-w{workers}"
    shutil.rmtree(cache, ignore_errors=True)
    database = f"sqlite:///{ROOT / f'jobs-w{workers}.db'}"
    command = [sys.executable, "-m", "bastion", "worker", "--concurrency", str(workers),
               "--broker", REDIS_URL, "--database-url", database, "--namespace", namespace,
               "--cache", str(cache), "--scanners", "secrets"]  # fmt: skip
    worker = subprocess.Popen(
        command, stderr=subprocess.DEVNULL, start_new_session=True
    )  # bastion: ignore[sast.bandit.B603] this interpreter
    try:
        time.sleep(4)  # the worker processes are up (imports, broker connection)
        queue = JobQueue(REDIS_URL, QueueSettings(namespace=namespace))
        began = time.perf_counter()
        queue.enqueue(store, repos)
        enqueue_s = time.perf_counter() - began
        while board.counts(store)[JobState.DONE] < len(repos):
            if time.perf_counter() - began > 600:
                raise SystemExit("timed out")
            time.sleep(0.05)
        with store.read() as session:
            first = session.scalar(select(func.min(JobRecord.started_at)))
            last = session.scalar(select(func.max(JobRecord.finished_at)))
        if first is None or last is None:
            raise SystemExit("no job started or finished")
        wall = (last - first).total_seconds()
        queue.close()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{namespace}*"))
        if keys:
            client.delete(*keys)
    enqueue_ms = round(1000 * enqueue_s / len(repos), 2)
    return {"mode": f"{workers} worker processes", "jobs": len(repos), "wall_s": round(wall, 2),
            "jobs_per_s": round(len(repos) / wall, 1), "enqueue_ms_per_job": enqueue_ms,
            **_check(store, len(repos))}  # fmt: skip


def main() -> None:
    """Print one JSON line per run, then the queue overhead per job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)
    repos = make_repos(args.repos)
    local = in_process(repos)
    print(json.dumps(local), flush=True)
    for count in args.workers:
        result = on_workers(repos, count)
        if count == 1:
            result["queue_overhead_ms_per_job"] = round(
                1000 * (result["wall_s"] - local["wall_s"]) / len(repos), 2
            )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
