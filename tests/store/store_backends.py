"""Store fixtures over both back ends: SQLite always, PostgreSQL when a server answers.

PostgreSQL: a unique throwaway database per test session on
``BASTION_TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres),
migrated once, emptied before each test, dropped at the end. When no server is
reachable the PostgreSQL variants are skipped with the connection error as reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from bastion.store.db import Store
from bastion.store.models import Base

ADMIN_URL = os.environ.get("BASTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """URL of a fresh database for this session, or None when no server is reachable."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        yield f"unreachable: {str(exc).strip().splitlines()[0]}"
        return
    name = f"bastion_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base = ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def open_store(backend: str, tmp_path: Path, postgres_url: str | None, lock_wait_s: float = 30.0) -> Store:
    """A migrated, empty store on ``backend``."""
    if backend == "sqlite":
        store = Store.open(f"sqlite:///{tmp_path / 'bastion.db'}", lock_wait_s=lock_wait_s)
        store.migrate()
        return store
    if postgres_url is None or postgres_url.startswith("unreachable"):
        pytest.skip(f"PostgreSQL at {ADMIN_URL} not reachable ({postgres_url})")
    store = Store.open(postgres_url, lock_wait_s=lock_wait_s)
    store.migrate()
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Store]:
    """A migrated, empty store, once per back end."""
    opened = open_store(request.param, tmp_path, postgres_url)
    yield opened
    opened.close()
