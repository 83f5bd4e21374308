"""Known vulnerabilities of an SBOM's components, as CycloneDX 1.6 ``vulnerabilities`` (VEX).

The components are matched against the advisory database the deps scanner uses (the same
:class:`~bastion.advisories.Matcher`, the same severity rules). Every match is stated as
``analysis.state: in_triage``: the version is affected, but whether the vulnerable code is
reachable is not analysed here, so ``exploitable`` is never claimed. Known exploitation (CISA
KEV) is a property of the entry.

When there is no advisory database the document says so in ``metadata.properties``
(``bastion:vulnerabilities`` = ``not-checked``) and carries no ``vulnerabilities`` array: an
empty one would read as "none found". Spec: https://cyclonedx.org/docs/1.6/json/#vulnerabilities
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bastion.advisories import (
    AdvisoryDatabaseError,
    Matcher,
    UnsupportedVersion,
    VulnerabilityMatch,
    resolve_database,
    smallest_fix,
)
from bastion.advisories.records import canonical_ecosystem
from bastion.advisories.severity import severity_from_score
from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS
from bastion.scan.deps.model import Package
from bastion.scan.deps.scanner import describe_match

__all__ = ["VulnerabilityCheck", "add_vulnerabilities", "check_vulnerabilities"]

STATUS_PROPERTY = "bastion:vulnerabilities"
"""Metadata property: ``checked`` or ``not-checked`` (no advisory database)."""
CREATE = (
    "create it with `bastion db update --database PATH` (offline: `bastion db import --database PATH DIR`)"
)
"""How to make the database a ``--db`` names."""
IN_TRIAGE_DETAIL = (
    "The component's version is in the advisory's affected range; whether the vulnerable code "
    "is reachable was not analysed."
)


@dataclass(frozen=True)
class ComponentVulnerability:
    """One vulnerability of one component (by purl)."""

    package: Package
    """The first manifest entry that declares the component."""
    match: VulnerabilityMatch
    fix: str
    """What to do, in the deps scanner's words (the smallest upgrade that fixes every advisory)."""


@dataclass
class VulnerabilityCheck:
    """What matching the components against the advisory database found."""

    checked: bool
    """False when there was no advisory database: nothing was checked."""
    reason: str = ""
    """Why nothing was checked (for the warning); empty when checked."""
    database_updated: datetime | None = None
    """The oldest load date of the database's advisories, when known."""
    found: list[ComponentVulnerability] = field(default_factory=list)
    unchecked: dict[str, list[str]] = field(default_factory=dict)
    """Components (by purl) that could not be checked, with the reasons."""


def check_vulnerabilities(packages: list[Package], database: Path | None = None) -> VulnerabilityCheck:
    """Match ``packages`` (each purl once) against the advisory database at ``database`` (else
    ``$BASTION_ADVISORY_DB``, else the user cache). Without a database there the result says that
    nothing was checked; a ``database`` named explicitly must exist. Raises
    :class:`~bastion.advisories.AdvisoryDatabaseError` for a named database that is missing and
    for a file that is not a usable database."""
    path = resolve_database(database)
    if not path.is_file():
        if database is not None:
            what = "a directory, not a database file" if path.is_dir() else "no such file"
            raise AdvisoryDatabaseError(f"{path}: advisory database not found ({what}); {CREATE}")
        return VulnerabilityCheck(checked=False, reason=f"no advisory database at {path}")
    first: dict[str, Package] = {}
    for package in packages:
        first.setdefault(package.purl, package)
    result = VulnerabilityCheck(checked=True)
    with Matcher(path) as matcher:
        status = matcher.status()
        result.database_updated = status.oldest_update
        covered = {e.ecosystem for e in status.ecosystems if e.advisories > 0}
        for purl, package in first.items():
            reason = _check_one(package, matcher, covered, result)
            if reason:
                result.unchecked.setdefault(purl, []).append(reason)
    return result


def _check_one(package: Package, matcher: Matcher, covered: set[str], result: VulnerabilityCheck) -> str:
    """Add the package's vulnerabilities to ``result``; the reason it was not checked, or ``""``."""
    if package.version is None or package.skip_reason is not None:
        return ""  # the component already says why (bastion:not-checked)
    ecosystem = canonical_ecosystem(package.ecosystem)
    if ecosystem not in SUPPORTED_ECOSYSTEMS:
        return f"vulnerabilities not checked: no version order known for ecosystem {package.ecosystem}"
    if ecosystem not in covered:
        return f"vulnerabilities not checked: the advisory database holds no {ecosystem} advisories"
    try:
        matches = matcher.find(ecosystem, package.name, package.version)
    except UnsupportedVersion as exc:
        return f"vulnerabilities not checked: {exc}"
    if matches:
        upgrade = smallest_fix(matcher, ecosystem, package.name, package.version, matches)
        for match in matches:
            _, fix = describe_match(package, match, upgrade)
            result.found.append(ComponentVulnerability(package, match, fix))
    return ""


def add_vulnerabilities(document: dict[str, Any], check: VulnerabilityCheck) -> dict[str, Any]:
    """``document`` (a CycloneDX 1.6 BOM as a dict, changed in place and returned) with the
    ``vulnerabilities`` of ``check``, its status in ``metadata.properties`` and, on each component
    that could not be checked, why."""
    properties: list[dict[str, str]] = document["metadata"].setdefault("properties", [])
    if not check.checked:
        properties.append({"name": STATUS_PROPERTY, "value": "not-checked"})
        properties.append(
            {
                "name": f"{STATUS_PROPERTY}:reason",
                "value": "no advisory database: run `bastion db update` (or `bastion db import PATH` "
                "offline) and write the SBOM again",
            }
        )
        return document
    properties.append({"name": STATUS_PROPERTY, "value": "checked"})
    if check.database_updated is not None:
        properties.append(
            {
                "name": "bastion:advisory-database-updated",
                "value": check.database_updated.isoformat(timespec="seconds"),
            }
        )
    unchecked = sum(1 for component in document["components"] if component["bom-ref"] in check.unchecked)
    properties.append({"name": "bastion:vulnerabilities-unchecked-components", "value": str(unchecked)})
    for component in document["components"]:
        for reason in check.unchecked.get(component["bom-ref"], ()):
            entry = {"name": "bastion:not-checked", "value": reason}
            if entry not in component["properties"]:
                component["properties"].append(entry)
    document["vulnerabilities"] = [_vulnerability(found) for found in check.found]
    return document


def _source(ident: str) -> dict[str, str]:
    """Where an id is published: NVD for CVEs, GitHub for GHSA ids, OSV for the rest."""
    if ident.startswith("CVE-"):
        return {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{ident}"}
    if ident.startswith("GHSA-"):
        return {"name": "GitHub", "url": f"https://github.com/advisories/{ident}"}
    return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{ident}"}


def _method(vector: str | None) -> str:
    """CycloneDX's scoring method for a CVSS vector."""
    if vector is None:
        return "other"
    for prefix, method in (("CVSS:4.0/", "CVSSv4"), ("CVSS:3.1/", "CVSSv31"), ("CVSS:3.0/", "CVSSv3")):
        if vector.startswith(prefix):
            return method
    return "CVSSv2" if vector.startswith("AV:") else "other"


_JUSTIFICATION = {
    "kev": "critical: known exploited (CISA KEV)",
    "database": "the advisory's own severity rating",
    "cwe": "from the weakness it names (Bastion's CWE table)",
    "unrated": "no advisory rates it",
    "cvss": "from the CVSS base score",
}


def _justification(match: VulnerabilityMatch) -> str:
    text = _JUSTIFICATION.get(match.severity_source, match.severity_source)
    if match.severity_source == "unrated":
        text += f"; bastion scan counts it as {match.severity.value} until reviewed"
    return text


def _ratings(match: VulnerabilityMatch) -> list[dict[str, Any]]:
    """The CVSS rating when the advisory has one, and Bastion's when it decided otherwise."""
    ratings: list[dict[str, Any]] = []
    if match.score is not None or match.vector is not None:
        cvss: dict[str, Any] = {"source": _source(match.records[0])}
        if match.score is not None:
            cvss["score"] = match.score
            cvss["severity"] = severity_from_score(match.score).value
        cvss["method"] = _method(match.vector)
        if match.vector is not None:
            cvss["vector"] = match.vector
        ratings.append(cvss)
    if match.severity_source != "cvss" or not ratings:
        ratings.append(
            {
                "source": {"name": "Bastion"},
                "severity": "unknown" if match.severity_source == "unrated" else match.severity.value,
                "method": "other",
                "justification": _justification(match),
            }
        )
    return ratings


def _vulnerability(found: ComponentVulnerability) -> dict[str, Any]:
    match, package = found.match, found.package
    entry: dict[str, Any] = {
        "bom-ref": f"vulnerability:{match.id}:{package.purl}",
        "id": match.id,
        "source": _source(match.id),
    }
    if match.aliases:
        entry["references"] = [{"id": alias, "source": _source(alias)} for alias in match.aliases]
    entry["ratings"] = _ratings(match)
    cwes = sorted({int(c.removeprefix("CWE-")) for c in match.cwes if c.removeprefix("CWE-").isdigit()})
    if cwes:
        entry["cwes"] = cwes
    if match.summary:
        entry["description"] = match.summary
    entry["recommendation"] = found.fix
    entry["advisories"] = [
        {"title": record, "url": f"https://osv.dev/vulnerability/{record}"} for record in match.records
    ]
    if match.published is not None:
        entry["published"] = f"{match.published.isoformat()}T00:00:00Z"
    entry["analysis"] = {"state": "in_triage", "detail": IN_TRIAGE_DETAIL}
    entry["affects"] = [
        {"ref": package.purl, "versions": [{"version": package.version, "status": "affected"}]}
    ]
    properties = [{"name": "bastion:severity-source", "value": match.severity_source}]
    if match.fixed_versions:
        properties.append({"name": "bastion:fixed-versions", "value": ", ".join(match.fixed_versions)})
    if match.kev:
        properties.append({"name": "bastion:kev", "value": "true"})
        properties.append({"name": "bastion:kev-date-added", "value": match.kev_date_added or "unknown"})
        properties.append({"name": "bastion:kev-ransomware-use", "value": match.kev_ransomware or "Unknown"})
    else:
        properties.append({"name": "bastion:kev", "value": "false"})
    entry["properties"] = properties
    return entry
