"""Shared fixtures and the ``--update-golden`` flag for golden-file tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles

from bastion.advisories.db import connect
from bastion.advisories.importer import import_kev, import_osv

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parent.parent
ADVISORIES = FIXTURES / "advisories"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files under tests/fixtures/golden from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite golden files instead of comparing."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures."""
    return FIXTURES


def build_database(path: Path) -> Path:
    """Import the fixture OSV records and KEV subset (tests/fixtures/advisories) into ``path``."""
    conn = connect(path, create=True)
    import_osv(conn, ADVISORIES / "osv")
    import_kev(conn, (ADVISORIES / "kev.json").read_bytes(), "kev.json")
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="session")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of an advisory database holding the fixture records (read-only for tests)."""
    return build_database(tmp_path_factory.mktemp("advdb") / "advisories.sqlite3")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Passwords hashed at argon2's cheapest cost in this process (production cost is tested apart).

    At the production cost every login in a server test spends about 2 s on two cores.
    """
    from bastion.store import accounts

    accounts.use_password_cost(profiles.CHEAPEST)
    yield
    accounts.use_password_cost(accounts.PRODUCTION_COST)


@pytest.fixture(autouse=True)
def _no_user_advisory_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads or writes the user's advisory cache: the default database is a tmp path."""
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "missing.sqlite3"))
    # pytest-xdist's workers inherit COLUMNS=80 from their launcher while a plain run has none: the
    # table's width follows COLUMNS, so every test starts without it and sets it when it matters.
    monkeypatch.delenv("COLUMNS", raising=False)
    # Nor the user's data directory (installed geo data, fetched Sigma rules): a fresh one per test.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    yield
