"""osv-scanner JSON (``osv-scanner --format json``): ``results`` per source, ``packages`` per result.

One finding per alias group (osv-scanner's ``groups``: the same vulnerability under its OSV,
GHSA and CVE ids), not one per id. Severity: the group's ``max_severity`` (a CVSS score), else the
advisory's own word, else its CWE through Bastion's table for unrated advisories, else unrated.
"""

from __future__ import annotations

from typing import Any

from bastion.advisories.severity import severity_from_cwes
from bastion.findings import Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import arr, get, items, num, obj, path_of, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_fix, package_message, package_metadata

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    data = doc.data
    first = next(iter(arr(get(data, "results"))), None) if doc.kind is DocKind.JSON else None
    return isinstance(first, dict) and "packages" in first and "source" in first


def _parse(doc: Document, build: Builder) -> None:
    for result in items(doc.data["results"], "results"):
        source = path_of(get(result, "source", "path"))
        for entry in items(get(result, "packages"), "packages"):
            _package(build, obj(entry), source)


def _cwes(vulnerability: dict[str, Any]) -> tuple[int, ...]:
    found = texts(get(vulnerability, "database_specific", "cwe_ids"))
    for affected in arr(vulnerability.get("affected")):
        found.extend(text(get(c, "cweId")) for c in arr(get(affected, "database_specific", "cwes")))
    return cwe_ids(found)


def _fixed(vulnerability: dict[str, Any]) -> list[str]:
    return [
        text(get(event, "fixed"))
        for affected in arr(vulnerability.get("affected"))
        for span in arr(get(affected, "ranges"))
        for event in arr(get(span, "events"))
        if text(get(event, "fixed"))
    ]


def _package(build: Builder, entry: dict[str, Any], source: str | None) -> None:
    package = obj(entry["package"])
    name, version, ecosystem = (
        text(package.get("name")),
        text(package.get("version")),
        text(package.get("ecosystem")),
    )
    kind = build.spec.purl_types.get(ecosystem, ecosystem.lower())
    purl = f"pkg:{kind}/{name}@{version}" if kind and name and version else ""
    by_id = {text(v.get("id")): obj(v) for v in arr(entry.get("vulnerabilities")) if isinstance(v, dict)}
    groups = arr(entry.get("groups")) or [{"ids": [i]} for i in by_id]
    for group in groups:
        ids = [i for i in texts(get(group, "ids")) if i in by_id]
        if not ids:
            continue
        vulnerability = by_id[ids[0]]
        aliases = [*ids, *texts(get(group, "aliases")), *texts(vulnerability.get("aliases"))]
        advisory = ids[0]
        cwe = _cwes(vulnerability)
        score = num(get(group, "max_severity"))
        word = get(vulnerability, "database_specific", "severity")
        severity = build.severity(word, score)
        if severity[1] not in ("tool", "cvss") and (by_cwe := severity_from_cwes(f"CWE-{c}" for c in cwe)):
            severity = (by_cwe, "cwe")
        fixed = list(dict.fromkeys(_fixed(vulnerability)))
        build.add(
            "vulnerability",
            advisory,
            title=f"Vulnerable dependency: {name} {version} ({advisory})",
            severity=severity,
            location=Location(path=source, purl=purl or None),
            message=package_message(name, version, advisory, aliases, text(vulnerability.get("summary"))),
            content=f"{ecosystem}:{name}@{version}",
            evidence=f"{name} {version}",
            cwe=cwe,
            fix=package_fix(name, fixed),
            help_uri=f"https://osv.dev/vulnerability/{advisory}",
            metadata=package_metadata(
                ecosystem, name, version, purl, advisory, aliases, fixed, cvss_score=score
            ),
        )


PARSER = ToolParser("osv-scanner", _detect, _parse)
