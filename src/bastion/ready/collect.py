"""Collectors: evidence from a folder of JSON reports or from a Bastion server's API.

A source that cannot be read is recorded as missing with the reason (shown in every output);
it is never taken as evidence either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bastion.errors import InputError
from bastion.ready.evidence import Evidence, EvidenceKind, EvidenceSet
from bastion.ready.signals import (
    GATED,
    SCANNER_KINDS,
    alert_evidence,
    catalog_evidence,
    drill_evidence,
    parse_time,
    phish_evidence,
    posture_evidence,
    posture_scores_evidence,
)
from bastion.ready.signals import project_evidence as _project

__all__ = [
    "POSTURE_PATH",
    "SERVER_SOURCES",
    "Fetch",
    "SourceError",
    "collect_dir",
    "collect_server",
    "http_fetch",
]

SERVER_SOURCES = ("scans", "findings", "alerts", "drills", "phish", "catalog", "compliance")
POSTURE_PATH = "/api/v1/ready/compliance"
"""Where a Bastion server answers each readable project's compliance posture per framework."""
_NO_SBOM = "a Bastion server keeps no SBOM: bastion ready --from DIR reads the files bastion sbom wrote"
DIR_SOURCES = ("scans", "findings", "sbom", "drills", "phish", "compliance")
_MAX_FILE = 50 * 1024 * 1024


class SourceError(Exception):
    """A source did not answer (HTTP error, refused, not JSON): its evidence is missing."""


Fetch = Callable[[str], Any]
"""GET a server API path and return its JSON; raises :class:`SourceError`."""


def http_fetch(client: httpx.Client) -> Fetch:
    """A :data:`Fetch` over an httpx client already pointed at the server with its token."""

    def fetch(path: str) -> Any:
        try:
            response = client.get(path)
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach the server ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SourceError(f"HTTP {response.status_code} for {path.split('?')[0]}")
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"{path.split('?')[0]} did not answer JSON") from None

    return fetch


def collect_server(fetch: Fetch, origin: str, now: datetime | None = None) -> EvidenceSet:
    """Evidence through the server's REST API (``origin`` names it in each item)."""
    now = now or datetime.now(UTC)
    out = EvidenceSet()
    try:
        projects = fetch("/api/v1/projects")
    except SourceError as exc:
        for name in ("scans", "findings"):
            out.missing(name, str(exc))
        projects = []
    for project in projects if isinstance(projects, list) else []:
        slug = str(project.get("slug", ""))
        base = f"/api/v1/projects/{quote(slug, safe='')}"
        try:
            detail, scans = fetch(base), fetch(f"{base}/scans")
        except SourceError as exc:
            out.missing("scans", f"{slug}: {exc}")
            continue
        try:
            kev = fetch(f"{base}/findings?q=known+exploited&per_page=200")["items"]
            still_open = {
                name: int(
                    fetch(f"{base}/findings?scanner={name}&status=open&status=confirmed&per_page=1")["total"]
                )
                for name in ("secrets", "iac", "coverage")
            }
        except (SourceError, KeyError, TypeError, ValueError) as exc:
            out.missing("findings", f"{slug}: {exc}")
            kev, still_open = None, None
        _project(out, slug, detail, scans, kev, still_open, f"{origin}{base}", now)
    if isinstance(projects, list) and projects and "scans" not in out.sources:
        out.missing("scans", "no scan uploaded to any project yet")
    _optional(out, fetch, origin, now)
    _posture(out, fetch, origin)
    out.missing("sbom", _NO_SBOM)
    return out


def _posture(out: EvidenceSet, fetch: Fetch, origin: str) -> None:
    """Each project's compliance posture as the server computes it from its open findings and the
    scanners that ran; it is as old as the project's newest scan."""
    try:
        rows = fetch(POSTURE_PATH)["projects"]
        for row in rows:
            when = parse_time(row["scanned_at"])
            scores = {
                str(f["framework"]): float(f["score"])
                for f in row["frameworks"]
                if isinstance(f.get("score"), int | float)
            }
            if when is not None:
                posture_scores_evidence(out, scores, when, f"{origin}{POSTURE_PATH}", str(row["project"]))
    except (SourceError, KeyError, TypeError, AttributeError) as exc:
        out.missing("compliance", str(exc))
        return
    if "compliance" not in out.sources:
        out.missing("compliance", "no project scanned yet: no compliance posture to read")


def _optional(out: EvidenceSet, fetch: Fetch, origin: str, now: datetime) -> None:
    """Alerts, drills, phishing and the catalog: each missing on its own when it does not answer."""
    try:
        alerts = fetch("/api/v1/alerts?limit=500")["alerts"]
        alert_evidence(out, alerts, f"{origin}/api/v1/alerts", now)
        out.present("alerts") if alerts else out.missing("alerts", "no alert received yet")
    except (SourceError, KeyError, TypeError) as exc:
        out.missing("alerts", str(exc))
    try:
        listing = fetch("/api/drills")
        for row in sorted(listing, key=lambda r: str(r.get("name", "")))[-10:]:
            if "error" not in row:
                name = quote(str(row["name"]), safe="")
                drill_evidence(out, fetch(f"/api/drills/{name}"), f"{origin}/api/drills/{name}")
        if "drills" not in out.sources:
            out.missing("drills", "no war game recorded yet")
    except (SourceError, KeyError, TypeError) as exc:
        out.missing("drills", str(exc))
    try:
        campaigns = fetch("/api/v1/phish/campaigns")
        for row in campaigns[:10]:
            path = f"/api/v1/phish/campaigns/{int(row['id'])}"
            phish_evidence(out, fetch(path), f"{origin}{path}")
        if "phish" not in out.sources:
            out.missing("phish", "no phishing campaign has delivered mail yet")
    except (SourceError, KeyError, TypeError, ValueError) as exc:
        out.missing("phish", str(exc))
    try:
        document = fetch("/api/catalog")
        audit = fetch("/api/catalog/audit")
        times = [parse_time(e.get("time") or e.get("at")) for e in audit if isinstance(e, dict)]
        stamps = [t for t in times if t is not None]
        catalog_evidence(out, document, max(stamps) if stamps else None, f"{origin}/api/catalog")
        if "catalog" not in out.sources:
            out.missing("catalog", "no product published in the catalog")
    except (SourceError, TypeError, AttributeError) as exc:
        out.missing("catalog", str(exc))


def _read(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_FILE:
            raise InputError(f"{path}: larger than {_MAX_FILE // (1024 * 1024)} MB")
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def collect_dir(root: Path, errors: list[str] | None = None) -> EvidenceSet:
    """Evidence from the JSON reports under ``root``: Bastion scan reports, CycloneDX SBOMs,
    drill and phishing reports, compliance postures. A file that is none of these, or broken, is
    one line in ``errors`` and the run goes on; a report's time is its own or the file's."""
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of reports")
    out = EvidenceSet()
    errors = errors if errors is not None else []
    for path in sorted(root.rglob("*.json")):
        if not path.is_file():
            continue
        try:
            doc = _read(path)
        except InputError as exc:
            errors.append(str(exc))
            continue
        if not isinstance(doc, dict) or not _dispatch(out, doc, path):
            errors.append(f"{path}: not a report bastion ready reads (scan, SBOM, drill, phish, compliance)")
    for name in DIR_SOURCES:
        if name not in out.sources:
            out.missing(name, f"no {name} report in {root}")
    return out


def _dispatch(out: EvidenceSet, doc: Mapping[str, Any], path: Path) -> bool:
    origin = str(path)
    if doc.get("bomFormat") == "CycloneDX":
        when = parse_time((doc.get("metadata") or {}).get("timestamp")) or _mtime(path)
        count = len(doc.get("components") or [])
        out.add(Evidence(EvidenceKind.SBOM, 1.0, f"SBOM with {count} components", when, origin), "sbom")
        return True
    if "exercise" in doc and "coverage" in doc:
        drill_evidence(out, doc, origin)
        out.present("drills")
        return True
    if "campaign" in doc and "total" in doc:
        phish_evidence(out, doc, origin)
        out.present("phish")
        return True
    if "posture_version" in doc:
        posture_evidence(out, doc, origin)
        out.present("compliance")
        return True
    if "findings" in doc and "tool" in doc and "summary" in doc:
        _scan_report(out, doc, path)
        return True
    return False


def _scan_report(out: EvidenceSet, doc: Mapping[str, Any], path: Path) -> None:
    """A ``bastion scan --format json`` report: which scanners ran, what is open."""
    when = _mtime(path)
    findings = [f for f in doc.get("findings") or [] if isinstance(f, dict)]
    raw = doc.get("scope")
    scope: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    ran = {
        k
        for k, v in (scope.get("scanners") or {}).items()
        if isinstance(v, dict) and v.get("status") in ("complete", "partial")
    }
    ran |= {str(f.get("scanner")) for f in findings}
    origin = str(path)
    for name in sorted(ran):
        kind = SCANNER_KINDS.get(name)
        if kind is not None:
            failing = sum(1 for f in findings if name in GATED and f.get("scanner") == name)
            said = f"{name} ran ({path.name})" + (f"; {failing} {GATED[name]}(s)" if failing else "")
            out.add(Evidence(kind, 0.5 if failing else 1.0, said, when, origin), "scans")
    critical = sum(1 for f in findings if f.get("severity") == "critical")
    out.add(
        Evidence(
            EvidenceKind.FINDINGS_CRITICAL,
            0.0 if critical else 1.0,
            f"{critical} critical finding(s) in {path.name}"
            if critical
            else f"no critical finding in {path.name}",
            when,
            origin,
        ),
        "findings",
    )
    if "secrets" in ran:
        secrets = sum(1 for f in findings if f.get("scanner") == "secrets")
        out.add(
            Evidence(
                EvidenceKind.FINDINGS_SECRETS,
                0.0 if secrets else 1.0,
                f"{secrets} secret(s) found in {path.name}" if secrets else f"no secret in {path.name}",
                when,
                origin,
            ),
            "findings",
        )
