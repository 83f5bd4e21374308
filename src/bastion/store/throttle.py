"""Sign-in attempts counted in the database, atomically, for every server process at once.

Each attempt is counted *before* its password is checked, in one write transaction that locks
the counters it reads (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the rows ``FOR UPDATE``, taken in
key order), so N concurrent wrong passwords against a limit of 5 verify at most 5, however many
processes serve them. Counters are fixed windows: the first counted attempt opens the window,
and when it has passed the count starts again.

- ``pair:<account>|<address>`` (the account name as a SHA-256 prefix, never as typed):
  guesses at one account from one address; past the limit only
  that pair is refused (the right password included): the same account from elsewhere and
  every other account from that address still sign in.
- ``site:<address>``: all attempts from one address (spraying many accounts); past its larger
  limit the address is refused except for accounts known there.
- ``known:<account>|<address>``: the account signed in from that address before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bastion.store.db import Store
from bastion.store.models import LoginAttempts, utcnow

__all__ = ["KNOWN_DAYS", "AttemptCounter"]

KNOWN_DAYS = 90
"""How long an account stays known at an address after its last sign-in there."""


def _keys(account: str, address: str) -> tuple[str, str, str]:
    # The account as typed is hashed: people type passwords into the user name field.
    typed = hashlib.sha256(account.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    who = f"{typed}|{address}"[:280]
    return f"pair:{who}", f"site:{address}"[:300], f"known:{who}"


@dataclass
class AttemptCounter:
    """Counters of sign-in attempts over a store (see the module docstring)."""

    store: Store
    attempts: int
    """Attempts per (account, address) in a window."""
    window_s: float
    address_attempts: int
    """Attempts per address, over all accounts, in a window (known accounts are not held)."""

    def begin(self, account: str, address: str, now: datetime | None = None) -> int:
        """Count one attempt and return 0, or return the seconds to wait (nothing counted)."""
        now = now or utcnow()
        pair, site, known = _keys(account, address)
        with self.store.write() as session:
            rows = self._lock(session, (pair, site), now)
            is_known = session.get(LoginAttempts, known) is not None
            waits = [self._wait(rows[pair], self.attempts, now)]
            if not is_known:
                waits.append(self._wait(rows[site], self.address_attempts, now))
            longest = max((w for w in waits if w is not None), default=None)
            if longest is not None:
                return max(1, int(longest) + 1)
            rows[pair].count += 1
            rows[site].count += 1
            self._forget_old(session, now)
        return 0

    def succeeded(self, account: str, address: str, now: datetime | None = None) -> None:
        """The attempt begun for ``account`` was right: clear the pair, give the address its
        slot back and remember the account as one that signs in from there."""
        now = now or utcnow()
        pair, site, known = _keys(account, address)
        with self.store.write() as session:
            rows = self._lock(session, (known, pair, site), now)
            session.delete(rows[pair])
            rows[site].count = max(0, rows[site].count - 1)
            rows[known].window_start = now

    def count(self, account: str, address: str) -> tuple[int, int]:
        """The attempts counted now for the pair and for the address (for tests and support)."""
        pair, site, _ = _keys(account, address)
        with self.store.read() as session:
            rows = session.scalars(select(LoginAttempts).where(LoginAttempts.key.in_((pair, site))))
            found = {row.key: row.count for row in rows}
        return found.get(pair, 0), found.get(site, 0)

    def _lock(self, session: Session, keys: tuple[str, ...], now: datetime) -> dict[str, LoginAttempts]:
        """Create the missing counters, then lock all of them in key order (no deadlock between
        two processes locking the same pair) and restart those whose window has passed."""
        ordered = sorted(set(keys))
        values = [{"key": key, "window_start": now, "count": 0} for key in ordered]
        if self.store.dialect == "postgresql":
            session.execute(pg_insert(LoginAttempts).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(LoginAttempts).values(values).on_conflict_do_nothing())
        rows = {
            row.key: row
            for row in session.scalars(
                select(LoginAttempts)
                .where(LoginAttempts.key.in_(ordered))
                .order_by(LoginAttempts.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        start = now - timedelta(seconds=self.window_s)
        for key, row in rows.items():
            if not key.startswith("known:") and row.window_start <= start:
                row.window_start, row.count = now, 0
        return rows

    def _wait(self, row: LoginAttempts, limit: int, now: datetime) -> float | None:
        if row.count < limit:
            return None
        return (row.window_start + timedelta(seconds=self.window_s) - now).total_seconds()

    def _forget_old(self, session: Session, now: datetime) -> None:
        """Drop counters whose window has passed and accounts not seen for :data:`KNOWN_DAYS`."""
        stale = now - timedelta(seconds=self.window_s)
        quiet = {"synchronize_session": False}
        session.execute(
            delete(LoginAttempts)
            .where(LoginAttempts.window_start <= stale, ~LoginAttempts.key.startswith("known:"))
            .execution_options(**quiet)
        )
        session.execute(
            delete(LoginAttempts)
            .where(
                LoginAttempts.window_start <= now - timedelta(days=KNOWN_DAYS),
                LoginAttempts.key.startswith("known:"),
            )
            .execution_options(**quiet)
        )
