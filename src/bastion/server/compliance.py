"""Compliance for the overview and project pages, when the compliance layer is present.

The store's open findings and the scanners the projects' scans ran are handed to
:func:`bastion.comply.posture.assess` as one report: a control fails when an open finding
maps to it, passes when a scanner that checks it ran without such a finding.

:func:`compliance_scores` is the score per framework; :func:`compliance_detail` the controls by
family behind it, for a page that folds them: failing families first (and open), passing ones
closed; inside a control, every line of process evidence carries its own pass/fail mark (a
passing item inside a failing control is not the cause), and findings past the first few fold
into an expandable "and N more".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.store.models import OPEN_STATUSES, FindingRecord, Scan

__all__ = ["SHOWN_FINDINGS", "compliance_detail", "compliance_scores", "compliance_view"]

SHOWN_FINDINGS = 8
"""Findings listed under a control before the rest fold into "and N more"."""
FOLDED_FINDINGS = 200
"""Findings listed inside "and N more" at most; past that the page points to the findings list."""
_VERDICTS = ("fail", "pass", "not assessed")
"""A control's verdicts (bastion.comply.posture), in the order the page lists them."""
_ORDER = {verdict: rank for rank, verdict in enumerate(_VERDICTS)}


def _posture(session: Session, project_ids: Sequence[int] | None) -> Any:
    """The posture of the projects' open findings, or None without the layer or any scan."""
    try:
        from bastion.comply.posture import assess
    except ImportError:  # pragma: no cover - the compliance layer ships with Bastion
        return None
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
        return None
    report = {
        "target": "bastion store",
        "scanners": scanners,
        "findings": [
            {"rule_id": r, "controls": c or [], "severity": s, "title": t, "location": loc or {}}
            for r, c, s, t, loc in session.execute(findings)
        ],
    }
    return assess(report)


def compliance_scores(session: Session, project_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """``[{framework, title, score, pass, fail, not_assessed}]``; empty without the layer or scans."""
    return _scores(_posture(session, project_ids))


def _scores(posture: Any) -> list[dict[str, Any]]:
    if posture is None:
        return []
    from bastion.comply.catalog import TITLES

    return [{"framework": name, "title": TITLES[name], **posture.score(name)} for name in posture.controls]


def compliance_detail(session: Session, project_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """Per framework: its families (failing first, each with ``open`` true when it fails) and
    their controls (failing first), each control's findings split into ``shown`` and ``more``
    and its evidence as ``{text, status}``; empty without the layer or scans."""
    return _detail(_posture(session, project_ids))


def _detail(posture: Any) -> list[dict[str, Any]]:
    if posture is None:
        return []
    data = posture.to_dict()
    statuses = {f"{e['title']}: {e['detail']}": str(e["status"]) for e in data["evidence"]}
    out = []
    for name, body in data["frameworks"].items():
        grouped: dict[str, list[dict[str, Any]]] = {}
        for control in body["controls"]:
            grouped.setdefault(control.get("family") or "other", []).append(_control(control, statuses))
        families = []
        for family, members in grouped.items():
            members.sort(key=lambda c: (_ORDER.get(c["status"], 3), c["id"]))
            counts = {status: sum(1 for c in members if c["status"] == status) for status in _ORDER}
            title = body["families"].get(family, {}).get("title", family)
            families.append(
                {
                    "id": family,
                    "title": title,
                    "counts": counts,
                    "open": counts["fail"] > 0,
                    "controls": members,
                }
            )
        families.sort(
            key=lambda f: (-f["counts"]["fail"], -(f["counts"]["pass"] + f["counts"]["fail"]), f["id"])
        )
        out.append(
            {
                "framework": name,
                "title": body["title"],
                "summary": body["summary"],
                "controls": len(body["controls"]),
                "families": families,
            }
        )
    return out


def _control(control: dict[str, Any], statuses: dict[str, str]) -> dict[str, Any]:
    findings = control["findings"]
    return {
        "id": control["id"],
        "title": control["title"],
        "status": control["status"],
        "shown": findings[:SHOWN_FINDINGS],
        "more": findings[SHOWN_FINDINGS : SHOWN_FINDINGS + FOLDED_FINDINGS],
        "more_count": max(0, len(findings) - SHOWN_FINDINGS),
        "unlisted": max(0, len(findings) - SHOWN_FINDINGS - FOLDED_FINDINGS),
        # Evidence lines not from a process check (rule counts) have no verdict of their own.
        "evidence": [{"text": text, "status": statuses.get(text)} for text in control["evidence"]],
    }


def compliance_view(
    session: Session, project_ids: Sequence[int] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scores and the controls by family of the projects, from one assessment."""
    posture = _posture(session, project_ids)
    return _scores(posture), _detail(posture)
