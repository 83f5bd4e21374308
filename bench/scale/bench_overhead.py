"""Worker-side queue overhead per job, split by phase, on SQLite and PostgreSQL.

One worker process (the same ``_serve`` as ``bastion worker --concurrency 1``) runs ``--jobs``
generated repositories; each phase is timed in that process with ``time.monotonic`` (one clock
for every process on the machine, the forked scan child included):

* ``dispatch``: from one job's last middleware hook to the next job's first (Dramatiq's worker
  thread handing over; the fetch from Redis and the acknowledgement run on its consumer thread,
  timed apart as ``redis fetch`` / ``redis ack``: off the job's path unless the queue runs dry);
* ``hooks``: Dramatiq's middleware before and after the job's own code;
* ``state writes``: the job's records in the store (``running``, then ``done`` with the findings);
* ``fork``: from asking for a scan to the scan child's first line, and from its last line to the
  result back in the worker (process start and exit, the result through the pipe);
* ``work``: the git clone and the scan itself (the child's own span): what a job *is*, not overhead.

``worker thread cpu`` is the CPU time of the worker's one job thread per job (from the first
job's start to the last one's end): its state writes, forks and Dramatiq hooks, but not the
clone's or the scan's processes; it depends much less on the machine's load than wall times.

Overhead per job = (first job's start to last job's end) / jobs - mean work: everything the
worker spends on a job besides cloning and scanning it. The wall time from the first job's first
hook to the last's end is read from the same clock.

    .venv/bin/python bench/scale/bench_overhead.py --jobs 100 --backend sqlite postgresql
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess  # bastion: ignore[sast.bandit.B404] runs this interpreter on fixed arguments
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis
from bench_jobs import REDIS_URL, ROOT, make_repos
from dramatiq.middleware import Middleware
from psycopg import sql

from bastion.jobs import board, run, scan, worker
from bastion.jobs.board import counts
from bastion.jobs.broker import JobQueue, QueueSettings
from bastion.jobs.models import JobState
from bastion.jobs.scan import ScanLimits
from bastion.store.db import Store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
Trace = list[tuple[str, float, float]]


class _Hooks(Middleware):
    """First before-hook and last after-hook of every message (placed first in the chain)."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.began = 0.0
        self.cpu_began = 0.0
        self.cpu = ("cpu", 0.0, 0.0)

    def before_process_message(self, broker: Any, message: Any) -> None:
        """Note when the worker thread took the message (and its CPU time, once)."""
        del broker, message
        self.began = time.monotonic()
        if not self.cpu_began:
            self.cpu_began = time.thread_time()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        """Note the job's whole span, hooks included."""
        del broker, message, result, exception
        self.trace.append(("job", self.began, time.monotonic()))
        self.cpu = ("cpu", self.cpu_began, time.thread_time())


def _timed(trace: Trace, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            trace.append((name, began, time.monotonic()))

    return wrapper


def _instrument(trace: Trace, child_log: Path) -> None:
    """Wrap the job's phases where ``run_job`` and ``scan_checkout`` look them up."""
    for name in ("start", "finish", "job", "fail", "start_and_view", "finish_view"):
        if hasattr(board, name):
            setattr(board, name, _timed(trace, f"state {name}", getattr(board, name)))
    run.fetch = _timed(trace, "clone", run.fetch)  # type: ignore[attr-defined]
    run.scan_checkout = _timed(trace, "scan", run.scan_checkout)  # type: ignore[attr-defined]
    try:  # absent from the code before the scan zygote
        from bastion.jobs.zygote import ScanChildren

        ScanChildren.scan = _timed(trace, "scan", ScanChildren.scan)  # type: ignore[method-assign]
    except ImportError:
        pass
    process_class: Any = multiprocessing.get_context("fork").Process
    process_class.start = _timed(trace, "fork syscall", process_class.start)
    inner = scan._scan

    def child_scan(*args: Any) -> Any:  # runs in the forked child
        began = time.monotonic()
        try:
            return inner(*args)
        finally:
            line = f"{began} {time.monotonic()}\n".encode()
            descriptor = os.open(child_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(descriptor, line)
            os.close(descriptor)

    scan._scan = child_scan  # type: ignore[assignment]


def serve(args: argparse.Namespace) -> None:
    """The worker process: ``bastion worker``'s ``_serve`` with the phases timed."""
    trace: Trace = []
    _instrument(trace, Path(args.trace + ".child"))
    original = JobQueue.__init__
    hooks: list[_Hooks] = []

    def with_hooks(self: JobQueue, *a: Any, **k: Any) -> None:
        original(self, *a, **k)
        if k.get("context") is not None or len(a) > 2:
            first = type(self.broker.middleware[0])
            hooks.append(_Hooks(trace))
            self.broker.add_middleware(hooks[0], before=first)
            broker: Any = self.broker
            broker.do_fetch = _timed(trace, "redis fetch", broker.do_fetch)
            broker.do_ack = _timed(trace, "redis ack", broker.do_ack)

    JobQueue.__init__ = with_hooks  # type: ignore[method-assign]
    scan.warm_registry(("secrets",))
    spec = worker.WorkerSpec(
        broker_url=REDIS_URL,
        database_url=args.database_url,
        cache=Path(args.cache),
        settings=QueueSettings(namespace=args.namespace),
        scan_limits=ScanLimits(scanners=("secrets",)),
    )
    Path(args.trace + ".ready").write_text("ready")
    worker._serve(spec)  # until SIGTERM: finishes the job in hand, closes its connections
    trace.append(hooks[0].cpu)
    Path(args.trace).write_text(json.dumps(trace))


def _spans(trace: Trace, name: str) -> list[tuple[float, float]]:
    return sorted((b, e) for n, b, e in trace if n == name)


def _inside(spans: list[tuple[float, float]], began: float, ended: float) -> float:
    return sum(e - b for b, e in spans if began <= b and e <= ended)


def split(trace: Trace, children: list[tuple[float, float]]) -> dict[str, float]:
    """Milliseconds per job of each phase (see the module's documentation)."""
    jobs = _spans(trace, "job")
    n = len(jobs)
    per: dict[str, list[float]] = {key: [] for key in ("hooks", "state writes", "fork", "work", "other")}
    for began, ended in jobs:
        states = sum(
            _inside(_spans(trace, name), began, ended)
            for name in {t[0] for t in trace}
            if name.startswith("state")
        )
        scan_s = _inside(_spans(trace, "scan"), began, ended)
        child = _inside(children, began, ended)
        clone = _inside(_spans(trace, "clone"), began, ended)
        inner = states + scan_s + clone
        run_spans = [(b, e) for b, e in _spans(trace, "scan") + _spans(trace, "clone") if began <= b <= ended]
        per["state writes"].append(states)
        per["fork"].append(scan_s - child)
        per["work"].append(clone + child)
        first = min(
            [b for b, _ in run_spans]
            + [b for n2, b, e in trace if n2.startswith("state") and began <= b <= ended]
        )
        last = max(
            [e for _, e in run_spans]
            + [e for n2, b, e in trace if n2.startswith("state") and began <= e <= ended]
        )
        per["hooks"].append((first - began) + (ended - last))
        per["other"].append((ended - began) - inner - per["hooks"][-1])
    gaps = [jobs[i + 1][0] - jobs[i][1] for i in range(n - 1)]
    wall = jobs[-1][1] - jobs[0][0]
    out = {key: 1000 * statistics.fmean(values) for key, values in per.items()}
    out["dispatch"] = 1000 * statistics.fmean(gaps) if gaps else 0.0
    out["overhead"] = 1000 * wall / n - out["work"]
    [(_, cpu_began, cpu_ended)] = [t for t in trace if t[0] == "cpu"]
    out["worker thread cpu"] = 1000 * (cpu_ended - cpu_began) / n
    out["wall_s"] = wall
    out["jobs"] = n
    for name in sorted({t[0] for t in trace if t[0].startswith("state")}):
        out[name] = 1000 * sum(e - b for b, e in _spans(trace, name)) / n
    forks = _spans(trace, "fork syscall")
    out["fork syscall (worker side)"] = 1000 * sum(e - b for b, e in forks) / max(1, len(forks))
    for name in ("redis fetch", "redis ack"):
        spans = _spans(trace, name)
        out[f"{name} (off path)"] = 1000 * sum(e - b for b, e in spans) / max(1, len(spans))
    out["state writes p95"] = (
        1000
        * sorted(
            sum(e - b for n2, b, e in trace if n2.startswith("state") and jb <= b <= je) for jb, je in jobs
        )[int(0.95 * (n - 1))]
    )
    return {key: round(value, 2) for key, value in out.items()}


@contextmanager
def _database(backend: str, name: str) -> Iterator[str]:
    if backend == "sqlite":
        path = ROOT / f"{name}.db"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    db = f"bastion_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    try:
        yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{db}"
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        admin.close()


def measure(backend: str, repos: list[str], code: str | None = None) -> dict[str, Any]:
    """One worker, ``repos`` as jobs, on ``backend``; the split. ``code``: a directory whose
    ``bastion`` package the worker runs instead of this checkout's (the code before a change)."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    with _database(backend, f"overhead-{backend}") as url:
        store = Store.open(url)
        store.migrate()
        trace_path = ROOT / f"overhead-{namespace}.json"
        cache = ROOT / f"cache-{namespace}"
        command = [sys.executable, __file__, "--serve", "--database-url", url, "--namespace", namespace,
                   "--trace", str(trace_path), "--cache", str(cache)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": code} if code else None
        process = subprocess.Popen(command, env=env)  # bastion: ignore[sast.bandit.B603] this interpreter
        try:
            ready = Path(str(trace_path) + ".ready")
            while not ready.exists():
                time.sleep(0.05)
            queue = JobQueue(REDIS_URL, QueueSettings(namespace=namespace))
            queue.enqueue(store, repos)
            queue.close()
            while counts(store)[JobState.DONE] < len(repos):
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            process.wait(90)
        finally:
            if process.poll() is None:
                process.kill()
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(f"{namespace}*"))
            if keys:
                client.delete(*keys)
        store.close()
    trace = [tuple(t) for t in json.loads(trace_path.read_text())]
    child_path = Path(str(trace_path) + ".child")
    children = [tuple(map(float, line.split())) for line in child_path.read_text().splitlines()]
    for path in (trace_path, child_path, Path(str(trace_path) + ".ready")):
        path.unlink()
    shutil.rmtree(cache, ignore_errors=True)
    result = split(trace, children)  # type: ignore[arg-type]
    return {
        "backend": backend,
        "code": code or "this checkout",
        **result,
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    """Print one JSON line per back end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument(
        "--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--rounds", type=int, default=1, help="Repeat each back end, alternating.")
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="Also run the code in SRC (a directory holding a bastion package), alternating with "
        "this checkout's: e.g. git archive HEAD~3 src | tar -x -C build/before, then build/before/src.",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return
    ROOT.mkdir(parents=True, exist_ok=True)
    repos = make_repos(args.jobs)[: args.jobs]
    codes = [args.before, None] if args.before else [None]
    for _ in range(args.rounds):
        for backend in args.backend:
            for code in codes:
                print(json.dumps(measure(backend, repos, code)), flush=True)


if __name__ == "__main__":
    main()
