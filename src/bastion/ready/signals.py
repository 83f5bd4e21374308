"""Turn the documents Bastion already produces into evidence (one function per document kind).

Every function takes the document as the server API or the JSON report holds it, plus where it
came from; collectors (:mod:`.collect`) decide where documents are read from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from bastion.ready.evidence import Evidence, EvidenceKind, EvidenceSet

__all__ = [
    "GATED",
    "KEV_DAYS",
    "SCANNER_KINDS",
    "alert_evidence",
    "catalog_evidence",
    "drill_evidence",
    "parse_time",
    "phish_evidence",
    "posture_evidence",
    "posture_scores_evidence",
    "project_evidence",
]

KEV_DAYS = 14
"""CISA BOD 22-01: known-exploited vulnerabilities are remediated within two weeks."""
SCANNER_KINDS = {
    "secrets": EvidenceKind.SCAN_SECRETS,
    "deps": EvidenceKind.SCAN_DEPS,
    "sast": EvidenceKind.SCAN_SAST,
    "iac": EvidenceKind.SCAN_IAC,
    "dast": EvidenceKind.SCAN_DAST,
    "coverage": EvidenceKind.COVERAGE_GATE,
}
TRIAGE_TARGET = timedelta(days=1)
GATED = {"iac": "policy failure", "coverage": "coverage gate failure"}
"""Scanners that are gates: a scan that ran but whose failures are still open shows half the
practice (the check runs; what it fails on is not fixed)."""


def parse_time(value: Any) -> datetime | None:
    """An ISO time as an aware datetime (naive ones are UTC); None when absent or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _scanner_names(scan: Mapping[str, Any]) -> set[str]:
    value = scan.get("scanners")
    names = {str(v) for v in value} if isinstance(value, list) else set()
    gaps = " ".join(str(g) for g in scan.get("not_checked") or [])
    return {n for n in names if f"{n}:" not in gaps and f"{n} " not in gaps}


def project_evidence(
    out: EvidenceSet,
    slug: str,
    detail: Mapping[str, Any],
    scans: Sequence[Mapping[str, Any]],
    kev: Sequence[Mapping[str, Any]] | None,
    still_open: Mapping[str, int] | None,
    origin: str,
    now: datetime,
) -> None:
    """A project's scans, open counts, SLA and KEV findings (the server API's shapes);
    ``still_open``: open findings of the secrets scanner and the gates (:data:`GATED`; None: could
    not be read)."""
    still_open = still_open or {}
    secrets_open = still_open.get("secrets")
    newest: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    for scan in scans:
        when = parse_time(scan.get("created_at"))
        if when is None:
            continue
        for name in _scanner_names(scan):
            if name not in newest or newest[name][0] < when:
                newest[name] = (when, scan)
    for name, (when, scan) in sorted(newest.items()):
        kind = SCANNER_KINDS.get(name)
        if kind is not None:
            what = f"{name} scan uploaded (scan {scan.get('id', '?')}, {scan.get('findings', 0)} findings)"
            score = 1.0
            if name in GATED and still_open.get(name):
                # the gate runs, but what it fails on main is still open: half the practice
                score, what = 0.5, f"{what}; {still_open[name]} {GATED[name]}(s) open"
            out.add(Evidence(kind, score, what, when, f"{origin}/scans", slug), "scans")
    if not newest:
        return
    last = max(when for when, _ in newest.values())
    open_counts = detail.get("open") or {}
    overdue = detail.get("overdue") or {}
    critical = int(open_counts.get("critical", 0))
    out.add(
        Evidence(
            EvidenceKind.FINDINGS_CRITICAL,
            1.0 if critical == 0 else 0.0,
            f"{critical} critical finding(s) open" if critical else "no critical finding open",
            last,
            origin,
            slug,
        ),
        "findings",
    )
    total_open = sum(int(v) for v in open_counts.values())
    total_overdue = sum(int(v) for v in overdue.values())
    latency = detail.get("patch_latency") or {}
    share = 1.0 - total_overdue / total_open if total_open else 1.0
    med = latency.get("median_days")
    said = f"; median fix {med:.1f} days over {latency.get('fixed', 0)} fixes" if med is not None else ""
    out.add(
        Evidence(
            EvidenceKind.PATCH_SLA,
            share,
            f"{total_overdue} of {total_open} open findings past the SLA{said}",
            last,
            origin,
            slug,
        ),
        "findings",
    )
    if secrets_open is not None and "secrets" in newest:
        out.add(
            Evidence(
                EvidenceKind.FINDINGS_SECRETS,
                1.0 if secrets_open == 0 else 0.0,
                f"{secrets_open} secret(s) still open" if secrets_open else "no secret open",
                newest["secrets"][0],
                f"{origin}/findings?scanner=secrets",
                slug,
            ),
            "findings",
        )
    if kev is not None and "deps" in newest:
        out.add(_kev_evidence(kev, slug, newest["deps"][0], origin, now), "findings")


def _kev_evidence(
    kev: Sequence[Mapping[str, Any]], slug: str, when: datetime, origin: str, now: datetime
) -> Evidence:
    on_time = late = 0
    for finding in kev:
        first = parse_time(finding.get("first_seen"))
        if first is None:
            continue
        fixed = parse_time(finding.get("fixed_at"))
        end = fixed or now
        if end - first <= timedelta(days=KEV_DAYS):
            if fixed is not None:
                on_time += 1
        else:
            late += 1
    judged = on_time + late
    detail = (
        f"{on_time} of {judged} known-exploited vulnerabilities fixed within {KEV_DAYS} days"
        if judged
        else "no known-exploited vulnerability found by the dependency scan"
    )
    return Evidence(
        EvidenceKind.PATCH_KEV,
        on_time / judged if judged else 1.0,
        detail,
        when,
        f"{origin}/findings?kev",
        slug,
    )


def drill_evidence(out: EvidenceSet, doc: Mapping[str, Any], origin: str) -> None:
    """A war game's report (``bastion drill report --format json``)."""
    raw = doc.get("period")
    period: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    when = parse_time(period.get("start")) or parse_time(doc.get("generated"))
    if when is None:
        return
    name = str(doc.get("exercise", "drill"))
    coverage = doc.get("coverage") or {}
    share, assessed = coverage.get("share"), coverage.get("assessed", 0)
    if isinstance(share, int | float) and assessed:
        detected = coverage.get("detected", 0)
        out.add(
            Evidence(
                EvidenceKind.DRILL_DETECTION,
                float(share),
                f"{name}: {detected} of {assessed} replayed attacks detected{_attack_coverage(doc)}",
                when,
                origin,
            ),
            "drills",
        )
    timeline = [t for t in doc.get("timeline") or [] if isinstance(t, dict) and t.get("status") == "detected"]
    if timeline:
        acted = [t for t in timeline if t.get("ttc_s") is not None or t.get("ttr_s") is not None]
        tta = [float(t["tta_s"]) for t in timeline if isinstance(t.get("tta_s"), int | float)]
        said = f"; median acknowledge {median(tta) / 60:.0f} min" if tta else ""
        out.add(
            Evidence(
                EvidenceKind.DRILL_RESPONSE,
                len(acted) / len(timeline),
                f"{name}: {len(acted)} of {len(timeline)} detected attacks contained or resolved{said}",
                when,
                origin,
            ),
            "drills",
        )


def _attack_coverage(doc: Mapping[str, Any]) -> str:
    """``; ATT&CK: 2 of 3 techniques detected (1 partly); median time to detect 4 min`` from a drill
    report's techniques and timeline (empty when it has neither)."""
    rows = [t for t in doc.get("techniques") or [] if isinstance(t, dict)]
    status = [str(t.get("status", "")) for t in rows]
    assessed = [s for s in status if s in ("detected", "missed", "partly detected")]
    said = ""
    if assessed:
        partly = status.count("partly detected")
        said = f"; ATT&CK: {status.count('detected')} of {len(assessed)} techniques detected"
        said += f" ({partly} partly)" if partly else ""
    ttd = [
        float(t["ttd_s"])
        for t in doc.get("timeline") or []
        if isinstance(t, dict) and t.get("status") == "detected" and isinstance(t.get("ttd_s"), int | float)
    ]
    if ttd:
        said += f"; median time to detect {median(ttd) / 60:.0f} min"
    return said


def phish_evidence(out: EvidenceSet, doc: Mapping[str, Any], origin: str) -> None:
    """A phishing campaign's anonymised report (``campaign`` and ``total``)."""
    campaign = doc.get("campaign") or {}
    when = parse_time(campaign.get("launched_at"))
    total = doc.get("total") or {}
    delivered = int(total.get("delivered") or 0)
    if when is None or not delivered:
        return
    name = str(campaign.get("name", "campaign"))
    reported, clicked = int(total.get("reported") or 0), int(total.get("clicked") or 0)
    submitted = int(total.get("submitted") or 0)
    out.add(
        Evidence(
            EvidenceKind.PHISH_REPORTING,
            reported / delivered,
            f"{name}: {reported} of {delivered} reported the phish",
            when,
            origin,
        ),
        "phish",
    )
    out.add(
        Evidence(
            EvidenceKind.PHISH_CLICKS,
            max(0.0, 1.0 - clicked / delivered),
            f"{name}: {clicked} of {delivered} clicked, {submitted} submitted",
            when,
            origin,
        ),
        "phish",
    )


def alert_evidence(
    out: EvidenceSet, alerts: Iterable[Mapping[str, Any]], origin: str, now: datetime | None = None
) -> None:
    """Alerts (server API shape): which sources are monitored and how many alerts each raised, how
    fast alerts are triaged (an alert still open a day after it came in, at ``now``, counts as
    late; the median time to triage of those handled), and identity alerts open."""
    newest: dict[EvidenceKind, tuple[datetime, str]] = {}
    volume: dict[EvidenceKind, int] = {}
    judged = prompt = identity_open = 0
    waits: list[float] = []
    last: datetime | None = None
    for alert in alerts:
        when = parse_time(alert.get("received_at")) or parse_time(alert.get("end"))
        if when is None:
            continue
        detector = str(alert.get("detector", ""))
        kind = EvidenceKind.MONITOR_SIGNINS if detector.startswith("identity") else EvidenceKind.MONITOR_LOGS
        if kind not in newest or newest[kind][0] < when:
            newest[kind] = (when, detector)
        volume[kind] = volume.get(kind, 0) + 1
        last = when if last is None or when > last else last
        status_at = parse_time(alert.get("status_at"))
        if alert.get("status") in (None, "open"):
            identity_open += kind is EvidenceKind.MONITOR_SIGNINS
            judged += now is not None and now - when > TRIAGE_TARGET
        elif status_at is not None:
            judged += 1
            prompt += status_at - when <= TRIAGE_TARGET
            waits.append((status_at - when).total_seconds() / 3600)
    for kind, (when, detector) in newest.items():
        count = volume[kind]
        said = f"{count} alert{'s' if count != 1 else ''} raised (latest by {detector})"
        if kind is EvidenceKind.MONITOR_SIGNINS:
            said += f"; {identity_open} identity alert(s) open"
        out.add(Evidence(kind, 1.0, said, when, origin), "alerts")
    if last is not None:
        said = f"{prompt} of {judged} alerts triaged within a day" if judged else "no alert triaged yet"
        if waits:
            said += f"; median time to triage {median(waits):.1f} h"
        out.add(
            Evidence(EvidenceKind.ALERTS_TRIAGED, prompt / judged if judged else 0.0, said, last, origin),
            "alerts",
        )


def catalog_evidence(out: EvidenceSet, doc: Mapping[str, Any], when: datetime | None, origin: str) -> None:
    """The service catalog: approved products published."""
    products = doc.get("products")
    count = len(products) if isinstance(products, list | dict) else 0
    if when is None or not count:
        return
    out.add(
        Evidence(EvidenceKind.CATALOG_USED, 1.0, f"{count} product(s) in the catalog", when, origin),
        "catalog",
    )


def posture_evidence(out: EvidenceSet, doc: Mapping[str, Any], origin: str) -> None:
    """A compliance posture document (``bastion comply report --format json``, with its trend when
    it was written with ``--history``)."""
    when = parse_time(doc.get("generated"))
    frameworks = doc.get("frameworks")
    if when is None or not isinstance(frameworks, dict):
        return
    scores = {
        str(name): float(body["summary"]["score"])
        for name, body in frameworks.items()
        if isinstance(body, dict) and isinstance((body.get("summary") or {}).get("score"), int | float)
    }
    raw = doc.get("trend")
    points = raw.get("points") if isinstance(raw, dict) else None
    before = [
        p
        for p in points or []
        if isinstance(p, dict) and (t := parse_time(p.get("generated"))) is not None and t < when
    ]
    previous = before[-1] if before else None
    posture_scores_evidence(out, scores, when, origin, previous=previous)


def posture_scores_evidence(
    out: EvidenceSet,
    scores: Mapping[str, float],
    when: datetime,
    origin: str,
    project: str = "",
    previous: Mapping[str, Any] | None = None,
) -> None:
    """Compliance scores per framework (percent of assessed controls passed) as one observation:
    their mean, each framework's score, and the change since ``previous`` (a history point:
    ``{"generated", "scores": {framework: score}}``)."""
    if not scores:
        return
    mean = sum(scores.values()) / len(scores)
    each = ", ".join(f"{name} {score:.0f}%" for name, score in sorted(scores.items()))
    said = f"compliance posture {mean:.0f}% passed over {len(scores)} framework(s) ({each})"
    old = previous.get("scores") if previous is not None else None
    if isinstance(old, dict):
        moved = [
            f"{name} {score - float(old[name]):+.0f}"
            for name, score in sorted(scores.items())
            if isinstance(old.get(name), int | float)
        ]
        since = parse_time(previous.get("generated")) if previous is not None else None
        if moved and since is not None:
            said += f"; since {since.day} {since:%b %Y}: {', '.join(moved)}"
    out.add(Evidence(EvidenceKind.COMPLY_POSTURE, mean / 100, said, when, origin, project), "compliance")
