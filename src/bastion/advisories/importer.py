"""Loading OSV records (a directory or zip of JSON/YAML) and the CISA KEV catalog into the index."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.advisories.db import mark_source, store_advisories
from bastion.advisories.records import Advisory, RecordError, decode, parse_record
from bastion.errors import InputError

__all__ = ["ImportReport", "import_kev", "import_osv", "read_kev"]

_SUFFIXES = (".json", ".yaml", ".yml")
MAX_RECORD_BYTES = 5_000_000
"""A single OSV record larger than this is refused (real ones are a few kB)."""


@dataclass
class ImportReport:
    """What one import did."""

    written: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    """One line per record that could not be read (file and reason); the import goes on."""
    ecosystems: dict[str, int] = field(default_factory=dict)
    """Records read per ecosystem."""


def _wanted(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.endswith(_SUFFIXES) and not base.startswith(".")


def _files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(origin, bytes) of every OSV file under a directory or inside a zip."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file() and _wanted(file.name):
                if file.stat().st_size > MAX_RECORD_BYTES:
                    yield str(file), b""
                    continue
                yield str(file), file.read_bytes()
        return
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not _wanted(info.filename):
                    continue
                origin = f"{path}!{info.filename}"
                if info.file_size > MAX_RECORD_BYTES:
                    yield origin, b""
                    continue
                yield origin, archive.read(info)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: not a zip archive or directory of OSV records ({exc})") from None


def _records(path: Path, report: ImportReport, ecosystem: str | None) -> Iterator[Advisory]:
    for origin, raw in _files(path):
        if not raw:
            report.problems.append(f"{origin}: empty or larger than {MAX_RECORD_BYTES} bytes")
            continue
        try:
            advisory = parse_record(decode(raw, origin), origin)
        except RecordError as exc:
            report.problems.append(str(exc))
            continue
        if not advisory.affected:
            report.problems.append(f"{origin}: {advisory.id} names no affected package; not indexed")
            continue
        names = {a.ecosystem for a in advisory.affected}
        if ecosystem is not None and ecosystem not in names:
            continue
        for name in names:
            report.ecosystems[name] = report.ecosystems.get(name, 0) + 1
        yield advisory


def import_osv(
    conn: sqlite3.Connection, path: Path, *, ecosystem: str | None = None, digest: str | None = None
) -> ImportReport:
    """Import every OSV record under ``path`` (directory or zip); the caller commits."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    report = ImportReport()
    report.written, report.unchanged = store_advisories(conn, _records(path, report, ecosystem))
    for name in set(report.ecosystems) | ({ecosystem} if ecosystem else set()):
        mark_source(conn, name, str(path), digest if ecosystem == name else None)
    return report


def read_kev(raw: bytes, origin: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """Parse a KEV catalog into (cve, date_added, ransomware_use, name) rows."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{origin}: KEV catalog is not valid JSON ({exc})") from None
    entries = data.get("vulnerabilities") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{origin}: not a CISA KEV catalog (no 'vulnerabilities' list)")
    return [
        (
            entry["cveID"].strip().upper(),
            _opt(entry.get("dateAdded")),
            _opt(entry.get("knownRansomwareCampaignUse")),
            _opt(entry.get("vulnerabilityName")),
        )
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("cveID"), str)
    ]


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def import_kev(conn: sqlite3.Connection, raw: bytes, origin: str) -> int:
    """Replace the KEV table with the catalog in ``raw``; the caller commits. Returns the count."""
    rows = read_kev(raw, origin)
    conn.execute("DELETE FROM kev")
    conn.executemany("INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?)", rows)
    mark_source(conn, "KEV", origin)
    return len(rows)
