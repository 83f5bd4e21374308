"""Engines, sessions and migrations of the store.

SQLite in the user data directory by default; PostgreSQL (psycopg 3) when
``BASTION_DATABASE_URL`` names one. Alembic is configured in code: the migration scripts
ship inside the package (``bastion/store/migrations``), no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import ConfigError

__all__ = ["ENV_URL", "LOCK_WAIT_S", "Store", "default_url", "normalize_url"]

ENV_URL = "BASTION_DATABASE_URL"
LOCK_WAIT_S = 30.0
"""How long a statement waits for another writer's lock before it fails (then: 503, retry)."""


def default_url() -> str:
    """``BASTION_DATABASE_URL`` if set, else a SQLite file in the user data directory."""
    configured = os.environ.get(ENV_URL, "").strip()
    if configured:
        return normalize_url(configured)
    directory = Path(platformdirs.user_data_dir("bastion", appauthor=False))
    return f"sqlite:///{directory / 'bastion.db'}"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs; reject what SQLAlchemy cannot parse."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{ENV_URL}: not a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{ENV_URL}: only sqlite and postgresql are supported")
    return parsed.render_as_string(hide_password=False)


def _private_file(path: Path, own: bool) -> None:
    """Create the SQLite file 0600 in a 0700 directory before SQLite does (with the umask's 0644).

    What this creates is private. An existing directory or file named by the caller keeps its
    mode (a team's shared path); Bastion's own default location (``own``) is tightened too.
    SQLite gives its -wal and -shm files the mode of the database file."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    elif own:
        directory.chmod(0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if own:
            path.chmod(0o600)
        return
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the database file ({exc.strerror or exc})") from None
    os.close(descriptor)
    path.chmod(0o600)


def _sqlite_setup(engine: Engine, wait_ms: int) -> None:
    """WAL, foreign keys, a busy timeout, and transactions SQLAlchemy really begins.

    pysqlite's own transaction handling defers BEGIN; emitting it ourselves lets writers
    ask for ``BEGIN IMMEDIATE`` so concurrent uploads queue instead of failing.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # bastion: ignore[sast.semgrep.python-sql-string-built-query] an int; PRAGMA takes no parameters
        cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class Store:
    """An engine plus its session factory; the one handle the server and CLI pass around."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, url: str | None = None, *, lock_wait_s: float = LOCK_WAIT_S) -> Store:
        """Connect to ``url`` (default: :func:`default_url`); does not migrate.

        A statement waits at most ``lock_wait_s`` for a lock another writer holds (SQLite's
        busy timeout, PostgreSQL's ``lock_timeout``), then fails; the server answers 503."""
        wait_ms = max(1, int(lock_wait_s * 1000))
        own = not url and not os.environ.get(ENV_URL, "").strip()
        url = normalize_url(url) if url else default_url()
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                _private_file(Path(database), own)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": lock_wait_s})
            _sqlite_setup(engine, wait_ms)
        else:
            engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                connect_args={"options": f"-c lock_timeout={wait_ms}"},
            )
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (and small writes); commits on success."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front (SQLite ``BEGIN
        IMMEDIATE``), so concurrent writers wait for each other instead of failing."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(immediate=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    def migrate(self, revision: str = "heads") -> str:
        """Bring the schema to ``revision`` (default: every branch's newest) and return the
        revision now (several, comma-joined, while feature branches are not merged)."""
        self._alembic(lambda config: command.upgrade(config, revision))
        return self.current_revision() or "base"

    def downgrade(self, revision: str = "base") -> str:
        """Revert the schema to ``revision`` (default: empty); returns the revision now."""
        self._alembic(lambda config: command.downgrade(config, revision))
        return self.current_revision() or "base"

    def _alembic(self, run: Callable[[Config], None]) -> None:
        """Run an Alembic command in one transaction. On SQLite, foreign keys are off while
        it runs (outside the transaction, where the pragma applies): rebuilding a table that
        others reference is how SQLite alters it."""
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection if self.dialect == "sqlite" else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    config = _alembic_config()
                    config.attributes["connection"] = connection
                    run(config)
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    def current_revision(self) -> str | None:
        """The schema revision the database is at (branches comma-joined), or None when never
        migrated."""
        with self.engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(sorted(heads)) or None

    def head_revision(self) -> str | None:
        """The newest revision the installed package knows (branches comma-joined)."""
        heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
        return ",".join(sorted(heads)) or None

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "bastion.store:migrations")
    return config
