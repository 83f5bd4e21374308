"""A fresh, migrated store for one benchmark run, and its removal afterwards (shared by the
bench/server scripts; PostgreSQL databases are created through ``BASTION_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from bastion.store.db import Store

WORK = Path(__file__).parent / "work"
PG_ADMIN = os.environ.get("BASTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def open_backend(backend: str, prefix: str = "bench") -> tuple[Store, str, str | None]:
    """A fresh, migrated store; returns it, its URL and the throwaway PostgreSQL database's name
    (None for SQLite, whose file lies under bench/server/work)."""
    WORK.mkdir(exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    if backend == "sqlite":
        url, name = f"sqlite:///{WORK / f'{prefix}-{tag}.db'}", None
    else:
        name = f"bastion_{prefix}_{tag}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    store = Store.open(url)
    store.migrate()
    return store, url, name


def drop_backend(store: Store, name: str | None) -> None:
    """Close the store and remove its database (or its SQLite file and journals)."""
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    if name is None:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
