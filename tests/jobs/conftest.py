"""Fixtures of the job tests: a store on both back ends, a Redis namespace, repositories and
real ``bastion worker`` processes."""

from __future__ import annotations

from jobs_world import broker_url, git_repo, namespace, postgres_url, sqlite_url, store, workers

__all__ = ["broker_url", "git_repo", "namespace", "postgres_url", "sqlite_url", "store", "workers"]
