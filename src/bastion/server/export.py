"""Findings export as CSV or JSON, produced a chunk at a time for a streaming response.

The fields are the API's (:func:`bastion.server.api.finding_json`), so what was scrubbed of
secrets on the way into the store is what goes out. A CSV cell that a spreadsheet would read as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading
apostrophe, as OWASP's CSV-injection guidance asks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, assert_never

from bastion.server.api import finding_json
from bastion.store.models import FindingRecord

__all__ = ["CSV_COLUMNS", "ExportFormat", "csv_cell", "export_chunks"]

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


def export_chunks(rows: Iterable[tuple[FindingRecord, str]], fmt: ExportFormat) -> Iterator[str]:
    """The export's text, a few hundred findings per chunk, from ``(finding, project slug)`` rows."""
    match fmt:
        case ExportFormat.CSV:
            yield from _csv_chunks(rows)
        case ExportFormat.JSON:
            yield from _json_chunks(rows)
        case _:  # pragma: no cover - exhaustive
            assert_never(fmt)


def _csv_chunks(rows: Iterable[tuple[FindingRecord, str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    pending = 0
    for finding, slug in rows:
        data = finding_json(finding)
        data["project"] = slug
        writer.writerow(_csv_row(data))
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _json_chunks(rows: Iterable[tuple[FindingRecord, str]]) -> Iterator[str]:
    parts: list[str] = ["["]
    first = True
    for finding, slug in rows:
        data = finding_json(finding)
        data["project"] = slug
        parts.append(("\n" if first else ",\n") + json.dumps(data, ensure_ascii=False))
        first = False
        if len(parts) >= _ROWS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n" if not first else "]\n")
    yield "".join(parts)
