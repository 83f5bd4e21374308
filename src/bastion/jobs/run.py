"""One scan job from start to stored results: the same code on a worker and in-process.

Errors are sorted in two: *final* ones that a retry cannot fix (no such path, over a size or time
limit, out of memory, an invalid repository config) end the job ``failed`` with the reason; any
other error (a git fetch that failed, a database or bug) is raised again so that the broker
retries the job, and dead-letters it after its retries.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from bastion.errors import InputError
from bastion.jobs import board
from bastion.jobs.fetch import FetchError, FetchLimits, fetch
from bastion.jobs.models import JobState
from bastion.jobs.scan import ScanLimits, ScanOutOfMemory, ScanTimeout, scan_checkout
from bastion.jobs.zygote import ScanChildren
from bastion.store.db import Store

__all__ = ["JobContext", "RetryableJobError", "describe_error", "run_job", "worker_name"]


class RetryableJobError(Exception):
    """A failure worth another attempt; the broker retries the job."""


def worker_name() -> str:
    """``host:pid`` of this process, as job records show it."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobContext:
    """What a worker needs to run jobs."""

    store: Store
    cache: Path
    fetch_limits: FetchLimits = field(default_factory=FetchLimits)
    scan_limits: ScanLimits = field(default_factory=ScanLimits)
    max_deliveries: int = 5
    """Deliveries after which a job that never finishes (it kills its worker) is dead-lettered."""
    children: ScanChildren | None = None
    """A worker's scan children forked ahead of their jobs; None: each scan forks its own."""


def describe_error(exc: BaseException) -> str:
    """One line: the error's type and message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


def run_job(context: JobContext, job_id: str, repo: str) -> JobState | None:
    """Run the job unless it is finished already; the state it ended in (``done`` or
    ``failed``), or None when it was skipped (a duplicate delivery, or dead-lettered after too
    many deliveries).

    Raises :class:`RetryableJobError` (the error recorded, the job ``retried``) when another
    attempt may succeed."""
    started = board.start(context.store, job_id, repo, worker_name(), context.max_deliveries)
    if started is None:
        return None
    try:
        fetched = fetch(repo, context.cache, context.fetch_limits)
        if context.children is not None:
            outcome = context.children.scan(fetched.path)
        else:
            outcome = scan_checkout(fetched.path, context.scan_limits)
    except FetchError as exc:
        if exc.transient:
            board.fail(context.store, job_id, describe_error(exc), final=False)
            raise RetryableJobError(str(exc)) from exc
        board.fail(context.store, job_id, describe_error(exc), final=True)
        return JobState.FAILED
    except (ScanOutOfMemory, ScanTimeout, InputError) as exc:
        board.fail(context.store, job_id, describe_error(exc), final=True)
        return JobState.FAILED
    except Exception as exc:  # a bug or a lost service: recorded, then retried by the broker
        board.fail(context.store, job_id, describe_error(exc), final=False)
        raise RetryableJobError(describe_error(exc)) from exc
    board.finish(context.store, job_id, outcome.findings, [*fetched.notes, *outcome.notes])
    return JobState.DONE
