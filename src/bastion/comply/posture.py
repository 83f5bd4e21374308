"""Compliance posture from a scan's JSON report: each control passes, fails or is not assessed,
with the findings and the process evidence behind it, and a score per framework and family."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion import __version__
from bastion.comply.catalog import FRAMEWORKS, NIST, TITLES, catalogs, family_of
from bastion.comply.mapping import Evidence, controls_for, evidence_rules
from bastion.comply.rules import known_rules
from bastion.errors import InputError
from bastion.structured import read_json

__all__ = ["POSTURE_VERSION", "ControlStatus", "Posture", "assess", "read_report", "sbom_evidence"]

POSTURE_VERSION = 1
PASS, FAIL, NOT_ASSESSED = "pass", "fail", "not assessed"


@dataclass
class ControlStatus:
    """One control's verdict and why."""

    framework: str
    id: str
    family: str
    title: str
    status: str = NOT_ASSESSED
    findings: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    rules: int = 0
    """How many built-in rules map to the control."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "id": self.id,
            "family": self.family,
            "title": self.title,
            "status": self.status,
            "rules": self.rules,
            "evidence": self.evidence,
            "findings": self.findings,
        }


@dataclass
class Posture:
    """The posture of one target at one time."""

    target: str
    generated: str
    scanners: list[str]
    controls: dict[str, list[ControlStatus]]
    evidence: list[dict[str, Any]]

    def score(self, framework: str, family: str | None = None) -> dict[str, Any]:
        """Pass, fail and not-assessed counts, and the pass share of what was assessed."""
        rows = [c for c in self.controls[framework] if family is None or c.family == family]
        passed = sum(1 for c in rows if c.status == PASS)
        failed = sum(1 for c in rows if c.status == FAIL)
        assessed = passed + failed
        return {
            "pass": passed,
            "fail": failed,
            "not_assessed": len(rows) - assessed,
            "score": round(100 * passed / assessed, 1) if assessed else None,
        }

    def families(self, framework: str) -> list[str]:
        """Families with at least one assessed control, in catalog order."""
        seen: dict[str, None] = {}
        for control in self.controls[framework]:
            if control.status != NOT_ASSESSED:
                seen.setdefault(control.family, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        """The posture as the JSON report and the history keep it."""
        cats = catalogs()
        frameworks: dict[str, Any] = {}
        for framework in self.controls:
            frameworks[framework] = {
                "title": TITLES[framework],
                "summary": self.score(framework),
                "families": {
                    fam: {"title": cats[framework].families.get(fam, fam), **self.score(framework, fam)}
                    for fam in self.families(framework)
                },
                "controls": [c.to_dict() for c in self.controls[framework]],
            }
        return {
            "posture_version": POSTURE_VERSION,
            "tool": {"name": "bastion", "version": __version__},
            "target": self.target,
            "generated": self.generated,
            "scanners": self.scanners,
            "evidence": self.evidence,
            "frameworks": frameworks,
        }


def read_report(path: Path) -> dict[str, Any]:
    """A ``bastion scan -f json`` report; :class:`InputError` when it is not one."""
    data = read_json(path, what="scan report")
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list) or "scanners" not in data:
        raise InputError(f"{path}: not a Bastion scan report (run bastion scan -f json)")
    return data


def sbom_evidence(path: Path) -> str | None:
    """A description of a CycloneDX SBOM at ``path``, or None when it is not one."""
    try:
        data = read_json(path, what="SBOM")
    except InputError:
        return None
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        return None
    components = data.get("components")
    count = len(components) if isinstance(components, list) else 0
    return f"CycloneDX {data.get('specVersion', '?')} SBOM {path.name} with {count} components"


def _ran(report: Mapping[str, Any]) -> set[str]:
    failed = {f.get("scanner") for f in report.get("failures", [])}
    skipped = {s.get("component") for s in report.get("skipped", [])}
    return {s for s in report.get("scanners", []) if s not in failed and s not in skipped}


def _evidence(
    item: Evidence, report: Mapping[str, Any], ran: set[str], sboms: Sequence[str]
) -> tuple[str, str]:
    """(status, detail) of one process-evidence item."""
    if item.sbom:
        return (PASS, sboms[0]) if sboms else (NOT_ASSESSED, "no CycloneDX SBOM given (--sbom FILE)")
    if item.scanner not in ran:
        return NOT_ASSESSED, f"the {item.scanner} scanner did not run"
    if item.stale_notice:
        for notice in report.get("notices", []):
            message = str(notice.get("message", ""))
            if notice.get("scanner") == item.scanner and item.stale_notice in message:
                return FAIL, message
    return PASS, f"the {item.scanner} scanner ran"


def _controls_of(finding: Mapping[str, Any]) -> tuple[str, ...]:
    listed = tuple(str(c) for c in finding.get("controls", ()))
    return listed or controls_for(str(finding.get("rule_id", "")))


def _brief(finding: Mapping[str, Any]) -> dict[str, Any]:
    location = finding.get("location", {})
    where = location.get("path") or location.get("url") or location.get("purl") or ""
    if location.get("start_line"):
        where += f":{location['start_line']}"
    return {
        "rule_id": finding.get("rule_id"),
        "severity": finding.get("severity"),
        "title": finding.get("title"),
        "location": where,
    }


def assess(
    report: Mapping[str, Any],
    frameworks: Sequence[str] = FRAMEWORKS,
    sboms: Sequence[str] = (),
    now: datetime | None = None,
) -> Posture:
    """The posture the report proves, for ``frameworks``."""
    cats = catalogs()
    ran = _ran(report)
    ran_rules: dict[str, int] = {}
    all_rules: dict[str, int] = {}
    for scanner, ids in known_rules().items():
        for rule_id in ids:
            for ref in controls_for(rule_id):
                all_rules[ref] = all_rules.get(ref, 0) + 1
                if scanner in ran or (scanner == "gate" and ran):
                    ran_rules[ref] = ran_rules.get(ref, 0) + 1
    failing: dict[str, list[dict[str, Any]]] = {}
    for finding in report.get("findings", []):
        for ref in _controls_of(finding):
            failing.setdefault(ref, []).append(_brief(finding))
    evidence_rows: list[dict[str, Any]] = []
    proven: dict[str, list[tuple[str, str]]] = {}
    for item in evidence_rules():
        status, detail = _evidence(item, report, ran, sboms)
        evidence_rows.append({"id": item.id, "title": item.title, "status": status, "detail": detail})
        for ref in item.controls:
            proven.setdefault(ref, []).append((status, f"{item.title}: {detail}"))
    controls: dict[str, list[ControlStatus]] = {}
    for framework in frameworks:
        catalog = cats[framework]
        rows: list[ControlStatus] = []
        for cid, control in catalog.controls.items():
            ref = f"{framework}:{cid}"
            mapped = all_rules.get(ref, 0) or ref in proven
            if framework == NIST and not mapped and "moderate" not in control.baselines:
                continue  # NIST lists its moderate baseline plus every control Bastion maps
            row = ControlStatus(
                framework, cid, family_of(framework, cid), control.title, rules=all_rules.get(ref, 0)
            )
            row.evidence = [text for _, text in proven.get(ref, [])]
            if ref in failing:
                row.status, row.findings = FAIL, failing[ref]
            elif any(status == FAIL for status, _ in proven.get(ref, [])):
                row.status = FAIL
            elif ran_rules.get(ref) or any(status == PASS for status, _ in proven.get(ref, [])):
                row.status = PASS
                if ran_rules.get(ref):
                    count = ran_rules[ref]
                    row.evidence.append(f"{count} rules of the scanners that ran map here; no finding")
            rows.append(row)
        controls[framework] = rows
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return Posture(str(report.get("target", "")), stamp, sorted(ran), controls, evidence_rows)


def matches(rule_id: str, patterns: Sequence[str]) -> bool:
    """Whether ``rule_id`` matches one of the glob ``patterns``."""
    return any(fnmatch.fnmatchcase(rule_id, p) for p in patterns)
