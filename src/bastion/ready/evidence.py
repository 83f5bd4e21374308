"""The evidence model: what was observed, when, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["SOURCE_OF", "Dimension", "Evidence", "EvidenceKind", "EvidenceSet", "Source", "SourceState"]


class Dimension(StrEnum):
    """The four readiness dimensions, in the order an incident meets them."""

    PREPARE = "prepare"
    DETECT = "detect"
    RESPOND = "respond"
    RECOVER = "recover"


class EvidenceKind(StrEnum):
    """Every kind of evidence a collector or the questionnaire can produce."""

    SCAN_SECRETS = "scan.secrets"
    SCAN_DEPS = "scan.deps"
    SCAN_SAST = "scan.sast"
    SCAN_IAC = "scan.iac"
    SCAN_DAST = "scan.dast"
    SBOM = "sbom.produced"
    COVERAGE_GATE = "coverage.gate"
    FINDINGS_CRITICAL = "findings.critical-closed"
    FINDINGS_SECRETS = "findings.secrets-closed"
    PATCH_SLA = "patch.sla"
    PATCH_KEV = "patch.kev"
    COMPLY_POSTURE = "comply.posture"
    CATALOG_USED = "catalog.used"
    MONITOR_LOGS = "monitor.logs"
    MONITOR_SIGNINS = "monitor.signins"
    ALERTS_TRIAGED = "alerts.triaged"
    DRILL_DETECTION = "drill.detection"
    DRILL_RESPONSE = "drill.response"
    PHISH_REPORTING = "phish.reporting"
    PHISH_CLICKS = "phish.clicks"
    PROCESS_IR_PLAN = "process.ir-plan-tested"
    PROCESS_ON_CALL = "process.on-call"
    PROCESS_BACKUPS = "process.backups-restored"
    PROCESS_BCDR = "process.bcdr-plan"


def _source(kind: EvidenceKind) -> str:
    prefix = kind.value.split(".", 1)[0]
    named = {"scan": "scans", "coverage": "scans", "patch": "findings", "comply": "compliance"}
    named |= {"monitor": "alerts", "drill": "drills", "process": "questionnaire"}
    return named.get(prefix, prefix)


SOURCE_OF: dict[EvidenceKind, str] = {kind: _source(kind) for kind in EvidenceKind}
"""The source each kind of evidence comes from (``sbom``, ``findings`` and so on)."""


class SourceState(StrEnum):
    """Whether an evidence source could be read."""

    PRESENT = "present"
    MISSING = "missing"


@dataclass(frozen=True)
class Evidence:
    """One observation that shows (part of) a practice in place."""

    kind: EvidenceKind
    """What it proves."""
    score: float
    """How far it proves it: 0 (the opposite observed) to 1 (fully shown)."""
    detail: str
    """The observation in words, with its numbers."""
    observed_at: datetime
    """When it was observed (timezone-aware); it expires after its kind's ``max_age_days``."""
    origin: str
    """Where it came from: a file, a server URL path, or a questionnaire answer."""
    project: str = ""
    """The project it belongs to; empty for organisation-wide evidence."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"evidence score must lie in [0, 1], got {self.score}")
        if self.observed_at.tzinfo is None:
            raise ValueError("evidence time must be timezone-aware")

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "kind": self.kind.value,
            "score": round(self.score, 3),
            "detail": self.detail,
            "observed_at": self.observed_at.isoformat(timespec="seconds"),
            "origin": self.origin,
            "project": self.project,
        }


@dataclass(frozen=True)
class Source:
    """An evidence source and whether it answered (a missing one is shown, never skipped)."""

    name: str
    state: SourceState
    why: str = ""


@dataclass
class EvidenceSet:
    """Everything collected in one assessment."""

    items: list[Evidence] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)

    def present(self, name: str) -> None:
        """Mark a source as read (unless already reported missing for a reason)."""
        self.sources.setdefault(name, Source(name, SourceState.PRESENT))

    def missing(self, name: str, why: str) -> None:
        """Mark a source as missing, with the reason."""
        self.sources[name] = Source(name, SourceState.MISSING, why)

    def add(self, item: Evidence, source: str) -> None:
        """Add one observation from ``source``."""
        self.items.append(item)
        self.present(source)

    def merge(self, other: EvidenceSet) -> None:
        """Add another set's items and sources (a present source wins over a missing one)."""
        self.items.extend(other.items)
        for name, src in other.sources.items():
            if src.state is SourceState.PRESENT or name not in self.sources:
                self.sources[name] = src

    def projects(self) -> list[str]:
        """Projects with evidence, sorted."""
        return sorted({e.project for e in self.items if e.project})
