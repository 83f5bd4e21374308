"""The OSV advisory database: import, sync, index and version matching.

Public API other parts of Bastion rely on (keep stable)::

    find_vulnerabilities("npm", "jquery", "3.4.1") -> list[VulnerabilityMatch]
    database_available() -> bool

The database path is ``database``, else ``$BASTION_ADVISORY_DB``, else the user cache dir.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bastion.advisories.db import (
    ENV_VAR,
    AdvisoryDatabaseError,
    connect,
    default_database_path,
    resolve_database,
)
from bastion.advisories.match import Matcher, VulnerabilityMatch, canonical_id, smallest_fix
from bastion.advisories.records import canonical_ecosystem
from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS, UnsupportedVersion

__all__ = [
    "ENV_VAR",
    "SUPPORTED_ECOSYSTEMS",
    "AdvisoryDatabaseError",
    "Matcher",
    "UnsupportedVersion",
    "VulnerabilityMatch",
    "canonical_id",
    "database_available",
    "default_database_path",
    "find_vulnerabilities",
    "resolve_database",
    "smallest_fix",
]


def find_vulnerabilities(
    ecosystem: str, name: str, version: str, *, database: Path | None = None
) -> list[VulnerabilityMatch]:
    """Known vulnerabilities of ``name`` ``version`` in ``ecosystem`` (OSV spelling: PyPI, npm, Maven...).

    Raises :class:`AdvisoryDatabaseError` when the database is missing or corrupted and
    :class:`UnsupportedVersion` when ``version`` is not a valid version of the ecosystem
    (for a package the database knows).
    """
    with Matcher(resolve_database(database)) as matcher:
        return matcher.find(ecosystem, name, version)


def database_available(database: Path | None = None, ecosystem: str | None = None) -> bool:
    """Whether a usable advisory database exists at the resolved path and, with ``ecosystem``,
    holds advisories for it: a database without npm data cannot clear an npm package."""
    path = resolve_database(database)
    if not path.is_file():
        return False
    try:
        conn = connect(path)
    except AdvisoryDatabaseError:
        return False
    try:
        if ecosystem is None:
            return True
        row = conn.execute(
            "SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1", (canonical_ecosystem(ecosystem),)
        ).fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
