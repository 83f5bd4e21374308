"""Findings export as CSV or JSON, produced a chunk at a time for a streaming response.

The fields are the API's (:func:`bastion.server.api.finding_json`, a test holds them equal), so
what was scrubbed of secrets on the way into the store is what goes out. A CSV cell that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe, as OWASP's CSV-injection guidance asks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, assert_never

from sqlalchemy import Row

__all__ = ["CSV_COLUMNS", "ExportFormat", "csv_cell", "export_chunks", "record_json"]

CSV_COLUMNS = (
    "id",
    "project",
    "severity",
    "status",
    "rule_id",
    "title",
    "location",
    "scanner",
    "package",
    "version",
    "fix",
    "cwe",
    "first_seen",
    "last_seen",
    "fixed_at",
    "accepted_until",
    "accepted_reason",
    "message",
    "evidence",
    "fingerprint",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 200


class ExportFormat(StrEnum):
    """What the export writes."""

    CSV = "csv"
    JSON = "json"

    @property
    def media_type(self) -> str:
        """The response's content type."""
        match self:
            case ExportFormat.CSV:
                return "text/csv; charset=utf-8"
            case ExportFormat.JSON:
                return "application/json"
            case _:  # pragma: no cover - exhaustive
                assert_never(self)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def record_json(row: Row[Any], slug: str) -> dict[str, Any]:
    """A row of the ``findings`` table as the API returns the finding (same keys, same values)."""
    return {
        "id": row.id,
        "project": slug,
        "fingerprint": row.fingerprint,
        "rule_id": row.rule_id,
        "scanner": row.scanner,
        "title": row.title,
        "severity": row.severity,
        "confidence": row.confidence,
        "location": row.location_data,
        "message": row.message,
        "evidence": row.evidence,
        "fix": row.fix,
        "help_uri": row.help_uri,
        "cwe": row.cwe,
        "controls": row.controls,
        "metadata": row.extra,
        "status": row.status,
        "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen),
        "fixed_at": _iso(row.fixed_at),
        "reopen_count": row.reopen_count,
        "accepted_reason": row.accepted_reason,
        "accepted_until": _iso(row.accepted_until),
    }


def csv_cell(value: Any) -> str:
    """One cell: text as is, unless a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(data: dict[str, Any]) -> list[str]:
    extra = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    location = data["location"] if isinstance(data.get("location"), dict) else {}
    values = {
        **data,
        "location": _location_text(location),
        "package": extra.get("package") or "",
        "version": extra.get("installed_version") or "",
        "cwe": " ".join(f"CWE-{c}" for c in data.get("cwe") or []),
    }
    return [csv_cell(values.get(column)) for column in CSV_COLUMNS]


def _location_text(location: dict[str, Any]) -> str:
    path = location.get("path") or location.get("url") or location.get("purl") or location.get("commit")
    line = location.get("start_line")
    return f"{path}:{line}" if path and line else str(path or "")


def export_chunks(rows: Iterable[tuple[Row[Any], str]], fmt: ExportFormat) -> Iterator[str]:
    """The export's text, a few hundred findings per chunk, from ``(finding, project slug)`` rows."""
    match fmt:
        case ExportFormat.CSV:
            yield from _csv_chunks(rows)
        case ExportFormat.JSON:
            yield from _json_chunks(rows)
        case _:  # pragma: no cover - exhaustive
            assert_never(fmt)


def _csv_chunks(rows: Iterable[tuple[Row[Any], str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    pending = 0
    for finding, slug in rows:
        writer.writerow(_csv_row(record_json(finding, slug)))
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _json_chunks(rows: Iterable[tuple[Row[Any], str]]) -> Iterator[str]:
    parts: list[str] = ["["]
    first = True
    for finding, slug in rows:
        parts.append(("\n" if first else ",\n") + json.dumps(record_json(finding, slug), ensure_ascii=False))
        first = False
        if len(parts) >= _ROWS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n" if not first else "]\n")
    yield "".join(parts)
