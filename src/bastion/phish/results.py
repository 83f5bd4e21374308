"""Results of campaigns: counts by campaign, department and location, human rates only.

A recipient counts as *opened*, *clicked*, *submitted* or *reported* when at least one event of
that kind was NOT marked automated by :mod:`bastion.phish.botfilter`; automated events are
counted separately and listed with their reasons. *Phish-prone* is clicked or submitted over
delivered. The report rate and the time to first report are the numbers that matter most.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.phish.botfilter import Classified, EventView, FilterRules, classify, load_rules
from bastion.store.phish import PhishCampaign, PhishEvent, PhishRecipient

__all__ = [
    "INDUSTRY_ANCHORS",
    "CampaignResults",
    "GroupStats",
    "RecipientOutcome",
    "campaign_results",
    "campaign_summary",
    "repeat_clickers",
    "trend",
]

INDUSTRY_ANCHORS = (
    ("baseline", 33.1),
    ("after 90 days of training", 18.5),
    ("after 12 months", 5.4),
)
"""KnowBe4 2023 phish-prone percentages, shown beside the trend."""
COUNTED = ("open", "click", "submit", "report")


@dataclass
class RecipientOutcome:
    """What one recipient did (human events only) and what scanners did on their message."""

    recipient_id: int
    name: str
    email: str
    department: str
    location: str
    status: str
    sent_at: datetime | None
    did: set[str] = field(default_factory=set)
    automated: int = 0
    first_report_s: float | None = None
    fields: set[str] = field(default_factory=set)

    @property
    def delivered(self) -> bool:
        """Whether the relay accepted the message."""
        return self.sent_at is not None


@dataclass
class GroupStats:
    """Counts and rates over a set of recipients."""

    label: str
    targets: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    submitted: int = 0
    reported: int = 0
    automated_events: int = 0
    report_seconds: list[float] = field(default_factory=list)

    @property
    def phish_prone(self) -> float | None:
        """Percent of delivered who clicked or submitted."""
        return None if not self.delivered else round(100 * self.clicked / self.delivered, 1)

    @property
    def report_rate(self) -> float | None:
        """Percent of delivered who reported."""
        return None if not self.delivered else round(100 * self.reported / self.delivered, 1)

    @property
    def first_report_s(self) -> float | None:
        """Seconds from delivery to the first report in the group."""
        return min(self.report_seconds) if self.report_seconds else None

    @property
    def median_report_s(self) -> float | None:
        """Median seconds from delivery to report."""
        return statistics.median(self.report_seconds) if self.report_seconds else None

    def add(self, outcome: RecipientOutcome) -> None:
        """Count one recipient."""
        self.targets += 1
        self.delivered += outcome.delivered
        self.opened += "open" in outcome.did or bool(outcome.did & {"click", "submit"})
        self.clicked += bool(outcome.did & {"click", "submit"})
        self.submitted += "submit" in outcome.did
        self.reported += "report" in outcome.did
        self.automated_events += outcome.automated
        if outcome.first_report_s is not None:
            self.report_seconds.append(outcome.first_report_s)

    def merge(self, other: GroupStats) -> None:
        """Add ``other``'s counts (merging small groups)."""
        for name in (
            "targets",
            "delivered",
            "opened",
            "clicked",
            "submitted",
            "reported",
            "automated_events",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.report_seconds.extend(other.report_seconds)

    def to_dict(self) -> dict[str, Any]:
        """Plain data with the derived rates (no person in it)."""
        data = asdict(self)
        data.pop("report_seconds")
        data.update(
            phish_prone=self.phish_prone,
            report_rate=self.report_rate,
            first_report_s=self.first_report_s,
            median_report_s=self.median_report_s,
        )
        return data


@dataclass
class CampaignResults:
    """One campaign's outcomes, totals and breakdowns, and the automated events with reasons."""

    campaign: PhishCampaign
    outcomes: list[RecipientOutcome]
    classified: list[Classified]
    total: GroupStats
    by_department: dict[str, GroupStats]
    by_location: dict[str, GroupStats]
    sends: Counter[str]


def _views(events: Iterable[PhishEvent]) -> list[EventView]:
    return [
        EventView(
            id=e.id,
            recipient=e.recipient_id,
            kind=e.kind,
            at=e.at,
            method=e.method,
            user_agent=e.user_agent,
            ip=e.ip,
            delay_s=e.delay_s,
            prefetch=e.prefetch,
            cookie=e.cookie,
        )
        for e in events
    ]


def campaign_results(
    session: Session, campaign: PhishCampaign, rules: FilterRules | None = None
) -> CampaignResults:
    """Classify every event of ``campaign`` and count human outcomes."""
    rules = rules or load_rules()
    recipients = list(
        session.scalars(
            select(PhishRecipient)
            .where(PhishRecipient.campaign_id == campaign.id)
            .order_by(PhishRecipient.id)
        )
    )
    events = list(
        session.scalars(
            select(PhishEvent).where(PhishEvent.campaign_id == campaign.id).order_by(PhishEvent.at)
        )
    )
    fields_of = {e.id: e.fields for e in events}
    classified = classify(_views(events), rules)
    outcomes = {
        r.id: RecipientOutcome(r.id, r.name, r.email, r.department, r.location, r.status, r.sent_at)
        for r in recipients
    }
    for item in classified:
        outcome = outcomes.get(item.event.recipient)
        if outcome is None or item.event.kind not in (*COUNTED, "attachment"):
            continue
        if item.automated:
            outcome.automated += 1
            continue
        kind = "click" if item.event.kind == "attachment" else item.event.kind
        outcome.did.add(kind)
        if kind == "submit":
            outcome.fields.update(fields_of.get(item.event.id) or [])
        if kind == "report" and item.event.delay_s is not None:
            previous = outcome.first_report_s
            outcome.first_report_s = (
                item.event.delay_s if previous is None else min(previous, item.event.delay_s)
            )
    total = GroupStats("all")
    departments: dict[str, GroupStats] = {}
    locations: dict[str, GroupStats] = {}
    for outcome in outcomes.values():
        total.add(outcome)
        departments.setdefault(
            outcome.department or "(none)", GroupStats(outcome.department or "(none)")
        ).add(outcome)
        locations.setdefault(outcome.location or "(none)", GroupStats(outcome.location or "(none)")).add(
            outcome
        )
    sends = Counter(r.status for r in recipients)
    return CampaignResults(
        campaign, list(outcomes.values()), classified, total, dict(sorted(departments.items())),
        dict(sorted(locations.items())), sends,
    )  # fmt: skip


def campaign_summary(session: Session, campaign: PhishCampaign) -> dict[str, Any]:
    """The anonymous totals kept after a purge (feeds the trend)."""
    if campaign.summary is not None:
        return campaign.summary
    results = campaign_results(session, campaign)
    return {
        "total": results.total.to_dict(),
        "departments": {k: v.to_dict() for k, v in results.by_department.items()},
    }


def trend(session: Session) -> list[dict[str, Any]]:
    """Phish-prone and report rates of every launched campaign, oldest first."""
    rows = []
    for campaign in session.scalars(
        select(PhishCampaign)
        .where(PhishCampaign.launched_at.is_not(None))
        .order_by(PhishCampaign.launched_at)
    ):
        total = campaign_summary(session, campaign)["total"]
        rows.append(
            {
                "campaign": campaign.name,
                "launched": campaign.launched_at.date().isoformat() if campaign.launched_at else "",
                "delivered": total["delivered"],
                "phish_prone": total["phish_prone"],
                "report_rate": total["report_rate"],
            }
        )
    return rows


def repeat_clickers(session: Session, rules: FilterRules | None = None) -> dict[str, int]:
    """Addresses that clicked (as people) in two or more campaigns, with how many."""
    rules = rules or load_rules()
    counts: dict[str, int] = defaultdict(int)
    for campaign in session.scalars(select(PhishCampaign).where(PhishCampaign.purged_at.is_(None))):
        for outcome in campaign_results(session, campaign, rules).outcomes:
            if outcome.did & {"click", "submit"}:
                counts[outcome.email] += 1
    return {email: n for email, n in sorted(counts.items()) if n >= 2}
