"""Alert and catalog documents as evidence (the server API's shapes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bastion.ready.evidence import EvidenceKind, EvidenceSet
from bastion.ready.signals import alert_evidence, catalog_evidence, parse_time

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
K = EvidenceKind


def alert(
    detector: str, hours: float, status: str = "open", handled_after_h: float | None = None
) -> dict[str, object]:
    received = T0 + timedelta(hours=hours)
    status_at = received + timedelta(hours=handled_after_h) if handled_after_h is not None else None
    return {
        "detector": detector,
        "received_at": received.isoformat(),
        "status": status,
        "status_at": status_at.isoformat() if status_at else None,
    }


def test_alerts_show_monitored_sources_and_triage_speed() -> None:
    out = EvidenceSet()
    alerts = [
        alert("watch.isolation-forest", 0, "closed", 2),
        alert("sigma", 5, "acknowledged", 30),  # triaged after more than a day
        alert("identity.spray", 10, "closed", 1),
        alert("identity.travel", 12),  # still open: not triaged
        {"detector": "sigma"},  # no time: ignored
    ]
    alert_evidence(out, alerts, "http://srv/api/v1/alerts")
    by_kind = {e.kind: e for e in out.items}
    assert by_kind[K.MONITOR_LOGS].detail == "alerts raised (latest by sigma)"
    assert by_kind[K.MONITOR_SIGNINS].observed_at == T0 + timedelta(hours=12)
    assert (by_kind[K.ALERTS_TRIAGED].score, by_kind[K.ALERTS_TRIAGED].detail) == (
        2 / 3,
        "2 of 3 triaged alerts handled within a day",
    )


def test_untriaged_alerts_score_zero_and_no_alerts_give_nothing() -> None:
    out = EvidenceSet()
    alert_evidence(out, [alert("sigma", 0)], "o")
    assert {e.kind: e.score for e in out.items}[K.ALERTS_TRIAGED] == 0.0
    empty = EvidenceSet()
    alert_evidence(empty, [], "o")
    assert empty.items == []


def test_catalog_with_products_and_times() -> None:
    out = EvidenceSet()
    catalog_evidence(out, {"products": [{"name": "rds"}, {"name": "s3"}]}, T0, "o")
    catalog_evidence(out, {"products": []}, T0, "o")
    catalog_evidence(out, {"products": [{"name": "x"}]}, None, "o")
    assert [(e.kind, e.detail) for e in out.items] == [(K.CATALOG_USED, "2 product(s) in the catalog")]


def test_times() -> None:
    assert parse_time("2026-11-20T08:00:00Z") == T0
    assert parse_time("2026-11-20T08:00:00") == T0
    assert parse_time("yesterday") is None and parse_time(None) is None
