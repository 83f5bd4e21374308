"""The alerts tables: the 0008_alerts migration matches the models and reverts cleanly, on SQLite
and PostgreSQL."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import SAWarning
from store_backends import open_store

from bastion.store.alerts import AlertRecord, AlertSubject
from bastion.store.db import Store
from bastion.store.models import Base

TABLES = {AlertRecord.__tablename__, AlertSubject.__tablename__}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Store]:
    """A migrated, empty store on each back end."""
    opened = open_store(request.param, tmp_path, postgres_url)
    yield opened
    opened.close()


def _ours(diff: object) -> bool:
    return any(f"'{name}'" in repr(diff) or f"table {name}" in repr(diff) for name in TABLES)


def test_migration_matches_models_and_reverts(store: Store) -> None:
    with store.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert set(inspect(connection).get_table_names()) >= TABLES
    assert [d for d in differences if _ours(d)] == []
    store.downgrade("0007")
    with store.engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    assert not TABLES & names and "findings" in names
    store.migrate()
    with store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
