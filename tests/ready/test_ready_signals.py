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
        alert("identity.travel", 12),  # open for 36 hours at NOW: late
        alert("identity.mfa-fatigue", 40),  # open for 8 hours: not judged yet
        {"detector": "sigma"},  # no time: ignored
    ]
    alert_evidence(out, alerts, "http://srv/api/v1/alerts", T0 + timedelta(hours=48))
    by_kind = {e.kind: e for e in out.items}
    assert by_kind[K.MONITOR_LOGS].detail == "2 alerts raised (latest by sigma)"
    assert by_kind[K.MONITOR_SIGNINS].observed_at == T0 + timedelta(hours=40)
    assert (
        by_kind[K.MONITOR_SIGNINS].detail
        == "3 alerts raised (latest by identity.mfa-fatigue); 2 identity alert(s) open"
    )
    assert (by_kind[K.ALERTS_TRIAGED].score, by_kind[K.ALERTS_TRIAGED].detail) == (
        0.5,
        "2 of 4 alerts triaged within a day; median time to triage 2.0 h",  # of 2, 30 and 1 h
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
