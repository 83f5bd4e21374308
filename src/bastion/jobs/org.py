"""The organisation's repositories and their scan schedules, in the store.

A schedule is claimed with a compare-and-set on the repository's ``next_due``: any number of
``bastion worker`` processes may tick the scheduler, each due repository is enqueued once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bastion.errors import UsageError
from bastion.jobs.fetch import TOKEN_ENV_PREFIX, display_url
from bastion.jobs.models import OrgRepo
from bastion.store.db import Store
from bastion.store.models import utcnow

__all__ = ["RepoView", "add", "check_url", "claim_due", "parse_every", "remove", "repos", "schedule"]

_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class RepoView:
    """A repository as listed."""

    url: str
    every_s: int | None
    next_due: datetime | None


def parse_every(text: str) -> int:
    """``"24h"``, ``"30m"``, ``"7d"``, ``"90s"`` in seconds; :class:`UsageError` otherwise."""
    match = _EVERY.match(text)
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"--every {text!r}: give a positive number and a unit s, m, h or d (24h)")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def check_url(url: str) -> str:
    """``url`` unless it carries a password or token (a ``user:secret@`` part before the host), which
    would be stored, listed and shown: :class:`UsageError` then (the URL printed without it)."""
    shown = display_url(url)
    if shown != url:
        raise UsageError(
            f"{shown}: credentials in a repository URL would be stored and shown; give the URL "
            f"without them and the token in {TOKEN_ENV_PREFIX}<HOST> of the worker "
            "(e.g. BASTION_GIT_TOKEN_GITHUB_COM), or use an SSH URL and key"
        )
    return url


def add(store: Store, urls: Iterable[str]) -> list[str]:
    """Add repositories (URLs or paths, as given); the ones that were new. :class:`UsageError`
    for a URL with credentials in it (:func:`check_url`), before anything is stored."""
    checked = [check_url(url.strip()) for url in urls]
    added: list[str] = []
    for url in checked:
        if not url:
            continue
        try:
            with store.write() as session:
                session.add(OrgRepo(url=url[:1000]))
        except IntegrityError:
            continue  # already there
        added.append(url)
    return added


def remove(store: Store, urls: Iterable[str]) -> int:
    """Remove repositories; how many were there."""
    removed = 0
    with store.write() as session:
        for url in urls:
            record = session.scalar(select(OrgRepo).where(OrgRepo.url == url))
            if record is not None:
                session.delete(record)
                removed += 1
    return removed


def repos(store: Store) -> list[RepoView]:
    """Every repository, in the order they were added."""
    with store.read() as session:
        return [
            RepoView(r.url, r.every_s, r.next_due)
            for r in session.scalars(select(OrgRepo).order_by(OrgRepo.id))
        ]


def schedule(
    store: Store, every_s: int, urls: Iterable[str] | None = None, *, now: datetime | None = None
) -> int:
    """Scan ``urls`` (default: every repository) every ``every_s`` seconds, the first time now;
    how many repositories were scheduled."""
    now = now or utcnow()
    chosen = set(urls) if urls is not None else None
    count = 0
    with store.write() as session:
        for record in session.scalars(select(OrgRepo)):
            if chosen is None or record.url in chosen:
                record.every_s = every_s
                record.next_due = now
                count += 1
    return count


def claim_due(store: Store, *, now: datetime | None = None) -> list[str]:
    """Repositories whose scan is due, each claimed (its next time moved on) by exactly one
    caller even when several schedulers run at once."""
    now = now or utcnow()
    claimed: list[str] = []
    with store.read() as session:
        due = session.execute(
            select(OrgRepo.id, OrgRepo.url, OrgRepo.every_s, OrgRepo.next_due).where(
                OrgRepo.next_due.is_not(None), OrgRepo.next_due <= now
            )
        ).all()
    for repo_id, url, every_s, next_due in due:
        with store.write() as session:
            result = session.execute(
                update(OrgRepo)
                .where(OrgRepo.id == repo_id, OrgRepo.next_due == next_due)
                .values(next_due=now + timedelta(seconds=every_s or 86400))
            )
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(url)
    return claimed
