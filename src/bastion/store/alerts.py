"""Alerts in the store: what detectors (identity, sigma, watch, respond) sent the server.

Tables: ``alerts`` (one row per project and fingerprint: an upload sent twice is stored once)
and ``alert_subjects`` (the users, addresses and hosts an alert names, for the entity filter and
the identity pages). Every text is scrubbed of secrets before it is stored
(:mod:`bastion.store.sanitize`); status changes (acknowledge, close, reopen) go to the append-only
audit log.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bastion.errors import InputError
from bastion.findings import Alert, Severity
from bastion.store.models import AuditEvent, Base, utcnow
from bastion.store.sanitize import check_text, scrub_tree

__all__ = [
    "ALERT_STATUSES",
    "MAX_ALERTS",
    "AlertFilter",
    "AlertPage",
    "AlertRecord",
    "AlertSubject",
    "IdentitySummary",
    "ParsedAlert",
    "StoreResult",
    "alert_history",
    "change_status",
    "fingerprint",
    "identities",
    "identity_summary",
    "list_alerts",
    "parse_alerts",
    "severity_counts",
    "store_alerts",
]

ALERT_STATUSES = ("open", "acknowledged", "closed")
"""An alert's triage states."""
MAX_ALERTS = 5000
"""Alerts one upload may carry."""
MAX_EVIDENCE = 100
"""Evidence lines kept per alert (the rest are counted in ``metadata.evidence_dropped``)."""
MAX_LINE = 2000
"""Characters kept per evidence line."""
MAX_SUBJECTS = 50
"""Users and addresses indexed per alert."""
_ACTIONS = {"acknowledged": "alert.acknowledged", "closed": "alert.closed", "open": "alert.reopened"}
_LIMITS = {"detector": 100, "entity": 500, "entity_kind": 20, "explanation": 20000}
_SEVERITY_RANK = {s.value: i for i, s in enumerate(Severity)}


class AlertRecord(Base):
    """One stored alert."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint", name="uq_alerts_project_fingerprint"),
        Index("ix_alerts_project_time", "project_id", "window_end"),
        Index("ix_alerts_detector", "detector"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    detector: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    entity: Mapped[str] = mapped_column(String(500))
    entity_kind: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    techniques: Mapped[list[Any]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by: Mapped[str] = mapped_column(String(200))
    status_at: Mapped[datetime | None] = mapped_column()
    status_by: Mapped[str | None] = mapped_column(String(200))
    subjects: Mapped[list[AlertSubject]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", passive_deletes=True
    )

    def to_alert(self) -> Alert:
        """The stored alert as the shared model (what was stored, scrubbed)."""
        return Alert(
            detector=self.detector,
            severity=Severity(self.severity),
            score=self.score,
            entity=self.entity,
            entity_kind=self.entity_kind,
            window_start=self.window_start,
            window_end=self.window_end,
            explanation=self.explanation,
            evidence=tuple(str(line) for line in self.evidence),
            techniques=tuple(str(t) for t in self.techniques),
            metadata=dict(self.extra),
        )

    @property
    def users(self) -> list[str]:
        """The users the alert names (as the log names them)."""
        return [s.display for s in self.subjects if s.kind == "user"]

    @property
    def ips(self) -> list[str]:
        """The addresses the alert names."""
        return [s.display for s in self.subjects if s.kind == "ip"]


class AlertSubject(Base):
    """A user, address or host an alert names (``value`` folded for lookups)."""

    __tablename__ = "alert_subjects"
    __table_args__ = (Index("ix_alert_subjects_value", "kind", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    display: Mapped[str] = mapped_column(String(500))
    alert: Mapped[AlertRecord] = relationship(back_populates="subjects")


@dataclass(frozen=True)
class ParsedAlert:
    """One validated, scrubbed alert ready to store."""

    alert: Alert
    fingerprint: str
    subjects: tuple[tuple[str, str], ...]


_RULE_KEYS = ("rule_id", "kind", "model")
"""Metadata naming which rule or model inside one detector raised the alert (Sigma's rule id)."""


def fingerprint(alert: Alert, given: str | None = None) -> str:
    """The alert's identity: the sender's own id when it gives one, else detector, the rule or model
    inside it, entity and window (the same alert sent twice, or by a rerun over the same logs, is
    one alert; two Sigma rules matching one event are two)."""
    if given:
        basis = f"id\x00{given}"
    else:
        rule = next((str(alert.metadata[k]) for k in _RULE_KEYS if alert.metadata.get(k)), "")
        basis = "\x00".join(
            (
                alert.detector,
                rule,
                alert.entity_kind,
                alert.entity,
                alert.window_start.astimezone(UTC).isoformat(),
                alert.window_end.astimezone(UTC).isoformat(),
            )
        )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _text_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"'{name}' must be a list")
    return [str(v) for v in value]


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"'{name}' must be an ISO 8601 time")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{name}' {value[:40]!r} is not an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _one(data: Any, where: str) -> ParsedAlert:
    """Validate one alert object (Alert.to_dict) and scrub it; ValueError names the problem."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for name in ("detector", "severity", "score", "entity", "entity_kind", "window_start", "window_end"):
        if data.get(name) in (None, ""):
            raise ValueError(f"missing field '{name}'")
    for name, limit in _LIMITS.items():
        if not isinstance(data.get(name, ""), str):
            raise ValueError(f"'{name}' must be text")
        if len(data.get(name, "")) > limit:
            raise ValueError(f"'{name}' longer than {limit} characters")
    try:
        severity = Severity(data["severity"])
    except ValueError:
        raise ValueError(f"unknown severity {str(data['severity'])[:20]!r}") from None
    score = data["score"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise ValueError("'score' must be a finite number")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("'metadata' must be an object")
    given = data.get("id")
    if given is not None and (not isinstance(given, str | int) or len(str(given)) > 200):
        raise ValueError("'id' must be text of at most 200 characters")
    evidence = _text_list(data.get("evidence"), "evidence")
    if len(evidence) > MAX_EVIDENCE:
        metadata = {**metadata, "evidence_dropped": len(evidence) - MAX_EVIDENCE}
    raw = {
        "entity": data["entity"],
        "explanation": data.get("explanation", ""),
        "evidence": [line[:MAX_LINE] for line in evidence[:MAX_EVIDENCE]],
        "metadata": metadata,
    }
    check_text(raw, where)
    clean = scrub_tree(raw)
    alert = Alert(
        detector=data["detector"],
        severity=severity,
        score=float(score),
        entity=clean["entity"],
        entity_kind=data["entity_kind"].lower(),
        window_start=_aware(data["window_start"], "window_start"),
        window_end=_aware(data["window_end"], "window_end"),
        explanation=clean["explanation"],
        evidence=tuple(clean["evidence"]),
        techniques=tuple(t[:20] for t in _text_list(data.get("techniques"), "techniques")[:50]),
        metadata=clean["metadata"],
    )
    return ParsedAlert(alert, fingerprint(alert, str(given) if given is not None else None), _subjects(alert))


def _subjects(alert: Alert) -> tuple[tuple[str, str], ...]:
    """(kind, name) of every user, address and host the alert names, entity first."""
    found: list[tuple[str, str]] = []
    meta = alert.metadata
    if alert.entity_kind in ("user", "host", "ip", "session") and "," not in alert.entity:
        found.append((alert.entity_kind, alert.entity))
    for kind, key in (("user", "users"), ("ip", "ips"), ("host", "hosts")):
        values = meta.get(key)
        if isinstance(values, list):
            found.extend((kind, str(v)) for v in values if isinstance(v, str | int) and str(v))
    if alert.entity_kind == "ip" and "," in alert.entity and not meta.get("ips"):
        found.extend(("ip", part.strip()) for part in alert.entity.split(",") if part.strip())
    unique = list(dict.fromkeys((kind, name[:500]) for kind, name in found))
    return tuple(unique[:MAX_SUBJECTS])


def parse_alerts(document: Any, where: str) -> list[ParsedAlert]:
    """The alerts of an upload: one Alert object, a list of them, or ``{"alerts": [...]}``.

    :class:`InputError` with one line naming ``where``, the alert's index and what is wrong;
    nothing of a batch with a bad alert is stored."""
    if isinstance(document, dict) and "alerts" in document:
        items = document["alerts"]
    elif isinstance(document, list):
        items = document
    elif isinstance(document, dict):
        items = [document]
    else:
        raise InputError(f"{where}: expected an alert object, a list of alerts or {{'alerts': [...]}}")
    if not isinstance(items, list):
        raise InputError(f"{where}: 'alerts' must be a list")
    if len(items) > MAX_ALERTS:
        raise InputError(f"{where}: {len(items)} alerts in one upload (at most {MAX_ALERTS})")
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(_one(item, f"{where}: alert {index}"))
        except ValueError as exc:
            raise InputError(f"{where}: alert {index}: {exc}") from None
    return parsed


@dataclass
class StoreResult:
    """What an upload did."""

    received: int = 0
    new: int = 0
    duplicates: int = 0
    ids: list[int] = field(default_factory=list)


def _source(detector: str) -> str:
    return detector.split(".", 1)[0][:40]


def store_alerts(session: Session, project_id: int, alerts: Sequence[ParsedAlert], actor: str) -> StoreResult:
    """Store the alerts not yet in the project (by fingerprint); duplicates are counted, not stored
    again. The caller holds the project's row lock (two uploads of one alert store it once)."""
    result = StoreResult(received=len(alerts))
    wanted = list(dict.fromkeys(p.fingerprint for p in alerts))
    known: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(AlertRecord.fingerprint, AlertRecord.id).where(
                AlertRecord.project_id == project_id, AlertRecord.fingerprint.in_(chunk)
            )
        )
        known.update((str(fp), int(alert_id)) for fp, alert_id in rows)
    now = utcnow()
    added: dict[str, AlertRecord] = {}
    for parsed in alerts:
        if parsed.fingerprint in known:
            result.duplicates += 1
            result.ids.append(known[parsed.fingerprint])
            continue
        if parsed.fingerprint in added:
            result.duplicates += 1
            continue
        alert = parsed.alert
        record = AlertRecord(
            project_id=project_id,
            fingerprint=parsed.fingerprint,
            detector=alert.detector,
            source=_source(alert.detector),
            severity=alert.severity.value,
            score=alert.score,
            entity=alert.entity,
            entity_kind=alert.entity_kind,
            window_start=alert.window_start,
            window_end=alert.window_end,
            explanation=alert.explanation,
            evidence=list(alert.evidence),
            techniques=list(alert.techniques),
            extra=dict(alert.metadata),
            status="open",
            received_at=now,
            received_by=actor[:200],
            subjects=[AlertSubject(kind=k, value=v.casefold(), display=v) for k, v in parsed.subjects],
        )
        session.add(record)
        added[parsed.fingerprint] = record
        result.new += 1
    session.flush()
    result.ids.extend(r.id for r in added.values())
    if result.new:
        session.add(
            AuditEvent(
                actor=actor[:200],
                action="alerts.received",
                project_id=project_id,
                reason=f"{result.new} new alert(s), {result.duplicates} already known",
            )
        )
    return result


@dataclass(frozen=True)
class AlertFilter:
    """What the alerts list shows."""

    project_ids: list[int] | None
    """Projects to search (None: all)."""
    detector: str = ""
    """A detector name or its prefix (``identity`` matches ``identity.password-spray``)."""
    entity: str = ""
    """A user, address or host the alert names (case-insensitive), or part of its entity."""
    severities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    limit: int = 50
    offset: int = 0
    received: bool = False
    """Newest received first (by id: a feed for pollers) instead of newest window first."""
    after_id: int = 0
    """Only alerts stored after the one with this id (a poller's cursor)."""


@dataclass
class AlertPage:
    """One page of alerts and the total that matched."""

    alerts: list[AlertRecord]
    total: int


def list_alerts(session: Session, filt: AlertFilter) -> AlertPage:
    """Alerts matching ``filt``, newest window first (or newest received first)."""
    query = select(AlertRecord)
    if filt.after_id:
        query = query.where(AlertRecord.id > filt.after_id)
    if filt.project_ids is not None:
        query = query.where(AlertRecord.project_id.in_(filt.project_ids or [-1]))
    if filt.detector:
        query = query.where(
            or_(AlertRecord.detector == filt.detector, AlertRecord.detector.startswith(filt.detector + "."))
        )
    if filt.entity:
        folded = filt.entity.casefold()
        named = select(AlertSubject.alert_id).where(AlertSubject.value == folded)
        query = query.where(or_(AlertRecord.id.in_(named), func.lower(AlertRecord.entity) == folded))
    if filt.severities:
        query = query.where(AlertRecord.severity.in_(filt.severities))
    if filt.statuses:
        query = query.where(AlertRecord.status.in_(filt.statuses))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    newest = AlertRecord.id.desc()
    order = (newest,) if filt.received else (AlertRecord.window_end.desc(), newest)
    rows = session.scalars(
        query.order_by(*order).limit(max(1, min(filt.limit, 500))).offset(max(0, filt.offset))
    )
    return AlertPage(list(rows), total)


def change_status(session: Session, alert: AlertRecord, status: str, actor: str, reason: str) -> bool:
    """Acknowledge, close or reopen ``alert``, in the audit log; False when it already had it.

    :class:`InputError` for an unknown status."""
    if status not in ALERT_STATUSES:
        raise InputError(f"status {status[:30]!r}: choose from {', '.join(ALERT_STATUSES)}")
    if alert.status == status:
        return False
    session.add(
        AuditEvent(
            actor=actor[:200],
            action=_ACTIONS[status],
            project_id=alert.project_id,
            from_status=alert.status,
            to_status=status,
            reason=f"alert #{alert.id}: {reason}".rstrip(": ") if reason else f"alert #{alert.id}",
        )
    )
    alert.status = status
    alert.status_at = utcnow()
    alert.status_by = actor[:200]
    return True


def alert_history(session: Session, alert: AlertRecord) -> list[AuditEvent]:
    """The audit log entries of one alert's status changes, oldest first."""
    marker = f"alert #{alert.id}"
    query = select(AuditEvent).where(
        AuditEvent.project_id == alert.project_id,
        AuditEvent.action.in_(tuple(_ACTIONS.values())),
        or_(AuditEvent.reason == marker, AuditEvent.reason.startswith(marker + ":")),
    )
    return list(session.scalars(query.order_by(AuditEvent.id)))


@dataclass
class IdentitySummary:
    """One identity's alerts: counts by kind and the reasons, newest first."""

    name: str
    alerts: list[AlertRecord]
    by_kind: dict[str, int]
    worst: str
    addresses: list[str]


def identity_summary(
    session: Session, user: str, project_ids: list[int] | None, limit: int = 200
) -> IdentitySummary:
    """What the store knows about ``user`` (case-insensitive): alerts that name them, newest first."""
    page = list_alerts(session, AlertFilter(project_ids, entity=user, limit=limit))
    by_kind: dict[str, int] = {}
    addresses: dict[str, None] = {}
    worst = ""
    for record in page.alerts:
        by_kind[record.detector] = by_kind.get(record.detector, 0) + 1
        if not worst or _SEVERITY_RANK[record.severity] > _SEVERITY_RANK[worst]:
            worst = record.severity
        for address in record.ips:
            addresses.setdefault(address)
    names = [s.display for r in page.alerts for s in r.subjects if s.value == user.casefold()]
    return IdentitySummary(names[0] if names else user, page.alerts, by_kind, worst, list(addresses))


def identities(session: Session, project_ids: list[int] | None, limit: int = 200) -> list[tuple[str, int]]:
    """Users named by alerts, with their alert counts, most alerted first."""
    query = select(AlertSubject.value, func.min(AlertSubject.display), func.count(AlertSubject.alert_id))
    query = query.where(AlertSubject.kind == "user")
    if project_ids is not None:
        query = query.join(AlertRecord, AlertRecord.id == AlertSubject.alert_id).where(
            AlertRecord.project_id.in_(project_ids or [-1])
        )
    query = query.group_by(AlertSubject.value).order_by(func.count(AlertSubject.alert_id).desc()).limit(limit)
    return [(str(display), int(count)) for _value, display, count in session.execute(query)]


def severity_counts(records: Iterable[AlertRecord]) -> Mapping[str, int]:
    """How many of ``records`` are at each severity."""
    counts = dict.fromkeys(_SEVERITY_RANK, 0)
    for record in records:
        counts[record.severity] += 1
    return counts
