"""``bastion worker``: N worker processes on the scan queue, each replaced when it dies.

Each process runs a Dramatiq worker with one thread (scans are CPU-bound: one process per core)
and forks each job's scan child ahead of the job (:class:`~bastion.jobs.scan.ScanChildren`).
The parent only supervises: a process that dies (killed, out of memory) is logged with its exit
status and replaced; its unacknowledged job goes back to the queue through the broker's
heartbeat check. The parent also ticks the organisation's scan schedule.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import dramatiq

from bastion.jobs import org
from bastion.jobs.broker import SCAN_QUEUE, JobQueue, QueueSettings
from bastion.jobs.fetch import FetchLimits
from bastion.jobs.run import JobContext
from bastion.jobs.scan import ScanLimits, warm_registry
from bastion.jobs.zygote import ScanChildren
from bastion.store.db import Store

__all__ = ["WorkerSpec", "supervise"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs (sent to it by value)."""

    broker_url: str
    database_url: str | None
    cache: Path
    settings: QueueSettings = field(default_factory=QueueSettings)
    fetch_limits: FetchLimits = field(default_factory=FetchLimits)
    scan_limits: ScanLimits = field(default_factory=ScanLimits)
    max_deliveries: int = 6
    schedule_tick_s: float = 30.0


def _serve(spec: WorkerSpec) -> None:
    """One worker process: consume until SIGTERM or SIGINT."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    warm_registry(spec.scan_limits.scanners)
    # what the scan zygote and every job's child share with this process: out of the collector's
    # sight, so a collection in a child does not touch (and copy) those pages
    gc.collect()
    gc.freeze()
    children = ScanChildren(spec.scan_limits)  # one worker thread: one job's child at a time
    children.start()  # forked before the store's and the broker's connections exist
    store = Store.open(spec.database_url)
    context = JobContext(
        store, spec.cache, spec.fetch_limits, spec.scan_limits, spec.max_deliveries, children
    )
    queue = JobQueue(spec.broker_url, spec.settings, context)
    worker = dramatiq.Worker(queue.broker, queues={SCAN_QUEUE}, worker_threads=1, worker_timeout=200)
    worker.start()
    stop.wait()
    worker.stop(timeout=30_000)
    children.close()
    queue.close()
    store.close()


@dataclass
class _Child:
    """A worker process and when to replace it: a process that dies soon after it started is
    replaced after a doubling delay (at most a minute), so a broken set-up is no crash loop."""

    process: BaseProcess
    started: float
    backoff_s: float
    restart_at: float = 0.0

    @classmethod
    def start(cls, context: ForkServerContext, spec: WorkerSpec, backoff_s: float = 0.25) -> _Child:
        """Start a worker process."""
        process = context.Process(target=_serve, args=(spec,), daemon=False)
        process.start()
        return cls(process, time.monotonic(), backoff_s)

    def died(self) -> float:
        """Note the death; the delay before the replacement starts."""
        lived = time.monotonic() - self.started
        self.backoff_s = 0.25 if lived > 30 else min(60.0, self.backoff_s * 2)
        self.restart_at = time.monotonic() + self.backoff_s
        return self.backoff_s


def supervise(spec: WorkerSpec, concurrency: int, *, stop: threading.Event | None = None) -> int:
    """Run ``concurrency`` worker processes until ``stop`` is set (or SIGTERM/SIGINT); how many
    were replaced after dying."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _s, _f: stop.set())
    # forkserver: each worker is forked from a clean server process that has imported this
    # module once, never from this one, which holds the store's and broker's connections and may
    # run other threads (a lock held by one of them at fork time would hang the child).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bastion.jobs.worker"])
    children: list[_Child] = [_Child.start(context, spec) for _ in range(concurrency)]
    replaced = 0
    store = Store.open(spec.database_url)
    producer = JobQueue(spec.broker_url, spec.settings)
    next_tick = 0.0
    try:
        while not stop.wait(0.2):
            for index, child in enumerate(children):
                if child.process.is_alive() or time.monotonic() < child.restart_at:
                    continue
                if child.restart_at == 0.0:
                    delay = child.died()
                    code = child.process.exitcode
                    log.warning(
                        "worker process %s exited with %s%s; replacing it in %.0f s",
                        child.process.pid,
                        code,
                        " (killed: out of memory or by hand)" if code == -signal.SIGKILL else "",
                        delay,
                    )
                    continue
                children[index] = _Child.start(context, spec, child.backoff_s)
                replaced += 1
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + spec.schedule_tick_s
                due = org.claim_due(store)
                if due:
                    producer.enqueue(store, due)
    finally:
        for child in children:
            if child.process.is_alive():
                child.process.terminate()
        for child in children:
            child.process.join(40)
        producer.close()
        store.close()
    return replaced
