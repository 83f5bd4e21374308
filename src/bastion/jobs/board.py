"""Job states and results in the store: what workers write and the dashboard reads.

Every transition is one short transaction. :func:`finish` writes a job's findings and its
``done`` state in the same transaction, each finding inserted only if (job id, fingerprint) is
not there yet: a job run twice (its first worker killed after the commit and before the broker
heard the acknowledgement) stores its results exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bastion.jobs.models import JobFinding, JobRecord, JobState
from bastion.store.db import Store
from bastion.store.models import utcnow

__all__ = [
    "JobView",
    "counts",
    "dead_letter",
    "enqueued",
    "enqueued_many",
    "fail",
    "finish",
    "job",
    "jobs",
    "start",
]

ERROR_CHARS = 2000
"""An error is kept to its first characters (a traceback's last line is what matters)."""


@dataclass(frozen=True)
class JobView:
    """A job as the CLI and the dashboard show it."""

    id: str
    repo: str
    state: JobState
    attempts: int
    findings: int
    error: str | None
    worker: str | None
    notes: tuple[str, ...]
    queued_at: datetime
    finished_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "id": self.id,
            "repo": self.repo,
            "state": self.state.value,
            "attempts": self.attempts,
            "findings": self.findings,
            "error": self.error,
            "worker": self.worker,
            "notes": list(self.notes),
            "queued_at": self.queued_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def enqueued(store: Store, job_id: str, repo: str) -> None:
    """Record a job as queued (before the broker gets it, so no worker can start it unrecorded)."""
    enqueued_many(store, [(job_id, repo)])


def enqueued_many(store: Store, jobs: Sequence[tuple[str, str]]) -> None:
    """Record jobs ``(id, repository)`` as queued, in one transaction."""
    with store.write() as session:
        session.add_all(
            JobRecord(id=job_id, repo=repo, state=JobState.QUEUED.value, attempts=0, findings=0)
            for job_id, repo in jobs
        )


def start(store: Store, job_id: str, repo: str, worker: str, max_attempts: int) -> JobView | None:
    """Mark the job running on ``worker`` and count the attempt; None when it must not run: it is
    done already (a duplicate delivery), or it has used ``max_attempts`` deliveries (a job that
    kills its worker every time never raises, so only this count stops it: dead-lettered here)."""
    with store.write() as session:
        _no_flush_wait(session)
        record = session.get(JobRecord, job_id)
        if record is None:  # enqueued by hand or the record was lost: recreate it
            record = JobRecord(id=job_id, repo=repo, state=JobState.QUEUED.value, attempts=0, findings=0)
            session.add(record)
        if record.state in (JobState.DONE, JobState.FAILED, JobState.DEAD):
            return None
        if record.attempts >= max_attempts:
            record.state = JobState.DEAD.value
            record.error = (record.error or "") + f" (dead-lettered after {record.attempts} deliveries)"
            record.finished_at = utcnow()
            return None
        record.state = (JobState.RETRIED if record.attempts else JobState.RUNNING).value
        record.attempts += 1
        record.worker = worker[:200]
        record.started_at = utcnow()
        return _view(record)


def finish(
    store: Store, job_id: str, findings: Iterable[Mapping[str, Any]], notes: Sequence[str] = ()
) -> int:
    """Store the job's findings (each once per fingerprint) and ``notes`` (what was refused or
    not checked) and mark it done; the number of findings the job has in the store afterwards."""
    rows = [
        {
            "job_id": job_id,
            "fingerprint": str(item["fingerprint"])[:200],
            "rule_id": str(item.get("rule_id", ""))[:300],
            "severity": str(item.get("severity", ""))[:20],
            "path": str((item.get("location") or {}).get("path", ""))[:1000],
            "data": dict(item),
        }
        for item in findings
    ]
    stored_now = select(func.count()).where(JobFinding.job_id == job_id).scalar_subquery()
    done = (
        update(JobRecord)
        .where(JobRecord.id == job_id)
        .values(
            state=JobState.DONE.value,
            findings=stored_now,
            error=None,
            notes=[note[:ERROR_CHARS] for note in notes][:100] or None,
            finished_at=utcnow(),
        )
        .returning(JobRecord.findings)
        .execution_options(synchronize_session=False)
    )
    with store.write() as session:
        if rows:
            session.execute(_insert_ignoring_duplicates(session), rows)
        stored = session.execute(done).scalar_one()  # NoResultFound: no such job
    return int(stored)


def _no_flush_wait(session: Session) -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.

    Only for the ``running`` record: the job's next commit (``done`` with its findings, or its
    error) is synchronous and flushes it too; a database crash in between can lose just that
    mark (and the attempt it counted) of a job that is running, unacknowledged, and delivered
    again. SQLite in WAL mode with ``synchronous=NORMAL`` never waits for the disk at commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _insert_ignoring_duplicates(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(JobFinding).on_conflict_do_nothing(index_elements=["job_id", "fingerprint"])
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(JobFinding).on_conflict_do_nothing(index_elements=["job_id", "fingerprint"])
    return insert(JobFinding)  # pragma: no cover - only the two back ends are supported


def fail(store: Store, job_id: str, error: str, *, final: bool) -> None:
    """Record an attempt's error: ``final`` ends the job ``failed``; otherwise it waits for its
    retry (shown ``retried``)."""
    with store.write() as session:
        record = session.get_one(JobRecord, job_id)
        record.error = error[:ERROR_CHARS]
        record.state = (JobState.FAILED if final else JobState.RETRIED).value
        if final:
            record.finished_at = utcnow()


def dead_letter(store: Store, job_id: str, error: str) -> None:
    """The broker gave up on the job after its retries: dead-lettered with its last error."""
    with store.write() as session:
        record = session.get_one(JobRecord, job_id)
        record.error = error[:ERROR_CHARS]
        record.state = JobState.DEAD.value
        record.finished_at = utcnow()


def jobs(store: Store, *, state: JobState | None = None, limit: int = 200) -> list[JobView]:
    """The newest jobs first, optionally in one state."""
    query = select(JobRecord).order_by(JobRecord.queued_at.desc(), JobRecord.id).limit(limit)
    if state is not None:
        query = query.where(JobRecord.state == state.value)
    with store.read() as session:
        return [_view(record) for record in session.scalars(query)]


def job(store: Store, job_id: str) -> JobView | None:
    """One job, or None when there is no such job."""
    with store.read() as session:
        record = session.get(JobRecord, job_id)
        return _view(record) if record is not None else None


def counts(store: Store) -> dict[JobState, int]:
    """How many jobs are in each state (every state listed, zeros included)."""
    with store.read() as session:
        rows = session.execute(select(JobRecord.state, func.count()).group_by(JobRecord.state)).all()
        found = {str(state): int(count) for state, count in rows}
    return {state: found.get(state.value, 0) for state in JobState}


def _view(record: JobRecord) -> JobView:
    return JobView(
        record.id,
        record.repo,
        JobState(record.state),
        record.attempts,
        record.findings,
        record.error,
        record.worker,
        tuple(record.notes or ()),
        record.queued_at,
        record.finished_at,
    )
