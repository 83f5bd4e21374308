"""Matching one package version against the index, with aliases merged and KEV applied."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bastion.advisories.db import REMEDY, AdvisoryDatabaseError, DatabaseStatus, connect, read_status
from bastion.advisories.records import canonical_ecosystem, normalize_name
from bastion.advisories.severity import DEFAULT_UNRATED, severity_from_cwes
from bastion.advisories.versions import (
    UnsupportedVersion,
    fixed_versions,
    is_affected,
    parse_version,
    sort_versions,
)
from bastion.findings import Severity

__all__ = ["Matcher", "VulnerabilityMatch", "canonical_id", "smallest_fix"]


@dataclass(frozen=True)
class VulnerabilityMatch:
    """One vulnerability of one package version; GHSA/PYSEC/CVE records of it merged."""

    id: str
    """Canonical id: the CVE when there is one, else the GHSA id, else the first record's id."""
    aliases: tuple[str, ...]
    """Every other id the vulnerability is known by (records and their aliases)."""
    summary: str
    severity: Severity
    """From the CVSS base score, else the database rating, else the CWE (cwe_severity.toml), else
    the matcher's ``unrated`` level (high by default); critical when in KEV."""
    severity_source: str
    """``kev``, ``cvss``, ``database``, ``cwe`` or ``unrated`` (no rating anywhere)."""
    score: float | None
    vector: str | None
    fixed_versions: tuple[str, ...]
    published: date | None
    """The earliest publication date among the merged records."""
    kev: bool
    kev_date_added: str | None
    kev_ransomware: str | None
    cwes: tuple[str, ...]
    records: tuple[str, ...]
    """Ids of the database records that matched (before merging)."""

    def age_days(self, today: date | None = None) -> int | None:
        """Days the vulnerability has been public, or None when unknown."""
        if self.published is None:
            return None
        return ((today or datetime.now(UTC).date()) - self.published).days

    def kev_text(self) -> str:
        """``known exploited (CISA KEV, added 2021-11-03, ransomware use: Known)`` or ``""``."""
        if not self.kev:
            return ""
        return (
            f"known exploited (CISA KEV, added {self.kev_date_added or 'unknown'}, "
            f"ransomware use: {self.kev_ransomware or 'Unknown'})"
        )


def canonical_id(ids: Iterable[str]) -> str:
    """The id a merged vulnerability is reported under: CVE, else GHSA, else the smallest id."""
    ordered = sorted(set(ids))
    for prefix in ("CVE-", "GHSA-"):
        chosen = [i for i in ordered if i.startswith(prefix)]
        if chosen:
            return chosen[0]
    return ordered[0]


@dataclass(frozen=True)
class _Row:
    id: str
    aliases: tuple[str, ...]
    summary: str
    published: str | None
    severity: str | None
    score: float | None
    vector: str | None
    severity_source: str
    cwes: tuple[str, ...]
    ranges: tuple[dict[str, Any], ...]
    versions: tuple[str, ...]


class Matcher:
    """Answers "which vulnerabilities affect this version?" from one open database."""

    def __init__(self, path: Path, unrated: Severity = DEFAULT_UNRATED) -> None:
        self.path = path
        self.unrated = unrated
        """Severity of a vulnerability no record rates and no listed CWE names."""
        self._conn = connect(path)
        self._rows: dict[tuple[str, str], list[_Row]] = {}
        try:
            self._kev = {
                row[0]: (row[1], row[2])
                for row in self._conn.execute("SELECT cve, date_added, ransomware FROM kev")
            }
        except sqlite3.DatabaseError as exc:
            raise AdvisoryDatabaseError(f"{path}: not a usable advisory database ({exc}); {REMEDY}") from None

    def status(self) -> DatabaseStatus:
        """Counts and load dates of the open database."""
        return read_status(self._conn, self.path)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Matcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rows(self, ecosystem: str, name: str) -> list[_Row]:
        """Every non-withdrawn affected entry for a package (cached)."""
        key = (ecosystem, name)
        if key not in self._rows:
            try:
                fetched = self._conn.execute(
                    "SELECT a.id, a.aliases, a.summary, a.published, a.severity, a.score, a.vector, "
                    "a.severity_source, a.cwes, f.ranges, f.versions FROM affected f "
                    "JOIN advisory a ON a.id = f.advisory_id "
                    "WHERE f.ecosystem = ? AND f.name = ? AND a.withdrawn IS NULL",
                    key,
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                raise AdvisoryDatabaseError(
                    f"{self.path}: not a usable advisory database ({exc}); {REMEDY}"
                ) from None
            self._rows[key] = [
                _Row(
                    r[0],
                    tuple(json.loads(r[1])),
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    tuple(json.loads(r[8])),
                    tuple(json.loads(r[9])),
                    tuple(json.loads(r[10])),
                )
                for r in fetched
            ]
        return self._rows[key]

    def known_package(self, ecosystem: str, name: str) -> bool:
        """Whether any advisory at all names this package."""
        return bool(
            self.rows(canonical_ecosystem(ecosystem), normalize_name(canonical_ecosystem(ecosystem), name))
        )

    def find(self, ecosystem: str, name: str, version: str) -> list[VulnerabilityMatch]:
        """Vulnerabilities affecting ``name`` ``version``; raises UnsupportedVersion if unparsable."""
        ecosystem = canonical_ecosystem(ecosystem)
        rows = self.rows(ecosystem, normalize_name(ecosystem, name))
        if not rows:
            return []
        parse_version(ecosystem, version)  # an unparsable installed version is the caller's skip
        hits = [row for row in rows if _affects(ecosystem, version, row)]
        return [self._merge(ecosystem, group) for group in _groups(hits)]

    def _merge(self, ecosystem: str, group: list[_Row]) -> VulnerabilityMatch:
        ids = {row.id for row in group} | {alias for row in group for alias in row.aliases}
        ident = canonical_id(ids)
        kev = next((self._kev[i] for i in sorted(ids) if i in self._kev), None)
        rated = [row for row in group if row.severity is not None]
        best = max(
            rated,
            key=lambda r: (r.score is not None, r.score or 0.0, Severity(r.severity).rank),
            default=None,
        )
        cwes = tuple(sorted({c for row in group for c in row.cwes}))
        from_cwe = severity_from_cwes(cwes)
        if kev is not None:
            severity, source = Severity.CRITICAL, "kev"
        elif best is not None and best.severity is not None:
            severity, source = Severity(best.severity), best.severity_source
        elif from_cwe is not None:
            severity, source = from_cwe, "cwe"
        else:
            severity, source = self.unrated, "unrated"
        summary_row = next(
            (r for r in sorted(group, key=lambda r: not r.id.startswith("GHSA-")) if r.summary), None
        )
        fixed = sort_versions(ecosystem, {v for row in group for v in fixed_versions(row.ranges)})
        dates = [d for d in (_date(row.published) for row in group) if d is not None]
        return VulnerabilityMatch(
            id=ident,
            aliases=tuple(sorted(ids - {ident})),
            summary=summary_row.summary if summary_row else "",
            severity=severity,
            severity_source=source,
            score=best.score if best is not None else None,
            vector=best.vector if best is not None else None,
            fixed_versions=tuple(fixed),
            published=min(dates) if dates else None,
            kev=kev is not None,
            kev_date_added=kev[0] if kev else None,
            kev_ransomware=kev[1] if kev else None,
            cwes=cwes,
            records=tuple(sorted({row.id for row in group})),
        )


def _affects(ecosystem: str, version: str, row: _Row) -> bool:
    try:
        return is_affected(ecosystem, version, row.ranges, row.versions)
    except UnsupportedVersion:
        return False


def _groups(rows: Sequence[_Row]) -> list[list[_Row]]:
    """Union rows that share an id or alias; order of first appearance."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for row in rows:
        for alias in row.aliases:
            parent[find(alias)] = find(row.id)
    grouped: dict[str, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(find(row.id), []).append(row)
    return list(grouped.values())


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def smallest_fix(
    matcher: Matcher, ecosystem: str, name: str, version: str, vulns: Sequence[VulnerabilityMatch]
) -> str | None:
    """The smallest fixed version above ``version`` that no known vulnerability of the package affects."""
    ecosystem = canonical_ecosystem(ecosystem)
    try:
        current = parse_version(ecosystem, version)
    except UnsupportedVersion:
        return None
    candidates = []
    for candidate in sort_versions(ecosystem, {v for m in vulns for v in m.fixed_versions}):
        try:
            if current < parse_version(ecosystem, candidate):
                candidates.append(candidate)
        except UnsupportedVersion:
            continue
    for candidate in candidates:
        if not matcher.find(ecosystem, name, candidate):
            return candidate
    return None
