"""OSV records: package-name normalisation, severity from CVSS, and reading records from files.

One OSV record (JSON or YAML) becomes an :class:`Advisory` with its ``affected`` entries
keyed by ecosystem and normalised name, ready for the index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never

import yaml
from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from bastion.advisories.severity import severity_from_score
from bastion.findings import Severity

__all__ = [
    "Advisory",
    "Affected",
    "RecordError",
    "canonical_ecosystem",
    "normalize_name",
    "parse_record",
]

_PEP503 = re.compile(r"[-_.]+")

_ECOSYSTEM_SPELLING = {
    name.lower(): name
    for name in (
        "PyPI",
        "npm",
        "Maven",
        "Go",
        "crates.io",
        "RubyGems",
        "NuGet",
        "Packagist",
        "Hex",
        "Pub",
        "SwiftURL",
        "Hackage",
        "CRAN",
    )
}


class RecordError(ValueError):
    """An OSV record that cannot be indexed (the message says why)."""


def canonical_ecosystem(name: str) -> str:
    """OSV's spelling of an ecosystem name given in any case (``pypi`` -> ``PyPI``)."""
    return _ECOSYSTEM_SPELLING.get(name.strip().lower(), name.strip())


def normalize_name(ecosystem: str, name: str) -> str:
    """The index key of a package name: PEP 503 for PyPI, lower case elsewhere."""
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    return name.strip().lower()


_DB_RATING = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}


@dataclass(frozen=True)
class Affected:
    """One ``affected`` entry of a record."""

    ecosystem: str
    name: str
    """Normalised (see :func:`normalize_name`)."""
    ranges: tuple[Mapping[str, Any], ...]
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Advisory:
    """The parts of one OSV record that Bastion indexes."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    published: str | None
    modified: str | None
    withdrawn: str | None
    severity: Severity | None
    """From the CVSS vector's base score, else the database's own rating; None if neither."""
    score: float | None
    vector: str | None
    severity_source: str
    """``cvss``, ``database`` or ``none``."""
    cwes: tuple[str, ...]
    affected: tuple[Affected, ...]


class CvssKind(StrEnum):
    """The CVSS versions an OSV ``severity[].type`` names, most preferred first."""

    V4 = "CVSS_V4"
    V3 = "CVSS_V3"
    V2 = "CVSS_V2"

    def base_score(self, vector: str) -> float:
        """The base score of ``vector``; the ``cvss`` library's errors when it is malformed."""
        match self:
            case CvssKind.V4:
                return float(CVSS4(vector).base_score)
            case CvssKind.V3:
                return float(CVSS3(vector).scores()[0])
            case CvssKind.V2:
                return float(CVSS2(vector).scores()[0])
            case _:
                assert_never(self)


def _score(kind: CvssKind, entry: Mapping[str, Any]) -> tuple[float, str] | None:
    vector = entry.get("score")
    if not isinstance(vector, str):
        return None
    try:
        return kind.base_score(vector), vector
    except (CVSSError, ValueError, KeyError, IndexError):
        return None


def _severity(record: Mapping[str, Any]) -> tuple[Severity | None, float | None, str | None, str]:
    entries = [e for e in record.get("severity") or () if isinstance(e, Mapping)]
    by_kind = {e.get("type"): e for e in entries}
    for kind in CvssKind:
        if kind.value in by_kind:
            scored = _score(kind, by_kind[kind.value])
            if scored is not None:
                return severity_from_score(scored[0]), scored[0], scored[1], "cvss"
    ratings = [(record.get("database_specific") or {}).get("severity")]
    for affected in record.get("affected") or ():
        if isinstance(affected, Mapping):
            for key in ("database_specific", "ecosystem_specific"):
                extra = affected.get(key)
                if isinstance(extra, Mapping):
                    ratings.append(extra.get("severity"))
    for rating in ratings:
        if isinstance(rating, str) and rating.strip().lower() in _DB_RATING:
            return _DB_RATING[rating.strip().lower()], None, None, "database"
    return None, None, None, "none"


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _affected(record: Mapping[str, Any]) -> Iterator[Affected]:
    for entry in record.get("affected") or ():
        if not isinstance(entry, Mapping):
            continue
        package = entry.get("package")
        if not isinstance(package, Mapping):
            continue
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str) or not name:
            continue
        ecosystem = canonical_ecosystem(ecosystem.split(":", 1)[0])
        ranges = tuple(r for r in entry.get("ranges") or () if isinstance(r, Mapping))
        yield Affected(ecosystem, normalize_name(ecosystem, name), ranges, _strings(entry.get("versions")))


def parse_record(data: Any, origin: str) -> Advisory:
    """Turn a decoded OSV record into an :class:`Advisory`; :class:`RecordError` names ``origin``."""
    if not isinstance(data, Mapping):
        raise RecordError(f"{origin}: not an OSV record (top level is not an object)")
    ident = data.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise RecordError(f"{origin}: OSV record has no 'id'")
    severity, score, vector, source = _severity(data)
    summary = data.get("summary") if isinstance(data.get("summary"), str) else ""
    if not summary and isinstance(data.get("details"), str):
        summary = data["details"].strip().splitlines()[0][:200] if data["details"].strip() else ""
    extra = data.get("database_specific")
    cwes = _strings(extra.get("cwe_ids")) if isinstance(extra, Mapping) else ()
    published = _text(data.get("published"))
    nvd = _text(extra.get("nvd_published_at")) if isinstance(extra, Mapping) else None
    if nvd and (published is None or nvd < published):
        published = nvd  # the CVE was public before the GHSA record was written
    return Advisory(
        id=ident.strip(),
        aliases=tuple(a for a in _strings(data.get("aliases")) if a != ident),
        summary=summary or "",
        published=published,
        modified=_text(data.get("modified")),
        withdrawn=_text(data.get("withdrawn")),
        severity=severity,
        score=score,
        vector=vector,
        severity_source=source,
        cwes=cwes,
        affected=tuple(_affected(data)),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def decode(raw: bytes, origin: str) -> Any:
    """Decode an OSV file's bytes as JSON (``.json``) or YAML; :class:`RecordError` on failure."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"{origin}: not valid UTF-8 (byte {exc.start})") from None
    if origin.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(f"{origin}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        if _FAST:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RecordError(f"{origin}: invalid YAML{where}") from None


_FAST = hasattr(yaml, "CSafeLoader")
