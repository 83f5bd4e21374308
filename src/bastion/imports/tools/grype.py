"""Grype JSON (``grype ... -o json``): ``matches`` of a vulnerability and an artifact.

``ignoredMatches`` (Grype's own ignore rules) are kept as suppressed. A vulnerability in CISA's
KEV catalogue (``knownExploited``) is marked ``kev`` as Bastion's own are.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.fields import arr, get, items, num, obj, path_of, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_fix, package_message, package_metadata

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    data = doc.data
    return (
        doc.kind is DocKind.JSON
        and isinstance(data, dict)
        and "matches" in data
        and (text(get(data, "descriptor", "name")) == "grype" or "source" in data)
    )


def _parse(doc: Document, build: Builder) -> None:
    build.version = text(get(doc.data, "descriptor", "version"))
    for match in items(doc.data["matches"], "matches"):
        _match(build, obj(match), None)
    for ignored in arr(doc.data.get("ignoredMatches")):
        _match(build, obj(ignored), "ignored by a Grype ignore rule")


def _match(build: Builder, match: dict[str, Any], suppressed: str | None) -> None:
    vulnerability = obj(match["vulnerability"])
    artifact = obj(match.get("artifact"))
    advisory = text(vulnerability["id"])
    name, version, purl = (
        text(artifact.get("name")),
        text(artifact.get("version")),
        text(artifact.get("purl")),
    )
    related = [text(get(r, "id")) for r in arr(match.get("relatedVulnerabilities"))]
    aliases = [advisory, *(r for r in related if r)]
    scores = [
        s for c in arr(vulnerability.get("cvss")) if (s := num(get(c, "metrics", "baseScore"))) is not None
    ]
    score = max(scores) if scores else None
    fixed = texts(get(vulnerability, "fix", "versions"))
    first = obj(next(iter(arr(artifact.get("locations"))), {}))
    location = Location(path=path_of(first.get("path")), purl=purl or None)
    kev = bool(arr(vulnerability.get("knownExploited")))
    build.add(
        "vulnerability",
        advisory,
        title=f"Vulnerable dependency: {name} {version} ({advisory}{', known exploited' if kev else ''})",
        severity=build.severity(vulnerability.get("severity"), score),
        location=location,
        message=package_message(name, version, advisory, aliases, text(vulnerability.get("description"))),
        content=f"{text(artifact.get('type'))}:{name}@{version}\x1f{first.get('path')}",
        evidence=f"{name} {version}",
        fix=package_fix(name, fixed),
        help_uri=text(vulnerability.get("dataSource")) or next(iter(texts(vulnerability.get("urls"))), ""),
        metadata=package_metadata(
            text(artifact.get("type")),
            name,
            version,
            purl,
            advisory,
            aliases,
            fixed,
            fix_state=text(get(vulnerability, "fix", "state")) or None,
            cvss_score=score,
            kev=kev,
            epss=num(get(next(iter(arr(vulnerability.get("epss"))), {}), "epss")),
        ),
        suppressed=suppressed,
    )


PARSER = ToolParser("grype", _detect, _parse)
