"""Results: human counts only, report rate and time to first report, departments merged below
the minimum size, repeat clickers, trend, retention purge; and the store on both back ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from phish_world import make_campaign
from sqlalchemy import select

from bastion.cli.main import main
from bastion.phish.botfilter import load_rules
from bastion.phish.report import MERGED_LABEL, report_data, report_html
from bastion.phish.results import campaign_results, repeat_clickers, trend
from bastion.phish.service import Hit, find_campaign, purge, record, stop
from bastion.ready.collect import collect_dir
from bastion.ready.evidence import EvidenceKind, SourceState
from bastion.store.db import Store
from bastion.store.phish import PhishCampaign, PhishEvent, PhishRecipient

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFE_LINKS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ms-office; MSOffice 16"


def _deliver(store: Store, campaign_id: int) -> dict[str, str]:
    with store.write() as session:
        tokens = {}
        for recipient in session.scalars(
            select(PhishRecipient).where(PhishRecipient.campaign_id == campaign_id)
        ):
            recipient.status, recipient.sent_at = "sent", SENT
            tokens[recipient.email.split(".")[0]] = recipient.token_id
        return tokens


def _hit(store: Store, token: str, kind: str, after_s: float, **extra: Any) -> None:
    hit = Hit(kind=kind, **{"user_agent": FIREFOX, "ip": "198.51.100.7", **extra})
    with store.write() as session:
        assert record(session, token, hit, now=SENT + timedelta(seconds=after_s))


def _scenario(store: Store, name: str = "q1-invoice") -> int:
    campaign_id = make_campaign(store, name=name, launched=SENT)
    t = _deliver(store, campaign_id)
    _hit(store, t["ana"], "open", 300)
    _hit(store, t["ana"], "click", 600)
    _hit(store, t["ana"], "beacon", 601, cookie=True, method="POST")
    _hit(store, t["ana"], "submit", 650, fields=("password", "username"), method="POST")
    _hit(store, t["ben"], "click", 1, user_agent=SAFE_LINKS, ip="40.107.1.1")
    _hit(store, t["ben"], "report", 120, via="link")
    _hit(store, t["cy"], "click", 900)
    _hit(store, t["cy"], "report", 1800, via="api")
    return campaign_id


def test_human_counts_rates_and_reasons(any_store: Store) -> None:
    campaign_id = _scenario(any_store)
    with any_store.read() as session:
        rules = load_rules().model_copy(update={"use_beacon": True})
        results = campaign_results(session, find_campaign(session, str(campaign_id)), rules)
        total = results.total
        counts = (
            total.targets,
            total.delivered,
            total.opened,
            total.clicked,
            total.submitted,
            total.reported,
        )
        assert counts == (4, 4, 1, 1, 1, 2)
        assert (total.report_rate, total.phish_prone, total.first_report_s, total.median_report_s) == (
            50.0, 25.0, 120.0, 960.0,
        )  # fmt: skip
        assert total.automated_events == 2
        reasons = {c.event.kind: c.reasons for c in results.classified if c.automated}
        assert reasons["click"] == ["landing page ran no script / sent no cookie back"]
        assert sorted(r for c in results.classified for r in c.reasons if c.event.delay_s == 1) == [
            "1.0 s after delivery",
            "landing page ran no script / sent no cookie back",
            "scanner network: Microsoft Exchange Online Protection",
            "user agent: Microsoft Safe Links / Office preview",
        ]
        assert results.by_department["Finance"].to_dict()["reported"] == 1
        ana = next(o for o in results.outcomes if o.email.startswith("ana"))
        assert ana.fields == {"password", "username"} and ana.did == {"open", "click", "submit"}


def test_anonymised_report_merges_small_groups_and_names_nobody(store: Store) -> None:
    campaign_id = _scenario(store)
    with store.read() as session:
        campaign = find_campaign(session, "q1-invoice")
        merged = report_data(session, campaign, named=False, min_group=3)
        assert merged["merged"] and [d["label"] for d in merged["departments"]] == [MERGED_LABEL]
        apart = report_data(session, campaign, named=False, min_group=2)
        assert [d["label"] for d in apart["departments"]] == ["Engineering", "Finance"]
        hidden = report_data(session, campaign, named=False, min_group=5)
        assert hidden["departments"] == [] and hidden["total"]["targets"] == 4
        html = report_html(session, campaign, named=False, min_group=3)
        named = report_html(session, campaign, named=True)
        data = report_data(session, campaign, named=True)
    for person in ("Ana Diaz", "ana.diaz", "Ben Ode", "Rui Costa"):
        assert person not in html and person not in str(merged)
    assert "Ana Diaz" in named and "for the security team only" in named
    assert "@media print" in html and "<script" not in html and "http" not in html.split("</style>")[0]
    assert "50.0 %" in html and "2 min" in html  # report rate, time to first report
    assert data["people"][0]["fields_filled"] == ["password", "username"]
    [scanner] = data["automated"]["requests"]
    assert scanner["recipient"] == "ben.ode@example.com" and scanner["ip"] == "40.107.1.1"
    assert "scanner network: Microsoft Exchange Online Protection" in scanner["reasons"]
    assert "40.107.1.1" in named and "scanner network: Microsoft Exchange Online Protection" in named
    assert "40.107.1.1" not in html and "requests" not in merged["automated"]
    assert campaign_id > 0


def test_repeat_clickers_trend_and_purge(store: Store) -> None:
    first = _scenario(store, "q1-invoice")
    second = make_campaign(store, name="q2-parcel", launched=SENT + timedelta(days=30))
    with store.write() as session:
        ana = session.scalars(
            select(PhishRecipient).where(
                PhishRecipient.campaign_id == second, PhishRecipient.email.like("ana%")
            )
        ).one()
        ana.sent_at, ana.status = SENT + timedelta(days=30), "sent"
        token = ana.token_id
    _hit(store, token, "click", 30 * 86400 + 500)
    _hit(store, token, "beacon", 30 * 86400 + 501, cookie=True)
    with store.read() as session:
        assert repeat_clickers(session) == {"ana.diaz@example.com": 2}
        rows = trend(session)
    assert [(r["campaign"], r["phish_prone"], r["report_rate"]) for r in rows] == [
        ("q1-invoice", 50.0, 50.0),
        ("q2-parcel", 100.0, 0.0),
    ]
    with store.write() as session:
        stop(session, find_campaign(session, "q1-invoice"), "test")
    with store.write() as session:
        assert purge(session, 90, "test") == []
        assert purge(session, 0, "test", now=datetime.now(UTC) + timedelta(seconds=1)) == ["q1-invoice"]
    with store.read() as session:
        assert (
            session.scalars(select(PhishRecipient).where(PhishRecipient.campaign_id == first)).first() is None
        )
        assert session.scalars(select(PhishEvent).where(PhishEvent.campaign_id == first)).first() is None
        kept = session.get(PhishCampaign, first)
        assert kept is not None and kept.summary is not None and kept.summary["total"]["reported"] == 2
        assert [r["report_rate"] for r in trend(session)] == [50.0, 0.0]


def test_record_refuses_unknown_unsent_and_draft(store: Store) -> None:
    campaign_id = make_campaign(store)
    with store.write() as session:
        recipient = session.scalars(
            select(PhishRecipient).where(PhishRecipient.campaign_id == campaign_id)
        ).first()
        assert recipient is not None
        assert not record(session, "no-such-id", Hit("click"))
        assert not record(session, recipient.token_id, Hit("click"))  # never sent
        campaign = session.get(PhishCampaign, campaign_id)
        assert campaign is not None
        campaign.status = "draft"
        recipient.sent_at = SENT
        assert not record(session, recipient.token_id, Hit("click"))


def test_the_published_report_feeds_readiness(store: Store, tmp_path: Path) -> None:
    campaign_id = _scenario(store)
    reports = tmp_path / "reports"
    reports.mkdir()
    database = ["--database-url", f"sqlite:///{store.engine.url.database}"]
    command = ["phish", "campaign", "report", str(campaign_id), "--format", "json"]
    assert main([*command, "-o", str(reports / "phish.json"), *database]) == 0
    total = json.loads((reports / "phish.json").read_text())["total"]
    errors: list[str] = []
    evidence = collect_dir(reports, errors)
    assert errors == [] and "phish" in evidence.sources
    assert evidence.sources["phish"].state is not SourceState.MISSING
    by_kind = {item.kind: item for item in evidence.items}
    reporting, clicks = by_kind[EvidenceKind.PHISH_REPORTING], by_kind[EvidenceKind.PHISH_CLICKS]
    assert (total["delivered"], total["reported"]) == (4, 2)
    assert reporting.score == 0.5 and reporting.detail == "q1-invoice: 2 of 4 reported the phish"
    assert clicks.score == 1 - total["clicked"] / 4 and clicks.observed_at == SENT
