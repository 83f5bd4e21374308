"""The task queue: Dramatiq over Redis (chosen by measurement: bench/scale/RESULTS.md).

Guarantees, as Dramatiq's Redis broker gives them: a message is acknowledged only after its job
returned, so a worker killed mid-job (``kill -9``, OOM) loses nothing: once its heartbeat is
older than ``heartbeat_timeout_ms``, another worker's queue maintenance puts its unacknowledged
messages back. A job that raises is retried with exponential backoff ``max_retries`` times, then
dead-lettered (Dramatiq's ``.XQ`` set, kept ``dead_message_ttl``) and recorded ``dead`` with its
error. Queued messages live in Redis: they survive a Redis restart as far as Redis persistence is
configured (AOF ``appendfsync everysec`` loses at most a second of enqueues; no persistence loses
them all). Without a broker URL, :func:`run_local` runs the same jobs in this process.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware, Retries

from bastion import config
from bastion.errors import BastionError
from bastion.jobs import board
from bastion.jobs.board import JobView
from bastion.jobs.run import JobContext, RetryableJobError, describe_error, run_job
from bastion.store.db import Store

__all__ = [
    "BROKER_ENV",
    "BrokerUnavailable",
    "JobQueue",
    "QueueSettings",
    "check_broker",
    "redact_url",
    "run_local",
]

BROKER_ENV = config.BROKER_ENV  # one name, read in bastion.config
SCAN_QUEUE = "scans"
ACTOR = "bastion.scan_repo"
log = logging.getLogger(__name__)


class BrokerUnavailable(BastionError):
    """The broker cannot be reached."""


@dataclass(frozen=True)
class QueueSettings:
    """How the queue retries, detects dead workers and names its keys."""

    namespace: str = "bastion"
    max_retries: int = 3
    min_backoff_ms: int = 1000
    max_backoff_ms: int = 300_000
    heartbeat_timeout_ms: int = 60_000
    maintenance_chance: int = 1000
    """Out of a million broker commands, how many also requeue dead workers' messages."""


def redact_url(url: str) -> str:
    """``url`` with its password, if any, replaced by three asterisks."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def check_broker(url: str, timeout_s: float = 3.0) -> None:
    """Raise :class:`BrokerUnavailable` (the URL without its password, and why) unless the
    broker answers a ping."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise BrokerUnavailable(f"broker {redact_url(url)} unavailable: {exc}") from None


class _Board(Middleware):
    """Dead-letters a job in the store when the broker gives up on it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """Record the job ``dead`` when its retries are exhausted."""
        del broker, result  # the hook's signature; neither is needed here
        if exception is not None and message.failed:
            job_id = str(message.args[0])
            board.dead_letter(
                self.store,
                job_id,
                f"{describe_error(exception)} (after {message.options.get('retries', 0)} failed attempts)",
            )


class JobQueue:
    """The scan queue on one broker; with a :class:`JobContext`, it also runs jobs (a worker)."""

    def __init__(self, url: str, settings: QueueSettings, context: JobContext | None = None) -> None:
        self.url = url
        self.settings = settings
        make: Callable[..., RedisBroker] = RedisBroker  # dramatiq's constructor is unannotated
        self.broker = make(
            url=url,
            namespace=settings.namespace,
            heartbeat_timeout=settings.heartbeat_timeout_ms,
            maintenance_chance=settings.maintenance_chance,
        )
        if context is not None:
            # after-hooks run in reverse order: placed before Retries, it sees Retries' verdict
            self.broker.add_middleware(_Board(context.store), before=Retries)

        def perform(job_id: str, repo: str) -> None:
            if context is None:  # pragma: no cover - producers never run jobs
                raise RuntimeError("this queue has no job context")
            run_job(context, job_id, repo)

        self.actor: dramatiq.Actor[..., None] = dramatiq.Actor(
            perform,
            broker=self.broker,
            actor_name=ACTOR,
            queue_name=SCAN_QUEUE,
            priority=0,
            options={
                "max_retries": settings.max_retries,
                "min_backoff": settings.min_backoff_ms,
                "max_backoff": settings.max_backoff_ms,
                "throws": (),
            },
        )

    def enqueue(self, store: Store, repos: Iterable[str], *, attempts: int = 5) -> list[str]:
        """Record (one transaction) and send one job per repository; the job ids. A lost
        connection is retried with backoff ``attempts`` times, then :class:`BrokerUnavailable`
        (the jobs not sent stay ``queued`` in the store, visible)."""
        jobs = [(uuid.uuid4().hex, repo) for repo in repos]
        board.enqueued_many(store, jobs)
        for job_id, repo in jobs:
            _with_backoff(functools.partial(self.actor.send, job_id, repo), attempts, self.url)
        return [job_id for job_id, _ in jobs]

    def dead_letters(self) -> int:
        """Messages in the dead-letter set now."""
        key = f"{self.settings.namespace}:{SCAN_QUEUE}.XQ"
        return int(self.broker.client.zcard(key))

    def close(self) -> None:
        """Close the broker's connections."""
        self.broker.close()


def _with_backoff(send: Callable[[], object], attempts: int, url: str) -> None:
    delay = 0.2
    for attempt in range(attempts):
        try:
            send()
            return
        except (redis.ConnectionError, redis.TimeoutError, dramatiq.errors.BrokerConnectionError) as exc:
            if attempt == attempts - 1:
                raise BrokerUnavailable(f"broker {redact_url(url)} lost: {exc}") from None
            log.warning("broker lost (%s); retrying in %.1f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def run_local(context: JobContext, repos: Iterable[str], *, max_retries: int = 3) -> list[JobView]:
    """No broker: run one job per repository here, one after the other, with the same retries
    (no backoff wait) and records; the jobs' final records."""
    views: list[JobView] = []
    for repo in repos:
        job_id = uuid.uuid4().hex
        board.enqueued(context.store, job_id, repo)
        for attempt in range(max_retries + 1):
            try:
                run_job(context, job_id, repo)
                break
            except RetryableJobError as exc:
                if attempt == max_retries:
                    board.dead_letter(
                        context.store, job_id, f"{exc} (after {max_retries + 1} failed attempts)"
                    )
        view = board.job(context.store, job_id)
        if view is not None:
            views.append(view)
    return views
