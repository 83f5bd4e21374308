"""The campaign report: anonymised (to publish) or named (security team), self-contained HTML
with print CSS, or JSON.

The anonymised report carries no name and no address; a department or location with fewer than
``min_group`` recipients is merged into one row so that nobody can be singled out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from bastion.phish.results import (
    INDUSTRY_ANCHORS,
    CampaignResults,
    GroupStats,
    campaign_results,
    repeat_clickers,
    trend,
)
from bastion.store.phish import PhishCampaign

__all__ = ["MERGED_LABEL", "automated_requests", "merge_small", "report_data", "report_html"]

MERGED_LABEL = "Smaller groups (merged)"
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("html")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=False,
)


def merge_small(groups: dict[str, GroupStats], min_group: int) -> tuple[list[GroupStats], bool]:
    """Groups of at least ``min_group`` targets, plus one merged row for the rest (itself shown
    only when it reaches ``min_group``, else folded into nothing but the totals)."""
    kept = [g for g in groups.values() if g.targets >= min_group]
    small = [g for g in groups.values() if g.targets < min_group]
    if not small:
        return kept, False
    merged = GroupStats(MERGED_LABEL)
    for group in small:
        merged.merge(group)
    if merged.targets >= min_group:
        kept.append(merged)
    return kept, True


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = seconds / 60
    if minutes < 1:
        return f"{seconds:.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _reasons(results: CampaignResults) -> list[tuple[str, int]]:
    counter: Counter[str] = Counter()
    for item in results.classified:
        for reason in item.reasons:
            counter["seconds after delivery" if reason.endswith(" s after delivery") else reason] += 1
    return counter.most_common()


def _sections(
    results: CampaignResults, named: bool, min_group: int
) -> tuple[list[GroupStats], list[GroupStats], bool]:
    if named:
        return list(results.by_department.values()), list(results.by_location.values()), False
    departments, merged_d = merge_small(results.by_department, min_group)
    locations, merged_l = merge_small(results.by_location, min_group)
    return departments, locations, merged_d or merged_l


def automated_requests(results: CampaignResults) -> list[dict[str, Any]]:
    """Every request marked automated, with its reasons (named report: it carries addresses)."""
    emails = {o.recipient_id: o.email for o in results.outcomes}
    return [
        {
            "at": c.event.at.isoformat(),
            "recipient": emails.get(c.event.recipient, ""),
            "kind": c.event.kind,
            "method": c.event.method,
            "user_agent": c.event.user_agent,
            "ip": c.event.ip,
            "delay_s": c.event.delay_s,
            "reasons": c.reasons,
        }
        for c in results.classified
        if c.automated
    ]


def report_data(
    session: Session, campaign: PhishCampaign, *, named: bool, min_group: int = 5
) -> dict[str, Any]:
    """The report's content as plain data (the JSON format; the HTML renders the same)."""
    results = campaign_results(session, campaign)
    departments, locations, merged = _sections(results, named, min_group)
    repeaters = repeat_clickers(session)
    data: dict[str, Any] = {
        "campaign": {
            "name": campaign.name,
            "status": campaign.status,
            "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
            "landing_kind": campaign.landing_kind,
        },
        "named": named,
        "min_group": min_group,
        "total": results.total.to_dict(),
        "departments": [g.to_dict() for g in departments],
        "locations": [g.to_dict() for g in locations],
        "merged": merged,
        "trend": trend(session),
        "industry_anchors": dict(INDUSTRY_ANCHORS),
        "automated": {
            "total": sum(c.automated for c in results.classified),
            "reasons": dict(_reasons(results)),
        },
        "sends": dict(results.sends),
        "repeat_clickers": repeaters if named else len(repeaters),
    }
    if named:
        data["automated"]["requests"] = automated_requests(results)
        data["people"] = [
            {
                "name": o.name,
                "email": o.email,
                "department": o.department,
                "location": o.location,
                "status": o.status,
                "did": sorted(o.did),
                "fields_filled": sorted(o.fields),
                "automated_events": o.automated,
                "first_report_s": o.first_report_s,
            }
            for o in results.outcomes
        ]
    return data


def report_html(session: Session, campaign: PhishCampaign, *, named: bool, min_group: int = 5) -> str:
    """The report as one self-contained HTML page (inline CSS, print rules, no script)."""
    results = campaign_results(session, campaign)
    departments, locations, merged = _sections(results, named, min_group)
    return _ENV.get_template("report.html.j2").render(
        campaign=campaign,
        named=named,
        total=results.total,
        departments=departments,
        locations=locations,
        merged=merged,
        merged_label=MERGED_LABEL,
        min_group=min_group,
        trend=trend(session),
        anchors=INDUSTRY_ANCHORS,
        automated_total=sum(c.automated for c in results.classified),
        reasons=_reasons(results),
        outcomes=results.outcomes if named else [],
        requests=automated_requests(results) if named else [],
        repeaters=repeat_clickers(session),
        pct=_pct,
        duration=_duration,
    )
