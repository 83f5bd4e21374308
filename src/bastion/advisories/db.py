"""The advisory index: one SQLite file of OSV records and the CISA KEV catalog.

Location: an explicit path, else ``$BASTION_ADVISORY_DB``, else ``advisories.sqlite3`` in
the user cache dir. Opening a file that is not a Bastion advisory database raises
:class:`AdvisoryDatabaseError` with the remedy (``bastion db update``), never a traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from bastion.advisories.records import Advisory
from bastion.errors import InputError

__all__ = [
    "ENV_VAR",
    "SCHEMA_VERSION",
    "AdvisoryDatabaseError",
    "DatabaseStatus",
    "EcosystemStatus",
    "connect",
    "default_database_path",
    "resolve_database",
]

ENV_VAR = "BASTION_ADVISORY_DB"
SCHEMA_VERSION = 1
REMEDY = "rebuild it with `bastion db update` (or `bastion db import PATH` offline)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisory (
    id TEXT PRIMARY KEY, aliases TEXT NOT NULL, summary TEXT NOT NULL, published TEXT,
    modified TEXT, withdrawn TEXT, severity TEXT, score REAL, vector TEXT,
    severity_source TEXT NOT NULL, cwes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL,
    ranges TEXT NOT NULL, versions TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS kev (
    cve TEXT PRIMARY KEY, date_added TEXT, ransomware TEXT, name TEXT
);
CREATE TABLE IF NOT EXISTS source (
    ecosystem TEXT PRIMARY KEY, updated TEXT NOT NULL, origin TEXT NOT NULL, digest TEXT
);
"""


class AdvisoryDatabaseError(InputError):
    """The advisory database is missing, corrupted or from an incompatible version."""


def default_database_path() -> Path:
    """Where the database lives when nothing else is said: the user cache dir."""
    return Path(platformdirs.user_cache_dir("bastion", appauthor=False)) / "advisories.sqlite3"


def resolve_database(database: Path | str | None = None) -> Path:
    """The database path: ``database``, else ``$BASTION_ADVISORY_DB``, else the default."""
    if database is not None and str(database):
        return Path(database).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return default_database_path()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _broken(path: Path, reason: str) -> AdvisoryDatabaseError:
    return AdvisoryDatabaseError(f"{path}: not a usable advisory database ({reason}); {REMEDY}")


def private_directory(directory: Path) -> None:
    """Create ``directory`` (and missing parents) readable by the owner only (0700); a directory
    that already exists keeps its mode, it may be shared on purpose."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    for created in reversed(missing):
        try:
            created.mkdir(mode=0o700)
        except FileExistsError:
            continue
        created.chmod(0o700)  # mkdir's mode is filtered by the umask


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 when it does not exist yet, so the database is never
    readable by others, even for the moment between creation and a chmod."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as exc:
        raise AdvisoryDatabaseError(f"{path}: cannot create the advisory database ({exc.strerror})") from None


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open (or with ``create``, create) the database at ``path`` and check its schema."""
    if not create and not path.is_file():
        raise AdvisoryDatabaseError(
            f"{path}: no advisory database; create it with `bastion db update` "
            "(or `bastion db import PATH` offline)"
        )
    if create:
        private_directory(path.parent)
        private_file(path)
    try:
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            if not create or tables:
                conn.close()
                raise _broken(path, "no Bastion schema")
            conn.executescript(_SCHEMA)
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            conn.execute("INSERT INTO meta VALUES ('created', ?)", (_now(),))
            conn.commit()
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _broken(path, str(exc)) from None
    if row is None or row[0] != str(SCHEMA_VERSION):
        conn.close()
        found = row[0] if row is not None else "none"
        raise _broken(path, f"schema version {found}, this Bastion reads {SCHEMA_VERSION}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """Commit on success, roll back on error; SQLite errors become :class:`AdvisoryDatabaseError`."""
    try:
        yield conn
        conn.commit()
    except sqlite3.DatabaseError as exc:
        conn.rollback()
        raise _broken(path, str(exc)) from None
    except BaseException:
        conn.rollback()
        raise


def store_advisories(conn: sqlite3.Connection, advisories: Iterable[Advisory]) -> tuple[int, int]:
    """Insert or replace records; a record not newer than the stored one is left alone.

    Returns (written, unchanged).
    """
    known = dict(conn.execute("SELECT id, modified FROM advisory").fetchall())
    written = unchanged = 0
    rows: list[tuple[Any, ...]] = []
    affected_rows: list[tuple[str, str, str, str, str]] = []
    replaced: list[tuple[str]] = []
    for advisory in advisories:
        previous = known.get(advisory.id, "missing")
        if previous != "missing":
            if previous is not None and advisory.modified is not None and advisory.modified <= previous:
                unchanged += 1
                continue
            replaced.append((advisory.id,))
        known[advisory.id] = advisory.modified
        written += 1
        rows.append(
            (
                advisory.id,
                json.dumps(list(advisory.aliases)),
                advisory.summary,
                advisory.published,
                advisory.modified,
                advisory.withdrawn,
                advisory.severity.value if advisory.severity else None,
                advisory.score,
                advisory.vector,
                advisory.severity_source,
                json.dumps(list(advisory.cwes)),
            )
        )
        affected_rows.extend(
            (
                advisory.id,
                entry.ecosystem,
                entry.name,
                json.dumps([dict(r) for r in entry.ranges], default=str),
                json.dumps(list(entry.versions)),
            )
            for entry in advisory.affected
        )
    conn.executemany("DELETE FROM affected WHERE advisory_id = ?", replaced)
    conn.executemany("INSERT OR REPLACE INTO advisory VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO affected VALUES (?,?,?,?,?)", affected_rows)
    return written, unchanged


def mark_source(conn: sqlite3.Connection, ecosystem: str, origin: str, digest: str | None = None) -> None:
    """Record when and from where an ecosystem (or ``KEV``) was last loaded."""
    conn.execute("INSERT OR REPLACE INTO source VALUES (?, ?, ?, ?)", (ecosystem, _now(), origin, digest))


def source_digest(conn: sqlite3.Connection, ecosystem: str) -> str | None:
    """The digest of the archive an ecosystem was last loaded from, if recorded."""
    row = conn.execute("SELECT digest FROM source WHERE ecosystem = ?", (ecosystem,)).fetchone()
    return row[0] if row is not None else None


@dataclass(frozen=True)
class EcosystemStatus:
    """Counts and age of one ecosystem in the database."""

    ecosystem: str
    advisories: int
    packages: int
    updated: datetime | None
    origin: str

    def age_days(self, now: datetime | None = None) -> int | None:
        """Whole days since the ecosystem was loaded, or None if unknown."""
        if self.updated is None:
            return None
        return ((now or datetime.now(UTC)) - self.updated).days


@dataclass(frozen=True)
class DatabaseStatus:
    """What ``bastion db status`` prints."""

    path: Path
    ecosystems: list[EcosystemStatus] = field(default_factory=list)
    kev_entries: int = 0
    kev_updated: datetime | None = None
    size_bytes: int = 0

    @property
    def oldest_update(self) -> datetime | None:
        """The least recent load among the ecosystems (what the stale warning uses)."""
        dates = [e.updated for e in self.ecosystems if e.updated is not None]
        return min(dates) if dates else None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_status(conn: sqlite3.Connection, path: Path) -> DatabaseStatus:
    """Counts per ecosystem, KEV size and load dates; :class:`AdvisoryDatabaseError` when the file
    is damaged past its schema (a page the first queries did not touch)."""
    try:
        return _read_status(conn, path)
    except sqlite3.DatabaseError as exc:
        raise _broken(path, str(exc)) from None


def _read_status(conn: sqlite3.Connection, path: Path) -> DatabaseStatus:
    sources = {
        row[0]: (row[1], row[2]) for row in conn.execute("SELECT ecosystem, updated, origin FROM source")
    }
    ecosystems = []
    for row in conn.execute(
        "SELECT ecosystem, COUNT(DISTINCT advisory_id), COUNT(DISTINCT name) FROM affected "
        "GROUP BY ecosystem ORDER BY ecosystem"
    ):
        updated, origin = sources.get(row[0], (None, "unknown"))
        ecosystems.append(EcosystemStatus(row[0], row[1], row[2], _parse_time(updated), origin))
    listed = {e.ecosystem for e in ecosystems}
    # Loaded but holding no record (an empty archive): shown, with 0, so it is not taken for data.
    ecosystems.extend(
        EcosystemStatus(name, 0, 0, _parse_time(updated), origin)
        for name, (updated, origin) in sorted(sources.items())
        if name != "KEV" and name not in listed
    )
    ecosystems.sort(key=lambda e: e.ecosystem)
    kev_count = conn.execute("SELECT COUNT(*) FROM kev").fetchone()[0]
    kev_updated = _parse_time(sources.get("KEV", (None, ""))[0])
    size = path.stat().st_size if path.is_file() else 0
    return DatabaseStatus(path, ecosystems, kev_count, kev_updated, size)
