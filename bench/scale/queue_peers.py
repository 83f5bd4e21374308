"""Celery vs Dramatiq on the same jobs, over the same Redis, with the same worker processes.

Each round: enqueue N messages (timed: the producer's cost per message), then start a worker
(``--procs`` processes, one thread each, like a 2-core box) and time until every job has bumped a
Redis counter. Two jobs: ``noop`` (the queue alone) and ``small`` (hash 64 KiB, a stand-in for a
tiny repository's work). Run from the repository root::

    .venv/bin/python bench/scale/queue_peers.py --jobs 2000 --procs 2

Uses Redis DB 14 (flushed before each round) on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

REDIS_URL = "redis://127.0.0.1:6379/14"
COUNTER = "bench:done"
HERE = Path(__file__).resolve().parent
BLOB = b"x" * 65536
_CLIENT: redis.Redis | None = None


def work(kind: str) -> None:
    """The job body both peers run."""
    if kind == "small":
        hashlib.sha256(BLOB).hexdigest()
    global _CLIENT  # one connection per worker process, like a real job's store handle
    if _CLIENT is None:
        _CLIENT = redis.Redis.from_url(REDIS_URL)
    _CLIENT.incr(COUNTER)


# --- the two peers' task definitions (imported by their worker processes) -----------------------
PEER = os.environ.get("BENCH_PEER", "")
if PEER == "celery":
    from celery import Celery

    celery_app = Celery("bench", broker=REDIS_URL)
    celery_app.conf.update(task_acks_late=True, worker_prefetch_multiplier=4, task_ignore_result=True)

    @celery_app.task(name="bench.job")
    def celery_job(kind: str) -> None:
        """Celery's job."""
        work(kind)

elif PEER == "dramatiq":
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    dramatiq.set_broker(RedisBroker(url=REDIS_URL))

    @dramatiq.actor(queue_name="bench", max_retries=0)
    def dramatiq_job(kind: str) -> None:
        """Dramatiq's job."""
        work(kind)


def _wait(client: redis.Redis, n: int, limit_s: float) -> float:
    start = time.perf_counter()
    while int(client.get(COUNTER) or 0) < n:
        if time.perf_counter() - start > limit_s:
            raise SystemExit(f"timed out: {client.get(COUNTER)} of {n}")
        time.sleep(0.005)
    return time.perf_counter() - start


def round_(peer: str, kind: str, n: int, procs: int) -> dict[str, float | str | int]:
    """Enqueue ``n`` jobs for ``peer``, then run a worker until all are done."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = {**os.environ, "BENCH_PEER": peer, "PYTHONPATH": str(HERE)}
    code = (
        f"import os, sys, time; sys.path.insert(0, {str(HERE)!r}); os.environ['BENCH_PEER']={peer!r}; "
        f"import queue_peers as q; t=time.perf_counter(); n={n}; kind={kind!r}\n"
        "if q.PEER == 'celery':\n    [q.celery_job.delay(kind) for _ in range(n)]\n"
        "else:\n    [q.dramatiq_job.send(kind) for _ in range(n)]\n"
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    enqueue_s = float(out.stdout.strip().splitlines()[-1])
    bindir = Path(sys.executable).parent
    if peer == "celery":
        cmd = [str(bindir / "celery"), "-A", "queue_peers:celery_app", "worker", "--concurrency",
               str(procs), "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip",
               "--without-mingle", "--without-heartbeat"]  # fmt: skip
    else:
        cmd = [str(bindir / "dramatiq"), "queue_peers", "--processes", str(procs), "--threads", "1",
               "--queues", "bench"]  # fmt: skip
    started = time.perf_counter()
    # bastion: ignore[sast.bandit.B603] the peers' own worker commands from this venv, fixed arguments
    worker = subprocess.Popen(cmd, env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # time from the first job done (workers booted) to the last, so start-up is not counted
        _wait(client, 1, 60)
        first = time.perf_counter()
        _wait(client, n, 300)
        drain_s = time.perf_counter() - first
    finally:
        worker.terminate()
        worker.wait(30)
    return {
        "peer": peer,
        "job": kind,
        "jobs": n,
        "procs": procs,
        "enqueue_ms_per_job": round(1000 * enqueue_s / n, 3),
        "jobs_per_s": round((n - 1) / drain_s, 1),
        "boot_s": round(first - started, 2),
    }


def main() -> None:
    """Run both peers on both jobs and print one JSON line per round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    for kind in ("noop", "small"):
        for peer in ("celery", "dramatiq"):
            print(json.dumps(round_(peer, kind, args.jobs, args.procs)), flush=True)


if __name__ == "__main__":
    main()
