"""Campaign operations over the store: targets, create, launch, stop, track, purge, audit.

Each function takes an open session (the caller owns the transaction) and raises
:class:`InputError`/:class:`UsageError` with one line for what cannot be done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bastion.errors import InputError, UsageError
from bastion.phish.schedule import send_times
from bastion.phish.targets import ImportResult, is_excluded
from bastion.phish.templates import EmailTemplate, LandingPage, check_email, check_template
from bastion.phish.tokens import new_token_id
from bastion.store.models import AuditEvent, utcnow
from bastion.store.phish import PhishCampaign, PhishEvent, PhishRecipient, PhishSendLog, PhishTarget

__all__ = [
    "EVENT_KINDS",
    "Hit",
    "TargetCounts",
    "audit",
    "create_campaign",
    "find_campaign",
    "import_targets",
    "launch",
    "purge",
    "record",
    "stop",
]

EVENT_KINDS = ("open", "click", "attachment", "beacon", "submit", "report")
_TRACKED_STATES = ("running", "stopped", "done")


@dataclass(frozen=True)
class TargetCounts:
    """What an import changed."""

    added: int
    updated: int
    excluded: int
    errors: int


def audit(session: Session, actor: str, action: str, reason: str) -> None:
    """Append one audit log entry (``phish.*`` actions)."""
    session.add(AuditEvent(actor=actor[:200], action=action[:50], reason=reason))


def import_targets(
    session: Session, group: str, result: ImportResult, exclusions: set[str], actor: str
) -> TargetCounts:
    """Add or update ``result``'s targets in ``group``; listed exclusions are kept but marked."""
    if not group.strip():
        raise UsageError("--group must not be empty")
    existing = {
        t.email: t for t in session.scalars(select(PhishTarget).where(PhishTarget.group_name == group))
    }
    added = updated = excluded = 0
    for target in result.targets:
        row = existing.get(target.email)
        if row is None:
            row = PhishTarget(group_name=group, email=target.email)
            session.add(row)
            added += 1
        else:
            updated += 1
        row.name, row.department, row.manager = target.name, target.department, target.manager
        row.location, row.timezone = target.location, target.timezone
        row.excluded = is_excluded(target, exclusions)
        excluded += row.excluded
    audit(
        session,
        actor,
        "phish.targets.import",
        f"group {group}: {added} added, {updated} updated, {excluded} excluded, "
        f"{len(result.errors)} bad rows",
    )
    return TargetCounts(added, updated, excluded, len(result.errors))


def find_campaign(session: Session, ref: str) -> PhishCampaign:
    """A campaign by id or name; :class:`InputError` when there is none."""
    campaign = None
    if ref.isdigit():
        campaign = session.get(PhishCampaign, int(ref))
    if campaign is None:
        campaign = session.scalars(select(PhishCampaign).where(PhishCampaign.name == ref)).first()
    if campaign is None:
        raise InputError(f"no phishing campaign {ref!r}")
    return campaign


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"--base-url: expected http(s)://host[:port][/path], got {url!r}")
    return url.rstrip("/")


def create_campaign(
    session: Session,
    name: str,
    group: str,
    email: EmailTemplate,
    landing: LandingPage,
    base_url: str,
    actor: str,
    window_minutes: int = 0,
) -> PhishCampaign:
    """A draft campaign for every non-excluded target of ``group``."""
    if not name.strip():
        raise UsageError("a campaign needs a name")
    if session.scalars(select(PhishCampaign.id).where(PhishCampaign.name == name)).first() is not None:
        raise UsageError(f"a campaign named {name!r} exists already")
    if window_minutes < 0:
        raise UsageError("--window-minutes must not be negative")
    check_email(email, f"template {email.name}")
    check_template(landing.html, html=True, where=f"landing page {landing.name}")
    targets = list(
        session.scalars(
            select(PhishTarget)
            .where(PhishTarget.group_name == group, PhishTarget.excluded.is_(False))
            .order_by(PhishTarget.id)
        )
    )
    if not targets:
        raise InputError(
            f"group {group!r} has no targets (bastion phish targets import FILE --group {group})"
        )
    campaign = PhishCampaign(
        name=name,
        group_name=group,
        sender=email.sender,
        subject=email.subject,
        html=email.html,
        text_body=email.text,
        attachment_name=email.attachment,
        landing_kind=landing.kind.value,
        landing_html=landing.html,
        base_url=_check_base_url(base_url),
        window_minutes=window_minutes,
        created_by=actor,
        status="draft",
    )
    session.add(campaign)
    session.flush()
    for target in targets:
        session.add(
            PhishRecipient(
                campaign_id=campaign.id,
                token_id=new_token_id(),
                email=target.email,
                name=target.name,
                department=target.department,
                manager=target.manager,
                location=target.location,
                timezone=target.timezone,
            )
        )
    audit(session, actor, "phish.campaign.create", f"{name}: {len(targets)} recipients in group {group}")
    return campaign


def launch(
    session: Session,
    campaign: PhishCampaign,
    actor: str,
    local_start: time | None = None,
    now: datetime | None = None,
) -> int:
    """Mark a draft campaign running and schedule every message; returns how many."""
    if campaign.status != "draft":
        raise UsageError(f"campaign {campaign.name!r} is {campaign.status}, not a draft")
    now = now or utcnow()
    recipients = list(
        session.scalars(
            select(PhishRecipient)
            .where(PhishRecipient.campaign_id == campaign.id)
            .order_by(PhishRecipient.id)
        )
    )
    times = send_times(
        now, [r.timezone for r in recipients], campaign.window_minutes, local_start, campaign.id
    )
    for recipient, due in zip(recipients, times, strict=True):
        recipient.send_at = due
    campaign.status, campaign.launched_at = "running", now
    audit(session, actor, "phish.campaign.launch", f"{campaign.name}: {len(recipients)} messages scheduled")
    return len(recipients)


def stop(session: Session, campaign: PhishCampaign, actor: str) -> int:
    """Stop sending (tracking goes on); returns how many messages will not be sent."""
    if campaign.status not in ("draft", "running"):
        raise UsageError(f"campaign {campaign.name!r} is {campaign.status} already")
    cancelled = 0
    for recipient in session.scalars(
        select(PhishRecipient).where(
            PhishRecipient.campaign_id == campaign.id, PhishRecipient.status == "pending"
        )
    ):
        recipient.status = "cancelled"
        cancelled += 1
    campaign.status, campaign.stopped_at = "stopped", utcnow()
    audit(session, actor, "phish.campaign.stop", f"{campaign.name}: {cancelled} unsent messages cancelled")
    return cancelled


@dataclass(frozen=True)
class Hit:
    """One tracked request as the tracking endpoint saw it (no body, no query values)."""

    kind: str
    method: str = "GET"
    user_agent: str = ""
    ip: str = ""
    prefetch: bool = False
    cookie: bool = False
    fields: tuple[str, ...] = ()
    via: str = ""


def record(session: Session, token_id: str, hit: Hit, now: datetime | None = None) -> bool:
    """Store ``hit`` for the recipient ``token_id``; False (nothing stored) when the id is
    unknown, the message was never sent, or the campaign is not tracking."""
    if hit.kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {hit.kind!r}")
    row = session.execute(
        select(PhishRecipient, PhishCampaign.status)
        .join(PhishCampaign, PhishCampaign.id == PhishRecipient.campaign_id)
        .where(PhishRecipient.token_id == token_id)
    ).first()
    if row is None:
        return False
    recipient, status = row
    if status not in _TRACKED_STATES or recipient.sent_at is None:
        return False
    now = now or utcnow()
    session.add(
        PhishEvent(
            campaign_id=recipient.campaign_id,
            recipient_id=recipient.id,
            kind=hit.kind,
            at=now,
            method=hit.method[:10],
            user_agent=hit.user_agent[:500],
            ip=hit.ip[:64],
            delay_s=max(0.0, (now - recipient.sent_at).total_seconds()),
            prefetch=hit.prefetch,
            cookie=hit.cookie,
            fields=list(hit.fields),
            via=hit.via[:20],
        )
    )
    return True


def purge(session: Session, older_than_days: int, actor: str, now: datetime | None = None) -> list[str]:
    """Drop recipients, events and send logs of campaigns stopped or done more than
    ``older_than_days`` ago, keeping each one's anonymous summary; returns their names."""
    from bastion.phish.results import campaign_summary  # results reads the store; service is below it

    if older_than_days < 0:
        raise UsageError("--older-than must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    purged = []
    for campaign in session.scalars(
        select(PhishCampaign).where(
            PhishCampaign.purged_at.is_(None),
            PhishCampaign.status.in_(("stopped", "done")),
            func.coalesce(PhishCampaign.stopped_at, PhishCampaign.launched_at) <= cutoff,
        )
    ):
        campaign.summary = campaign_summary(session, campaign)
        for model in (PhishEvent, PhishSendLog, PhishRecipient):
            session.execute(delete(model).where(model.campaign_id == campaign.id))
        campaign.purged_at = now or utcnow()
        purged.append(campaign.name)
        audit(
            session,
            actor,
            "phish.purge",
            f"{campaign.name}: personal data removed after {older_than_days} days",
        )
    return purged
