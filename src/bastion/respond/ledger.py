"""The response ledger: an append-only, hash-chained audit log plus the state of every action.

SQLite by default. The ``audit`` table refuses UPDATE and DELETE (triggers), and each row carries
``hash = sha256(previous hash + the row)``, so :meth:`Ledger.verify` finds a row edited or removed
behind SQLite's back. The ``actions`` table is the current state (planned, pending approval,
intent, applied, undone...), ``settings`` holds the kill switch and the circuit breaker.
"""

from __future__ import annotations

import enum
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bastion.errors import InputError

__all__ = ["ActionRecord", "AuditEntry", "Ledger", "Status"]

GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, event TEXT NOT NULL, action_id TEXT NOT NULL,
    actor TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY, playbook TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    status TEXT NOT NULL, requested_by TEXT NOT NULL, created_at TEXT NOT NULL,
    applied_at TEXT, undo_at TEXT, approval_expires_at TEXT, confirmed INTEGER NOT NULL DEFAULT 0,
    saved TEXT NOT NULL DEFAULT '{}', alert TEXT NOT NULL, before TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS actions_applied ON actions (applied_at, playbook);
CREATE INDEX IF NOT EXISTS actions_status ON actions (status, undo_at);
CREATE INDEX IF NOT EXISTS actions_target ON actions (target, playbook, action);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_UPDATES = {
    "status": "UPDATE actions SET status = ? WHERE id = ?",
    "applied_at": "UPDATE actions SET applied_at = ? WHERE id = ?",
    "undo_at": "UPDATE actions SET undo_at = ? WHERE id = ?",
    "confirmed": "UPDATE actions SET confirmed = ? WHERE id = ?",
    "saved": "UPDATE actions SET saved = ? WHERE id = ?",
    "before": "UPDATE actions SET before = ? WHERE id = ?",
}
"""The only changes an action row accepts: one fixed statement per column."""


class Status(enum.StrEnum):
    """Where an action stands."""

    PLANNED = "planned"
    """Dry-run: described, not applied."""
    PENDING = "pending"
    """Waiting for approval by another person."""
    INTENT = "intent"
    """About to be applied; still here after a restart means the process died mid-apply."""
    APPLIED = "applied"
    UNDONE = "undone"
    REFUSED = "refused"
    """Stopped by a safeguard (allow-list, limit, breaker, kill switch, expired approval)."""
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Recovery could not tell whether the change happened."""


@dataclass(frozen=True)
class ActionRecord:
    """One action's row in the ledger."""

    id: str
    playbook: str
    action: str
    target: str
    status: Status
    requested_by: str
    created_at: datetime
    applied_at: datetime | None
    undo_at: datetime | None
    """When the automatic undo falls due (None: kept until undone by hand)."""
    approval_expires_at: datetime | None
    confirmed: bool
    saved: Mapping[str, Any]
    alert: Mapping[str, Any]
    before: str
    """The target's state checked before apply (crash recovery compares with it)."""
    spec: Mapping[str, Any]
    """The playbook's action entry (type, target, params) it was built from."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit row."""

    seq: int
    at: str
    event: str
    action_id: str
    actor: str
    detail: Mapping[str, Any]
    hash: str


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _row_hash(prev: str, seq: int, at: str, event: str, action_id: str, actor: str, detail: str) -> str:
    body = json.dumps([seq, at, event, action_id, actor, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


class Ledger:
    """The audit log and action state in one SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: Path | str) -> None:
        """Open (and create) the ledger; raises InputError when the file cannot be used."""
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise InputError(f"{self.path}: cannot open the response ledger ({exc})") from None

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken up front, so two processes queue rather than interleave)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # audit ------------------------------------------------------------------------------
    def audit(self, at: datetime, event: str, action_id: str, actor: str, detail: Mapping[str, Any]) -> None:
        """Append one row to the chain; call inside :meth:`transaction`."""
        last = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        stamp = at.isoformat()
        text = json.dumps(dict(detail), sort_keys=True, ensure_ascii=False, default=str)
        digest = _row_hash(prev, seq, stamp, event, action_id, actor, text)
        self.db.execute(
            "INSERT INTO audit (seq, at, event, action_id, actor, detail, prev, hash)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (seq, stamp, event, action_id, actor, text, prev, digest),
        )

    def entries(self, action_id: str | None = None) -> list[AuditEntry]:
        """The audit rows, oldest first (of one action when given)."""
        rows = self.db.execute(
            "SELECT seq, at, event, action_id, actor, detail, hash FROM audit"
            " WHERE ? IS NULL OR action_id = ? ORDER BY seq",
            (action_id, action_id),
        )
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]

    def verify(self) -> int | None:
        """The sequence number of the first row whose chain is broken, or None when intact."""
        prev, expected_seq = GENESIS, 1
        for seq, at, event, action_id, actor, detail, row_prev, digest in self.db.execute(
            "SELECT seq, at, event, action_id, actor, detail, prev, hash FROM audit ORDER BY seq"
        ):
            if seq != expected_seq or row_prev != prev:
                return int(expected_seq)
            if _row_hash(prev, seq, at, event, action_id, actor, detail) != digest:
                return int(seq)
            prev, expected_seq = digest, seq + 1
        return None

    # actions ----------------------------------------------------------------------------
    def insert(self, record: ActionRecord) -> None:
        """Add an action row; call inside :meth:`transaction`."""
        self.db.execute(
            "INSERT INTO actions (id, playbook, action, target, status, requested_by, created_at, applied_at,"
            " undo_at, approval_expires_at, confirmed, saved, alert, before, spec)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.id,
                record.playbook,
                record.action,
                record.target,
                record.status.value,
                record.requested_by,
                record.created_at.isoformat(),
                record.applied_at.isoformat() if record.applied_at else None,
                record.undo_at.isoformat() if record.undo_at else None,
                record.approval_expires_at.isoformat() if record.approval_expires_at else None,
                int(record.confirmed),
                json.dumps(dict(record.saved)),
                json.dumps(dict(record.alert)),
                record.before,
                json.dumps(dict(record.spec)),
            ),
        )

    def update(self, action_id: str, **fields: Any) -> None:
        """Change some fields of an action row; call inside :meth:`transaction`."""
        for name, value in fields.items():
            statement = _UPDATES.get(name)
            if statement is None:
                raise ValueError(f"ledger field {name!r} cannot be changed")
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, dict):
                value = json.dumps(value)
            self.db.execute(statement, (value, action_id))

    def get(self, action_id: str) -> ActionRecord | None:
        """The action with this id (a unique prefix of at least 6 characters also works)."""
        rows = self.db.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchall()
        if not rows and len(action_id) >= 6:
            rows = self.db.execute(
                "SELECT * FROM actions WHERE id LIKE ? LIMIT 2", (action_id + "%",)
            ).fetchall()
        return self._record(rows[0]) if len(rows) == 1 else None

    def with_status(self, *statuses: Status) -> list[ActionRecord]:
        """Every action in one of ``statuses``, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM actions WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, id",
            (json.dumps([s.value for s in statuses]),),
        )
        return [self._record(r) for r in rows]

    def in_force(self, playbook: str, action: str, target: str) -> ActionRecord | None:
        """The action of this playbook already applied (or pending) on this target, if any."""
        row = self.db.execute(
            "SELECT * FROM actions WHERE playbook = ? AND action = ? AND target = ?"
            " AND status IN (?, ?, ?) LIMIT 1",
            (playbook, action, target, Status.APPLIED.value, Status.PENDING.value, Status.INTENT.value),
        ).fetchone()
        return self._record(row) if row else None

    def due(self, now: datetime) -> tuple[list[ActionRecord], list[ActionRecord]]:
        """Applied, unconfirmed actions whose undo time has come, and pending requests that expired.
        (Times are stored as UTC ISO strings, which order like the instants they name.)"""
        stamp = now.isoformat()
        undo = self.db.execute(
            "SELECT * FROM actions WHERE status = 'applied' AND confirmed = 0 AND undo_at IS NOT NULL"
            " AND undo_at <= ? ORDER BY undo_at",
            (stamp,),
        )
        expired = self.db.execute(
            "SELECT * FROM actions WHERE status = 'pending' AND approval_expires_at IS NOT NULL"
            " AND approval_expires_at <= ? ORDER BY approval_expires_at",
            (stamp,),
        )
        return [self._record(row) for row in undo], [self._record(row) for row in expired]

    def applied_since(self, since: datetime, playbook: str | None = None) -> int:
        """How many actions were applied (or began to be) at or after ``since``."""
        sql = "SELECT count(*) FROM actions WHERE applied_at >= ?"
        args: list[str] = [since.isoformat()]
        if playbook is not None:
            sql += " AND playbook = ?"
            args.append(playbook)
        return int(self.db.execute(sql, args).fetchone()[0])

    @staticmethod
    def _record(row: tuple[Any, ...]) -> ActionRecord:
        return ActionRecord(
            id=row[0],
            playbook=row[1],
            action=row[2],
            target=row[3],
            status=Status(row[4]),
            requested_by=row[5],
            created_at=datetime.fromisoformat(row[6]),
            applied_at=_dt(row[7]),
            undo_at=_dt(row[8]),
            approval_expires_at=_dt(row[9]),
            confirmed=bool(row[10]),
            saved=json.loads(row[11]),
            alert=json.loads(row[12]),
            before=row[13],
            spec=json.loads(row[14]),
        )

    # settings ---------------------------------------------------------------------------
    def setting(self, key: str) -> str:
        """A setting's value ('' when unset)."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def set_setting(self, key: str, value: str) -> None:
        """Set a setting; call inside :meth:`transaction`."""
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
