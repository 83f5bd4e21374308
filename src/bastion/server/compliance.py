"""Compliance score per framework for the overview, when the compliance layer is present.

The store's open findings and the scanners the projects' scans ran are handed to
:func:`bastion.comply.posture.assess` as one report: a control fails when an open finding
maps to it, passes when a scanner that checks it ran without such a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.store.models import OPEN_STATUSES, FindingRecord, Scan

__all__ = ["compliance_scores"]


def compliance_scores(session: Session, project_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """``[{framework, title, score, pass, fail, not_assessed}]``; empty without the layer or scans."""
    try:
        from bastion.comply.catalog import TITLES
        from bastion.comply.posture import assess
    except ImportError:  # pragma: no cover - the compliance layer ships with Bastion
        return []
    scans = select(Scan.scanners)
    findings = select(
        FindingRecord.rule_id,
        FindingRecord.controls,
        FindingRecord.severity,
        FindingRecord.title,
        FindingRecord.location_data,
    ).where(FindingRecord.status.in_(OPEN_STATUSES))
    if project_ids is not None:
        scans = scans.where(Scan.project_id.in_(list(project_ids)))
        findings = findings.where(FindingRecord.project_id.in_(list(project_ids)))
    scanners = sorted({str(name) for (names,) in session.execute(scans) for name in names or []})
    if not scanners:
        return []
    report = {
        "target": "bastion store",
        "scanners": scanners,
        "findings": [
            {"rule_id": r, "controls": c or [], "severity": s, "title": t, "location": loc or {}}
            for r, c, s, t, loc in session.execute(findings)
        ],
    }
    posture = assess(report)
    return [{"framework": name, "title": TITLES[name], **posture.score(name)} for name in posture.controls]
