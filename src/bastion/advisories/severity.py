"""Severity from a CVSS score, and for an advisory that publishes none: from its CWE ids, else "unrated".

:func:`severity_from_score` is the one CVSS-to-severity mapping (OSV records, SARIF
``security-severity`` on import).

OSV records often carry no severity (most PYSEC records, for one). Calling those "medium" let the
default gate (fail-on high) pass packages with SQL injection advisories. Instead:

1. a CWE listed in ``cwe_severity.toml`` gives the severity (the highest when several match),
   reported with ``severity_source = "cwe"``;
2. otherwise the advisory is *unrated*: it is reported at :data:`DEFAULT_UNRATED` (high, so the
   default gate fails on it) with ``severity_source = "unrated"``. ``[scanners.deps] unrated``
   chooses another level, an explicit decision of the operator (a scanned repository's config
   cannot make it).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources

from bastion.findings import Severity

__all__ = ["DEFAULT_UNRATED", "cwe_severities", "severity_from_cwes", "severity_from_score"]

DEFAULT_UNRATED = Severity.HIGH
"""What an advisory without any rating counts as, unless ``[scanners.deps] unrated`` says otherwise."""


@functools.cache
def cwe_severities() -> Mapping[str, Severity]:
    """The ``[cwe]`` table of ``cwe_severity.toml``: ``CWE-89`` -> high."""
    text = resources.files("bastion.advisories").joinpath("cwe_severity.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    table = data.get("cwe")
    if data.get("version") != 1 or not isinstance(table, dict):
        raise ValueError("cwe_severity.toml: expected version = 1 and a [cwe] table")
    return {str(cwe).upper(): Severity.parse(str(level)) for cwe, level in table.items()}


def severity_from_cwes(cwes: Iterable[str]) -> Severity | None:
    """The highest severity the table gives any of ``cwes``, or None when it lists none of them."""
    table = cwe_severities()
    found = [table[c.upper()] for c in cwes if c.upper() in table]
    return max(found) if found else None


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating (v3.1 and v4.0 specification tables): 9.0+ critical,
    7.0+ high, 4.0+ medium, 0.1+ low, else info."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO
