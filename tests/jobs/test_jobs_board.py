"""Job states and exactly-once results in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.errors import UsageError
from bastion.jobs import board, org
from bastion.jobs.models import JobState
from bastion.store.db import Store


def _finding(fingerprint: str, path: str = "a.py") -> dict[str, object]:
    return {"fingerprint": fingerprint, "rule_id": "secrets.aws-access-key", "severity": "high",
            "location": {"path": path, "start_line": 1}}  # fmt: skip


def test_results_are_stored_once_when_a_job_is_delivered_twice(store: Store) -> None:
    board.enqueued(store, "job-1", "repo")
    first = board.start(store, "job-1", "repo", "w1", max_attempts=5)
    assert first is not None and first.state is JobState.RUNNING and first.attempts == 1
    # the first worker stored the results, then died before the broker heard its ack:
    assert board.finish(store, "job-1", [_finding("f1"), _finding("f2"), _finding("f1")]) == 2
    # the redelivered job is skipped, and storing again changes nothing
    assert board.start(store, "job-1", "repo", "w2", max_attempts=5) is None
    assert board.finish(store, "job-1", [_finding("f1"), _finding("f2"), _finding("f3")]) == 3
    view = board.job(store, "job-1")
    assert view is not None and view.state is JobState.DONE and view.findings == 3


def test_a_second_delivery_is_shown_retried_and_too_many_dead_letter_the_job(store: Store) -> None:
    board.enqueued(store, "job-2", "repo")
    assert board.start(store, "job-2", "repo", "w1", max_attempts=2) is not None
    second = board.start(store, "job-2", "repo", "w2", max_attempts=2)
    assert second is not None and second.state is JobState.RETRIED and second.worker == "w2"
    assert board.start(store, "job-2", "repo", "w3", max_attempts=2) is None
    view = board.job(store, "job-2")
    assert view is not None and view.state is JobState.DEAD
    assert "dead-lettered after 2 deliveries" in (view.error or "")


def test_failures_retries_dead_letters_and_counts(store: Store) -> None:
    for job_id in ("a", "b", "c"):
        board.enqueued(store, job_id, f"repo-{job_id}")
        board.start(store, job_id, f"repo-{job_id}", "w", 5)
    board.fail(store, "a", "FetchError: too big", final=True)
    board.fail(store, "b", "OSError: lost", final=False)
    board.dead_letter(store, "c", "RuntimeError: boom (after 4 failed attempts)")
    board.enqueued(store, "d", "repo-d")
    states = {view.id: view.state for view in board.jobs(store)}
    assert states == {"a": JobState.FAILED, "b": JobState.RETRIED, "c": JobState.DEAD, "d": JobState.QUEUED}
    counts = board.counts(store)
    assert counts[JobState.FAILED] == counts[JobState.DEAD] == counts[JobState.QUEUED] == 1
    assert counts[JobState.DONE] == 0
    dead = board.jobs(store, state=JobState.DEAD)
    assert [v.id for v in dead] == ["c"] and dead[0].to_dict()[
        "error"
    ] == "RuntimeError: boom (after 4 failed attempts)"
    assert board.start(store, "a", "repo-a", "w", 5) is None  # a failed job does not run again
    # a job the broker has but the store lost is recreated when it starts
    assert board.start(store, "e", "repo-e", "w", 5) is not None


def test_org_repositories_and_a_schedule_claimed_once(store: Store) -> None:
    assert org.add(store, ["https://git.example.com/a.git", "/srv/b", "", "/srv/b"]) == [
        "https://git.example.com/a.git",
        "/srv/b",
    ]
    now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert org.schedule(store, 3600, now=now) == 2
    assert sorted(org.claim_due(store, now=now)) == ["/srv/b", "https://git.example.com/a.git"]
    assert org.claim_due(store, now=now) == []  # claimed: a second scheduler gets nothing
    assert org.claim_due(store, now=now + timedelta(minutes=59)) == []
    assert len(org.claim_due(store, now=now + timedelta(hours=1))) == 2
    assert [r.every_s for r in org.repos(store)] == [3600, 3600]
    assert org.remove(store, ["/srv/b", "/srv/none"]) == 1


@pytest.mark.parametrize(("text", "seconds"), [("24h", 86400), ("30m", 1800), ("7d", 604800), (" 90s ", 90)])
def test_parse_every(text: str, seconds: int) -> None:
    assert org.parse_every(text) == seconds


@pytest.mark.parametrize("text", ["0h", "24", "h", "1w", "-1h", ""])
def test_parse_every_refuses_nonsense(text: str) -> None:
    with pytest.raises(UsageError, match="--every"):
        org.parse_every(text)


@pytest.mark.parametrize(
    "url", ["https://bob:ghp_token@git.example.com/a.git", "https://ghp_token@git.example.com/a.git",
            "ssh://bob:pw@git.example.com/a.git"],
)  # fmt: skip
def test_a_url_with_credentials_is_refused_and_not_echoed(store: Store, url: str) -> None:
    with pytest.raises(UsageError, match="credentials in a repository URL") as raised:
        org.add(store, ["/srv/ok", url])
    assert "ghp_token" not in str(raised.value) and "pw@" not in str(raised.value)
    assert "BASTION_GIT_TOKEN_<HOST>" in str(raised.value)  # where the token goes instead
    assert org.repos(store) == []  # nothing stored, not even the good one


@pytest.mark.parametrize("url", ["git@github.com:team/a.git", "ssh://git@git.example.com/a.git", "/srv/a"])
def test_urls_without_secrets_pass(url: str) -> None:
    assert org.check_url(url) == url
