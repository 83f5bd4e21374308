"""The one data model every analyzer produces and every later stage consumes.

Static problems are :class:`Finding`s, runtime behaviour is an :class:`Alert`. Both
are frozen, fully typed and round-trip losslessly through JSON (``to_dict`` /
``from_dict``), which is what the JSON report, the baseline and the store rely on.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

__all__ = [
    "Alert",
    "Confidence",
    "Finding",
    "Location",
    "Severity",
    "make_fingerprint",
]

JSONValue = Any
"""Anything :func:`json.dumps` accepts; metadata values must stay JSON-serializable."""


class Severity(enum.Enum):
    """How bad a finding is; ordered ``info < low < medium < high < critical``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order, 0 for info up to 4 for critical."""
        return _SEVERITY_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name case-insensitively; raise ``ValueError`` naming the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


_SEVERITY_ORDER = list(Severity)


class Confidence(enum.Enum):
    """How sure the analyzer is that the finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Position in the order, 0 for low up to 2 for high."""
        return list(Confidence).index(self)


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file region, a commit, a URL or a package."""

    path: str | None = None
    """POSIX path relative to the scan target (``src/app.py``), or None."""
    start_line: int | None = None
    """First line of the offending region, 1-based."""
    end_line: int | None = None
    """Last line of the offending region, 1-based, inclusive."""
    start_column: int | None = None
    """First column on ``start_line``, 1-based."""
    end_column: int | None = None
    """Column after the region on ``end_line``, 1-based."""
    commit: str | None = None
    """Git commit id when the finding is in history rather than the working tree."""
    url: str | None = None
    """URL for findings about a running web application."""
    purl: str | None = None
    """Package URL for findings about a dependency."""

    def describe(self) -> str:
        """Short human form, e.g. ``src/app.py:12`` or the URL or purl."""
        if self.path:
            text = self.path
            if self.start_line:
                text += f":{self.start_line}"
            if self.commit:
                text += f"@{self.commit[:12]}"
            return text
        return self.url or self.purl or self.commit or "-"

    def to_dict(self) -> dict[str, JSONValue]:
        """Serialize, leaving out unset fields."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Location:
        """Inverse of :meth:`to_dict`."""
        return cls(**dict(data))


_WS = re.compile(r"\s+")


def make_fingerprint(rule_id: str, location: Location, content: str) -> str:
    """Fingerprint a finding from what it is about, not where it sits.

    ``content`` is the offending content (the flagged source line, a hash of a secret,
    a package name and version). Whitespace is normalized so that re-indenting does not
    change it; line numbers are deliberately left out so inserting unrelated lines above
    a finding keeps its fingerprint, while editing the offending content changes it.
    """
    anchor = location.path or location.url or location.purl or ""
    normalized = _WS.sub(" ", content).strip()
    digest = hashlib.sha256("\x1f".join((rule_id, anchor, normalized)).encode("utf-8"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Finding:
    """One static problem found by a scanner."""

    rule_id: str
    """Namespaced rule id: ``secrets.aws-access-key``, ``sast.bandit.B602``, ..."""
    scanner: str
    """Name of the scanner that produced it (``sast``, ``secrets``, ...)."""
    title: str
    """One-line description of the rule."""
    severity: Severity
    """How bad it is; the gate compares this with ``--fail-on``."""
    location: Location
    """Where it is."""
    message: str
    """What is wrong at this location, in words."""
    fingerprint: str
    """Stable identity used for baselines and de-duplication; see :func:`make_fingerprint`."""
    evidence: str = ""
    """The offending snippet; always redacted for secrets."""
    confidence: Confidence = Confidence.HIGH
    """How sure the scanner is."""
    cwe: tuple[int, ...] = ()
    """CWE ids the weakness belongs to."""
    controls: tuple[str, ...] = ()
    """Framework references, e.g. ``nist-800-53-r5:SC-28``, ``cis-v8:3.11``."""
    fix: str = ""
    """Remediation advice or the fixed version."""
    help_uri: str = ""
    """Link to the rule's documentation."""
    metadata: Mapping[str, JSONValue] = field(default_factory=dict)
    """Scanner-specific extras; JSON-serializable values only."""

    def with_changes(self, **changes: Any) -> Finding:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, JSONValue]:
        """Serialize to plain JSON types; :meth:`from_dict` restores an equal Finding."""
        return {
            "rule_id": self.rule_id,
            "scanner": self.scanner,
            "title": self.title,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "location": self.location.to_dict(),
            "message": self.message,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
            "cwe": list(self.cwe),
            "controls": list(self.controls),
            "fix": self.fix,
            "help_uri": self.help_uri,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Finding:
        """Inverse of :meth:`to_dict`; raises ``KeyError``/``ValueError`` on bad data."""
        return cls(
            rule_id=str(data["rule_id"]),
            scanner=str(data["scanner"]),
            title=str(data["title"]),
            severity=Severity(data["severity"]),
            confidence=Confidence(data.get("confidence", "high")),
            location=Location.from_dict(data.get("location", {})),
            message=str(data.get("message", "")),
            evidence=str(data.get("evidence", "")),
            fingerprint=str(data["fingerprint"]),
            cwe=tuple(int(c) for c in data.get("cwe", ())),
            controls=tuple(str(c) for c in data.get("controls", ())),
            fix=str(data.get("fix", "")),
            help_uri=str(data.get("help_uri", "")),
            metadata=dict(data.get("metadata", {})),
        )


@dataclass(frozen=True)
class Alert:
    """One runtime anomaly raised by a detector over logs or sign-ins."""

    detector: str
    """Detector or model that raised it (``watch.pca``, ``identity.impossible-travel``)."""
    severity: Severity
    """How bad it is."""
    score: float
    """Anomaly score; higher is more abnormal. Scale is the detector's own."""
    entity: str
    """Who or what behaved abnormally: a host, user, IP or session id."""
    entity_kind: str
    """What ``entity`` is: ``host``, ``user``, ``ip``, ``session``."""
    window_start: datetime
    """Start of the time window the alert covers."""
    window_end: datetime
    """End of the time window the alert covers."""
    explanation: str
    """Why it is abnormal, in words a person can act on."""
    evidence: tuple[str, ...] = ()
    """Log lines supporting the alert (secrets redacted)."""
    techniques: tuple[str, ...] = ()
    """MITRE ATT&CK technique ids, e.g. ``T1110``."""
    metadata: Mapping[str, JSONValue] = field(default_factory=dict)
    """Detector-specific extras; JSON-serializable values only."""

    def to_dict(self) -> dict[str, JSONValue]:
        """Serialize to plain JSON types; :meth:`from_dict` restores an equal Alert."""
        return {
            "detector": self.detector,
            "severity": self.severity.value,
            "score": self.score,
            "entity": self.entity,
            "entity_kind": self.entity_kind,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "techniques": list(self.techniques),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Alert:
        """Inverse of :meth:`to_dict`."""
        return cls(
            detector=str(data["detector"]),
            severity=Severity(data["severity"]),
            score=float(data["score"]),
            entity=str(data["entity"]),
            entity_kind=str(data["entity_kind"]),
            window_start=datetime.fromisoformat(data["window_start"]),
            window_end=datetime.fromisoformat(data["window_end"]),
            explanation=str(data["explanation"]),
            evidence=tuple(str(e) for e in data.get("evidence", ())),
            techniques=tuple(str(t) for t in data.get("techniques", ())),
            metadata=dict(data.get("metadata", {})),
        )
