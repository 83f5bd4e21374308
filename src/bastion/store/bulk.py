"""Bulk inserts through PostgreSQL's ``COPY``, for the ingest of large uploads.

SQLAlchemy's multi-row ``INSERT ... VALUES ... RETURNING`` builds a new, long statement for
every page, and psycopg spends more time converting those statements than the server spends
storing the rows. ``COPY`` streams the rows instead. Values go through the same SQLAlchemy type
processors as an ORM insert (UTC datetimes stored naive, JSON serialised the same way), so the
stored rows are identical. Rows are written inside the session's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import Connection, sql
from sqlalchemy import Row, Table, text
from sqlalchemy.orm import Session

from bastion.store.models import AuditEvent, FindingRecord

__all__ = ["copy_rows", "insert_events", "insert_findings", "lookup", "supported"]


def supported(session: Session) -> bool:
    """Whether the session's database takes ``COPY`` (PostgreSQL through psycopg)."""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table`` with one ``COPY``.

    Columns left out take the database's defaults (the serial ``id``); Python-side defaults of
    the model are not applied, so every row names every column the ORM would have filled."""
    if not rows:
        return
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(f"rows for {table.name} do not all name the same columns")
    connection = session.connection()
    dialect = connection.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    raw: Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    value if process is None else process(value)
                    for process, value in zip(processors, (row[name] for name in names), strict=True)
                ]
            )


_LOOKUP = text(
    "SELECT f.id, f.fingerprint, f.status, f.reopen_count"
    " FROM unnest(CAST(:fingerprints AS varchar[])) AS wanted(fingerprint)"
    " CROSS JOIN LATERAL (SELECT id, fingerprint, status, reopen_count FROM findings"
    " WHERE project_id = :project_id AND fingerprint = wanted.fingerprint LIMIT 1) AS f"
)
"""One probe of the (project, fingerprint) key per fingerprint, whatever the statistics say.
Without statistics (a table filled since its last ANALYZE, as in a first import), PostgreSQL
takes ``fingerprint IN (...)``, or a plain join, to match most of the project and reads all of
its findings for every chunk: 50 ms a chunk at 50,000 findings, growing with the project."""


def lookup(session: Session, project_id: int, fingerprints: Sequence[str]) -> Sequence[Row[Any]]:
    """The project's findings among ``fingerprints``: id, fingerprint, status, reopen_count."""
    return session.execute(_LOOKUP, {"fingerprints": list(fingerprints), "project_id": project_id}).all()


def insert_findings(session: Session, project_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new findings of one project and return their ids, in the order of ``rows``.

    The caller holds the project's lock, so the (project, fingerprint) pairs it found absent
    stay absent until this transaction ends."""
    copy_rows(session, FindingRecord.__table__, rows)  # type: ignore[arg-type]
    fingerprints = [row["fingerprint"] for row in rows]
    ids = {row.fingerprint: row.id for row in lookup(session, project_id, fingerprints)}
    return [ids[fingerprint] for fingerprint in fingerprints]


def insert_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Append audit events (every one naming the same columns)."""
    copy_rows(session, AuditEvent.__table__, events)  # type: ignore[arg-type]
