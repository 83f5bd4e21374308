"""JavaScript libraries on a page, their versions, and their known vulnerabilities.

Fingerprints are data (``jslibs.toml``): a regex over the script URL and over the script's
first bytes, each capturing the version. Versions are matched against Bastion's advisory
database (``bastion.advisories``, npm ecosystem) when it is installed and synced; when it
is not, detections are kept as a notice and no finding is invented.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from bastion.findings import Severity

__all__ = [
    "Advisory",
    "AdvisoryLookup",
    "Detection",
    "OsvLookup",
    "detect_libraries",
    "library_patterns",
]

PATTERNS_FILE = Path(__file__).with_name("jslibs.toml")
HEAD_BYTES = 8_000
"""Banners sit at the top of a file; the rest is not searched for them."""


@dataclass(frozen=True)
class Detection:
    """A library seen on the site."""

    name: str
    """npm package name."""
    version: str
    url: str
    how: str
    """``url`` or ``content``: which fingerprint matched."""


@dataclass(frozen=True)
class Advisory:
    """A known vulnerability of one library version."""

    id: str
    summary: str
    severity: Severity | None
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()


class AdvisoryLookup(Protocol):
    """Where vulnerabilities of npm packages come from; a seam for tests."""

    def available(self) -> bool:
        """Whether the advisory database can be queried."""

    def find(self, name: str, version: str) -> list[Advisory]:
        """Advisories affecting ``name`` at ``version``."""


@dataclass(frozen=True)
class _Library:
    name: str
    url: tuple[re.Pattern[str], ...]
    content: tuple[re.Pattern[str], ...]


@cache
def library_patterns() -> tuple[_Library, ...]:
    """The fingerprints from ``jslibs.toml``."""
    data = tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))
    return tuple(
        _Library(
            name=str(entry["name"]),
            url=tuple(re.compile(p, re.IGNORECASE) for p in entry.get("url", [])),
            content=tuple(re.compile(p) for p in entry.get("content", [])),
        )
        for entry in data["library"]
    )


def detect_libraries(url: str, text: str | None) -> list[Detection]:
    """Libraries identified by ``url`` or by the script ``text`` (the first bytes suffice)."""
    head = text[:HEAD_BYTES] if text else ""
    found: list[Detection] = []
    for library in library_patterns():
        detection = _first(library, library.url, url, url, "url") or _first(
            library, library.content, head, url, "content"
        )
        if detection is not None:
            found.append(detection)
    return found


def _first(
    library: _Library, patterns: Iterable[re.Pattern[str]], text: str, url: str, how: str
) -> Detection | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return Detection(library.name, match.group(1), url, how)
    return None


class OsvLookup:
    """Queries ``bastion.advisories`` (``find_vulnerabilities`` / ``database_available``)."""

    def __init__(self, database: Path | None = None, importer: Callable[[str], Any] | None = None) -> None:
        self.database = database
        self.reason = ""
        self.errors: list[str] = []
        self._module: Any = None
        try:
            self._module = (importer or importlib.import_module)("bastion.advisories")
        except ImportError as exc:
            self.reason = f"advisory module not installed ({exc})"
            return
        if not hasattr(self._module, "find_vulnerabilities"):
            self.reason = "bastion.advisories has no find_vulnerabilities()"
            self._module = None

    def _kwargs(self) -> dict[str, Any]:
        return {"database": self.database} if self.database is not None else {}

    def available(self) -> bool:
        """True when the module exists and its database has been synced or imported."""
        if self._module is None:
            return False
        check = getattr(self._module, "database_available", None)
        try:
            ready = bool(check(**self._kwargs())) if check is not None else True
            # A database without npm advisories would clear every library: not checked, visibly.
            has_npm = bool(check(ecosystem="npm", **self._kwargs())) if ready and check is not None else ready
        except Exception as exc:  # an unreadable database is "absent", with the reason kept
            self.reason = f"advisory database unusable: {exc}"
            return False
        if not ready:
            self.reason = "advisory database absent (run `bastion db update` or `bastion db import PATH`)"
        elif not has_npm:
            self.reason = "advisory database holds no npm advisories (run `bastion db update -e npm`)"
        return ready and has_npm

    def find(self, name: str, version: str) -> list[Advisory]:
        """Advisories for npm ``name`` at ``version``."""
        if self._module is None:
            return []
        try:
            results = self._module.find_vulnerabilities(
                ecosystem="npm", name=name, version=version, **self._kwargs()
            )
        except Exception as exc:  # a version the ecosystem cannot order, a database gone bad
            self.errors.append(f"{name} {version}: advisory lookup failed: {exc}")
            return []
        return [_advisory(item) for item in results or ()]


def _get(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value not in (None, "", (), []):
            return value
    return None


def _advisory(item: Any) -> Advisory:
    """Read one advisory whatever its shape (an object or a mapping, OSV field names)."""
    severity = _get(item, "severity")
    parsed: Severity | None = None
    if isinstance(severity, Severity):
        parsed = severity
    elif isinstance(severity, str):
        try:
            parsed = Severity.parse(severity.replace("moderate", "medium").replace("MODERATE", "medium"))
        except ValueError:
            parsed = None
    fixed = _get(item, "fixed", "fixed_versions", "fixed_in") or ()
    aliases = _get(item, "aliases") or ()
    return Advisory(
        id=str(_get(item, "id", "advisory_id") or "unknown"),
        summary=str(_get(item, "summary", "details", "title") or ""),
        severity=parsed,
        aliases=tuple(str(a) for a in aliases),
        fixed=tuple(str(f) for f in ([fixed] if isinstance(fixed, str) else fixed)),
    )
