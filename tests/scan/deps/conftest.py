"""An advisory database built once per session from the real records in tests/fixtures/advisories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.advisories.db import connect
from bastion.advisories.importer import import_kev, import_osv

ADVISORIES = (
    next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures" / "advisories"
)


def build_database(path: Path) -> Path:
    """Import the fixture OSV records and KEV subset into ``path``."""
    conn = connect(path, create=True)
    import_osv(conn, ADVISORIES / "osv")
    import_kev(conn, (ADVISORIES / "kev.json").read_bytes(), "kev.json")
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="session")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a database holding the fixture records (read-only for tests)."""
    return build_database(tmp_path_factory.mktemp("advdb") / "advisories.sqlite3")


@pytest.fixture(autouse=True)
def _no_user_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Never touch the user's cache: the default database is a path in tmp."""
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "missing.sqlite3"))
    yield
