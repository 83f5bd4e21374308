"""Scores on hand-computed cases: freshness, missing sources, weakest points, roadmap, trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.ready.evidence import Dimension, Evidence, EvidenceKind, EvidenceSet
from bastion.ready.mapping import load_mapping
from bastion.ready.models import load_dsomm, load_samm
from bastion.ready.score import KindState, assess, trend_words

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ready"
K = EvidenceKind


def item(kind: EvidenceKind, score: float, days: float, project: str = "") -> Evidence:
    return Evidence(kind, score, f"{kind.value} seen", NOW - timedelta(days=days), "test", project)


def world() -> EvidenceSet:
    out = EvidenceSet()
    for ev, source in (
        (item(K.SCAN_SECRETS, 1.0, 2, "a"), "scans"),
        (item(K.PATCH_SLA, 0.5, 3, "a"), "findings"),
        (item(K.PATCH_SLA, 1.0, 3, "b"), "findings"),
        (item(K.PATCH_SLA, 0.0, 200, "b"), "findings"),  # older than 90 days and superseded anyway
        (item(K.MONITOR_LOGS, 1.0, 1), "alerts"),
        (item(K.ALERTS_TRIAGED, 1.0, 40), "alerts"),  # 40 days: past its 30
        (item(K.DRILL_DETECTION, 0.5, 20), "drills"),
        (item(K.PROCESS_BACKUPS, 1.0, 10), "questionnaire"),
        (item(K.PROCESS_BCDR, 0.0, 10), "questionnaire"),
    ):
        out.add(ev, source)
    out.missing("phish", "HTTP 403 for /api/v1/phish/campaigns")
    return out


def test_hand_computed_dimension_scores_and_verdict() -> None:
    result = assess(world(), load_mapping(), NOW)
    # prepare: 14 kinds, secrets 1 + SLA mean(0.5, 1.0) = 1.75 -> 12.5; detect: 4 kinds, logs 1 + drill 0.5
    # (alerts stale) -> 37.5; respond: 4 kinds, none -> 0; recover: backups 1 + plan 0 of 2 -> 50.
    assert result.dimensions == {
        Dimension.PREPARE: 12.5,
        Dimension.DETECT: 37.5,
        Dimension.RESPOND: 0.0,
        Dimension.RECOVER: 50.0,
    }
    assert result.overall == 25.0
    assert result.verdict == "not ready"
    assert result.why == (
        "weakest dimension is respond at 0/100 (Drill response times (acknowledge, contain, resolve): "
        "not evidenced)"
    )
    assert [w.info.kind for w in result.weakest] == [K.DRILL_RESPONSE, K.PHISH_REPORTING, K.PROCESS_IR_PLAN]
    # the biggest gain first: the recovery plan is worth half of recover
    assert [(r.info.kind, round(r.gain, 1)) for r in result.roadmap[:2]] == [
        (K.PROCESS_BCDR, 50.0),
        (K.DRILL_RESPONSE, 25.0),
    ]
    assert round(next(r for r in result.roadmap if r.info.kind is K.SCAN_DEPS).gain, 2) == round(100 / 14, 2)


def test_stale_evidence_expires_and_says_how_old() -> None:
    kinds = {r.info.kind: r for r in assess(world(), load_mapping(), NOW).kinds}
    stale = kinds[K.ALERTS_TRIAGED]
    assert (stale.state, stale.score) == (KindState.STALE, 0.0)
    assert stale.reason == "stale: newest evidence 40 days old, counts for 30 days"
    sla = kinds[K.PATCH_SLA]
    assert sla.state is KindState.COUNTED and sla.score == 0.75 and len(sla.items) == 2
    # b's previous observation (200 days before, past its 90) is no longer counted, but is its trend
    assert sla.reason == "a: patch.sla seen; b: patch.sla seen (score was 0% on 15 May 2026)"
    # the same evidence, 31 days later: the secrets scan has expired too
    later = {r.info.kind: r for r in assess(world(), load_mapping(), NOW + timedelta(days=29)).kinds}
    assert later[K.SCAN_SECRETS].state is KindState.STALE


def test_missing_source_is_named_and_never_done() -> None:
    result = assess(world(), load_mapping(), NOW)
    kinds = {r.info.kind: r for r in result.kinds}
    assert kinds[K.PHISH_REPORTING].state is KindState.MISSING
    assert kinds[K.PHISH_REPORTING].reason == "not evidenced: HTTP 403 for /api/v1/phish/campaigns"
    assert kinds[K.SCAN_DEPS].reason == "not evidenced"
    assert {
        "name": "phish",
        "state": "missing",
        "why": "HTTP 403 for /api/v1/phish/campaigns",
    } in result.sources
    assert all(r.score == 0 for r in result.kinds if r.state is not KindState.COUNTED)


def test_each_kind_shows_its_trend_against_the_observation_before() -> None:
    out = EvidenceSet()
    for score, days, name in ((0.2, 120, "q2"), (0.5, 30, "q3"), (0.1, 400, "q1")):
        when = NOW - timedelta(days=days)
        said = f"{name}: {round(score * 40)} of 40 reported the phish"
        out.add(Evidence(K.PHISH_REPORTING, score, said, when, f"campaign {name}"), "phish")
    kinds = {r.info.kind: r for r in assess(out, load_mapping(), NOW).kinds}
    rates = kinds[K.PHISH_REPORTING]
    # the newest campaign counts; the one before it (q2, 120 days ago) is its trend
    assert (rates.score, rates.items[0].origin) == (0.5, "campaign q3")
    assert rates.reason == "q3: 20 of 40 reported the phish (score was 20% on 3 Aug 2026)"
    assert kinds[K.PHISH_CLICKS].reason == "not evidenced"


def test_project_scope_keeps_its_own_and_organisation_evidence() -> None:
    result = assess(world(), load_mapping(), NOW, scope="a")
    assert result.dimensions[Dimension.PREPARE] == round(100 * 1.5 / 14, 1)
    assert result.dimensions[Dimension.RECOVER] == 50.0


def test_maturity_models_count_activities_evidenced_partly_or_not() -> None:
    models = (load_dsomm(FIXTURES / "dsomm"), load_samm(FIXTURES / "samm"))
    result = assess(world(), load_mapping(), NOW, models=models)
    groups = {(g.model, g.group): (g.evidenced, g.partly, g.total, g.score) for g in result.groups}
    # secrets test: scan yes, secrets still open not evidenced -> partly; artifact test -> evidenced;
    # several analyzers: secrets only -> partly. Recovery plan answered "no", one activity unmapped.
    assert groups[("DSOMM", "Test and Verification")] == (1, 2, 3, 66.7)
    assert groups[("DSOMM", "Culture and Organization")] == (0, 0, 2, 0.0)
    # O-IM-1-A: logs yes, sign-ins no -> partly; O-IM-1-B: IR plan not answered; I-SD-1-B partly
    assert groups[("SAMM", "Incident Management")] == (0, 1, 2, 25.0)
    assert groups[("SAMM", "Secure Deployment")] == (0, 1, 1, 50.0)
    # the reasoning: each mapped activity with the state of each kind of evidence behind it
    incident = next(g for g in result.groups if g.group == "Incident Management").to_dict()["mapped"]
    assert [(a["id"], a["state"]) for a in incident] == [
        ("O-IM-1-A", "partly"),
        ("O-IM-1-B", "not evidenced"),
    ]
    assert incident[0]["evidence"] == [
        {"kind": "monitor.logs", "state": "counted", "score": 1.0},
        {"kind": "monitor.signins", "state": "not evidenced", "score": 0.0},
    ]


def test_every_kind_fully_shown_is_ready() -> None:
    out = EvidenceSet()
    for kind in EvidenceKind:
        out.add(item(kind, 1.0, 1), "all")
    result = assess(out, load_mapping(), NOW)
    assert (result.verdict, result.overall, result.roadmap) == ("ready", 100.0, [])
    assert result.answer() == "ready: every dimension at or above 75/100 (lowest: prepare 100)"


def test_the_one_line_answer_says_why_in_a_few_words() -> None:
    out = EvidenceSet()
    for kind in EvidenceKind:
        out.add(item(kind, 1.0, 400 if kind is K.PROCESS_BACKUPS else 1), "all")
    result = assess(out, load_mapping(), NOW)
    assert result.answer() == (
        "partly ready: weakest dimension is recover at 50/100 "
        "(Backups restored in a test: stale, newest evidence 400 days old)"
    )


@pytest.mark.parametrize(("score", "verdict"), [(0.4, "partly ready"), (0.39, "not ready"), (0.75, "ready")])
def test_verdict_thresholds_apply_to_the_weakest_dimension(score: float, verdict: str) -> None:
    out = EvidenceSet()
    for kind in EvidenceKind:
        out.add(item(kind, score if kind is K.PROCESS_BACKUPS or kind is K.PROCESS_BCDR else 1.0, 1), "all")
    assert assess(out, load_mapping(), NOW).verdict == verdict


def test_no_evidence_is_not_ready_with_first_steps() -> None:
    result = assess(EvidenceSet(), load_mapping(), NOW)
    assert result.answer() == "not ready: no evidence yet"
    assert [s.split(":")[0] for s in result.first_steps] == [
        "Scan every build for secrets and upload the result",
        "Monitor system and application logs for anomalies and Sigma rules",
        "Record acknowledge, contain and resolve in every war game",
        "Restore a backup of every critical system and record it",
    ]


def test_trend_against_the_previous_assessment() -> None:
    previous = {"at": "2026-11-01T12:00:00+00:00", "verdict": "not ready", "overall": 20.0,
                "dimensions": {"prepare": 10.0, "detect": 40.0, "respond": 0.0, "recover": 25.0}}  # fmt: skip
    trend = assess(world(), load_mapping(), NOW, previous=previous).trend
    assert trend == {
        "previous": "2026-11-01T12:00:00+00:00",
        "previous_verdict": "not ready",
        "previous_overall": 20.0,
        "previous_dimensions": {"prepare": 10.0, "detect": 40.0, "respond": 0.0, "recover": 25.0},
        "overall_change": 5.0,
        "dimensions": {"prepare": 2.5, "detect": -2.5, "respond": 0.0, "recover": 25.0},
        "since": "1 Nov 2026",
        "summary": "up 5 points since 1 Nov 2026",
    }
    assert assess(world(), load_mapping(), NOW).trend["previous"] is None


@pytest.mark.parametrize(
    ("change", "since", "words"),
    [
        (12.0, "2026-12-05T23:59:00+00:00", "up 12 points since 5 Dec 2026"),
        (-0.5, "2026-12-06T01:00:00+01:00", "down 0.5 points since 6 Dec 2026"),
        (-1.0, "2026-12-06T00:30:00+01:00", "down 1 point since 5 Dec 2026"),  # the UTC day
        (0.04, "2026-12-05T10:00:00+00:00", "unchanged since 5 Dec 2026"),
        (3.0, "not a time", "up 3 points"),
        (None, "2026-12-05T10:00:00+00:00", ""),
    ],
)
def test_trend_in_words(change: float | None, since: str, words: str) -> None:
    assert trend_words(change, since) == words


def test_evidence_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="score"):
        Evidence(K.SBOM, 1.5, "x", NOW, "t")
    with pytest.raises(ValueError, match="timezone"):
        Evidence(K.SBOM, 1.0, "x", datetime(2026, 1, 1), "t")
